/*
 * worker: a thread running one event loop with its own listeners, clients
 * and upstream pools. The server talks to it through a pipe (one command
 * byte), so no event base needs locking.
 */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cutover/accesslog.h"
#include "cutover/client.h"
#include "cutover/log.h"
#include "cutover/metrics.h"
#include "cutover/migration.h"
#include "cutover/route.h"
#include "cutover/shadow.h"
#include "cutover/strbuf.h"
#include "cutover/tls.h"
#include "cutover/txn.h"
#include "cutover/upstream_conn.h"
#include "cutover/upstream_rt.h"
#include "cutover/worker.h"

static void worker_acceptcb(evutil_socket_t fd, short what, void *arg);
static void worker_listen(struct worker *w, bool on);
static void worker_cmdcb(evutil_socket_t fd, short what, void *arg);
static void *worker_main(void *arg);
static void worker_stop_listening(struct worker *w);
static void worker_close_listener_fd(struct worker *w, int fd);
static void worker_end_loop(struct worker *w);
static void worker_drain(struct worker *w);
static void worker_quit(struct worker *w);
static void worker_close_idle(struct worker *w, const struct config *cfg);
static void worker_wake_all(struct worker *w);
static void worker_size_scratch(struct worker *w, const struct config *cfg);
static void worker_switch(struct worker *w);
static void worker_alog_timercb(evutil_socket_t fd, short what, void *arg);

/* How often a worker hands its partial access-log block to the writer. */
#define WORKER_ALOG_FLUSH_MS 100

int
worker_init(struct worker *w, struct worker_shared *shared, unsigned id,
    struct config *cfg, const int *listen_fds)
{
	struct event_config *ec;

	memset(w, 0, sizeof(*w));
	w->id = id;
	w->shared = shared;
	w->cfg = config_ref(cfg);
	TAILQ_INIT(&w->clients);
	TAILQ_INIT(&w->shadows);

	ec = event_config_new();
	/*
	 * The changelist folds an add and a delete of the same event within
	 * one loop turn into nothing: fewer epoll_ctl calls per request.
	 */
	event_config_set_flag(ec, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	event_config_set_flag(ec, EVENT_BASE_FLAG_NOLOCK);
	w->base = event_base_new_with_config(ec);
	event_config_free(ec);
	if (w->base == NULL)
		return -1;

	if (pipe2(w->cmd_fd, O_NONBLOCK | O_CLOEXEC) == -1)
		return -1;
	event_assign(&w->cmd_ev, w->base, w->cmd_fd[0], EV_READ | EV_PERSIST,
	    worker_cmdcb, w);
	event_add(&w->cmd_ev, NULL);

	w->nlisteners = cfg->nlisteners;
	w->listeners = xcalloc(cfg->nlisteners, sizeof(*w->listeners));
	for (size_t i = 0; i < cfg->nlisteners; i++) {
		struct worker_listener *l = &w->listeners[i];

		l->fd = listen_fds[i];
		l->conf = &cfg->listeners[i];
		l->w = w;
		l->index = i;
		event_assign(&l->ev, w->base, l->fd, EV_READ | EV_PERSIST,
		    worker_acceptcb, l);
	}
	worker_listen(w, true);

	rng_init(&w->rng);
	w->metrics = metrics_worker_new(cfg);
	w->migration = migration_worker_new();
	w->alog = accesslog_worker_new(shared->alog);
	{
		struct timeval tv = { 0, WORKER_ALOG_FLUSH_MS * 1000 };

		event_assign(&w->alog_timer, w->base, -1, EV_PERSIST,
		    worker_alog_timercb, w);
		event_add(&w->alog_timer, &tv);
	}
	/* Pools, balancers and wait queues live in each upstream's runtime state. */
	worker_size_scratch(w, cfg);
	return 0;
}

/*
 * Size the scratch space of the synchronous head path for `cfg`. Only
 * ever grows: a reload may come back to larger limits, and nothing keeps
 * pointers into scratch between events.
 */
static void
worker_size_scratch(struct worker *w, const struct config *cfg)
{
	size_t usable = 1, fields, path, longest_to = 0;

	for (size_t i = 0; i < cfg->nupstreams; i++)
		if (cfg->upstreams[i].nservers > usable)
			usable = cfg->upstreams[i].nservers;
	if (usable > w->usable_len) {
		free(w->usable);
		w->usable = xcalloc(usable, sizeof(*w->usable));
		w->usable_len = usable;
	}
	/* Responses are not bounded by the client limit; give them room. */
	fields = cfg->limits.max_headers < 100 ? 100 : (size_t)cfg->limits.max_headers;
	if (fields > w->max_fields) {
		free(w->req_fields);
		free(w->resp_fields);
		w->req_fields = xcalloc(fields, sizeof(*w->req_fields));
		w->resp_fields = xcalloc(fields, sizeof(*w->resp_fields));
		w->max_fields = fields;
	}
	for (size_t i = 0; i < cfg->nroutes; i++) {
		const struct route_rewrite *rw = &cfg->routes[i].rewrite;

		if (rw->to != NULL && strlen(rw->to) > longest_to)
			longest_to = strlen(rw->to);
	}
	path = (size_t)cfg->limits.max_target_bytes + 1;
	if (path > w->path_buf_len) {
		free(w->path_buf);
		w->path_buf = xmalloc(path);
		w->path_buf_len = path;
	}
	if (path + longest_to + 2 > w->rewrite_buf_len) {
		free(w->rewrite_buf);
		w->rewrite_buf_len = path + longest_to + 2;
		w->rewrite_buf = xmalloc(w->rewrite_buf_len);
	}
}

/* The listener of `old` at `address`, or NULL. */
static struct worker_listener *
worker_listener_at(struct worker_listener *old, size_t n, const char *address)
{
	for (size_t i = 0; i < n; i++)
		if (old[i].conf != NULL && strcmp(old[i].conf->address, address) == 0)
			return &old[i];
	return NULL;
}

/*
 * The listeners of generation `cfg`: those at an address already served
 * keep their socket; new ones take fds[i] (opened by the server); the
 * ones `cfg` no longer has are closed.
 */
static void
worker_switch_listeners(struct worker *w, const struct config *cfg,
    const int *fds)
{
	struct worker_listener *old = w->listeners, *nl;
	size_t nold = w->nlisteners;

	nl = xcalloc(cfg->nlisteners ? cfg->nlisteners : 1, sizeof(*nl));
	for (size_t i = 0; i < cfg->nlisteners; i++) {
		struct worker_listener *o = worker_listener_at(old, nold,
		    cfg->listeners[i].address);

		if (o != NULL) {
			if (w->listening && o->fd != -1)
				event_del(&o->ev);
			nl[i].fd = o->fd;
			o->fd = -1;
			o->conf = NULL;
			if (fds[i] != -1)
				close(fds[i]); /* opened for nothing: kept */
		} else {
			nl[i].fd = fds[i];
		}
		nl[i].conf = &cfg->listeners[i];
		nl[i].w = w;
		nl[i].index = i;
		if (nl[i].fd != -1) {
			event_assign(&nl[i].ev, w->base, nl[i].fd,
			    EV_READ | EV_PERSIST, worker_acceptcb, &nl[i]);
			if (w->listening)
				event_add(&nl[i].ev, NULL);
		}
	}
	for (size_t i = 0; i < nold; i++) {
		if (old[i].fd == -1)
			continue;
		if (w->listening)
			event_del(&old[i].ev);
		worker_close_listener_fd(w, old[i].fd);
	}
	free(old);
	w->listeners = nl;
	w->nlisteners = cfg->nlisteners;
}

/*
 * A reload, on the worker's thread: serve generation w->next_cfg from
 * now on. Requests in flight keep theirs; kept upstreams' pools go on
 * (they name no configuration: pool.h); replaced upstreams' idle
 * connections close.
 */
static void
worker_switch(struct worker *w)
{
	struct config *cfg = w->next_cfg, *old = w->cfg;

	w->next_cfg = NULL;
	if (cfg == NULL)
		return;
	worker_switch_listeners(w, cfg, w->next_fds);
	worker_size_scratch(w, cfg);
	for (size_t u = 0; u < old->nupstreams; u++) {
		struct upstream_rt *rt = old->upstreams[u].rt;

		for (size_t j = 0; atomic_load(&rt->retired) &&
		     j < old->upstreams[u].nservers; j++)
			pool_server_close_idle(&rt->w[w->id].servers[j]);
	}
	w->cfg = cfg; /* the server's reference, handed over */
	config_unref(old);
	/* A raised limits.max_connections frees a worker paused at the old one. */
	if (!w->draining && atomic_exchange(&w->paused, false))
		worker_listen(w, true);
	atomic_fetch_add_explicit(&w->shared->switched, 1, memory_order_release);
}

int
worker_start(struct worker *w)
{
	int e = pthread_create(&w->thread, NULL, worker_main, w);

	if (e != 0) {
		errno = e;
		return -1;
	}
	return 0;
}

void
worker_command(struct worker *w, char cmd)
{
	ssize_t n = write(w->cmd_fd[1], &cmd, 1);
	(void)n;
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;

	log_debug("worker_start", "worker=%u", w->id);
	w->looping = true;
	event_base_dispatch(w->base);
	w->looping = false;
	route_thread_cleanup();
	log_debug("worker_exit", "worker=%u", w->id);
	return NULL;
}

static void
worker_listen(struct worker *w, bool on)
{
	if (w->listening == on)
		return;
	for (size_t i = 0; i < w->nlisteners; i++) {
		if (w->listeners[i].fd == -1)
			continue;
		if (on)
			event_add(&w->listeners[i].ev, NULL);
		else
			event_del(&w->listeners[i].ev);
	}
	w->listening = on;
}

/*
 * Accept while the process is below limits.max_connections. At the limit
 * the worker stops watching its sockets, so new connections wait in the
 * kernel backlog; whichever worker closes a connection wakes it.
 */
static void
worker_alog_timercb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;

	(void)fd;
	(void)what;
	accesslog_flush(w->alog);
}

static void
worker_acceptcb(evutil_socket_t lfd, short what, void *arg)
{
	struct worker_listener *l = arg;
	struct worker *w = l->w;
	struct worker_shared *sh = w->shared;
	int one = 1;

	(void)what;
	for (;;) {
		struct sockaddr_storage ss;
		socklen_t sslen = sizeof(ss);
		size_t n = atomic_fetch_add(&sh->nconns, 1);
		SSL *ssl = NULL;
		int fd;

		if (n >= atomic_load(&sh->max_conns)) {
			atomic_fetch_sub(&sh->nconns, 1);
			atomic_store(&w->paused, true);
			worker_listen(w, false);
			/* A close may have raced the pause: look once more. */
			if (atomic_load(&sh->nconns) < atomic_load(&sh->max_conns) &&
			    atomic_exchange(&w->paused, false))
				worker_listen(w, true);
			return;
		}
		fd = accept4(lfd, (struct sockaddr *)&ss, &sslen,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			atomic_fetch_sub(&sh->nconns, 1);
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
			    errno != ECONNABORTED)
				log_warn("accept", "worker=%u", w->id);
			return;
		}
		if (w->draining) {
			atomic_fetch_sub(&sh->nconns, 1);
			close(fd);
			continue;
		}
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (l->conf->tls.enabled) {
			if (l->conf->tls.ctx == NULL ||
			    (ssl = tls_server_ssl(l->conf->tls.ctx)) == NULL) {
				char why[256];

				log_warnx("tls_accept", "listener=%s reason=\"%s\"",
				    l->conf->address, tls_error_text(why, sizeof(why)));
				atomic_fetch_sub(&sh->nconns, 1);
				close(fd);
				continue;
			}
		}
		client_accept(w, l->conf->id, ssl, fd, (struct sockaddr *)&ss);
	}
}

void
worker_client_gone(struct worker *w)
{
	struct worker_shared *sh = w->shared;
	size_t before = atomic_fetch_sub(&sh->nconns, 1);

	w->nclients--;
	if (w->draining) {
		if (w->nclients == 0)
			worker_end_loop(w);
		return;
	}
	if (before >= atomic_load(&sh->max_conns)) {
		for (unsigned i = 0; i < sh->nworkers; i++) {
			struct worker *o = &sh->workers[i];

			if (!atomic_exchange(&o->paused, false))
				continue;
			if (o == w)
				worker_listen(w, true);
			else
				worker_command(o, WORKER_CMD_RESUME);
		}
	}
}

static void
worker_stop_listening(struct worker *w)
{
	worker_listen(w, false);
	for (size_t i = 0; i < w->nlisteners; i++) {
		if (w->listeners[i].fd != -1)
			worker_close_listener_fd(w, w->listeners[i].fd);
		w->listeners[i].fd = -1;
	}
}

/* A timer's callback gets no fd: the socket comes in `arg`. */
/*
 * Leave the loop after one more turn, not at once: listening sockets
 * whose close waits for that turn (worker_close_listener_fd) get closed.
 */
static void
worker_end_loop(struct worker *w)
{
	event_base_loopexit(w->base, &(struct timeval){ 0, 0 });
}

static void
worker_close_fd_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	close((int)(intptr_t)arg);
}

/*
 * Close a listening socket whose event was just deleted. With the epoll
 * changelist the delete reaches the kernel at the next loop turn; closed
 * before that, a socket whose file is still open elsewhere (an inherited
 * socket dup'd to every worker, or one a reload keeps) stays in this
 * worker's epoll set and reports forever. So the close waits one turn;
 * once the loop is gone (worker_free), it closes at once.
 */
static void
worker_close_listener_fd(struct worker *w, int fd)
{
	if (w->looping && event_base_once(w->base, -1, EV_TIMEOUT,
		worker_close_fd_cb, (void *)(intptr_t)fd,
		&(struct timeval){ 0, 0 }) == 0)
		return;
	close(fd);
}

/* Close this worker's idle connections to every upstream of `cfg`. */
static void
worker_close_idle(struct worker *w, const struct config *cfg)
{
	for (size_t u = 0; u < cfg->nupstreams; u++) {
		struct upstream_rt *rt = cfg->upstreams[u].rt;

		for (size_t j = 0; rt != NULL && j < cfg->upstreams[u].nservers; j++)
			pool_server_close_idle(&rt->w[w->id].servers[j]);
	}
}

void
worker_waiting_rt(struct worker *w, struct upstream_rt *rt, bool waiting)
{
	if (waiting) {
		if (w->nwait_rts == w->wait_rts_cap) {
			w->wait_rts_cap = w->wait_rts_cap ? 2 * w->wait_rts_cap : 8;
			w->wait_rts = xrealloc(w->wait_rts,
			    w->wait_rts_cap * sizeof(*w->wait_rts));
		}
		w->wait_rts[w->nwait_rts++] = rt;
		return;
	}
	for (size_t i = 0; i < w->nwait_rts; i++) {
		if (w->wait_rts[i] == rt) {
			w->wait_rts[i] = w->wait_rts[--w->nwait_rts];
			return;
		}
	}
}

/*
 * Slots were handed to this worker or freed: wake the waiters of every
 * upstream served now, and of those (maybe of an older generation) that
 * have waiters here.
 */
static void
worker_wake_all(struct worker *w)
{
	for (size_t u = 0; u < w->cfg->nupstreams; u++)
		txn_wake_waiters(w, w->cfg->upstreams[u].rt);
	for (size_t i = w->nwait_rts; i-- > 0;)
		if (i < w->nwait_rts)
			txn_wake_waiters(w, w->wait_rts[i]);
}

static void
worker_drain(struct worker *w)
{
	struct client *c, *next;

	if (w->draining)
		return;
	w->draining = true;
	worker_stop_listening(w);
	worker_close_idle(w, w->cfg);
	for (c = TAILQ_FIRST(&w->clients); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		client_drain(c);
	}
	if (w->nclients == 0)
		worker_end_loop(w);
}

static void
worker_quit(struct worker *w)
{
	struct client *c;

	worker_stop_listening(w);
	w->draining = true;
	while ((c = TAILQ_FIRST(&w->clients)) != NULL)
		client_close(c, "shutdown timeout");
	worker_end_loop(w);
}

static void
worker_cmdcb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	char cmds[16];
	ssize_t n;

	(void)what;
	while ((n = read(fd, cmds, sizeof(cmds))) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			if (cmds[i] == WORKER_CMD_DRAIN)
				worker_drain(w);
			else if (cmds[i] == WORKER_CMD_QUIT)
				worker_quit(w);
			else if (cmds[i] == WORKER_CMD_RESUME && !w->draining)
				worker_listen(w, true);
			else if (cmds[i] == WORKER_CMD_SLOTS)
				worker_wake_all(w);
			else if (cmds[i] == WORKER_CMD_SWITCH)
				worker_switch(w);
		}
	}
}

struct txn *
worker_txn_get(struct worker *w, struct client *c)
{
	struct txn *t = w->txn_free;

	if (t != NULL) {
		w->txn_free = t->next_free;
	} else {
		t = xmalloc(sizeof(*t));
		txn_init(t, w->base);
	}
	t->next_free = NULL;
	t->c = c;
	return t;
}

void
worker_txn_put(struct worker *w, struct txn *t)
{
	t->c = NULL;
	t->next_free = w->txn_free;
	w->txn_free = t;
}

void
worker_free(struct worker *w)
{
	struct client *c;
	struct txn *t;

	while ((c = TAILQ_FIRST(&w->clients)) != NULL)
		client_close(c, "worker exit");
	if (w->listeners != NULL)
		worker_stop_listening(w);
	free(w->listeners);
	while ((t = w->txn_free) != NULL) {
		w->txn_free = t->next_free;
		txn_free(t);
	}
	/* A reload handed over as the worker stopped: never taken. */
	if (w->next_cfg != NULL) {
		for (size_t i = 0; w->next_fds != NULL && i < w->next_cfg->nlisteners; i++)
			if (w->next_fds[i] != -1)
				close(w->next_fds[i]);
		config_unref(w->next_cfg);
		w->next_cfg = NULL;
	}
	shadow_free_all(w); /* their connections belong to the pools */
	if (w->cfg != NULL)
		worker_close_idle(w, w->cfg);
	free(w->wait_rts);
	migration_worker_free(w->migration);
	if (w->alog != NULL)
		accesslog_worker_free(w->alog); /* hands over what is left */
	if (w->metrics != NULL)
		metrics_worker_free(w->metrics);
	free(w->usable);
	free(w->req_fields);
	free(w->resp_fields);
	free(w->path_buf);
	free(w->rewrite_buf);
	if (w->base != NULL) {
		event_del(&w->cmd_ev);
		event_del(&w->alog_timer);
		event_base_free(w->base);
	}
	if (w->cmd_fd[0] > 0) {
		close(w->cmd_fd[0]);
		close(w->cmd_fd[1]);
	}
	if (w->cfg != NULL)
		config_unref(w->cfg);
	memset(w, 0, sizeof(*w));
}
