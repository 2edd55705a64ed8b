// OpenSSL's libcrypto (Debian: libssl-dev, already a dependency of libssh2-1-dev), for
// ansible-vault: PBKDF2-HMAC-SHA256, AES-256-CTR and HMAC-SHA256.
// Only Sources/FleetVault/VaultCipher.swift imports it (scripts/check-layers).
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
