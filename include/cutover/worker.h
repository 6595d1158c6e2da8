/*
 * worker: one thread with its own event loop, its own SO_REUSEPORT
 * listeners, client connections and upstream pools. Workers share nothing
 * mutable but the (immutable, refcounted) configuration.
 */
#ifndef CUTOVER_WORKER_H
#define CUTOVER_WORKER_H

#include <event2/event_struct.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/queue.h>

#include "cutover/balance.h"
#include "cutover/config.h"
#include "cutover/http_parse.h"
#include "cutover/pool.h"
#include "cutover/rng.h"

struct accesslog;
struct accesslog_worker;
struct client;
struct metrics_worker;
struct migration_worker;
struct shadow;
struct shadow_log;
struct txn;

/* Requests waiting for a connection slot of one upstream, oldest first. */

/*
 * Connection accounting shared by all workers: limits.max_connections is
 * one number for the process, not a per-thread share. Owner: the server.
 */
struct worker_shared {
	atomic_size_t nconns;
	atomic_size_t max_conns; /* limits.max_connections (a reload may change it) */
	atomic_bool stopping; /* workers are being freed: no cross-worker pokes */
	struct accesslog *alog; /* the process's access log (may be a no-op one) */
	struct shadow_log *shadow_log; /* the last shadow mismatches (may be NULL) */
	atomic_uint switched; /* workers done with the current reload's switch */
	struct worker *workers;
	unsigned nworkers;
};

/* One listening socket of one worker. */
struct worker_listener {
	int fd;
	struct event ev;
	const struct listener_conf *conf;
	struct worker *w;
	size_t index; /* in cfg->listeners */
};

/*
 * Owner: the server (server.workers). Everything here is created by
 * worker_init on the server thread and freed by worker_free after the
 * thread joined.
 */
struct worker {
	unsigned id;
	pthread_t thread;
	struct event_base *base;
	struct config *cfg; /* the generation served (a reference) */

	struct worker_shared *shared;
	struct worker_listener *listeners;
	size_t nlisteners;
	bool listening;	    /* accept events armed */
	bool looping;	    /* inside event_base_dispatch (its own thread only) */
	atomic_bool paused; /* stopped at the connection limit */

	int cmd_fd[2]; /* server -> worker commands, one byte each */
	/* A reload hands these over with WORKER_CMD_SWITCH (see worker_switch). */
	struct config *next_cfg; /* a reference, taken by the worker */
	int *next_fds;		 /* next_cfg->nlisteners: a new socket, or -1 */
	struct event cmd_ev;

	TAILQ_HEAD(, client) clients;
	size_t nclients;
	bool draining;

	struct txn *txn_free; /* ended transactions, ready for reuse */
	struct rng rng;	      /* request and trace IDs */
	struct metrics_worker *metrics;
	struct accesslog_worker *alog;
	struct event alog_timer; /* hands partial access-log blocks to the writer */
	struct upstream_rt **wait_rts; /* upstreams with this worker's slot waiters */
	size_t nwait_rts;
	size_t wait_rts_cap;
	bool *usable;		 /* scratch: which servers a pick may choose */
	size_t usable_len;
	TAILQ_HEAD(, shadow) shadows; /* shadow copies in flight (owned) */
	struct migration_worker *migration; /* catch-all paths (owned) */

	/* Scratch space for the synchronous head-processing path. */
	struct http_field *req_fields;
	struct http_field *resp_fields;
	size_t max_fields;
	char *path_buf; /* normalised path */
	char *rewrite_buf;
	size_t path_buf_len;
	size_t rewrite_buf_len;
};

#define WORKER_CMD_DRAIN  'D'
#define WORKER_CMD_QUIT	  'Q'
#define WORKER_CMD_RESUME 'R' /* below the connection limit again: accept */
#define WORKER_CMD_SLOTS  'S' /* bulkhead slots handed over or freed: wake waiters */
#define WORKER_CMD_SWITCH 'L' /* a reload: serve next_cfg from now on */

int worker_init(struct worker *w, struct worker_shared *shared, unsigned id,
    struct config *cfg, const int *listen_fds) __attribute__((warn_unused_result));
int worker_start(struct worker *w) __attribute__((warn_unused_result));
void worker_command(struct worker *w, char cmd);
void worker_free(struct worker *w);
/* A transaction for client `c` (reused from the free list when possible). */
struct txn *worker_txn_get(struct worker *w, struct client *c);
void worker_txn_put(struct worker *w, struct txn *t);
struct upstream_rt;
/* This worker has slot waiters for `rt` now (or no longer). */
void worker_waiting_rt(struct worker *w, struct upstream_rt *rt, bool waiting);
/* A client connection closed: update counts, resume accepting, end a drain. */
void worker_client_gone(struct worker *w);

#endif /* CUTOVER_WORKER_H */
