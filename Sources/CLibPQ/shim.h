// libpq, PostgreSQL's own C client (Debian: libpq-dev), for the PostgreSQL store.
// Only Sources/FleetPostgres/PGConnection.swift imports it (scripts/check-layers).
#include <libpq-fe.h>
