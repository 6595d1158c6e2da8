/*
 * health: active health checks (see include/cutover/health.h).
 *
 * health_observe() is the pure counter. The rest is the checker: one
 * thread with its own event base (EVENT_BASE_FLAG_NOLOCK: only this
 * thread touches it; health_stop() talks to it through a pipe, as
 * admin_stop() and the workers' commands do).
 *
 * Every checked server has one probe, a small state machine
 *
 *	IDLE -> CONNECTING -> SENDING -> READING -> IDLE
 *
 * (any state but IDLE may also end the check early and go back to IDLE).
 * A probe's `tick` timer fires every interval and starts a check when
 * the probe is IDLE; a check still running then is left alone and that
 * round skipped, so a slow server never has two checks in flight. The
 * `deadline` timer bounds the whole check (connect, send and status
 * line) by the upstream's `timeout`.
 *
 * Only the status line is read: the thirteen bytes of "HTTP/1.1 200 "
 * are all a check needs, and the socket is closed right after. Closing
 * with the rest of the response unread makes the kernel send a reset,
 * which leaves no TIME_WAIT socket behind on either side for a
 * connection opened every few seconds (HAProxy's checks do the same).
 *
 * This thread is the only writer of each server_rt's `hc`,
 * `last_check_ms`, `last_error`, `down` and of the upstream's
 * `servers_down`; the workers read `down` and `servers_down`.
 */
#include <errno.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "cutover/clock.h"
#include "cutover/config.h"
#include "cutover/health.h"
#include "cutover/log.h"
#include "cutover/strbuf.h"
#include "cutover/tls.h"
#include "cutover/upstream_rt.h"

#include <openssl/err.h>

/* Servers' first checks are this far apart, so they do not go in one burst. */
#define HEALTH_SPREAD_MS 3
/* Spec defaults, for a zero that the loader should never let through. */
#define HEALTH_DEFAULT_INTERVAL_MS 5000
#define HEALTH_DEFAULT_TIMEOUT_MS 1000
/* "HTTP/1.x NNN" and the byte after it (SP, or CR/LF with no reason phrase). */
#define HEALTH_STATUS_LEN 13

enum health_state {
	HEALTH_IDLE = 0,   /* no check running; fd == -1 */
	HEALTH_CONNECTING, /* non-blocking connect in progress */
	HEALTH_HANDSHAKE,  /* TLS upstreams: the handshake, as requests make it */
	HEALTH_SENDING,	   /* writing the request */
	HEALTH_READING,	   /* waiting for the status line */
};

struct health_checker;

/*
 * One checked server. Lives in health_checker.probes (allocated and freed
 * with it, never moved, so the events can point at it). `req` is owned;
 * `up`, `srv`, `rt` and `srt` belong to the config generation and its
 * runtime state, which the checker holds a reference to. `fd` is open
 * only while a check runs.
 */
struct health_probe {
	struct health_checker *hc;
	const struct upstream_conf *up;
	const struct server_conf *srv;
	struct upstream_rt *rt;
	struct server_rt *srt;
	uint64_t interval_ms;
	uint64_t timeout_ms;

	enum health_state state;
	int fd;
	SSL *ssl; /* over TLS while a check runs; owned */
	struct tls_session_slot tls_session; /* resumed by the next check */
	struct event tick;     /* every interval_ms */
	struct event deadline; /* timeout_ms after a check started */
	struct event io;       /* fd readable/writable; re-assigned each wait */

	char *req; /* the whole request, built once */
	size_t req_len;
	size_t sent;
	char status[HEALTH_STATUS_LEN];
	size_t got;
};

/*
 * The checker. Allocated by health_start(), freed by health_stop() (or by
 * health_start() itself when it fails). Owns `probes`, the base, the
 * command pipe and event, and one reference to `cfg`.
 */
struct health_checker {
	struct config *cfg;
	struct event_base *base;
	int cmd_fd[2]; /* health_stop() writes one byte to [1] */
	struct event *cmd_ev;
	pthread_t thread;
	bool thread_started;
	struct health_probe *probes;
	size_t nprobes;
};

static bool health_upstream_checked(const struct upstream_conf *up);
static void health_probe_init(struct health_checker *h, struct health_probe *p,
    const struct upstream_conf *up, size_t i, uint64_t first_ms);
static char *health_build_request(const struct upstream_conf *up,
    const struct server_conf *srv, size_t *lenp);
static void health_free(struct health_checker *h);
static void *health_main(void *arg);
static void health_cmdcb(evutil_socket_t fd, short what, void *arg);
static void health_arm(struct event *ev, uint64_t ms);
static const char *health_state_name(enum health_state s);
static void health_set_state(struct health_probe *p, enum health_state to);
static void health_tickcb(evutil_socket_t fd, short what, void *arg);
static void health_deadlinecb(evutil_socket_t fd, short what, void *arg);
static void health_iocb(evutil_socket_t fd, short what, void *arg);
static void health_check_begin(struct health_probe *p);
static void health_wait(struct health_probe *p, short what);
static void health_connected(struct health_probe *p);
static void health_handshake(struct health_probe *p);
static void health_send(struct health_probe *p);
static void health_recv(struct health_probe *p);
static int health_status_parse(const char *b, size_t len, int *code);
static void health_check_end(struct health_probe *p, bool ok,
    const char *reason);
static void health_record(struct health_probe *p, bool ok, const char *reason);
static const char *health_errno_reason(int e, char *buf, size_t len,
    const char *what);

bool
health_observe(struct health_counter *h, bool ok, uint32_t healthy,
    uint32_t unhealthy)
{
	/* A threshold of 0 would mean "changed without a check": read it as 1. */
	if (healthy == 0)
		healthy = 1;
	if (unhealthy == 0)
		unhealthy = 1;
	if (ok) {
		h->bad_run = 0;
		if (h->good_run < UINT32_MAX)
			h->good_run++;
		if (h->down && h->good_run >= healthy) {
			h->down = false;
			return true;
		}
	} else {
		h->good_run = 0;
		if (h->bad_run < UINT32_MAX)
			h->bad_run++;
		if (!h->down && h->bad_run >= unhealthy) {
			h->down = true;
			return true;
		}
	}
	return false;
}

/* Has a health_check, and runtime state that matches its servers. */
static bool
health_upstream_checked(const struct upstream_conf *up)
{
	return up->health_check.enabled && up->nservers > 0 && up->rt != NULL &&
	    up->rt->servers != NULL && up->rt->nservers == up->nservers;
}

/*
 * Returns the running checker, or NULL when no upstream has a health
 * check or the thread cannot be set up (logged; the proxy then runs with
 * every server up, as without checks).
 */
struct health_checker *
health_start(struct config *cfg)
{
	struct event_config *ec;
	struct health_checker *h;
	size_t n = 0, k = 0;
	int e;

	for (size_t i = 0; i < cfg->nupstreams; i++) {
		const struct upstream_conf *up = &cfg->upstreams[i];

		if (health_upstream_checked(up))
			n += up->nservers;
		else if (up->health_check.enabled)
			log_warnx("health_skipped",
			    "upstream=%s reason=\"no runtime state\"", up->name);
	}
	if (n == 0)
		return NULL;

	h = xcalloc(1, sizeof(*h));
	h->cfg = config_ref(cfg);
	h->cmd_fd[0] = h->cmd_fd[1] = -1;

	if ((ec = event_config_new()) == NULL)
		goto fail;
	event_config_set_flag(ec, EVENT_BASE_FLAG_NOLOCK);
	h->base = event_base_new_with_config(ec);
	event_config_free(ec);
	if (h->base == NULL)
		goto fail;
	if (pipe2(h->cmd_fd, O_NONBLOCK | O_CLOEXEC) == -1)
		goto fail;
	h->cmd_ev = event_new(h->base, h->cmd_fd[0], EV_READ | EV_PERSIST,
	    health_cmdcb, h);
	if (h->cmd_ev == NULL || event_add(h->cmd_ev, NULL) == -1)
		goto fail;

	h->probes = xcalloc(n, sizeof(*h->probes));
	for (size_t i = 0; i < cfg->nupstreams; i++) {
		const struct upstream_conf *up = &cfg->upstreams[i];

		if (!health_upstream_checked(up))
			continue;
		for (size_t j = 0; j < up->nservers; j++, k++)
			health_probe_init(h, &h->probes[k], up, j,
			    k * HEALTH_SPREAD_MS);
	}
	h->nprobes = k;

	if ((e = pthread_create(&h->thread, NULL, health_main, h)) != 0) {
		errno = e;
		goto fail;
	}
	h->thread_started = true;
	return h;

fail:
	log_warn("health_start_failed", "servers=%zu", n);
	health_free(h);
	return NULL;
}

void
health_stop(struct health_checker *h)
{
	char cmd = 'q';

	if (h == NULL)
		return;
	if (h->thread_started) {
		/* The pipe is never full: one byte, read at once. */
		while (write(h->cmd_fd[1], &cmd, 1) == -1 && errno == EINTR)
			;
		pthread_join(h->thread, NULL);
		h->thread_started = false;
	}
	health_free(h);
}

/*
 * Server `i` of `up`, first checked `first_ms` from now (0: at once),
 * then every interval. Timers are relative to when each fires, so the
 * spread between servers stays.
 */
static void
health_probe_init(struct health_checker *h, struct health_probe *p,
    const struct upstream_conf *up, size_t i, uint64_t first_ms)
{
	const struct health_check_conf *hcc = &up->health_check;

	p->hc = h;
	p->up = up;
	p->srv = &up->servers[i];
	p->rt = up->rt;
	p->srt = &up->rt->servers[i];
	p->interval_ms = hcc->interval_ms > 0 ? hcc->interval_ms :
						HEALTH_DEFAULT_INTERVAL_MS;
	p->timeout_ms = hcc->timeout_ms > 0 ? hcc->timeout_ms :
					      HEALTH_DEFAULT_TIMEOUT_MS;
	p->state = HEALTH_IDLE;
	p->fd = -1;
	p->req = health_build_request(up, p->srv, &p->req_len);
	evtimer_assign(&p->tick, h->base, health_tickcb, p);
	evtimer_assign(&p->deadline, h->base, health_deadlinecb, p);
	/* Assigned now so that health_free() may always event_del() it. */
	event_assign(&p->io, h->base, -1, 0, health_iocb, p);
	health_arm(&p->tick, first_ms % p->interval_ms);
}

/*
 * "GET <path> HTTP/1.1" with Host as a client of that server would send
 * it: the host (bracketed when it is an IPv6 literal), and the port
 * unless it is 80. Returns a new string; *lenp its length.
 */
static char *
health_build_request(const struct upstream_conf *up,
    const struct server_conf *srv, size_t *lenp)
{
	const char *path = up->health_check.path;
	const char *host = srv->host != NULL ? srv->host : "";
	bool v6 = strchr(host, ':') != NULL;
	struct strbuf b;

	if (path == NULL || path[0] == '\0')
		path = "/healthz";
	strbuf_init(&b);
	strbuf_addf(&b, "GET %s HTTP/1.1\r\nHost: %s%s%s", path, v6 ? "[" : "",
	    host, v6 ? "]" : "");
	if (srv->port != 80)
		strbuf_addf(&b, ":%u", (unsigned)srv->port);
	strbuf_adds(&b, "\r\nUser-Agent: cutover-health-check\r\n"
			"Connection: close\r\n\r\n");
	*lenp = b.len;
	return strbuf_detach(&b);
}

/* Free everything; the thread is not running (never started, or joined). */
static void
health_free(struct health_checker *h)
{
	for (size_t i = 0; i < h->nprobes; i++) {
		struct health_probe *p = &h->probes[i];

		event_del(&p->tick);
		event_del(&p->deadline);
		event_del(&p->io);
		SSL_free(p->ssl);
		p->ssl = NULL;
		tls_session_slot_clear(&p->tls_session);
		if (p->fd != -1) {
			close(p->fd);
			p->fd = -1;
		}
		free(p->req);
		p->req = NULL;
	}
	free(h->probes);
	h->probes = NULL;
	h->nprobes = 0;
	if (h->cmd_ev != NULL) {
		event_free(h->cmd_ev);
		h->cmd_ev = NULL;
	}
	if (h->base != NULL) {
		event_base_free(h->base);
		h->base = NULL;
	}
	for (int i = 0; i < 2; i++) {
		if (h->cmd_fd[i] != -1) {
			close(h->cmd_fd[i]);
			h->cmd_fd[i] = -1;
		}
	}
	config_unref(h->cfg);
	h->cfg = NULL;
	free(h);
}

static void *
health_main(void *arg)
{
	struct health_checker *h = arg;

	log_debug("health_start", "servers=%zu", h->nprobes);
	event_base_dispatch(h->base);
	log_debug("health_exit", "servers=%zu", h->nprobes);
	return NULL;
}

static void
health_cmdcb(evutil_socket_t fd, short what, void *arg)
{
	struct health_checker *h = arg;
	char buf[16];

	(void)what;
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	event_base_loopbreak(h->base);
}

/* Arm a timer for `ms` (0: the next loop turn; timer_arm() would disarm). */
static void
health_arm(struct event *ev, uint64_t ms)
{
	struct timeval tv;

	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)((ms % 1000) * 1000);
	evtimer_add(ev, &tv);
}

static const char *
health_state_name(enum health_state s)
{
	switch (s) {
	case HEALTH_IDLE: return "idle";
	case HEALTH_CONNECTING: return "connecting";
	case HEALTH_HANDSHAKE: return "handshake";
	case HEALTH_SENDING: return "sending";
	case HEALTH_READING: return "reading";
	}
	return "?";
}

/* The one place a probe changes state; a wrong step is a bug here. */
static void
health_set_state(struct health_probe *p, enum health_state to)
{
	bool ok;

	switch (to) {
	case HEALTH_IDLE:
		ok = p->state != HEALTH_IDLE;
		break;
	case HEALTH_CONNECTING:
		ok = p->state == HEALTH_IDLE;
		break;
	case HEALTH_HANDSHAKE:
		ok = p->state == HEALTH_IDLE || p->state == HEALTH_CONNECTING;
		break;
	case HEALTH_SENDING:
		ok = p->state == HEALTH_IDLE || p->state == HEALTH_CONNECTING ||
		    p->state == HEALTH_HANDSHAKE;
		break;
	case HEALTH_READING:
		ok = p->state == HEALTH_SENDING;
		break;
	default:
		ok = false;
		break;
	}
	if (!ok)
		fatal("health: probe of %s %s: bad transition %s -> %s",
		    p->up->name, p->srv->address, health_state_name(p->state),
		    health_state_name(to));
	log_debug("health_probe_state", "upstream=%s server=%s from=%s to=%s",
	    p->up->name, p->srv->address, health_state_name(p->state),
	    health_state_name(to));
	p->state = to;
}

static void
health_tickcb(evutil_socket_t fd, short what, void *arg)
{
	struct health_probe *p = arg;

	(void)fd;
	(void)what;
	health_arm(&p->tick, p->interval_ms);
	if (p->state != HEALTH_IDLE) {
		/* The last check is still within its timeout: skip this round. */
		log_debug("health_check_skipped", "upstream=%s server=%s state=%s",
		    p->up->name, p->srv->address, health_state_name(p->state));
		return;
	}
	health_check_begin(p);
}

static void
health_deadlinecb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	health_check_end(arg, false, "timeout");
}

static void
health_iocb(evutil_socket_t fd, short what, void *arg)
{
	struct health_probe *p = arg;
	char why[64];
	socklen_t len;
	int err;

	(void)fd;
	(void)what;
	switch (p->state) {
	case HEALTH_CONNECTING:
		err = 0;
		len = sizeof(err);
		if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
			err = errno;
		if (err != 0) {
			health_check_end(p, false,
			    health_errno_reason(err, why, sizeof(why), "connect"));
			return;
		}
		health_connected(p);
		break;
	case HEALTH_HANDSHAKE:
		health_handshake(p);
		break;
	case HEALTH_SENDING:
		health_send(p);
		break;
	case HEALTH_READING:
		health_recv(p);
		break;
	case HEALTH_IDLE:
		break; /* cannot happen: io is deleted when a check ends */
	}
}

static void
health_check_begin(struct health_probe *p)
{
	char why[64];
	int e;

	p->sent = 0;
	p->got = 0;
	health_arm(&p->deadline, p->timeout_ms);
	p->fd = socket(p->srv->addr.ss_family,
	    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->fd == -1) {
		/* Our problem (fd limit...), but the server cannot be vouched for either. */
		e = errno;
		health_set_state(p, HEALTH_CONNECTING);
		health_check_end(p, false,
		    health_errno_reason(e, why, sizeof(why), "socket"));
		return;
	}
	if (connect(p->fd, (const struct sockaddr *)&p->srv->addr,
		p->srv->addrlen) == 0) {
		health_connected(p);
		return;
	}
	e = errno; /* health_set_state() may log */
	health_set_state(p, HEALTH_CONNECTING);
	if (e == EINPROGRESS || e == EINTR) {
		health_wait(p, EV_WRITE);
		return;
	}
	health_check_end(p, false,
	    health_errno_reason(e, why, sizeof(why), "connect"));
}

/* Wait for `what` on the probe's socket (only one wait at a time). */
static void
health_wait(struct health_probe *p, short what)
{
	event_del(&p->io);
	event_assign(&p->io, p->hc->base, p->fd, what, health_iocb, p);
	event_add(&p->io, NULL);
}

/* TCP is up: over TLS the handshake comes first, as a request's would. */
static void
health_connected(struct health_probe *p)
{
	const struct upstream_tls_conf *tls = &p->up->tls;
	const char *name = tls->sni != NULL ? tls->sni : p->srv->host;

	if (!tls->enabled) {
		health_set_state(p, HEALTH_SENDING);
		health_send(p);
		return;
	}
	health_set_state(p, HEALTH_HANDSHAKE);
	if (tls->ctx == NULL || (p->ssl = tls_client_ssl(tls->ctx, name, name,
	    &p->tls_session)) == NULL) {
		health_check_end(p, false, "TLS setup failed");
		return;
	}
	(void)SSL_set_fd(p->ssl, p->fd);
	health_handshake(p);
}

/*
 * After an SSL call returned `rc` <= 0: wait when it asks to (true), else
 * end the check with `what` and OpenSSL's reason (false).
 */
static bool
health_tls_wait(struct health_probe *p, int rc, const char *what)
{
	char why[128], err[96];
	int e = errno;
	long vr;

	switch (SSL_get_error(p->ssl, rc)) {
	case SSL_ERROR_WANT_READ:
		health_wait(p, EV_READ);
		return true;
	case SSL_ERROR_WANT_WRITE:
		health_wait(p, EV_WRITE);
		return true;
	case SSL_ERROR_ZERO_RETURN:
		health_check_end(p, false, p->got == 0 ? "closed before status" :
		    "bad status line");
		return false;
	case SSL_ERROR_SYSCALL:
		/* errno 0: the server closed; else the socket's own error. */
		snprintf(why, sizeof(why), "%s: %s", what, e == 0 ?
		    "connection closed" :
		    health_errno_reason(e, err, sizeof(err), "connection"));
		ERR_clear_error();
		health_check_end(p, false, why);
		return false;
	default:
		vr = tls_verify_failure(p->ssl);
		if (vr != X509_V_OK)
			snprintf(why, sizeof(why), "%s: certificate verify failed: %s",
			    what, X509_verify_cert_error_string(vr));
		else
			snprintf(why, sizeof(why), "%s: %s", what,
			    tls_error_text(err, sizeof(err))[0] != '\0' ? err :
			    "connection closed");
		ERR_clear_error();
		health_check_end(p, false, why);
		return false;
	}
}

static void
health_handshake(struct health_probe *p)
{
	int rc;

	ERR_clear_error();
	errno = 0;
	rc = SSL_do_handshake(p->ssl);
	if (rc == 1) {
		health_set_state(p, HEALTH_SENDING);
		health_send(p);
		return;
	}
	(void)health_tls_wait(p, rc, "TLS handshake failed");
}

static void
health_send(struct health_probe *p)
{
	char why[64];
	ssize_t n;

	while (p->sent < p->req_len) {
		if (p->ssl != NULL) {
			int rc;

			ERR_clear_error();
			errno = 0;
			rc = SSL_write(p->ssl, p->req + p->sent,
			    (int)(p->req_len - p->sent));
			if (rc <= 0) {
				(void)health_tls_wait(p, rc, "TLS send");
				return;
			}
			p->sent += (size_t)rc;
			continue;
		}
		n = send(p->fd, p->req + p->sent, p->req_len - p->sent,
		    MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				health_wait(p, EV_WRITE);
				return;
			}
			health_check_end(p, false,
			    health_errno_reason(errno, why, sizeof(why), "send"));
			return;
		}
		p->sent += (size_t)n;
	}
	health_set_state(p, HEALTH_READING);
	health_wait(p, EV_READ);
}

static void
health_recv(struct health_probe *p)
{
	char why[64];
	ssize_t n;
	int code, r;

	for (;;) {
		if (p->ssl != NULL) {
			int rc;

			ERR_clear_error();
			errno = 0;
			rc = SSL_read(p->ssl, p->status + p->got,
			    (int)(sizeof(p->status) - p->got));
			if (rc <= 0) {
				(void)health_tls_wait(p, rc, "TLS receive");
				return;
			}
			n = rc;
		} else {
			n = recv(p->fd, p->status + p->got,
			    sizeof(p->status) - p->got, 0);
		}
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				health_wait(p, EV_READ);
				return;
			}
			health_check_end(p, false,
			    health_errno_reason(errno, why, sizeof(why), "recv"));
			return;
		}
		if (n == 0) {
			health_check_end(p, false,
			    p->got == 0 ? "closed before status" : "bad status line");
			return;
		}
		p->got += (size_t)n;
		if ((r = health_status_parse(p->status, p->got, &code)) == -1) {
			health_check_end(p, false, "bad status line");
			return;
		}
		if (r == 1)
			break;
	}
	snprintf(why, sizeof(why), "status %d", code);
	health_check_end(p, code >= 200 && code < 400, why);
}

/*
 * Is b[0..len) a status line "HTTP/1.D DDD" followed by SP, CR or LF?
 * Returns 1 (complete, *code set), 0 (a good prefix: need more) or -1
 * (it cannot become one). Looks at no more than HEALTH_STATUS_LEN bytes.
 */
static int
health_status_parse(const char *b, size_t len, int *code)
{
	static const char tmpl[] = "HTTP/1.# ###$"; /* #: digit, $: SP, CR or LF */

	for (size_t i = 0; i < len && i < HEALTH_STATUS_LEN; i++) {
		unsigned char c = (unsigned char)b[i];

		switch (tmpl[i]) {
		case '#':
			if (c < '0' || c > '9')
				return -1;
			break;
		case '$':
			if (c != ' ' && c != '\r' && c != '\n')
				return -1;
			break;
		default:
			if (c != (unsigned char)tmpl[i])
				return -1;
			break;
		}
	}
	if (len < HEALTH_STATUS_LEN)
		return 0;
	*code = (b[9] - '0') * 100 + (b[10] - '0') * 10 + (b[11] - '0');
	return 1;
}

/* The check is over: close it, then count the result. */
static void
health_check_end(struct health_probe *p, bool ok, const char *reason)
{
	event_del(&p->io);
	event_del(&p->deadline);
	if (p->ssl != NULL) {
		SSL_free(p->ssl); /* no close_notify: the check just ends */
		p->ssl = NULL;
		ERR_clear_error();
	}
	if (p->fd != -1) {
		close(p->fd);
		p->fd = -1;
	}
	health_set_state(p, HEALTH_IDLE);
	health_record(p, ok, reason);
}

/*
 * Store the result in the server's runtime state; on a change, publish
 * `down` (then the upstream's count, which the workers read to call the
 * upstream unavailable) and log it.
 */
static void
health_record(struct health_probe *p, bool ok, const char *reason)
{
	struct server_rt *srt = p->srt;
	const struct health_check_conf *hcc = &p->up->health_check;
	bool down;

	srt->last_check_ms = clock_now_ms();
	/*
	 * The admin thread reads this without a lock: the last byte stays
	 * NUL, so a read racing this write is garbled at worst, never unbounded.
	 */
	snprintf(srt->last_error, sizeof(srt->last_error) - 1, "%s",
	    ok ? "" : reason);
	log_debug("health_check", "upstream=%s server=%s ok=%s reason=\"%s\"",
	    p->up->name, p->srv->address, ok ? "true" : "false", reason);
	if (!health_observe(&srt->hc, ok, hcc->healthy, hcc->unhealthy))
		return;
	down = srt->hc.down;
	atomic_store(&srt->down, down);
	if (down)
		atomic_fetch_add(&p->rt->servers_down, 1);
	else
		atomic_fetch_sub(&p->rt->servers_down, 1);
	log_info("health_changed",
	    "upstream=%s server=%s state=%s checks=%u reason=\"%s\"",
	    p->up->name, p->srv->address, down ? "down" : "up",
	    (unsigned)(down ? srt->hc.bad_run : srt->hc.good_run), reason);
}

/* A short reason for a failed syscall of a check, in buf. */
static const char *
health_errno_reason(int e, char *buf, size_t len, const char *what)
{
	switch (e) {
	case ECONNREFUSED:
		snprintf(buf, len, "%s refused", what);
		break;
	case ECONNRESET:
	case EPIPE:
		snprintf(buf, len, "reset");
		break;
	case ETIMEDOUT:
		snprintf(buf, len, "%s timed out", what);
		break;
	case EHOSTUNREACH:
	case ENETUNREACH:
		snprintf(buf, len, "%s unreachable", what);
		break;
	default:
		snprintf(buf, len, "%s failed (errno %d)", what, e);
		break;
	}
	return buf;
}
