#ifndef FLEETUP_CLIBSSH2_SHIM_H
#define FLEETUP_CLIBSSH2_SHIM_H

#include <libssh2.h>
#include <libssh2_sftp.h>
#include <string.h>
#include <errno.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <time.h>

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

/* What fleetup's receive callback keeps per session: a count of the bytes received and
   when (CLOCK_MONOTONIC ns, the reactor's clock) some were last read (the keepalive logic
   tells a live server from a silent one, and since when it is silent, by them), and
   whether to re-arm TCP_QUICKACK after every read (Linux resets it). sshd leaves Nagle on
   for non-interactive sessions: a small reply queued behind an unacknowledged packet waits
   for our delayed ACK, 40 ms, on every command.
   `drained` is set when a recv found the socket empty and cleared by the reactor when epoll
   (level-triggered) reports the socket readable or closed: until then every other read of
   the same turn answers EAGAIN without a system call. libssh2 reads once per channel
   stream and operation on every drive of a connection, and two thirds of a run's recv
   calls found nothing. */
struct fleet_session_stats {
    unsigned long long bytes_in;
    unsigned long long last_in_ns;
    int quickack;
    int drained;
};

static ssize_t fleet_recv(libssh2_socket_t fd, void *buffer, size_t length, int flags, void **abstract) {
    struct fleet_session_stats *known = abstract ? (struct fleet_session_stats *)*abstract : NULL;
    if (known && known->drained) return -EAGAIN;
    ssize_t n = recv(fd, buffer, length, flags);
    if (n < 0) {
        if (known && (errno == EAGAIN || errno == EWOULDBLOCK)) known->drained = 1;
        return -errno;
    }
    if (n > 0 && abstract && *abstract) {
        struct fleet_session_stats *stats = (struct fleet_session_stats *)*abstract;
        struct timespec now;
        stats->bytes_in += (unsigned long long)n;
        clock_gettime(CLOCK_MONOTONIC, &now);
        stats->last_in_ns = (unsigned long long)now.tv_sec * 1000000000ULL + (unsigned long long)now.tv_nsec;
        if (stats->quickack) {
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
        }
    }
    return n;
}

/* A non-blocking session whose receive callback counts into `stats` (owned by the caller,
   alive as long as the session). */
static inline LIBSSH2_SESSION *fleet_session_init(struct fleet_session_stats *stats) {
    LIBSSH2_SESSION *session = libssh2_session_init_ex(NULL, NULL, NULL, stats);
    if (session) libssh2_session_callback_set(session, LIBSSH2_CALLBACK_RECV, (void *)fleet_recv);
    return session;
}

/* Bytes the kernel holds for the socket that nobody has read yet. */
static inline int fleet_bytes_pending(int fd) {
    int n = 0;
    if (ioctl(fd, FIONREAD, &n) != 0) return 0;
    return n;
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
