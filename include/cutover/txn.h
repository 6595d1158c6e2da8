/*
 * txn: the per-request state machine. One request at a time per client
 * connection (pipelined requests wait in the client's input, so answers go
 * out in order). The request side and the response side each have their
 * own state, because a body may still be flowing up while the response
 * flows down.
 *
 *   request:  TXN_REQ_NONE -> TXN_REQ_BODY -> TXN_REQ_DONE
 *   response: TXN_RESP_NONE -> TXN_RESP_WAIT_HEAD -> TXN_RESP_BODY -> TXN_RESP_DONE
 *
 * TXN_RESP_WAIT_HEAD spans every try: a retry stays in it with a new
 * upstream_conn. Between tries (backoff) and while queued for a bulkhead
 * slot there is no upstream_conn, and `wait` says what the transaction
 * waits for:
 *
 *   wait: TXN_WAIT_NONE -> TXN_WAIT_SLOT -> TXN_WAIT_GRANTED -> TXN_WAIT_NONE
 *         TXN_WAIT_NONE -> TXN_WAIT_BACKOFF -> TXN_WAIT_NONE
 *         TXN_WAIT_NONE -> TXN_WAIT_RST -> TXN_WAIT_NONE (keeps `uc`)
 */
#ifndef CUTOVER_TXN_H
#define CUTOVER_TXN_H

#include <event2/event_struct.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include "cutover/breaker.h"
#include "cutover/config.h"
#include "cutover/http_body.h"
#include "cutover/http_msg.h"
#include "cutover/http_parse.h"
#include "cutover/metrics.h"
#include "cutover/outcome.h"
#include "cutover/reqid.h"
#include "cutover/traceparent.h"

struct client;
struct upstream_conn;
struct upstream_rt;
struct worker;

enum txn_wait {
	TXN_WAIT_NONE = 0,
	TXN_WAIT_SLOT,	  /* queued on worker.pending[upstream] */
	TXN_WAIT_GRANTED, /* a slot was handed over; the try starts from the loop */
	TXN_WAIT_BACKOFF, /* the next try starts when phase_timer fires */
	TXN_WAIT_RST,	  /* a reused connection hit EOF: does a RST follow the FIN? */
};

enum txn_req_state {
	TXN_REQ_NONE = 0,
	TXN_REQ_BODY,
	TXN_REQ_DONE,
};

enum txn_resp_state {
	TXN_RESP_NONE = 0,
	TXN_RESP_WAIT_HEAD,
	TXN_RESP_BODY,
	TXN_RESP_DONE,
};

/*
 * Owner: the worker, which keeps ended ones on a free list (worker_txn_get
 * / worker_txn_put); a client holds one from txn_start until it calls
 * client_release_txn. Holds a config reference between txn_start and
 * txn_end; owns `uc` while set, the buffers up_head, fb_head and replay
 * (allocated by txn_init, kept across reuse), a bulkhead slot of `up`
 * while holds_slot, and a breaker ticket while ticket.admitted.
 */
struct txn {
	struct txn *next_free; /* worker.txn_free */
	TAILQ_ENTRY(txn) pending_entry; /* up->rt->w[worker].pending while TXN_WAIT_SLOT */
	uint64_t wait_seq;	/* its place among every worker's waiters */
	struct client *c;
	struct config *cfg;
	const struct route_conf *route;
	const struct upstream_conf *up;
	struct upstream_conn *uc;
	enum txn_req_state req;
	enum txn_resp_state resp;
	enum http_method meth;
	int client_minor;
	bool keepalive;	     /* the client connection may serve another request */
	bool upgrade;	     /* a WebSocket upgrade was asked for */
	bool resp_started;   /* bytes of the response reached the client's output */
	size_t resp_scan_pos; /* resumable search for the response head's end */
	bool up_no_reuse;    /* the upstream connection must not be pooled */
	bool req_chunked_out;
	bool resp_chunked_out;
	struct http_body req_body;
	struct http_body resp_body;
	struct event phase_timer; /* connect, response head; backoff; slot wait */
	struct event deadline;	  /* request_timeout */

	/* What the access log and the metrics say about this request. */
	char reqid[REQID_MAX + 1];
	char traceparent[TRACEPARENT_LEN + 1]; /* "" when none is sent */
	bool trace_forwarded; /* the client's own traceparent goes on */
	char *line;	      /* method and target as received (heap, kept across reuse) */
	size_t line_cap;
	size_t method_len;    /* line[0..method_len) is the method, the rest the target */
	size_t target_len;
	uint64_t start_unix_us;
	uint64_t start_mono_us;
	uint64_t try_start_us;
	uint64_t try_out_mark; /* uc->s.bytes_out when this try started writing */
	int64_t upstream_us; /* -1 until an upstream answered or failed */
	uint64_t in_mark;    /* client bytes consumed before this request */
	uint64_t out_mark;   /* client bytes queued before this response */
	const struct server_conf *server;
	int status;	     /* sent to the client; 0 while none */
	unsigned tries;
	uint32_t flags;	     /* ACCESSLOG_F_* */

	/* Tries, retries and fallback (SPEC 4.2-4.4). */
	enum txn_wait wait;
	struct evbuffer *up_head; /* request head for the upstream, ending in one CRLF too many */
	struct evbuffer *fb_head; /* the same for the fallback (no rewrite); empty when up_head serves */
	struct evbuffer *replay;  /* body bytes as sent upstream, while replay_ok */
	bool replay_ok;		  /* replay holds every body byte sent so far */
	bool idempotent;	  /* replay-safe: method, or an Idempotency-Key */
	bool expect_100;	  /* answer 100 Continue on the first try */
	bool holds_slot;	  /* counted in up->rt->busy */
	bool first_counted;	  /* the current upstream's budget has this request's first try */
	bool closed_unread;	  /* this try's connection: FIN then RST (never read) */
	bool deadline_passed;	  /* request_timeout fired: no time is left, whatever a clock says */
	bool try_whole;		  /* the whole request was queued before this try's first write */
	bool try_flushed;	  /* this try's first flush happened (try_whole is known) */
	struct breaker_ticket ticket;
	unsigned attempts;	  /* tries on the current upstream */
	unsigned stale_retries;	  /* tries lost to stale pooled connections */
	size_t last_server;	  /* index of the server of the last try; SIZE_MAX none */
	int last_fail_status;	  /* what the client gets if no try succeeds */
	const char *last_fail_why;
	const struct upstream_conf *first_up;	   /* the target chosen (split, sticky, override) */
	const char *override_header;		   /* dropped from the request; NULL: none */
	const struct upstream_conf *fallback_from; /* set once the request fell back */
	const char *fallback_reason; /* "unavailable" | "failure" | "status" */
	const char *breaker_note;    /* the access log's `breaker` field */

	/* Shadow traffic (SPEC 4.5). */
	struct shadow *shadow;	     /* fed until txn_end; borrowed (the worker owns it) */
	const char *shadow_note;     /* the access log's `shadow` field */
};

/* Claim one of an upstream's max_connections slots, never going above it. */
bool txn_claim_slot(struct upstream_rt *rt, unsigned max);
/* Give a slot of upstream `rt` back: the oldest waiter of any worker gets it. */
void txn_pass_slot(struct worker *w, struct upstream_rt *rt);
/* cutover_upstream_tries_total's outcome for a try's outcome (< OUTCOME_CLIENT_GONE). */
enum metrics_outcome txn_metrics_outcome(enum try_outcome o);

/* Bulkhead slots of upstream `rt` may be free: start this worker's waiters that can go. */
void txn_wake_waiters(struct worker *w, struct upstream_rt *rt);

/* Prepare a newly allocated transaction for worker `base`. */
void txn_init(struct txn *t, struct event_base *base);
/* Start a request whose head `h` (fields in the worker scratch) is at the start of the client's input. */
void txn_start(struct txn *t, struct http_head *h);
/* More request bytes arrived on the client. */
void txn_client_read(struct txn *t);
/* The client's output drained (flow control for the response body). */
void txn_client_drain(struct txn *t);
/* The client connection is going away: drop the upstream side. */
void txn_abort(struct txn *t, const char *reason);
/*
 * The request is over for the client: count it, write its access-log
 * line and drop the configuration reference. Idempotent.
 */
void txn_account(struct txn *t);
/* Free what txn_init and later requests allocated (worker exit). */
void txn_free(struct txn *t);

#endif /* CUTOVER_TXN_H */
