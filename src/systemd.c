/*
 * systemd: readiness notification and socket activation, as thin wrappers
 * over libsystemd's sd-daemon. sd_notify() returns 0 and does nothing
 * without $NOTIFY_SOCKET, so nothing here needs to know whether systemd
 * started us; a failed notification is not worth more than a debug line
 * (the manager's own timeout reports a service that never got ready).
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "cutover/log.h"
#include "cutover/strbuf.h"
#include "cutover/systemd.h"

static void systemd_notify(const char *what, const char *state);
static unsigned long long systemd_monotonic_usec(void);
static bool systemd_addr_matches(const struct systemd_fd *s,
    const struct listener_conf *l);
static bool systemd_addr_is_any(const struct sockaddr_storage *ss);
static void systemd_addr_str(const struct sockaddr_storage *ss, char *buf,
    size_t len);

static void
systemd_notify(const char *what, const char *state)
{
	int r = sd_notify(0, state);

	if (r < 0)
		log_debug("systemd_notify_failed", "state=%s err=\"%s\"", what,
		    strerror(-r));
}

static unsigned long long
systemd_monotonic_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000ULL +
	    (unsigned long long)ts.tv_nsec / 1000ULL;
}

void
systemd_notify_ready(void)
{
	systemd_notify("READY", "READY=1\nSTATUS=Serving");
}

void
systemd_notify_reloading(void)
{
	char buf[96];

	/*
	 * MONOTONIC_USEC lets systemd >= 253 tell this reload from an
	 * earlier one (Type=notify-reload); older managers ignore it.
	 */
	snprintf(buf, sizeof(buf),
	    "RELOADING=1\nSTATUS=Reloading configuration\nMONOTONIC_USEC=%llu",
	    systemd_monotonic_usec());
	systemd_notify("RELOADING", buf);
}

void
systemd_notify_reloaded(bool ok, const char *status)
{
	char buf[512];

	/* A rejected reload still ends the reload: the old generation serves. */
	if (status == NULL)
		status = ok ? "Serving (configuration reloaded)" :
		    "Serving (reload failed, previous configuration kept)";
	snprintf(buf, sizeof(buf), "READY=1\nSTATUS=%s", status);
	systemd_notify("READY", buf);
}

void
systemd_notify_stopping(void)
{
	systemd_notify("STOPPING", "STOPPING=1\nSTATUS=Draining");
}

int
systemd_listen_fds(struct systemd_fds *out)
{
	int n = sd_listen_fds(1);

	out->v = NULL;
	out->n = 0;
	if (n < 0) {
		log_warnx("listen_fds_invalid", "err=\"%s\"", strerror(-n));
		return 0;
	}
	if (n == 0)
		return 0;
	out->v = xcalloc((size_t)n, sizeof(*out->v));
	for (int i = 0; i < n; i++) {
		int fd = SD_LISTEN_FDS_START + i;
		struct systemd_fd *s = &out->v[out->n];

		s->addrlen = sizeof(s->addr);
		if (sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) <= 0 ||
		    getsockname(fd, (struct sockaddr *)&s->addr, &s->addrlen) == -1 ||
		    (s->addr.ss_family != AF_INET && s->addr.ss_family != AF_INET6)) {
			log_warnx("listen_fd_unusable", "fd=%d reason=\"not a listening "
			    "IPv4 or IPv6 stream socket\"", fd);
			close(fd);
			continue;
		}
		s->fd = fd;
		out->n++;
	}
	return (int)out->n;
}

int
systemd_fds_take(struct systemd_fds *fds, const struct listener_conf *l)
{
	for (size_t i = 0; i < fds->n; i++) {
		struct systemd_fd *s = &fds->v[i];
		int fd = s->fd;
		int fl;

		if (fd == -1 || !systemd_addr_matches(s, l))
			continue;
		/*
		 * The workers' accept loops need it non-blocking. The flag is
		 * on the open file, shared with the manager's copy; the
		 * manager does not accept on it while we run.
		 */
		fl = fcntl(fd, F_GETFL);
		if (fl == -1 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1) {
			log_warn("listen_fd_unusable", "fd=%d", fd);
			continue;
		}
		s->fd = -1;
		return fd;
	}
	return -1;
}

void
systemd_fds_close_unused(struct systemd_fds *fds)
{
	for (size_t i = 0; i < fds->n; i++) {
		struct systemd_fd *s = &fds->v[i];
		char addr[INET6_ADDRSTRLEN + 16];

		if (s->fd == -1)
			continue;
		systemd_addr_str(&s->addr, addr, sizeof(addr));
		log_warnx("listen_fd_unused", "fd=%d address=%s reason=\"no "
		    "listener has this address\"", s->fd, addr);
		close(s->fd);
		s->fd = -1;
	}
	free(fds->v);
	fds->v = NULL;
	fds->n = 0;
}

static bool
systemd_addr_matches(const struct systemd_fd *s, const struct listener_conf *l)
{
	const struct sockaddr_storage *a = &s->addr, *b = &l->addr;

	if (l->any_address) {
		/* Either family: [::] takes IPv4 too unless IPV6_V6ONLY. */
		in_port_t pa = a->ss_family == AF_INET ?
		    ((const struct sockaddr_in *)a)->sin_port :
		    ((const struct sockaddr_in6 *)a)->sin6_port;
		in_port_t pb = b->ss_family == AF_INET ?
		    ((const struct sockaddr_in *)b)->sin_port :
		    ((const struct sockaddr_in6 *)b)->sin6_port;

		return systemd_addr_is_any(a) && pa == pb;
	}
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const struct sockaddr_in *)a;
		const struct sockaddr_in *y = (const struct sockaddr_in *)b;

		return x->sin_port == y->sin_port &&
		    x->sin_addr.s_addr == y->sin_addr.s_addr;
	} else {
		const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)a;
		const struct sockaddr_in6 *y = (const struct sockaddr_in6 *)b;

		return x->sin6_port == y->sin6_port &&
		    IN6_ARE_ADDR_EQUAL(&x->sin6_addr, &y->sin6_addr) &&
		    x->sin6_scope_id == y->sin6_scope_id;
	}
}

static bool
systemd_addr_is_any(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ((const struct sockaddr_in *)ss)->sin_addr.s_addr ==
		    htonl(INADDR_ANY);
	return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

/* "1.2.3.4:80" or "[::1]:80", for log lines. */
static void
systemd_addr_str(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
		snprintf(buf, len, "%s:%u", host, ntohs(s4->sin_port));
	} else {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
		snprintf(buf, len, "[%s]:%u", host, ntohs(s6->sin6_port));
	}
}
