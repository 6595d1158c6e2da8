/*
 * client: one accepted client connection and its keep-alive loop.
 *
 *   CLIENT_S_IDLE -> CLIENT_S_HEAD -> CLIENT_S_BUSY -> CLIENT_S_IDLE ...
 *   any -> CLIENT_S_CLOSING (flush, half-close, linger) -> freed
 *   CLIENT_S_BUSY -> CLIENT_S_TUNNEL (after a 101)
 *
 * Owner: the worker (on worker.clients). client_close() is its one
 * teardown and frees everything it owns, the transaction's upstream
 * connection included. An idle connection holds no transaction: that
 * keeps 10,000 idle keep-alive clients cheap.
 */
#ifndef CUTOVER_CLIENT_H
#define CUTOVER_CLIENT_H

#include <event2/event_struct.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <sys/queue.h>

#include "cutover/stream.h"
#include "cutover/txn.h"

struct upstream_conn;
struct worker;

enum client_state {
	CLIENT_S_IDLE = 0, /* between requests (idle timeout) */
	CLIENT_S_HEAD,	   /* reading a request head (header timeout) */
	CLIENT_S_BUSY,	   /* a transaction is running */
	CLIENT_S_TUNNEL,   /* bytes relayed both ways after 101 */
	CLIENT_S_CLOSING,  /* last bytes flushing, then close */
};

struct client {
	TAILQ_ENTRY(client) entry; /* worker.clients */
	struct worker *w;
	size_t listener; /* its listener's metrics slot (listener_conf.id) */
	bool tls;	 /* accepted on a TLS listener: X-Forwarded-Proto https */
	struct stream s;
	enum client_state state;
	char addr[INET6_ADDRSTRLEN];
	struct event timer; /* idle / header / linger */
	size_t scan_pos;    /* resumable head search */
	uint64_t nrequests;
	bool in_process; /* client_process is on the stack */
	bool peer_eof;
	struct txn *txn;	       /* the running request, from the worker's free list; NULL between requests */
	struct upstream_conn *tunnel; /* after a 101: the upstream side, owned here */
	struct config *tunnel_cfg;    /* the generation the tunnel's upstream belongs to (a reference) */
};

/* `ssl`: the connection's TLS (owned from here on), or NULL for plain HTTP. */
void client_accept(struct worker *w, size_t listener, SSL *ssl, int fd,
    const struct sockaddr *sa);
void client_close(struct client *c, const char *reason);
/* The transaction finished; go back to idle (or close). */
void client_txn_done(struct client *c, bool keepalive);
/* Send what is in the output, then close (lingering half-close). */
void client_finish(struct client *c, const char *reason);
/* Answer with an error and close. */
void client_error(struct client *c, int status, const char *detail);
void client_set_state(struct client *c, enum client_state st);
/* Give the transaction back to the worker (after txn_end). */
void client_release_txn(struct client *c);
/* Drain: close when idle, otherwise after the current response. */
void client_drain(struct client *c);
/* Continue with buffered input. Returns false when c was freed. */
bool client_process(struct client *c);

#endif /* CUTOVER_CLIENT_H */
