/*
 * txn: one request through the proxy. See txn.h for the two state
 * machines. Everything that reads the parsed head runs synchronously in
 * txn_start, because the head's fields live in worker scratch space and
 * point into the client's input buffer; after it, only the body decoders
 * and the decisions taken remain.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <string.h>

#include "cutover/accesslog.h"
#include "cutover/breaker.h"
#include "cutover/budget.h"
#include "cutover/cidr.h"
#include "cutover/client.h"
#include "cutover/clock.h"
#include "cutover/http_reply.h"
#include "cutover/log.h"
#include "cutover/migration.h"
#include "cutover/outcome.h"
#include "cutover/path.h"
#include "cutover/pool.h"
#include "cutover/retry.h"
#include "cutover/route.h"
#include "cutover/shadow.h"
#include "cutover/split.h"
#include "cutover/timer.h"
#include "cutover/tunnel.h"
#include "cutover/txn.h"
#include "cutover/upstream_conn.h"
#include "cutover/upstream_rt.h"
#include "cutover/worker.h"

/* Flow control: stop reading a side when the other's output holds this much. */
#define TXN_HIGH_WATER (256 * 1024)
#define TXN_LOW_WATER  (64 * 1024)
/* How long a FIN on a reused connection waits for the RST that tells "never read". */
#define TXN_RST_WAIT_MS 50
/* Tries lost to stale pooled connections that do not count as attempts. */
#define TXN_MAX_STALE_RETRIES 3

static void txn_up_read(struct stream *s, void *arg);
static void txn_up_drain(struct stream *s, void *arg);
static void txn_up_event(struct stream *s, enum stream_event ev, void *arg);
static void txn_phase_timercb(evutil_socket_t fd, short what, void *arg);
static void txn_deadline_cb(evutil_socket_t fd, short what, void *arg);
static void txn_set_req(struct txn *t, enum txn_req_state st);
static void txn_set_resp(struct txn *t, enum txn_resp_state st);
static void txn_pump_request(struct txn *t);
static void txn_flush_up(struct txn *t);
static void txn_keep_for_replay(struct txn *t, struct evbuffer *in,
    size_t dlen);
static void txn_pump_response(struct txn *t);
static void txn_read_response_head(struct txn *t);
static bool txn_response_diverted(struct txn *t, const struct http_head *h);
static enum try_outcome txn_reset_outcome(struct txn *t);
static bool txn_fin_then_rst(struct txn *t);
static bool txn_await_rst(struct txn *t);
static void txn_rst_checked(struct txn *t);
static uint64_t txn_deadline_left_ms(const struct txn *t);
static const struct route_conf *txn_choose_target(struct txn *t,
    const struct route_request *rq, const struct http_head *h);
static const struct route_conf *txn_override(struct txn *t,
    const struct route_conf *r, const struct route_request *rq,
    const struct http_head *h, size_t *ti);
static void txn_try_failed(struct txn *t, enum try_outcome o, int status,
    const char *why);
static void txn_end(struct txn *t, bool reuse_upstream);
static void txn_reply_error(struct txn *t, int status, const char *detail,
    unsigned retry_after_s, const char *breaker_upstream);
static void txn_try(struct txn *t);
static void txn_start_shadow(struct txn *t, const struct http_head *h,
    size_t plen);
static const void *txn_body_bytes(struct evbuffer *in, size_t dlen);
static void txn_send_try(struct txn *t);
static bool txn_take_slot(struct txn *t);
static void txn_release_slot(struct txn *t);
static void txn_publish_oldest(struct worker *w, struct upstream_rt *rt);
static void txn_drop_try(struct txn *t);
static bool txn_retry(struct txn *t, enum try_outcome o, int status,
    uint64_t retry_after_ms);
static void txn_schedule(struct txn *t, uint64_t wait_ms);
static bool txn_fallback(struct txn *t, enum metrics_fallback reason);
static bool txn_replay_safe(const struct txn *t);
static void txn_report(struct txn *t, enum try_outcome o);
static uint64_t txn_retry_after_ms(const struct http_head *h);
static bool txn_wants_websocket(const struct http_head *h);
static void txn_correlate(struct txn *t, const struct http_head *h);
static void txn_reply_opts(const struct txn *t, struct http_reply_opts *o,
    bool close);
static void txn_try_ended(struct txn *t, enum try_outcome o);
static uint64_t txn_now_us(void);
static uint64_t txn_unix_us(void);

static const struct stream_ops txn_up_ops = {
	.on_read = txn_up_read,
	.on_drain = txn_up_drain,
	.on_event = txn_up_event,
};

static const char *const txn_req_names[] = { "none", "body", "done" };
static const char *const txn_resp_names[] = { "none", "wait_head", "body", "done" };

void
txn_init(struct txn *t, struct event_base *base)
{
	memset(t, 0, sizeof(*t));
	evtimer_assign(&t->phase_timer, base, txn_phase_timercb, t);
	evtimer_assign(&t->deadline, base, txn_deadline_cb, t);
	t->up_head = evbuffer_new();
	t->fb_head = evbuffer_new();
	t->replay = evbuffer_new();
	if (t->up_head == NULL || t->fb_head == NULL || t->replay == NULL)
		fatal("txn: out of memory");
}

static void
txn_set_req(struct txn *t, enum txn_req_state st)
{
	/* Forward only, or back to NONE when the transaction ends. */
	if (st != TXN_REQ_NONE && st <= t->req)
		fatal("txn: bad request transition %s -> %s",
		    txn_req_names[t->req], txn_req_names[st]);
	log_debug("txn_req_state", "client=%s from=%s to=%s", t->c->addr,
	    txn_req_names[t->req], txn_req_names[st]);
	t->req = st;
}

static void
txn_set_resp(struct txn *t, enum txn_resp_state st)
{
	if (st != TXN_RESP_NONE && st <= t->resp)
		fatal("txn: bad response transition %s -> %s",
		    txn_resp_names[t->resp], txn_resp_names[st]);
	log_debug("txn_resp_state", "client=%s from=%s to=%s", t->c->addr,
	    txn_resp_names[t->resp], txn_resp_names[st]);
	t->resp = st;
}


/* WebSocket is the one upgrade we tunnel; h2c and the rest are stripped. */
static bool
txn_wants_websocket(const struct http_head *h)
{
	const struct http_field *f;

	if (h->meth != HTTP_M_GET || !(h->flags & HTTP_F_UPGRADE) ||
	    !(h->flags & HTTP_F_CONN_UPGRADE))
		return false;
	f = http_head_find(h, "upgrade");
	return f != NULL && http_span_ieq(f->value, "websocket");
}

void
txn_start(struct txn *t, struct http_head *h)
{
	struct client *c = t->c;
	struct worker *w = c->w;
	struct target_parts tp;
	struct route_request rq;
	struct http_msg_request m;
	size_t plen, rlen;
	const char *path;

	t->cfg = config_ref(w->cfg);
	t->start_mono_us = txn_now_us();
	t->deadline_passed = false;
	t->start_unix_us = txn_unix_us();
	t->upstream_us = -1;
	t->in_mark = c->s.bytes_in - evbuffer_get_length(c->s.in);
	t->out_mark = c->s.bytes_out + evbuffer_get_length(c->s.out);
	t->server = NULL;
	t->status = 0;
	t->tries = 0;
	t->flags = 0;
	t->meth = h->meth;
	/* The head is gone after txn_start: keep what the log needs. */
	if (t->line_cap < h->method.len + h->target.len) {
		t->line_cap = h->method.len + h->target.len;
		t->line = xrealloc(t->line, t->line_cap);
	}
	memcpy(t->line, h->method.p, h->method.len);
	memcpy(t->line + h->method.len, h->target.p, h->target.len);
	t->method_len = h->method.len;
	t->target_len = h->target.len;
	txn_correlate(t, h);
	t->client_minor = h->version_minor;
	t->keepalive = !(h->flags & HTTP_F_CONN_CLOSE) &&
	    (h->version_minor >= 1 || (h->flags & HTTP_F_CONN_KEEPALIVE));
	t->resp_started = false;
	t->route = NULL;
	t->up = NULL;
	t->upgrade = false;
	t->up_no_reuse = false;
	t->resp_scan_pos = 0;
	t->shadow = NULL;
	t->shadow_note = NULL;

	/* The body, if any, is part of this request whatever happens next. */
	if (h->framing == HTTP_FRAMING_NONE ||
	    (h->framing == HTTP_FRAMING_LENGTH && h->content_length == 0)) {
		txn_set_req(t, TXN_REQ_DONE);
	} else {
		txn_set_req(t, TXN_REQ_BODY);
	}
	http_body_init(&t->req_body, h->framing, h->content_length);

	if (path_split_target(h->target, &tp) == -1 || tp.asterisk) {
		evbuffer_drain(c->s.in, h->head_len);
		/* An error in the request itself ends the connection (as 400s do). */
		if (!tp.asterisk)
			t->keepalive = false;
		txn_reply_error(t, tp.asterisk ? 404 : 400,
		    tp.asterisk ? "no route for *" : "bad request target", 0, NULL);
		return;
	}
	if (path_normalise(tp.path.p, tp.path.len, w->path_buf, &plen) == -1) {
		evbuffer_drain(c->s.in, h->head_len);
		t->keepalive = false;
		txn_reply_error(t, 400, "bad path", 0, NULL);
		return;
	}
	rq.method = h->method;
	rq.path.p = w->path_buf;
	rq.path.len = plen;
	rq.query = tp.query;
	/* Absolute-form: the target's authority replaces Host (RFC 9112 3.2.2). */
	rq.host = tp.absolute ? tp.authority : h->host;
	rq.fields = h->fields;
	rq.nfields = h->nfields;

	if (t->cfg->limits.max_body_bytes > 0 && h->framing == HTTP_FRAMING_LENGTH &&
	    h->content_length > t->cfg->limits.max_body_bytes) {
		evbuffer_drain(c->s.in, h->head_len);
		txn_reply_error(t, 413, "body larger than limits.max_body_bytes", 0,
		    NULL);
		return;
	}

	t->route = route_match(t->cfg, &rq, NULL);
	if (t->route == NULL) {
		t->flags |= ACCESSLOG_F_NR;
		evbuffer_drain(c->s.in, h->head_len);
		txn_reply_error(t, 404, NULL, 0, NULL);
		return;
	}

	if (t->route->has_respond) {
		bool close = !t->keepalive || t->req == TXN_REQ_BODY || w->draining;

		struct http_reply_opts ro;

		evbuffer_drain(c->s.in, h->head_len);
		txn_reply_opts(t, &ro, close);
		t->status = t->route->respond.status;
		http_reply_respond_opts(c->s.out, &t->route->respond, &ro);
		if (close) {
			txn_end(t, false);
			client_finish(c, "respond route");
			return;
		}
		stream_flush(&c->s);
		txn_end(t, false);
		client_txn_done(c, true);
		return;
	}

	t->route = txn_choose_target(t, &rq, h);
	t->up = t->first_up;
	/* What still reaches the monolith is the list of what to carve out next. */
	if (t->route->catch_all)
		migration_catch_all(w->migration, w->path_buf, plen);
	rlen = path_rewrite(&t->route->rewrite, w->path_buf, plen, w->rewrite_buf);
	path = w->rewrite_buf;
	t->upgrade = txn_wants_websocket(h);

	memset(&m, 0, sizeof(m));
	m.path.p = path;
	m.path.len = rlen;
	m.query = tp.query;
	m.has_query = tp.has_query;
	m.host = rq.host;
	m.client_addr = c->addr;
	m.proto = c->tls ? "https" : "http";
	m.upgrade = t->upgrade;
	switch (h->framing) {
	case HTTP_FRAMING_LENGTH:
		m.framing = HTTP_OUT_LENGTH;
		m.length = h->content_length;
		t->req_chunked_out = false;
		break;
	case HTTP_FRAMING_CHUNKED:
		m.framing = HTTP_OUT_CHUNKED;
		t->req_chunked_out = true;
		break;
	default:
		m.framing = HTTP_OUT_NONE;
		t->req_chunked_out = false;
		break;
	}
	if (t->cfg->correlation.header != NULL) {
		m.id_name.p = t->cfg->correlation.header;
		m.id_name.len = strlen(t->cfg->correlation.header);
		m.id.p = t->reqid;
		m.id.len = strlen(t->reqid);
	}
	if (t->cfg->correlation.traceparent) {
		m.traceparent = t->traceparent;
		/* tracestate only travels with the traceparent it belongs to. */
		m.drop_tracestate = !t->trace_forwarded;
	}
	if (t->override_header != NULL) {
		m.drop_name.p = t->override_header;
		m.drop_name.len = strlen(t->override_header);
	}
	/*
	 * The head is kept (every try sends it again, with its own
	 * X-Cutover-Attempt before the final CRLF). A fallback gets the path
	 * as the client sent it: the route's rewrite is for its own upstream.
	 */
	evbuffer_drain(t->up_head, evbuffer_get_length(t->up_head));
	evbuffer_drain(t->fb_head, evbuffer_get_length(t->fb_head));
	http_msg_request(t->up_head, h, &m);
	if (t->route->fallback.upstream != NULL &&
	    t->route->rewrite.kind != REWRITE_NONE) {
		m.path.p = w->path_buf;
		m.path.len = plen;
		http_msg_request(t->fb_head, h, &m);
	}
	t->idempotent = http_method_idempotent(h->meth) ||
	    http_head_find(h, "idempotency-key") != NULL;
	evbuffer_drain(t->replay, evbuffer_get_length(t->replay));
	t->replay_ok = !(h->framing == HTTP_FRAMING_LENGTH &&
	    h->content_length > t->up->retry.buffer_body);
	t->expect_100 = (h->flags & HTTP_F_EXPECT_100) && t->req == TXN_REQ_BODY &&
	    t->client_minor >= 1;
	t->wait = TXN_WAIT_NONE;
	t->holds_slot = false;
	memset(&t->ticket, 0, sizeof(t->ticket));
	t->attempts = 0;
	t->first_counted = false;
	t->stale_retries = 0;
	t->last_server = SIZE_MAX;
	t->last_fail_status = 502;
	t->last_fail_why = "upstream failed";
	t->fallback_from = NULL;
	t->fallback_reason = NULL;
	t->breaker_note = NULL;
	evbuffer_drain(c->s.in, h->head_len);
	if (t->route->shadow.enabled)
		txn_start_shadow(t, h, plen);
	if (t->up->request_timeout_ms > 0)
		timer_arm(&t->deadline, t->up->request_timeout_ms);
	txn_set_resp(t, TXN_RESP_WAIT_HEAD);
	txn_try(t);
}

/* A copy of this request for the route's shadow, if it takes one. */
static void
txn_start_shadow(struct txn *t, const struct http_head *h, size_t plen)
{
	struct worker *w = t->c->w;
	struct shadow_request sr;

	memset(&sr, 0, sizeof(sr));
	sr.route = t->route;
	sr.meth = h->meth;
	sr.upgrade = t->upgrade;
	sr.has_body = t->req == TXN_REQ_BODY;
	sr.chunked = t->req_chunked_out;
	sr.length_known = h->framing == HTTP_FRAMING_LENGTH;
	sr.content_length = h->content_length;
	sr.reqid = t->reqid;
	sr.method = t->line;
	sr.method_len = t->method_len;
	sr.path = w->path_buf;
	sr.path_len = plen;
	sr.head = t->up_head;
	t->shadow = shadow_begin(w, t->cfg, &sr, &t->shadow_note);
}

/* The next `dlen` body bytes at the front of `in`, which the decoder handed out contiguous. */
static const void *
txn_body_bytes(struct evbuffer *in, size_t dlen)
{
	struct evbuffer_iovec v;

	if (evbuffer_peek(in, (ssize_t)dlen, NULL, &v, 1) < 1 || v.iov_len < dlen)
		fatal("txn: body bytes not contiguous");
	return v.iov_base;
}

/*
 * SPEC 4.5: the target of route `r` for this request. A tester's override
 * (from allow_from, naming a target of this route, or of an inactive
 * route whose conditions hold, which then serves the request) comes
 * first; then the sticky key's bucket; else a draw by weight. Sets
 * t->first_up and t->override_header; returns the route that serves.
 */
static const struct route_conf *
txn_choose_target(struct txn *t, const struct route_request *rq,
    const struct http_head *h)
{
	const struct route_conf *r = t->route, *o;
	uint32_t weights[SPLIT_MAX_TARGETS];
	struct http_span key;
	size_t ti = 0;

	t->override_header = r->override.enabled ? r->override.header : NULL;
	o = txn_override(t, r, rq, h, &ti);
	if (o != NULL) {
		t->first_up = o->targets[ti].upstream;
		return o;
	}
	if (r->ntargets > 1) {
		const struct sticky_conf *st = &r->sticky;
		bool have = false;

		if (st->enabled && st->cookie != NULL)
			have = route_cookie_value(rq, st->cookie, &key);
		else if (st->enabled) {
			const struct http_field *f = http_head_find(h, st->header);

			if ((have = f != NULL))
				key = f->value;
		}
		if (have && key.len > 0) {
			ti = st->table->target[split_bucket(&st->key, key.p, key.len)];
		} else {
			for (size_t i = 0; i < r->ntargets; i++)
				weights[i] = r->targets[i].weight;
			ti = split_draw(weights, r->ntargets, rng_u64(&t->c->w->rng));
		}
	}
	t->first_up = r->targets[ti].upstream;
	return r;
}

/* Does span `s` hold exactly `str`? (Upstream names compare case-sensitively.) */
static bool
txn_span_is(struct http_span s, const char *str)
{
	return s.len == strlen(str) && memcmp(s.p, str, s.len) == 0;
}

/* The route (this one, or an inactive one) and target an override names, or NULL. */
static const struct route_conf *
txn_override(struct txn *t, const struct route_conf *r,
    const struct route_request *rq, const struct http_head *h, size_t *ti)
{
	const struct override_conf *oc = &r->override;
	const struct http_field *f;
	const char *why;

	if (!oc->enabled || (f = http_head_find(h, oc->header)) == NULL)
		return NULL;
	/* No allow_from: every client may (cutover -t warns of it). */
	if (oc->nallow > 0 &&
	    !cidr_list_contains_text(oc->allow, oc->nallow, t->c->addr)) {
		why = "client not in allow_from";
		goto ignored;
	}
	for (size_t i = 0; i < r->ntargets; i++) {
		if (txn_span_is(f->value, r->targets[i].upstream_name)) {
			*ti = i;
			return r;
		}
	}
	for (size_t k = 0; k < t->cfg->nroutes; k++) {
		const struct route_conf *ir = &t->cfg->routes[k];

		if (ir->active || ir->ntargets == 0 ||
		    !route_conditions_hold(ir, rq, NULL, NULL))
			continue;
		for (size_t i = 0; i < ir->ntargets; i++) {
			if (txn_span_is(f->value, ir->targets[i].upstream_name)) {
				*ti = i;
				return ir;
			}
		}
	}
	why = "names no target of this route";
ignored:
	log_info("override_ignored", "route=%s value=\"%.*s\" reason=\"%s\" "
	    "client=%s request_id=%s", r->name, (int)(f->value.len > 64 ? 64 :
	    f->value.len), f->value.p, why, t->c->addr, t->reqid);
	return NULL;
}

/* Milliseconds now, for the breaker and the budget. */
static uint64_t
txn_now_ms(void)
{
	return txn_now_us() / 1000u;
}

/*
 * Start a try on t->up: the upstream must have a server up, its breaker
 * must admit the call and its bulkhead must have a slot (or room to wait
 * for one). Refusals go to txn_unavailable.
 */
static void txn_unavailable(struct txn *t, enum metrics_reject why,
    bool no_server);

static void
txn_try(struct txn *t)
{
	struct upstream_rt *rt = t->up->rt;

	t->wait = TXN_WAIT_NONE;
	if (upstream_rt_all_down(rt)) {
		txn_unavailable(t, METRICS_REJECT__COUNT, true);
		return;
	}
	if (!breaker_admit(&rt->breaker, txn_now_ms(), t->idempotent,
		&t->ticket)) {
		txn_unavailable(t, METRICS_REJECT_BREAKER_OPEN, false);
		return;
	}
	if (t->ticket.would_reject) {
		t->breaker_note = "dry_run_open";
		t->flags |= ACCESSLOG_F_BO;
	} else if (t->ticket.slot >= 0) {
		t->breaker_note = "half_open";
	}
	if (!txn_take_slot(t))
		return; /* waiting, or refused */
	txn_send_try(t);
}

/* Claim one of up->max_connections without ever going above it. */
bool
txn_claim_slot(struct upstream_rt *rt, unsigned max)
{
	unsigned b = atomic_load_explicit(&rt->busy, memory_order_relaxed);

	while (b < max)
		if (atomic_compare_exchange_weak_explicit(&rt->busy, &b, b + 1,
			memory_order_acq_rel, memory_order_relaxed))
			return true;
	return false;
}

/*
 * The bulkhead: a slot now, or a place among the max_pending waiters (up
 * to pending_timeout), or 503. Returns true when the try may go now.
 */
static bool
txn_take_slot(struct txn *t)
{
	const struct upstream_conf *up = t->up;
	struct upstream_rt *rt = up->rt;
	struct worker *w = t->c->w;

	if (txn_claim_slot(rt, up->max_connections)) {
		t->holds_slot = true;
		return true;
	}
	if (atomic_fetch_add(&rt->pending, 1) >= up->max_pending) {
		atomic_fetch_sub(&rt->pending, 1);
		txn_report(t, OUTCOME_CLIENT_GONE); /* never sent: free a probe slot */
		txn_unavailable(t, METRICS_REJECT_NO_CAPACITY, false);
		return false;
	}
	t->wait = TXN_WAIT_SLOT;
	t->wait_seq = atomic_fetch_add(&rt->wait_seq, 1);
	if (TAILQ_EMPTY(&rt->w[w->id].pending))
		worker_waiting_rt(w, rt, true);
	TAILQ_INSERT_TAIL(&rt->w[w->id].pending, t, pending_entry);
	txn_publish_oldest(w, rt);
	timer_arm(&t->phase_timer, up->pending_timeout_ms);
	/* A body waits in the client's socket until the try starts. */
	if (t->req == TXN_REQ_BODY)
		stream_read_stop(&t->c->s);
	/*
	 * A slot freed between our failed claim and the publish above saw no
	 * waiter of ours: look once more, from the loop.
	 */
	if (TAILQ_FIRST(&rt->w[w->id].pending) == t)
		worker_command(w, WORKER_CMD_SLOTS);
	return false;
}

/*
 * Tell the other workers how old this worker's oldest waiter for
 * upstream `u` is, so a freed slot goes to the oldest waiter anywhere.
 */
static void
txn_publish_oldest(struct worker *w, struct upstream_rt *rt)
{
	const struct txn *head = TAILQ_FIRST(&rt->w[w->id].pending);

	atomic_store_explicit(&rt->oldest[w->id],
	    head != NULL ? head->wait_seq : UINT64_MAX, memory_order_release);
}

/* Leave the wait queue (granted, timed out, or gone). */
static void
txn_leave_queue(struct txn *t)
{
	struct worker *w = t->c->w;
	struct upstream_rt *rt;

	if (t->wait != TXN_WAIT_SLOT)
		return;
	rt = t->up->rt; /* only a waiter has an upstream for sure */
	TAILQ_REMOVE(&rt->w[w->id].pending, t, pending_entry);
	txn_publish_oldest(w, rt);
	atomic_fetch_sub(&rt->pending, 1);
	evtimer_del(&t->phase_timer);
	t->wait = TXN_WAIT_NONE;
	if (TAILQ_EMPTY(&rt->w[w->id].pending)) {
		unsigned left;

		/*
		 * Nobody here waits any more: slots other workers handed
		 * over meanwhile go on now (a retired upstream's would
		 * otherwise wait for a wake-up that never looks at it).
		 */
		worker_waiting_rt(w, rt, false);
		left = atomic_exchange(&rt->granted[w->id], 0);
		while (left-- > 0)
			txn_pass_slot(w, rt);
	}
}

/* Take one of the slots other workers handed to this one. */
static bool
txn_take_granted(struct upstream_rt *rt, unsigned id)
{
	unsigned g = atomic_load_explicit(&rt->granted[id], memory_order_relaxed);

	while (g > 0)
		if (atomic_compare_exchange_weak_explicit(&rt->granted[id], &g,
			g - 1, memory_order_acq_rel, memory_order_relaxed))
			return true;
	return false;
}

void
txn_wake_waiters(struct worker *w, struct upstream_rt *rt)
{
	unsigned left;
	struct txn *t;

	while ((t = TAILQ_FIRST(&rt->w[w->id].pending)) != NULL &&
	    (txn_take_granted(rt, w->id) ||
		txn_claim_slot(rt, t->up->max_connections))) {
		txn_leave_queue(t);
		t->holds_slot = true;
		t->wait = TXN_WAIT_GRANTED;
		/* From the loop: we may be deep in another transaction's teardown. */
		event_active(&t->phase_timer, EV_TIMEOUT, 1);
	}
	/* Slots handed over for waiters that left meanwhile go on. */
	left = atomic_exchange(&rt->granted[w->id], 0);
	while (left-- > 0)
		txn_pass_slot(w, rt);
}

/*
 * A slot of upstream `u` that worker `w` holds is free: it goes to the
 * oldest waiter of any worker (handed over, so a newcomer cannot take it
 * first), or back to the bulkhead when nobody waits.
 */
void
txn_pass_slot(struct worker *w, struct upstream_rt *rt)
{
	uint64_t best = UINT64_MAX;
	unsigned to = 0;

	if (atomic_load_explicit(&rt->pending, memory_order_acquire) > 0 &&
	    !atomic_load_explicit(&w->shared->stopping, memory_order_relaxed)) {
		for (unsigned i = 0; i < rt->nworkers; i++) {
			uint64_t o = atomic_load_explicit(&rt->oldest[i],
			    memory_order_acquire);

			if (o < best) {
				best = o;
				to = i;
			}
		}
	}
	if (best == UINT64_MAX) {
		atomic_fetch_sub(&rt->busy, 1);
		return;
	}
	if (to == w->id) {
		atomic_fetch_add(&rt->granted[to], 1);
		txn_wake_waiters(w, rt);
		return;
	}
	atomic_fetch_add(&rt->granted[to], 1);
	worker_command(&w->shared->workers[to], WORKER_CMD_SLOTS);
}

/* Give the bulkhead slot back; the oldest waiter, wherever it is, gets it. */
static void
txn_release_slot(struct txn *t)
{
	if (!t->holds_slot)
		return;
	t->holds_slot = false;
	txn_pass_slot(t->c->w, t->up->rt);
}

/* Report the outcome of the admitted call to the breaker (once). */
static void
txn_report(struct txn *t, enum try_outcome o)
{
	uint64_t dur_ms;

	if (t->up == NULL || !t->ticket.admitted)
		return;
	dur_ms = (txn_now_us() - t->try_start_us) / 1000u;
	breaker_report(&t->up->rt->breaker, txn_now_ms(), &t->ticket, o, dur_ms);
}

/*
 * Pick a server (up, and not the one that just failed when another is),
 * take a pooled connection or connect, and queue the head, the attempt
 * number and whatever body is kept.
 */
static void
txn_send_try(struct txn *t)
{
	struct client *c = t->c;
	struct worker *w = c->w;
	const struct upstream_conf *up = t->up;
	struct upstream_rt *rt = up->rt;
	struct evbuffer *head = t->fallback_from != NULL &&
		evbuffer_get_length(t->fb_head) > 0 ? t->fb_head : t->up_head;
	struct pool_server *ps;
	size_t si, n, hlen;
	bool any = false;

	t->wait = TXN_WAIT_NONE;
	n = up->nservers;
	for (size_t i = 0; i < n; i++) {
		w->usable[i] = upstream_rt_server_up(rt, i);
		any |= w->usable[i];
	}
	if (!any)
		for (size_t i = 0; i < n; i++)
			w->usable[i] = true;
	if (t->last_server < n && n > 1) {
		size_t left = 0;

		for (size_t i = 0; i < n; i++)
			left += w->usable[i] && i != t->last_server;
		if (left > 0)
			w->usable[t->last_server] = false;
	}
	/* Retries leave the rotation alone, so first tries stay evenly spread. */
	si = t->attempts == 0 ?
	    balance_pick_among(&rt->w[w->id].balance, rt->w[w->id].weights,
		w->usable) :
	    balance_peek_among(&rt->w[w->id].balance, rt->w[w->id].weights,
		w->usable);
	if (si == SIZE_MAX)
		si = 0;
	ps = &rt->w[w->id].servers[si];
	t->last_server = si;
	t->server = &up->servers[si];
	t->tries++;
	t->attempts++;
	t->try_start_us = txn_now_us();
	t->resp_scan_pos = 0;
	/* Once per upstream (a stale-connection retry is not a new first try). */
	if (!t->first_counted) {
		t->first_counted = true;
		budget_first_try(&rt->budget, txn_now_ms());
	}

	t->uc = upconn_take_idle(ps, &txn_up_ops, t);
	if (t->uc != NULL) {
		t->uc->txn = t;
		/* An upstream that stops reading our request is as stuck as a silent one. */
		stream_set_timeouts(&t->uc->s, 0, up->response_timeout_ms);
	} else {
		t->uc = upconn_connect(w, ps, &up->tls, &txn_up_ops, t);
		if (t->uc == NULL) {
			log_warn("upstream_connect", "upstream=%s server=%s",
			    up->name, ps->address);
			txn_try_failed(t, OUTCOME_CONNECT_FAILURE, 502,
			    "cannot connect to upstream");
			return;
		}
		t->uc->txn = t;
		timer_arm(&t->phase_timer, up->connect_timeout_ms);
	}
	t->try_out_mark = t->uc->s.bytes_out;
	t->closed_unread = false;
	t->try_whole = false;
	t->try_flushed = false;
	hlen = evbuffer_get_length(head);
	evbuffer_add(t->uc->s.out, evbuffer_pullup(head, (ssize_t)hlen), hlen - 2);
	/* Tries lost to stale connections were never seen: not replays. */
	evbuffer_add_printf(t->uc->s.out, "X-Cutover-Attempt: %u\r\n\r\n",
	    t->tries - t->stale_retries);
	if (evbuffer_get_length(t->replay) > 0) {
		size_t rlen = evbuffer_get_length(t->replay);

		evbuffer_add(t->uc->s.out,
		    evbuffer_pullup(t->replay, (ssize_t)rlen), rlen);
	}
	/* We answer 100-continue ourselves once the request has somewhere to go. */
	if (t->expect_100 && evbuffer_get_length(c->s.in) == 0) {
		t->expect_100 = false;
		http_reply_continue(c->s.out);
		stream_flush(&c->s);
	}
	if (t->req == TXN_REQ_BODY)
		stream_set_timeouts(&c->s, t->cfg->client_timeouts.body_ms,
		    t->cfg->client_timeouts.send_ms);
	txn_pump_request(t);
}

/*
 * Write what is queued for the upstream. The first flush of a try notes
 * whether the whole request went with it (see txn_fin_then_rst).
 */
static void
txn_flush_up(struct txn *t)
{
	if (!t->try_flushed) {
		t->try_flushed = true;
		t->try_whole = t->req == TXN_REQ_DONE;
	}
	stream_flush(&t->uc->s);
}

/*
 * Keep a copy of the next `dlen` body bytes at the front of `in`, framed
 * as they go upstream, while the body fits in retry.buffer_body; past
 * it, the request can no longer be replayed and the copy is dropped.
 */
static void
txn_keep_for_replay(struct txn *t, struct evbuffer *in, size_t dlen)
{
	if (t->shadow != NULL)
		shadow_request_body(t->shadow, txn_body_bytes(in, dlen), dlen);
	if (!t->replay_ok)
		return;
	if (t->req_body.total > t->up->retry.buffer_body) {
		t->replay_ok = false;
		evbuffer_drain(t->replay, evbuffer_get_length(t->replay));
		return;
	}
	if (t->req_chunked_out)
		http_msg_chunk_header(t->replay, dlen);
	evbuffer_add(t->replay, txn_body_bytes(in, dlen), dlen);
	if (t->req_chunked_out)
		http_msg_chunk_end(t->replay);
}

/*
 * Move request body bytes from the client to the upstream, re-framing
 * chunked bodies, until the input is used up, the body ends, or the
 * upstream's output is full.
 */
static void
txn_pump_request(struct txn *t)
{
	struct client *c = t->c;
	struct evbuffer *in = c->s.in;
	struct evbuffer *out;

	if (t->uc == NULL) {
		/* Between tries: the body waits in the client's socket. */
		if (t->req == TXN_REQ_BODY)
			stream_read_stop(&c->s);
		return;
	}
	out = t->uc->s.out;
	/*
	 * The decoder reports the end of a Content-Length body on the call
	 * after its last byte, so it is called once more with no input.
	 */
	while (t->req == TXN_REQ_BODY) {
		struct evbuffer_iovec v = { NULL, 0 };
		size_t skip, dlen;
		enum http_body_rc rc;

		if (evbuffer_get_length(out) >= TXN_HIGH_WATER) {
			txn_flush_up(t);
			if (stream_out_pending(&t->uc->s) >= TXN_HIGH_WATER) {
				/* Resumed by txn_up_drain. */
				stream_read_stop(&c->s);
				stream_watch_drain(&t->uc->s, TXN_LOW_WATER);
				return;
			}
		}
		(void)evbuffer_peek(in, -1, NULL, &v, 1);
		rc = http_body_step(&t->req_body, v.iov_base, v.iov_len, &skip, &dlen);
		if (skip > 0)
			evbuffer_drain(in, skip);
		if (rc == HTTP_BODY_AGAIN && evbuffer_get_length(in) == 0)
			break;
		switch (rc) {
		case HTTP_BODY_AGAIN:
			break;
		case HTTP_BODY_DATA:
			if (t->cfg->limits.max_body_bytes > 0 &&
			    t->req_body.total > t->cfg->limits.max_body_bytes) {
				if (!t->resp_started) {
					txn_end(t, false);
					client_error(c, 413, "body larger than limits.max_body_bytes");
				} else {
					client_close(c, "body too large");
				}
				return;
			}
			txn_keep_for_replay(t, in, dlen);
			if (t->req_chunked_out)
				http_msg_chunk_header(out, dlen);
			evbuffer_remove_buffer(in, out, dlen);
			if (t->req_chunked_out)
				http_msg_chunk_end(out);
			break;
		case HTTP_BODY_DONE:
			if (t->req_chunked_out) {
				http_msg_last_chunk(out);
				if (t->replay_ok)
					http_msg_last_chunk(t->replay);
			}
			txn_set_req(t, TXN_REQ_DONE);
			if (t->shadow != NULL)
				shadow_request_done(t->shadow);
			break;
		case HTTP_BODY_ERROR:
			if (!t->resp_started) {
				txn_end(t, false);
				client_error(c, 400, t->req_body.error);
			} else {
				client_close(c, "bad request body framing");
			}
			return;
		}
	}
	txn_flush_up(t);
	/*
	 * Reads paused for flow control resume here too, not only from
	 * on_drain: a flush that the kernel took whole never blocks, so no
	 * drain callback would come.
	 */
	if (t->req == TXN_REQ_BODY && stream_out_pending(&t->uc->s) < TXN_HIGH_WATER &&
	    !(t->uc->s.flags & STREAM_F_CONNECTING))
		stream_read_start(&c->s);
	if (t->req == TXN_REQ_DONE) {
		stream_set_timeouts(&c->s, 0, t->cfg->client_timeouts.send_ms);
		if (t->resp == TXN_RESP_WAIT_HEAD && t->wait == TXN_WAIT_NONE &&
		    t->uc->state != UPCONN_CONNECTING)
			timer_arm(&t->phase_timer, t->up->response_timeout_ms);
	}
}

void
txn_client_read(struct txn *t)
{
	struct client *c = t->c;

	if (t->req == TXN_REQ_BODY) {
		if (c->peer_eof && evbuffer_get_length(c->s.in) == 0) {
			client_close(c, "client closed mid-body");
			return;
		}
		txn_pump_request(t);
		return;
	}
	/* Pipelined bytes wait for their turn; bound what we hold. */
	if (evbuffer_get_length(c->s.in) > 64 * 1024)
		stream_read_stop(&c->s);
}

void
txn_client_drain(struct txn *t)
{
	if (t->uc != NULL && t->resp == TXN_RESP_BODY) {
		stream_read_start(&t->uc->s);
		txn_pump_response(t);
	}
}

static void
txn_up_drain(struct stream *s, void *arg)
{
	struct txn *t = arg;

	(void)s;
	if (t->req == TXN_REQ_BODY) {
		stream_read_start(&t->c->s);
		txn_pump_request(t);
	}
}

static void
txn_up_read(struct stream *s, void *arg)
{
	struct txn *t = arg;

	(void)s;
	if (t->resp == TXN_RESP_WAIT_HEAD)
		txn_read_response_head(t);
	else if (t->resp == TXN_RESP_BODY)
		txn_pump_response(t);
}

/*
 * A final response head arrived: count it, and decide whether it goes to
 * the client or is replaced by a retry or a fallback (only before any of
 * it was sent). True when it was diverted (the try is dropped).
 */
static bool
txn_response_diverted(struct txn *t, const struct http_head *h)
{
	enum try_outcome o = outcome_of_status(h->status);

	txn_try_ended(t, o);
	if (o == OUTCOME_SUCCESS && !fallback_on_status(&t->route->fallback,
		h->status))
		return false;
	t->last_fail_status = h->status;
	if (o != OUTCOME_SUCCESS && txn_retry(t, o, h->status,
		txn_retry_after_ms(h))) {
		log_debug("upstream_status_retry", "upstream=%s status=%d",
		    t->up->name, h->status);
		txn_drop_try(t);
		return true;
	}
	if (fallback_on_status(&t->route->fallback, h->status) &&
	    txn_fallback(t, METRICS_FALLBACK_STATUS))
		return true;
	if (o != OUTCOME_SUCCESS && o != OUTCOME_THROTTLED &&
	    txn_fallback(t, METRICS_FALLBACK_FAILURE))
		return true;
	return false;
}

/* A 503's Retry-After in ms (delta-seconds; a date counts as long); UINT64_MAX when absent. */
static uint64_t
txn_retry_after_ms(const struct http_head *h)
{
	const struct http_field *f;
	uint64_t v = 0;

	if (h->status != 503 || (f = http_head_find(h, "retry-after")) == NULL)
		return UINT64_MAX;
	for (size_t i = 0; i < f->value.len; i++) {
		char ch = f->value.p[i];

		if (ch < '0' || ch > '9')
			return UINT64_C(3600000); /* an HTTP-date: not soon */
		if (v < UINT64_C(1) << 40)
			v = v * 10 + (uint64_t)(ch - '0');
	}
	return f->value.len == 0 ? UINT64_MAX : v * 1000u;
}

static void
txn_read_response_head(struct txn *t)
{
	struct client *c = t->c;
	struct worker *w = c->w;
	struct evbuffer *in = t->uc->s.in;

	while (t->resp == TXN_RESP_WAIT_HEAD && evbuffer_get_length(in) > 0) {
		struct http_head h;
		struct http_error err;
		struct http_msg_response m;

		switch (upconn_parse_head(t->uc, t->meth, &t->resp_scan_pos, &h,
		    &err)) {
		case HTTP_PARSE_AGAIN:
			return;
		case HTTP_PARSE_ERROR:
			txn_try_failed(t, OUTCOME_INVALID, 502, err.reason);
			return;
		case HTTP_PARSE_DONE:
			break;
		}
		if (h.status >= 100 && h.status < 200 && h.status != 101) {
			/*
			 * Interim responses go on to HTTP/1.1 clients (RFC 9110
			 * 15.2), except 100: we answered Expect ourselves.
			 */
			if (h.status != 100 && t->client_minor >= 1) {
				memset(&m, 0, sizeof(m));
				m.framing = HTTP_OUT_NONE;
				http_msg_response(c->s.out, &h, &m);
				stream_flush(&c->s);
			}
			evbuffer_drain(in, h.head_len);
			continue;
		}
		evtimer_del(&t->phase_timer);
		memset(&m, 0, sizeof(m));
		if (h.status == 101) {
			if (!t->upgrade) {
				txn_try_failed(t, OUTCOME_INVALID, 502, "unsolicited 101");
				return;
			}
			m.upgrade = true;
			m.framing = HTTP_OUT_NONE;
			t->status = 101;
			txn_try_ended(t, OUTCOME_SUCCESS);
			http_msg_response(c->s.out, &h, &m);
			evbuffer_drain(in, h.head_len);
			t->resp_started = true;
			evtimer_del(&t->deadline);
			{
				struct upstream_conn *uc = t->uc;

				t->uc = NULL;
				txn_end(t, false);
				tunnel_start(c, uc);
			}
			return;
		}
		switch (h.framing) {
		case HTTP_FRAMING_NONE:
			m.framing = HTTP_OUT_NONE;
			m.keep_content_length = t->meth == HTTP_M_HEAD || h.status == 304;
			break;
		case HTTP_FRAMING_LENGTH:
			m.framing = HTTP_OUT_LENGTH;
			m.length = h.content_length;
			break;
		case HTTP_FRAMING_CHUNKED:
		case HTTP_FRAMING_CLOSE:
			/* HTTP/1.0 clients cannot take chunks: delimit by close. */
			m.framing = t->client_minor >= 1 ? HTTP_OUT_CHUNKED : HTTP_OUT_CLOSE;
			break;
		}
		if (txn_response_diverted(t, &h))
			return;
		if (t->shadow != NULL)
			shadow_primary_head(t->shadow, &h, t->up->name);
		t->resp_chunked_out = m.framing == HTTP_OUT_CHUNKED;
		t->status = h.status;
		if (t->cfg->correlation.echo && t->cfg->correlation.header != NULL) {
			m.id_name.p = t->cfg->correlation.header;
			m.id_name.len = strlen(t->cfg->correlation.header);
			m.id.p = t->reqid;
			m.id.len = strlen(t->reqid);
		}
		if (m.framing == HTTP_OUT_CLOSE || t->req != TXN_REQ_DONE || w->draining)
			t->keepalive = false;
		m.close = !t->keepalive;
		m.keepalive_10 = t->keepalive && t->client_minor == 0;
		/*
		 * An answer that came before our request was fully written
		 * leaves the connection's framing to the upstream's mercy:
		 * never pool it.
		 */
		if ((h.flags & HTTP_F_NO_REUSE) || t->req != TXN_REQ_DONE ||
		    stream_out_pending(&t->uc->s) > 0)
			t->up_no_reuse = true;
		http_msg_response(c->s.out, &h, &m);
		evbuffer_drain(in, h.head_len);
		t->resp_started = true;
		http_body_init(&t->resp_body, h.framing, h.content_length);
		txn_set_resp(t, TXN_RESP_BODY);
		stream_set_timeouts(&t->uc->s, t->up->read_timeout_ms,
		    t->up->response_timeout_ms);
		if (h.framing == HTTP_FRAMING_NONE) {
			txn_set_resp(t, TXN_RESP_DONE);
			txn_release_slot(t);
			stream_flush(&c->s);
			{
				bool reuse = evbuffer_get_length(in) == 0 &&
				    t->req == TXN_REQ_DONE && !t->up_no_reuse &&
				    stream_out_pending(&t->uc->s) == 0;
				bool ka = t->keepalive;

				txn_end(t, reuse);
				client_txn_done(c, ka);
			}
			return;
		}
		txn_pump_response(t);
		return;
	}
}

/* Move response body bytes from the upstream to the client. */
static void
txn_pump_response(struct txn *t)
{
	struct client *c = t->c;
	struct evbuffer *in = t->uc->s.in;
	struct evbuffer *out = c->s.out;

	while (t->resp == TXN_RESP_BODY) {
		struct evbuffer_iovec v = { NULL, 0 };
		size_t skip, dlen;
		enum http_body_rc rc;

		if (evbuffer_get_length(out) >= TXN_HIGH_WATER) {
			stream_flush(&c->s);
			if (stream_out_pending(&c->s) >= TXN_HIGH_WATER) {
				/* Resumed by txn_client_drain. */
				stream_read_stop(&t->uc->s);
				stream_watch_drain(&c->s, TXN_LOW_WATER);
				return;
			}
		}
		(void)evbuffer_peek(in, -1, NULL, &v, 1);
		rc = http_body_step(&t->resp_body, v.iov_base, v.iov_len, &skip, &dlen);
		if (skip > 0)
			evbuffer_drain(in, skip);
		if (rc == HTTP_BODY_AGAIN && evbuffer_get_length(in) == 0)
			break;
		switch (rc) {
		case HTTP_BODY_AGAIN:
			break;
		case HTTP_BODY_DATA:
			if (t->shadow != NULL)
				shadow_primary_body(t->shadow,
				    txn_body_bytes(in, dlen), dlen);
			if (t->resp_chunked_out)
				http_msg_chunk_header(out, dlen);
			evbuffer_remove_buffer(in, out, dlen);
			if (t->resp_chunked_out)
				http_msg_chunk_end(out);
			break;
		case HTTP_BODY_DONE:
			if (t->resp_chunked_out)
				http_msg_last_chunk(out);
			txn_set_resp(t, TXN_RESP_DONE);
			break;
		case HTTP_BODY_ERROR:
			/* Part of the response is out: all we can do is cut it. */
			stream_flush(&c->s);
			client_close(c, "bad response body framing");
			return;
		}
	}
	/*
	 * The slot goes back before the client can see the end: its next
	 * request, maybe on another worker, must find it free.
	 */
	if (t->resp == TXN_RESP_DONE)
		txn_release_slot(t);
	stream_flush(&c->s);
	if (t->resp == TXN_RESP_DONE) {
		/* Bytes after a complete response poison the connection (U10). */
		bool reuse = evbuffer_get_length(in) == 0 && t->req == TXN_REQ_DONE &&
		    !t->up_no_reuse && stream_out_pending(&t->uc->s) == 0;
		bool ka = t->keepalive;

		txn_end(t, reuse);
		client_txn_done(c, ka);
	}
}

static void
txn_up_event(struct stream *s, enum stream_event ev, void *arg)
{
	struct txn *t = arg;
	struct client *c = t->c;

	(void)s;
	switch (ev) {
	case STREAM_EV_CONNECTED:
		evtimer_del(&t->phase_timer);
		t->uc->state = UPCONN_BUSY;
		stream_set_timeouts(&t->uc->s, 0, t->up->response_timeout_ms);
		stream_read_start(&t->uc->s);
		if (t->req == TXN_REQ_DONE)
			timer_arm(&t->phase_timer, t->up->response_timeout_ms);
		txn_pump_request(t); /* flushes the head queued while connecting */
		break;
	case STREAM_EV_EOF:
		if (t->wait == TXN_WAIT_RST)
			break;
		if (t->resp == TXN_RESP_WAIT_HEAD && txn_await_rst(t))
			break;
		if (t->resp == TXN_RESP_WAIT_HEAD) {
			txn_try_failed(t, txn_reset_outcome(t), 502,
			    "upstream closed before response head");
		} else if (t->resp == TXN_RESP_BODY &&
		    t->resp_body.state == HTTP_BODY_S_CLOSE) {
			if (t->resp_chunked_out)
				http_msg_last_chunk(c->s.out);
			txn_set_resp(t, TXN_RESP_DONE);
			txn_release_slot(t);
			stream_flush(&c->s);
			{
				bool ka = t->keepalive;

				txn_end(t, false);
				client_txn_done(c, ka);
			}
		} else {
			/* Truncated: pass on what came, then cut (never pad). */
			stream_cut(&c->s);
			stream_flush(&c->s);
			txn_end(t, false);
			client_finish(c, "upstream closed mid-response");
		}
		break;
	case STREAM_EV_ERROR:
		if (t->wait == TXN_WAIT_RST) {
			txn_rst_checked(t);
			break;
		}
		if (t->resp == TXN_RESP_WAIT_HEAD && !t->resp_started) {
			bool connecting = t->uc->state == UPCONN_CONNECTING;
			char why[256];
			const char *tls = stream_tls_error(s, why, sizeof(why));

			if (connecting && tls != NULL)
				log_warnx("upstream_tls", "upstream=%s server=%s "
				    "reason=\"%s\"", t->up->name, t->uc->ps->address,
				    tls);
			txn_try_failed(t, connecting ? OUTCOME_CONNECT_FAILURE :
			    txn_reset_outcome(t), 502, connecting ? (tls != NULL ?
			    "TLS handshake failed" : "connect failed") :
			    "upstream connection reset");
		} else {
			stream_cut(&c->s);
			stream_flush(&c->s);
			txn_end(t, false);
			client_finish(c, "upstream error mid-response");
		}
		break;
	case STREAM_EV_READ_TIMEOUT:
		stream_cut(&c->s);
		stream_flush(&c->s);
		txn_end(t, false);
		client_finish(c, "upstream read timeout");
		break;
	case STREAM_EV_WRITE_TIMEOUT:
		txn_try_failed(t, OUTCOME_TIMEOUT, 504, "upstream not reading");
		break;
	}
}

/*
 * A connection closed before a complete head: a reused connection on
 * which not one byte of this request got out cannot have been seen by
 * the upstream (stale); anything else may have been processed.
 */
static enum try_outcome
txn_reset_outcome(struct txn *t)
{
	if (t->uc != NULL && t->uc->uses > 0 &&
	    (t->uc->s.bytes_out == t->try_out_mark || txn_fin_then_rst(t)))
		return OUTCOME_RESET_UNSENT;
	return OUTCOME_RESET;
}

/*
 * The keep-alive race, told apart from a real failure. A server that
 * closes an idle connection sends a FIN; our request, already on its
 * way, then reaches a closed socket and its kernel answers with a RST.
 * So a FIN followed by a RST means the request was never read. (A server
 * that read the request and closed sends a FIN alone; one that aborts
 * sends a RST alone.) After our FIN, the RST shows as EPIPE in SO_ERROR
 * (ECONNRESET when it came before we had read the FIN).
 */
static bool
txn_fin_then_rst(struct txn *t)
{
	const struct upstream_conn *uc = t->uc;
	int err = 0;
	socklen_t len = sizeof(err);

	if (t->closed_unread)
		return true;
	/*
	 * Only for a request queued whole before this try's first write, with
	 * not one byte of answer: a server that read part of a streaming body
	 * and closed also leaves a RST after its FIN.
	 */
	if (!(uc->s.flags & STREAM_F_EOF) || !t->try_whole ||
	    evbuffer_get_length(uc->s.in) > 0 || t->resp_scan_pos > 0)
		return false;
	/* After our FIN a write only fails once the RST came (and may have taken SO_ERROR). */
	if (uc->s.saved_errno == EPIPE ||
	    (getsockopt(uc->s.fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 &&
		(err == EPIPE || err == ECONNRESET)))
		t->closed_unread = true; /* SO_ERROR reads once: remember it */
	return t->closed_unread;
}

/*
 * EOF before any response byte on a reused connection, for a request
 * that may not be replayed otherwise: give the RST a moment to arrive.
 * True when the decision now waits for phase_timer (or an error event).
 */
static bool
txn_await_rst(struct txn *t)
{
	struct upstream_conn *uc = t->uc;

	if (uc == NULL || uc->uses == 0 || txn_replay_safe(t) ||
	    uc->s.bytes_out == t->try_out_mark ||
	    evbuffer_get_length(uc->s.in) > 0 || txn_fin_then_rst(t))
		return false;
	t->wait = TXN_WAIT_RST;
	stream_read_stop(&uc->s);
	timer_arm(&t->phase_timer, TXN_RST_WAIT_MS);
	return true;
}

/* The wait for a RST is over (it came, or time ran out). */
static void
txn_rst_checked(struct txn *t)
{
	t->wait = TXN_WAIT_NONE;
	txn_try_failed(t, txn_reset_outcome(t), 502,
	    "upstream closed before response head");
}

/* One timer, whose meaning is the phase: connect, response head, backoff, slot wait. */
static void
txn_phase_timercb(evutil_socket_t fd, short what, void *arg)
{
	struct txn *t = arg;

	(void)fd;
	(void)what;
	switch (t->wait) {
	case TXN_WAIT_BACKOFF:
		txn_try(t);
		return;
	case TXN_WAIT_GRANTED:
		txn_send_try(t);
		return;
	case TXN_WAIT_RST:
		txn_rst_checked(t);
		return;
	case TXN_WAIT_SLOT:
		txn_leave_queue(t);
		txn_report(t, OUTCOME_CLIENT_GONE); /* never sent */
		txn_unavailable(t, METRICS_REJECT_PENDING_TIMEOUT, false);
		return;
	case TXN_WAIT_NONE:
		break;
	}
	if (t->uc != NULL && t->uc->state == UPCONN_CONNECTING)
		txn_try_failed(t, OUTCOME_CONNECT_FAILURE, 502, "connect timeout");
	else
		txn_try_failed(t, OUTCOME_TIMEOUT, 504,
		    "no response head within response_timeout");
}

static void
txn_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct txn *t = arg;
	struct client *c = t->c;

	(void)fd;
	(void)what;
	/*
	 * The timer was armed from the loop's cached time, a little before
	 * start_mono_us was read: measured from it, a few ms may seem left,
	 * enough for one more try (seen under ASan). The timer is the truth.
	 */
	t->deadline_passed = true;
	if (!t->resp_started && t->uc == NULL) {
		/* Waiting for a slot or in backoff: nothing is out; the deadline ends it. */
		txn_leave_queue(t);
		t->wait = TXN_WAIT_NONE;
		evtimer_del(&t->phase_timer);
		t->flags |= ACCESSLOG_F_UT;
		txn_reply_error(t, 504, "request_timeout", 0, NULL);
		return;
	}
	if (!t->resp_started && t->req == TXN_REQ_BODY) {
		/* The client is too slow to send its request: 408, not the upstream's fault. */
		txn_reply_error(t, 408, "request body not received within request_timeout",
		    0, NULL);
		return;
	}
	if (!t->resp_started && t->wait == TXN_WAIT_RST) {
		evtimer_del(&t->deadline);
		txn_rst_checked(t);
		return;
	}
	if (!t->resp_started) {
		/* The deadline is also the end of this try, and leaves no room for another. */
		evtimer_del(&t->deadline);
		txn_try_failed(t, OUTCOME_TIMEOUT, 504, "request_timeout");
		return;
	}
	t->flags |= ACCESSLOG_F_UT;
	stream_cut(&c->s);
	stream_flush(&c->s);
	txn_end(t, false);
	client_finish(c, "request_timeout mid-response");
}

/*
 * A try failed before any of its response reached the client (or, for
 * the deadline, maybe after): count it, then retry, fall back, or answer.
 */
static void
txn_try_failed(struct txn *t, enum try_outcome o, int status, const char *why)
{
	struct client *c = t->c;

	if (t->resp_started) {
		log_info("upstream_failed", "client=%s upstream=%s server=%s "
		    "reason=\"%s\" request_id=%s", c->addr, t->up->name,
		    t->server ? t->server->address : "-", why, t->reqid);
		stream_cut(&c->s);
		stream_flush(&c->s);
		txn_end(t, false);
		client_finish(c, why);
		return;
	}
	evtimer_del(&t->phase_timer);
	t->wait = TXN_WAIT_NONE; /* a write timeout may end a wait for a RST */
	t->flags |= outcome_log_flag(o);
	txn_try_ended(t, o);
	log_info("upstream_failed", "client=%s upstream=%s server=%s status=%d "
	    "outcome=%s try=%u reason=\"%s\" request_id=%s", c->addr,
	    t->up->name, t->server ? t->server->address : "-", status,
	    outcome_name(o), t->tries, why, t->reqid);
	txn_drop_try(t);
	t->last_fail_status = status;
	t->last_fail_why = why;
	if (txn_retry(t, o, 0, UINT64_MAX))
		return;
	if (txn_fallback(t, METRICS_FALLBACK_FAILURE))
		return;
	txn_reply_error(t, status, why, 0, NULL);
}

/* Close the try's connection (never pooled) and give its slot back. */
static void
txn_drop_try(struct txn *t)
{
	if (t->uc != NULL) {
		upconn_close(t->uc, "try dropped");
		t->uc = NULL;
	}
	txn_release_slot(t);
}

/* Idempotent (or keyed) and the whole body kept: may go out again. */
static bool
txn_replay_safe(const struct txn *t)
{
	return t->idempotent && t->replay_ok;
}

static const enum metrics_skip txn_skip_metric[] = {
	[RETRY_SKIP_NOT_REPLAYABLE] = METRICS_SKIP_NOT_REPLAYABLE,
	[RETRY_SKIP_BODY] = METRICS_SKIP_BODY_TOO_LARGE,
	[RETRY_SKIP_DEADLINE] = METRICS_SKIP_DEADLINE,
	[RETRY_SKIP_BREAKER] = METRICS_SKIP_BREAKER,
};

static enum metrics_retry
txn_retry_metric(enum try_outcome o)
{
	switch (o) {
	case OUTCOME_CONNECT_FAILURE:
		return METRICS_RETRY_CONNECT_FAILURE;
	case OUTCOME_TIMEOUT:
		return METRICS_RETRY_TIMEOUT;
	case OUTCOME_RESET:
	case OUTCOME_RESET_UNSENT:
	case OUTCOME_INVALID:
		return METRICS_RETRY_RESET;
	default:
		return METRICS_RETRY_STATUS;
	}
}

/* Is the breaker letting calls through freely (dry run never holds retries back)? */
static bool
txn_breaker_closed(struct upstream_rt *rt)
{
	enum breaker_state st;
	bool dry_run;

	st = breaker_state_now(&rt->breaker, txn_now_ms(), &dry_run);
	return dry_run || st == BREAKER_CLOSED || st == BREAKER_FORCED_CLOSED;
}

/* The budget is spent: count it, and say so in the event log at most once a second. */
static void
txn_budget_exhausted(struct txn *t)
{
	struct upstream_rt *rt = t->up->rt;
	uint64_t sec = txn_now_ms() / 1000u;
	uint64_t last = atomic_load_explicit(&rt->budget_logged_sec,
	    memory_order_relaxed);

	t->flags |= ACCESSLOG_F_RB;
	metrics_retry_skipped(t->c->w->metrics, t->up->id, METRICS_SKIP_BUDGET);
	metrics_budget_exhausted(t->c->w->metrics, t->up->id);
	if (last != sec && atomic_compare_exchange_strong(&rt->budget_logged_sec,
		&last, sec))
		log_info("retry_budget_exhausted", "upstream=%s request_id=%s",
		    t->up->name, t->reqid);
}

/* What is left of request_timeout (of the route's own upstream); UINT64_MAX: none. */
static uint64_t
txn_deadline_left_ms(const struct txn *t)
{
	uint64_t deadline_ms = t->first_up->request_timeout_ms;
	uint64_t elapsed_ms = (txn_now_us() - t->start_mono_us) / 1000u;

	if (deadline_ms == 0)
		return UINT64_MAX;
	if (t->deadline_passed)
		return 0;
	return elapsed_ms >= deadline_ms ? 0 : deadline_ms - elapsed_ms;
}

/* SPEC 4.3: schedule another try when every rule allows it. */
static bool
txn_retry(struct txn *t, enum try_outcome o, int status,
    uint64_t retry_after_ms)
{
	struct worker *w = t->c->w;
	struct upstream_rt *rt = t->up->rt;
	struct retry_request rq;
	enum retry_verdict v;
	uint64_t wait = 0;

	memset(&rq, 0, sizeof(rq));
	rq.tries_done = t->attempts;
	rq.idempotent = t->idempotent;
	rq.body_buffered = t->replay_ok;
	rq.response_started = t->resp_started;
	rq.breaker_closed = txn_breaker_closed(rt);
	rq.deadline_left_ms = txn_deadline_left_ms(t);
	rq.status = status;
	rq.retry_after_ms = retry_after_ms;
	v = retry_decide(&t->up->retry.p, o, &rq, rng_u64(&w->rng), &wait);
	switch (v) {
	case RETRY_YES_NOW:
		/* Only with the whole body kept, and within the deadline. */
		if (!t->replay_ok) {
			t->flags |= ACCESSLOG_F_BL;
			metrics_retry_skipped(w->metrics, t->up->id,
			    METRICS_SKIP_BODY_TOO_LARGE);
			return false;
		}
		if (t->stale_retries >= TXN_MAX_STALE_RETRIES ||
		    txn_deadline_left_ms(t) == 0)
			return false;
		t->stale_retries++;
		t->attempts--; /* the stale connection's try does not count */
		metrics_retry(w->metrics, t->up->id, METRICS_RETRY_RESET);
		txn_schedule(t, 0);
		return true;
	case RETRY_YES:
		if (!budget_try_spend(&rt->budget, txn_now_ms())) {
			txn_budget_exhausted(t);
			return false;
		}
		metrics_retry(w->metrics, t->up->id, txn_retry_metric(o));
		txn_schedule(t, wait);
		return true;
	case RETRY_NO_EXHAUSTED:
		if (t->up->retry.p.attempts > 1)
			t->flags |= ACCESSLOG_F_RX;
		return false;
	case RETRY_SKIP_BODY:
		t->flags |= ACCESSLOG_F_BL;
		/* fall through */
	case RETRY_SKIP_NOT_REPLAYABLE:
	case RETRY_SKIP_DEADLINE:
	case RETRY_SKIP_BREAKER:
		metrics_retry_skipped(w->metrics, t->up->id, txn_skip_metric[v]);
		return false;
	default:
		return false;
	}
}

/* The next try after `wait_ms` (0: from the loop, at once). */
static void
txn_schedule(struct txn *t, uint64_t wait_ms)
{
	t->wait = TXN_WAIT_BACKOFF;
	if (t->req == TXN_REQ_BODY)
		stream_read_stop(&t->c->s);
	if (wait_ms == 0)
		event_active(&t->phase_timer, EV_TIMEOUT, 1);
	else
		timer_arm(&t->phase_timer, wait_ms);
}

static const char *const txn_fallback_names[METRICS_FALLBACK__COUNT] = {
	"unavailable", "failure", "status",
};

/*
 * SPEC 4.4: hand the request to the route's fallback upstream when the
 * route has one for this reason, the request has not fallen back
 * already, and it is safe: "unavailable" means nothing was sent (any
 * method); "failure" and "status" need a replay-safe request.
 */
static bool
txn_fallback(struct txn *t, enum metrics_fallback reason)
{
	const struct fallback_conf *f = &t->route->fallback;

	/* A split may fall back to one of its own targets, but never to the one that failed. */
	if (f->upstream == NULL || f->upstream == t->up ||
	    t->fallback_from != NULL || t->resp_started ||
	    txn_deadline_left_ms(t) == 0)
		return false;
	switch (reason) {
	case METRICS_FALLBACK_UNAVAILABLE:
		if (!f->on_unavailable)
			return false;
		/* A refused retry is not "never sent": the first try went out. */
		if (t->attempts > 0 && !txn_replay_safe(t))
			return false;
		break;
	case METRICS_FALLBACK_FAILURE:
		if (!f->on_failure || !txn_replay_safe(t))
			return false;
		break;
	case METRICS_FALLBACK_STATUS:
		if (!txn_replay_safe(t))
			return false;
		break;
	default:
		return false;
	}
	log_info("fallback", "route=%s from=%s to=%s reason=%s request_id=%s",
	    t->route->name, t->up->name, f->upstream->name,
	    txn_fallback_names[reason], t->reqid);
	metrics_fallback(t->c->w->metrics, t->route->id, reason);
	txn_drop_try(t);
	t->flags |= ACCESSLOG_F_FB;
	t->fallback_from = t->up;
	t->fallback_reason = txn_fallback_names[reason];
	t->up = f->upstream;
	t->attempts = 0;
	t->first_counted = false;
	t->last_server = SIZE_MAX;
	txn_try(t);
	return true;
}

/*
 * The upstream cannot take the request: breaker open, bulkhead full, a
 * wait too long, or every server down. Fall back, or answer 503 (or,
 * for a retry refused this way, the failure that made us retry).
 */
static void
txn_unavailable(struct txn *t, enum metrics_reject why, bool no_server)
{
	struct upstream_rt *rt = t->up->rt;
	bool breaker = why == METRICS_REJECT_BREAKER_OPEN;

	if (why != METRICS_REJECT__COUNT)
		metrics_rejected(t->c->w->metrics, t->up->id, why);
	t->flags |= breaker ? ACCESSLOG_F_BO : no_server ? 0 : ACCESSLOG_F_UO;
	if (breaker)
		t->breaker_note = breaker_state_name(breaker_state_now(&rt->breaker,
		    txn_now_ms(), NULL));
	if (txn_fallback(t, METRICS_FALLBACK_UNAVAILABLE))
		return;
	if (t->attempts > 0) {
		txn_reply_error(t, t->last_fail_status, t->last_fail_why, 0, NULL);
		return;
	}
	if (breaker)
		txn_reply_error(t, 503, "circuit breaker open",
		    breaker_retry_after_s(&rt->breaker, txn_now_ms()), t->up->name);
	else if (no_server)
		txn_reply_error(t, 503, "no healthy server", 1, NULL);
	else
		txn_reply_error(t, 503, why == METRICS_REJECT_PENDING_TIMEOUT ?
		    "no upstream connection within pending_timeout" :
		    "upstream at max_connections and max_pending", 1, NULL);
}

/* One of our own error answers; the connection survives unless a body is unread. */
static void
txn_reply_error(struct txn *t, int status, const char *detail,
    unsigned retry_after_s, const char *breaker_upstream)
{
	struct client *c = t->c;
	struct http_reply_opts ro;
	bool close = t->req == TXN_REQ_BODY || !t->keepalive;

	txn_reply_opts(t, &ro, close);
	ro.retry_after_s = retry_after_s;
	ro.breaker_upstream = breaker_upstream;
	t->status = status;
	http_reply_error_opts(c->s.out, status, detail, &ro);
	txn_end(t, false);
	if (close) {
		client_finish(c, detail != NULL ? detail : http_reply_error_text(status));
		return;
	}
	stream_flush(&c->s);
	client_txn_done(c, true);
}

/* Release everything the transaction holds. */
static void
txn_end(struct txn *t, bool reuse_upstream)
{
	txn_leave_queue(t);
	t->wait = TXN_WAIT_NONE;
	evtimer_del(&t->phase_timer);
	evtimer_del(&t->deadline);
	/* A call admitted but never answered: its probe slot goes back. */
	txn_report(t, OUTCOME_CLIENT_GONE);
	if (t->uc != NULL) {
		if (reuse_upstream && t->up != NULL)
			upconn_release(t->uc, t->up->idle_timeout_ms);
		else
			upconn_close(t->uc, "transaction ended");
		t->uc = NULL;
	}
	txn_release_slot(t);
	if (t->shadow != NULL) {
		shadow_release(t->shadow, t->resp == TXN_RESP_DONE);
		t->shadow = NULL;
	}
	t->req = TXN_REQ_NONE;
	t->resp = TXN_RESP_NONE;
}

void
txn_abort(struct txn *t, const char *reason)
{
	(void)reason;
	txn_end(t, false);
}

static uint64_t
txn_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint64_t
txn_unix_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/*
 * Correlation ID and trace context (SPEC section 3): keep one well-formed
 * incoming ID, else make one; forward one valid traceparent, else start a
 * trace (an invalid one is dropped with its tracestate, per W3C).
 */
static void
txn_correlate(struct txn *t, const struct http_head *h)
{
	const struct correlation_conf *cc = &t->cfg->correlation;
	struct worker *w = t->c->w;
	struct traceparent tp;

	t->reqid[0] = '\0';
	t->trace_forwarded = false;
	if (cc->accept_incoming && cc->header != NULL &&
	    http_head_count(h, cc->header) == 1) {
		const struct http_field *f = http_head_find(h, cc->header);

		if (reqid_valid(f->value.p, f->value.len)) {
			memcpy(t->reqid, f->value.p, f->value.len);
			t->reqid[f->value.len] = '\0';
		}
	}
	if (t->reqid[0] == '\0') {
		if (cc->generate == REQID_GEN_UUID4)
			reqid_uuid4(t->reqid, &w->rng);
		else
			reqid_uuid7(t->reqid, t->start_unix_us / 1000u, &w->rng);
	}
	t->traceparent[0] = '\0';
	if (!cc->traceparent)
		return;
	if (http_head_count(h, "traceparent") == 1) {
		const struct http_field *f = http_head_find(h, "traceparent");

		if (traceparent_parse(f->value.p, f->value.len, &tp)) {
			traceparent_format(&tp, t->traceparent);
			t->trace_forwarded = true;
			return;
		}
	}
	traceparent_new(&tp, &w->rng);
	traceparent_format(&tp, t->traceparent);
}

/* How our own answers to this request look. */
static void
txn_reply_opts(const struct txn *t, struct http_reply_opts *o, bool close)
{
	const struct correlation_conf *cc = &t->cfg->correlation;

	memset(o, 0, sizeof(*o));
	o->close = close;
	o->head_only = t->meth == HTTP_M_HEAD;
	o->client_minor = t->client_minor;
	o->request_id = t->reqid;
	o->id_header = cc->echo ? cc->header : NULL;
}

static const enum metrics_outcome txn_metrics_outcomes[OUTCOME__COUNT] = {
	[OUTCOME_SUCCESS] = METRICS_TRY_SUCCESS,
	[OUTCOME_THROTTLED] = METRICS_TRY_SUCCESS,
	[OUTCOME_CONNECT_FAILURE] = METRICS_TRY_CONNECT_FAILURE,
	[OUTCOME_RESET_UNSENT] = METRICS_TRY_RESET,
	[OUTCOME_RESET] = METRICS_TRY_RESET,
	[OUTCOME_INVALID] = METRICS_TRY_FAILURE,
	[OUTCOME_TIMEOUT] = METRICS_TRY_TIMEOUT,
	[OUTCOME_GATEWAY_STATUS] = METRICS_TRY_FAILURE,
	[OUTCOME_OTHER_5XX] = METRICS_TRY_FAILURE,
};

enum metrics_outcome
txn_metrics_outcome(enum try_outcome o)
{
	return (unsigned)o < OUTCOME_CLIENT_GONE ? txn_metrics_outcomes[o] :
	    METRICS_TRY_FAILURE;
}

/*
 * One try ended: tell the breaker, count it once, and note when the
 * upstream's part was over.
 */
static void
txn_try_ended(struct txn *t, enum try_outcome o)
{
	txn_report(t, o);
	if (t->up != NULL && o < OUTCOME_CLIENT_GONE)
		metrics_try(t->c->w->metrics, t->up->id, txn_metrics_outcome(o));
	if (t->tries > 0)
		t->upstream_us = (int64_t)(txn_now_us() - t->try_start_us);
}

void
txn_account(struct txn *t)
{
	struct client *c = t->c;
	struct worker *w = c->w;
	struct accesslog_entry e;
	uint64_t dur;

	if (t->cfg == NULL)
		return;
	dur = txn_now_us() - t->start_mono_us;
	if (t->status != 0)
		metrics_request(w->metrics, t->route ? t->route->id : METRICS_NONE,
		    t->up ? t->up->id : METRICS_NONE, t->status, dur);
	memset(&e, 0, sizeof(e));
	e.ts_unix_us = t->start_unix_us;
	e.request_id = t->reqid;
	e.client = c->addr;
	e.method.p = t->line;
	e.method.len = t->method_len;
	e.path.p = t->line + t->method_len;
	e.path.len = t->target_len;
	e.route = t->route ? t->route->name : NULL;
	e.upstream = t->up ? t->up->name : NULL;
	e.server = t->server ? t->server->address : NULL;
	e.status = t->status;
	e.bytes_in = c->s.bytes_in - evbuffer_get_length(c->s.in) - t->in_mark;
	e.bytes_out = c->s.bytes_out + evbuffer_get_length(c->s.out) - t->out_mark;
	e.duration_us = dur;
	e.upstream_us = t->upstream_us;
	e.tries = t->tries;
	e.flags = t->flags;
	e.breaker = t->breaker_note;
	e.fallback = t->fallback_reason;
	e.shadow = t->shadow_note;
	accesslog_write(w->alog, &e);
	config_unref(t->cfg);
	t->cfg = NULL;
	t->route = NULL;
	t->up = NULL;
}

void
txn_free(struct txn *t)
{
	free(t->line);
	evbuffer_free(t->up_head);
	evbuffer_free(t->fb_head);
	evbuffer_free(t->replay);
	free(t);
}
