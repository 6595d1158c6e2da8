/*
 * systemd: the service manager's two protocols, over libsystemd.
 *
 * Readiness (sd_notify(3)): READY=1 once every listener accepts,
 * RELOADING=1 / READY=1 around a reload, STOPPING=1 when the drain
 * begins, each with a STATUS= line for `systemctl status`. Without
 * $NOTIFY_SOCKET (not started by systemd, or Type= is not notify) every
 * call is a no-op.
 *
 * Socket activation (sd_listen_fds(3)): listening sockets inherited as
 * fds 3.. with $LISTEN_FDS/$LISTEN_PID. The manager (or any parent) keeps
 * them open across a restart, so connections made while no cutover runs
 * wait in the backlog instead of being refused. An inherited socket is
 * matched to a configured listener by the address it is bound to.
 */
#ifndef CUTOVER_SYSTEMD_H
#define CUTOVER_SYSTEMD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "cutover/config.h"

void systemd_notify_ready(void);
/*
 * Around a configuration reload (the reload code calls these): reloading
 * before the new generation is built, reloaded after it is swapped in
 * (ok) or rejected (!ok; the old one keeps serving). `status` is a short
 * human line for STATUS=, or NULL.
 */
void systemd_notify_reloading(void);
void systemd_notify_reloaded(bool ok, const char *status);
void systemd_notify_stopping(void);

/* One inherited listening socket. */
struct systemd_fd {
	int fd; /* -1 once taken by a listener or closed */
	struct sockaddr_storage addr; /* what it is bound to (getsockname) */
	socklen_t addrlen;
};

/*
 * The sockets inherited at start. Allocated by systemd_listen_fds(),
 * freed (with every fd still in it) by systemd_fds_close_unused().
 */
struct systemd_fds {
	struct systemd_fd *v; /* xcalloc'd array of n */
	size_t n;
};

/*
 * Collect the inherited sockets into *out and unset $LISTEN_FDS,
 * $LISTEN_PID and $LISTEN_FDNAMES (so nothing we start inherits them).
 * An fd that is not a listening IPv4/IPv6 stream socket is closed with a
 * warning. Returns how many were kept: 0 when none were passed, when
 * they were meant for another process ($LISTEN_PID), or when $LISTEN_FDS
 * is malformed (warned about: then we bind our own sockets).
 */
int systemd_listen_fds(struct systemd_fds *out);

/*
 * The inherited fd bound to the address of `l`, removed from `fds` (the
 * caller owns it now), or -1 if none matches. A "*:PORT" listener takes a
 * socket bound to 0.0.0.0:PORT or [::]:PORT; any other one, only its own
 * address. The fd is made non-blocking.
 */
int systemd_fds_take(struct systemd_fds *fds, const struct listener_conf *l);

/* Close, with a warning each, the fds no listener took; free `fds`. */
void systemd_fds_close_unused(struct systemd_fds *fds);

#endif /* CUTOVER_SYSTEMD_H */
