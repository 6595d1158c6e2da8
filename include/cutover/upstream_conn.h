/*
 * upstream_conn: one connection from a worker to an upstream server.
 * Owner: while idle, its pool_server (on the idle list); while connecting or
 * busy, the transaction in `txn`. upconn_close() is its one teardown.
 */
#ifndef CUTOVER_UPSTREAM_CONN_H
#define CUTOVER_UPSTREAM_CONN_H

#include <stdbool.h>
#include <sys/queue.h>

#include "cutover/http_parse.h"
#include "cutover/stream.h"

struct upstream_tls_conf;

struct pool_server;
struct txn;
struct worker;

enum upconn_state {
	UPCONN_CONNECTING = 0,
	UPCONN_BUSY,
	UPCONN_IDLE,
};

struct upstream_conn {
	TAILQ_ENTRY(upstream_conn) entry; /* pool_server.idle while UPCONN_IDLE */
	struct stream s;
	struct worker *w;
	struct pool_server *ps;
	enum upconn_state state;
	struct txn *txn; /* owner while CONNECTING or BUSY */
	unsigned uses;	 /* requests sent on it so far */
};

/*
 * Start connecting to ps's server for `txn` (ops/arg: its callbacks), over
 * TLS when `tls` (the upstream's, of the caller's generation) is enabled:
 * CONNECTED then comes after the handshake. NULL with errno on failure.
 */
struct upstream_conn *upconn_connect(struct worker *w, struct pool_server *ps,
    const struct upstream_tls_conf *tls, const struct stream_ops *ops,
    void *arg);
/* Take the most recently used idle connection, or NULL. */
struct upstream_conn *upconn_take_idle(struct pool_server *ps,
    const struct stream_ops *ops, void *arg);
/* Hand a connection whose response completed back to its pool. */
void upconn_release(struct upstream_conn *uc, uint64_t idle_timeout_ms);
void upconn_close(struct upstream_conn *uc, const char *reason);

/* Longest upstream response head we accept. */
#define UPCONN_MAX_RESPONSE_HEAD (64 * 1024)
/*
 * Parse the response head at the front of uc->s.in into `h` (fields in
 * the worker's scratch array, valid until the next parse on this worker),
 * resuming at *scan_pos; `m` is the request's method (HEAD has no body).
 */
enum http_parse_rc upconn_parse_head(struct upstream_conn *uc,
    enum http_method m, size_t *scan_pos, struct http_head *h,
    struct http_error *err);

#endif /* CUTOVER_UPSTREAM_CONN_H */
