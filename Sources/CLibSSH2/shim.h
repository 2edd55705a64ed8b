#ifndef FLEETUP_CLIBSSH2_SHIM_H
#define FLEETUP_CLIBSSH2_SHIM_H

#include <libssh2.h>
#include <libssh2_sftp.h>
#include <string.h>

/* Swift does not import function-like macros; these wrappers stand in for the ones fleetup uses. */

static inline LIBSSH2_CHANNEL *fleet_channel_open_session(LIBSSH2_SESSION *session) {
    return libssh2_channel_open_ex(session, "session", sizeof("session") - 1,
                                   LIBSSH2_CHANNEL_WINDOW_DEFAULT,
                                   LIBSSH2_CHANNEL_PACKET_DEFAULT, NULL, 0);
}

static inline int fleet_channel_exec(LIBSSH2_CHANNEL *channel, const char *command, unsigned int length) {
    return libssh2_channel_process_startup(channel, "exec", sizeof("exec") - 1, command, length);
}

static inline int fleet_channel_subsystem(LIBSSH2_CHANNEL *channel, const char *name) {
    return libssh2_channel_process_startup(channel, "subsystem", sizeof("subsystem") - 1,
                                           name, (unsigned int)strlen(name));
}

/* RFC 4254 6.9 "signal" request (libssh2_channel_signal_ex only exists from 1.11).
   process_startup sends "string request, bool want_reply, string payload", which is the
   signal message's layout; sshd answers and delivers it with killpg() to the session. */
static inline int fleet_channel_signal(LIBSSH2_CHANNEL *channel, const char *signame) {
    return libssh2_channel_process_startup(channel, "signal", sizeof("signal") - 1,
                                           signame, (unsigned int)strlen(signame));
}

static inline LIBSSH2_SFTP_HANDLE *fleet_sftp_open_for_write(LIBSSH2_SFTP *sftp, const char *path, long mode) {
    return libssh2_sftp_open_ex(sftp, path, (unsigned int)strlen(path),
                                LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT | LIBSSH2_FXF_TRUNC,
                                mode, LIBSSH2_SFTP_OPENFILE);
}

static inline int fleet_sftp_rename_over(LIBSSH2_SFTP *sftp, const char *from, const char *to) {
    return libssh2_sftp_rename_ex(sftp, from, (unsigned int)strlen(from), to, (unsigned int)strlen(to),
                                  LIBSSH2_SFTP_RENAME_OVERWRITE | LIBSSH2_SFTP_RENAME_ATOMIC |
                                  LIBSSH2_SFTP_RENAME_NATIVE);
}

static inline int fleet_sftp_chmod(LIBSSH2_SFTP_HANDLE *handle, unsigned long mode) {
    LIBSSH2_SFTP_ATTRIBUTES attrs;
    memset(&attrs, 0, sizeof(attrs));
    attrs.flags = LIBSSH2_SFTP_ATTR_PERMISSIONS;
    attrs.permissions = mode;
    return libssh2_sftp_fsetstat(handle, &attrs);
}

static inline int fleet_sftp_unlink(LIBSSH2_SFTP *sftp, const char *path) {
    return libssh2_sftp_unlink_ex(sftp, path, (unsigned int)strlen(path));
}

static inline int fleet_session_free(LIBSSH2_SESSION *session) { return libssh2_session_free(session); }

#endif
