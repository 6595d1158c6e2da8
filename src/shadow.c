/*
 * shadow: copies of requests to a route's shadow upstream. See shadow.h
 * for the life of a copy; this file is its state machine.
 *
 * Two things end a copy, in either order: its own answer (or failure)
 * and the transaction letting go. Whichever comes second concludes it:
 * compare, count, log, free. Until then the copy never touches the
 * client or the transaction, so neither waits for it.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "cutover/balance.h"
#include "cutover/breaker.h"
#include "cutover/clock.h"
#include "cutover/http_body.h"
#include "cutover/http_msg.h"
#include "cutover/log.h"
#include "cutover/metrics.h"
#include "cutover/outcome.h"
#include "cutover/pool.h"
#include "cutover/rng.h"
#include "cutover/shadow.h"
#include "cutover/shadow_compare.h"
#include "cutover/shadow_log.h"
#include "cutover/timer.h"
#include "cutover/txn.h"
#include "cutover/upstream_conn.h"
#include "cutover/upstream_rt.h"
#include "cutover/worker.h"

enum shadow_state {
	SHADOW_S_BUFFERING = 0, /* the request is still arriving */
	SHADOW_S_CONNECTING,
	SHADOW_S_WAIT_HEAD,
	SHADOW_S_BODY,
	SHADOW_S_DONE,	  /* answered in full */
	SHADOW_S_FAILED,  /* no usable answer: counted as an error */
	SHADOW_S_SKIPPED, /* never sent, or sent without a request worth comparing */
};

static const char *const shadow_state_names[] = {
	"buffering", "connecting", "wait_head", "body", "done", "failed",
	"skipped",
};

/*
 * Owner: the worker (w->shadows). Holds a reference to `cfg`, a slot of
 * `up`'s bulkhead while holds_slot, a breaker ticket while
 * ticket.admitted, one unit of route->shadow.inflight, `uc` while set,
 * and the buffers `req`, `primary`, `answer`.
 */
struct shadow {
	TAILQ_ENTRY(shadow) entry;
	struct worker *w;
	struct config *cfg;
	const struct route_conf *route;
	const struct upstream_conf *up; /* route->shadow.upstream */
	enum shadow_state state;
	bool released;	     /* the transaction let go */
	bool primary_head;   /* shadow_primary_head was called */
	bool primary_ok;     /* ... and the client got that whole answer */
	bool holds_slot;
	bool chunked;	     /* body bytes go out as chunks */
	bool stale_retried;  /* one new connection after a stale pooled one */
	bool got_bytes;	     /* some of the answer arrived */
	bool no_reuse;	     /* the answer said Connection: close (or is HTTP/1.0) */
	enum http_method meth;
	struct breaker_ticket ticket;
	struct upstream_conn *uc;
	struct evbuffer *req; /* head and framed body, kept until the copy ends */
	uint64_t body_bytes;
	uint64_t try_start_ms;
	size_t scan_pos;
	struct http_body body;
	struct event timer;    /* connect, then the response head */
	struct event deadline; /* the shadow upstream's request_timeout */
	const char *why;       /* what failed or skipped it (a literal) */
	struct cmp_response primary;
	struct cmp_response answer;
	char reqid[REQID_MAX + 1];
	char method[16];
	char path[256];
	char primary_up[128];
};

static void shadow_up_read(struct stream *s, void *arg);
static void shadow_up_drain(struct stream *s, void *arg);
static void shadow_up_event(struct stream *s, enum stream_event ev, void *arg);
static void shadow_timercb(evutil_socket_t fd, short what, void *arg);
static void shadow_send(struct shadow *sh);
static void shadow_fail(struct shadow *sh, enum try_outcome o, const char *why);
static void shadow_skip(struct shadow *sh, const char *why);
static void shadow_finish_try(struct shadow *sh, enum try_outcome o, bool reuse);
static void shadow_conclude(struct shadow *sh);
static void shadow_free(struct shadow *sh);

static const struct stream_ops shadow_up_ops = {
	.on_read = shadow_up_read,
	.on_drain = shadow_up_drain,
	.on_event = shadow_up_event,
};

static void
shadow_set_state(struct shadow *sh, enum shadow_state st)
{
	log_debug("shadow_state", "route=%s request_id=%s from=%s to=%s",
	    sh->route->name, sh->reqid, shadow_state_names[sh->state],
	    shadow_state_names[st]);
	sh->state = st;
}

static bool
shadow_ended(const struct shadow *sh)
{
	return sh->state >= SHADOW_S_DONE;
}

/* Copy at most cap-1 bytes of p[0..n) as a C string. */
static void
shadow_copy(char *dst, size_t cap, const char *p, size_t n)
{
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, p, n);
	dst[n] = '\0';
}

/* Counted at once: a copy that never came to be. */
static void
shadow_count_skip(struct worker *w, const struct shadow_request *rq,
    const char *why)
{
	metrics_shadow(w->metrics, rq->route->id, METRICS_SHADOW_SKIPPED);
	log_debug("shadow_skipped", "route=%s request_id=%s reason=%s",
	    rq->route->name, rq->reqid, why);
}

struct shadow *
shadow_begin(struct worker *w, struct config *cfg,
    const struct shadow_request *rq, const char **note)
{
	struct shadow_conf *sc = (struct shadow_conf *)&rq->route->shadow;
	struct shadow *sh;
	size_t hlen;

	*note = NULL;
	if (!sc->enabled || sc->upstream == NULL || rq->upgrade ||
	    !(sc->methods & (1u << rq->meth)))
		return NULL;
	if (sc->percent_ppm < 1000000u &&
	    rng_u64(&w->rng) % 1000000u >= sc->percent_ppm)
		return NULL;
	*note = "skipped";
	if (rq->has_body && rq->length_known && rq->content_length > sc->max_body) {
		shadow_count_skip(w, rq, "body_too_large");
		return NULL;
	}
	if (atomic_fetch_add(&sc->inflight, 1) >= sc->max_inflight) {
		atomic_fetch_sub(&sc->inflight, 1);
		shadow_count_skip(w, rq, "max_inflight");
		return NULL;
	}
	*note = "sent";
	sh = xcalloc(1, sizeof(*sh));
	sh->w = w;
	sh->cfg = config_ref(cfg);
	sh->route = rq->route;
	sh->up = sc->upstream;
	sh->meth = rq->meth;
	sh->chunked = rq->chunked;
	sh->state = SHADOW_S_BUFFERING;
	evtimer_assign(&sh->timer, w->base, shadow_timercb, sh);
	evtimer_assign(&sh->deadline, w->base, shadow_timercb, sh);
	cmp_response_init(&sh->primary);
	cmp_response_init(&sh->answer);
	shadow_copy(sh->reqid, sizeof(sh->reqid), rq->reqid, strlen(rq->reqid));
	shadow_copy(sh->method, sizeof(sh->method), rq->method, rq->method_len);
	shadow_copy(sh->path, sizeof(sh->path), rq->path, rq->path_len);
	/* The primary's head, marked so the new service can skip side effects. */
	sh->req = evbuffer_new();
	if (sh->req == NULL)
		fatal("shadow: out of memory");
	hlen = evbuffer_get_length(rq->head);
	evbuffer_add(sh->req, evbuffer_pullup(rq->head, (ssize_t)hlen), hlen - 2);
	evbuffer_add_printf(sh->req, "X-Cutover-Shadow: 1\r\n\r\n");
	TAILQ_INSERT_TAIL(&w->shadows, sh, entry);
	if (!rq->has_body)
		shadow_request_done(sh);
	return sh;
}

void
shadow_request_body(struct shadow *sh, const void *p, size_t n)
{
	if (sh->state != SHADOW_S_BUFFERING || n == 0)
		return;
	sh->body_bytes += n;
	if (sh->body_bytes > sh->route->shadow.max_body) {
		shadow_skip(sh, "body_too_large");
		return;
	}
	if (sh->chunked)
		http_msg_chunk_header(sh->req, n);
	evbuffer_add(sh->req, p, n);
	if (sh->chunked)
		http_msg_chunk_end(sh->req);
}

void
shadow_request_done(struct shadow *sh)
{
	if (sh->state != SHADOW_S_BUFFERING)
		return;
	if (sh->chunked)
		http_msg_last_chunk(sh->req);
	shadow_send(sh);
}

bool
shadow_wants_primary(const struct shadow *sh)
{
	return sh->route->shadow.compare && sh->state != SHADOW_S_FAILED &&
	    sh->state != SHADOW_S_SKIPPED;
}

/* Copy a head's status and fields into a comparison capture. */
static void
shadow_capture_head(struct cmp_response *r, const struct http_head *h)
{
	cmp_response_set_status(r, h->status);
	for (size_t i = 0; i < h->nfields; i++)
		cmp_response_add_field(r, h->fields[i].name.p,
		    h->fields[i].name.len, h->fields[i].value.p,
		    h->fields[i].value.len);
}

void
shadow_primary_head(struct shadow *sh, const struct http_head *h,
    const char *upstream)
{
	if (!shadow_wants_primary(sh) || sh->primary_head)
		return;
	sh->primary_head = true;
	shadow_copy(sh->primary_up, sizeof(sh->primary_up), upstream,
	    strlen(upstream));
	shadow_capture_head(&sh->primary, h);
}

void
shadow_primary_body(struct shadow *sh, const void *p, size_t n)
{
	if (sh->primary_head && shadow_wants_primary(sh))
		cmp_response_add_body(&sh->primary, p, n);
}

void
shadow_release(struct shadow *sh, bool primary_complete)
{
	sh->released = true;
	sh->primary_ok = primary_complete && sh->primary_head;
	if (sh->state == SHADOW_S_BUFFERING) {
		/* The client went away (or was refused) mid-body. */
		shadow_skip(sh, "request_incomplete");
		return;
	}
	if (shadow_ended(sh))
		shadow_conclude(sh);
}

/* Pick a server of the shadow upstream: one that is up, by weight. */
static struct pool_server *
shadow_pick_server(struct shadow *sh)
{
	struct worker *w = sh->w;
	const struct upstream_conf *up = sh->up;
	struct upstream_rt *rt = up->rt;
	bool any = false;
	size_t si;

	for (size_t i = 0; i < up->nservers; i++) {
		w->usable[i] = upstream_rt_server_up(rt, i);
		any |= w->usable[i];
	}
	if (!any)
		return NULL;
	si = balance_pick_among(&rt->w[w->id].balance, rt->w[w->id].weights,
	    w->usable);
	return &rt->w[w->id].servers[si == SIZE_MAX ? 0 : si];
}

/* Put the copy on a connection (pooled, or new) and start it. */
static void
shadow_start_try(struct shadow *sh, struct pool_server *ps, bool fresh)
{
	struct worker *w = sh->w;
	size_t len = evbuffer_get_length(sh->req);

	sh->uc = fresh ? NULL : upconn_take_idle(ps, &shadow_up_ops, sh);
	if (sh->uc == NULL) {
		sh->uc = upconn_connect(w, ps, &sh->up->tls, &shadow_up_ops, sh);
		if (sh->uc == NULL) {
			shadow_fail(sh, OUTCOME_CONNECT_FAILURE,
			    "cannot connect to shadow upstream");
			return;
		}
		shadow_set_state(sh, SHADOW_S_CONNECTING);
		timer_arm(&sh->timer, sh->up->connect_timeout_ms);
	} else {
		shadow_set_state(sh, SHADOW_S_WAIT_HEAD);
		stream_read_start(&sh->uc->s);
		timer_arm(&sh->timer, sh->up->response_timeout_ms);
	}
	stream_set_timeouts(&sh->uc->s, 0, sh->up->response_timeout_ms);
	sh->scan_pos = 0;
	sh->got_bytes = false;
	evbuffer_add(sh->uc->s.out, evbuffer_pullup(sh->req, (ssize_t)len), len);
	if (sh->state == SHADOW_S_WAIT_HEAD)
		stream_flush(&sh->uc->s);
}

/*
 * The whole request is in: admit it like any call to the shadow
 * upstream (servers up, breaker, a bulkhead slot without waiting), then
 * send it.
 */
static void
shadow_send(struct shadow *sh)
{
	const struct upstream_conf *up = sh->up;
	struct upstream_rt *rt = up->rt;
	struct pool_server *ps;

	if (upstream_rt_all_down(rt)) {
		shadow_skip(sh, "servers_down");
		return;
	}
	if (!breaker_admit(&rt->breaker, clock_now_ms(),
		http_method_idempotent(sh->meth), &sh->ticket)) {
		shadow_skip(sh, "breaker_open");
		return;
	}
	if (!txn_claim_slot(rt, up->max_connections)) {
		shadow_skip(sh, "no_capacity");
		return;
	}
	sh->holds_slot = true;
	if ((ps = shadow_pick_server(sh)) == NULL) {
		shadow_skip(sh, "servers_down");
		return;
	}
	sh->try_start_ms = clock_now_ms();
	if (up->request_timeout_ms > 0)
		timer_arm(&sh->deadline, up->request_timeout_ms);
	shadow_start_try(sh, ps, false);
}

/* Hand back what the try held: the breaker's ticket, the slot, the connection. */
static void
shadow_finish_try(struct shadow *sh, enum try_outcome o, bool reuse)
{
	struct upstream_rt *rt = sh->up->rt;

	evtimer_del(&sh->timer);
	evtimer_del(&sh->deadline);
	if (sh->ticket.admitted)
		breaker_report(&rt->breaker, clock_now_ms(), &sh->ticket, o,
		    clock_now_ms() - sh->try_start_ms);
	if (o < OUTCOME_CLIENT_GONE)
		metrics_try(sh->w->metrics, sh->up->id, txn_metrics_outcome(o));
	if (sh->uc != NULL) {
		if (reuse)
			upconn_release(sh->uc, sh->up->idle_timeout_ms);
		else
			upconn_close(sh->uc, "shadow ended");
		sh->uc = NULL;
	}
	if (sh->holds_slot) {
		sh->holds_slot = false;
		txn_pass_slot(sh->w, sh->up->rt);
	}
	/* Every end passes here once: the route's in-flight count goes down. */
	atomic_fetch_sub((atomic_uint *)&sh->route->shadow.inflight, 1);
}

static void
shadow_end(struct shadow *sh, enum shadow_state st, const char *why)
{
	sh->why = why;
	shadow_set_state(sh, st);
	if (sh->released)
		shadow_conclude(sh);
}

static void
shadow_fail(struct shadow *sh, enum try_outcome o, const char *why)
{
	shadow_finish_try(sh, o, false);
	shadow_end(sh, SHADOW_S_FAILED, why);
}

static void
shadow_skip(struct shadow *sh, const char *why)
{
	shadow_finish_try(sh, OUTCOME_CLIENT_GONE, false);
	shadow_end(sh, SHADOW_S_SKIPPED, why);
}

static void
shadow_done(struct shadow *sh, bool reuse)
{
	cmp_response_finish(&sh->answer);
	shadow_finish_try(sh, outcome_of_status(sh->answer.status), reuse);
	shadow_end(sh, SHADOW_S_DONE, NULL);
}

/* A connection failed before the head: a stale pooled one gets one more go. */
static void
shadow_conn_failed(struct shadow *sh, enum try_outcome o, const char *why)
{
	struct upstream_conn *uc = sh->uc;

	if (o != OUTCOME_CONNECT_FAILURE && uc->uses > 0 && !sh->got_bytes &&
	    !sh->stale_retried) {
		struct pool_server *ps = uc->ps;

		sh->stale_retried = true;
		upconn_close(uc, "stale shadow connection");
		sh->uc = NULL;
		shadow_start_try(sh, ps, true);
		return;
	}
	shadow_fail(sh, o, why);
}

static void
shadow_pump_body(struct shadow *sh)
{
	struct evbuffer *in = sh->uc->s.in;
	bool keep = sh->route->shadow.compare;

	while (sh->state == SHADOW_S_BODY) {
		struct evbuffer_iovec v = { NULL, 0 };
		size_t skip, dlen;
		enum http_body_rc rc;

		(void)evbuffer_peek(in, -1, NULL, &v, 1);
		rc = http_body_step(&sh->body, v.iov_base, v.iov_len, &skip, &dlen);
		if (skip > 0)
			evbuffer_drain(in, skip);
		if (rc == HTTP_BODY_AGAIN && evbuffer_get_length(in) == 0)
			return;
		switch (rc) {
		case HTTP_BODY_AGAIN:
			break;
		case HTTP_BODY_DATA:
			if (keep) {
				(void)evbuffer_peek(in, (ssize_t)dlen, NULL, &v, 1);
				cmp_response_add_body(&sh->answer, v.iov_base, dlen);
			}
			evbuffer_drain(in, dlen);
			break;
		case HTTP_BODY_DONE:
			shadow_done(sh, evbuffer_get_length(in) == 0 &&
			    !sh->no_reuse && stream_out_pending(&sh->uc->s) == 0);
			return;
		case HTTP_BODY_ERROR:
			shadow_fail(sh, OUTCOME_INVALID, "bad response body framing");
			return;
		}
	}
}

static void
shadow_read_head(struct shadow *sh)
{
	struct evbuffer *in = sh->uc->s.in;

	while (sh->state == SHADOW_S_WAIT_HEAD && evbuffer_get_length(in) > 0) {
		struct http_head h;
		struct http_error err;

		sh->got_bytes = true;
		switch (upconn_parse_head(sh->uc, sh->meth, &sh->scan_pos, &h,
		    &err)) {
		case HTTP_PARSE_AGAIN:
			return;
		case HTTP_PARSE_ERROR:
			shadow_fail(sh, OUTCOME_INVALID, err.reason);
			return;
		case HTTP_PARSE_DONE:
			break;
		}
		if (h.status < 200) { /* interim (a 101 was never asked for) */
			evbuffer_drain(in, h.head_len);
			if (h.status == 101) {
				shadow_fail(sh, OUTCOME_INVALID, "unsolicited 101");
				return;
			}
			continue;
		}
		evtimer_del(&sh->timer);
		shadow_capture_head(&sh->answer, &h);
		evbuffer_drain(in, h.head_len);
		http_body_init(&sh->body, h.framing, h.content_length);
		stream_set_timeouts(&sh->uc->s, sh->up->read_timeout_ms,
		    sh->up->response_timeout_ms);
		shadow_set_state(sh, SHADOW_S_BODY);
		if (h.framing == HTTP_FRAMING_NONE) {
			shadow_done(sh, evbuffer_get_length(in) == 0 &&
			    !(h.flags & HTTP_F_NO_REUSE));
			return;
		}
		sh->no_reuse = (h.flags & HTTP_F_NO_REUSE) != 0;
		shadow_pump_body(sh);
		return;
	}
}

static void
shadow_up_read(struct stream *s, void *arg)
{
	struct shadow *sh = arg;

	(void)s;
	if (sh->state == SHADOW_S_WAIT_HEAD)
		shadow_read_head(sh);
	else if (sh->state == SHADOW_S_BODY)
		shadow_pump_body(sh);
}

static void
shadow_up_drain(struct stream *s, void *arg)
{
	(void)s;
	(void)arg;
}

static void
shadow_up_event(struct stream *s, enum stream_event ev, void *arg)
{
	struct shadow *sh = arg;

	(void)s;
	switch (ev) {
	case STREAM_EV_CONNECTED:
		evtimer_del(&sh->timer);
		sh->uc->state = UPCONN_BUSY;
		shadow_set_state(sh, SHADOW_S_WAIT_HEAD);
		stream_read_start(&sh->uc->s);
		timer_arm(&sh->timer, sh->up->response_timeout_ms);
		stream_flush(&sh->uc->s);
		break;
	case STREAM_EV_EOF:
		if (sh->state == SHADOW_S_BODY &&
		    sh->body.state == HTTP_BODY_S_CLOSE) {
			shadow_done(sh, false);
		} else if (sh->state == SHADOW_S_WAIT_HEAD) {
			shadow_conn_failed(sh, OUTCOME_RESET,
			    "shadow upstream closed before response head");
		} else {
			shadow_fail(sh, OUTCOME_RESET,
			    "shadow upstream closed mid-response");
		}
		break;
	case STREAM_EV_ERROR:
		if (sh->state == SHADOW_S_CONNECTING) {
			char why[256];

			/* As for a request: "TLS" only when TLS is the reason. */
			shadow_fail(sh, OUTCOME_CONNECT_FAILURE,
			    stream_tls_error(s, why, sizeof(why)) != NULL ?
			    "TLS handshake failed" : "connect failed");
		}
		else if (sh->state == SHADOW_S_WAIT_HEAD)
			shadow_conn_failed(sh, OUTCOME_RESET,
			    "shadow upstream connection reset");
		else
			shadow_fail(sh, OUTCOME_RESET, "shadow upstream error");
		break;
	case STREAM_EV_READ_TIMEOUT:
	case STREAM_EV_WRITE_TIMEOUT:
		shadow_fail(sh, OUTCOME_TIMEOUT, "shadow upstream timeout");
		break;
	}
}

/* The connect or response-head timer, or the deadline. */
static void
shadow_timercb(evutil_socket_t fd, short what, void *arg)
{
	struct shadow *sh = arg;

	(void)fd;
	(void)what;
	if (sh->state == SHADOW_S_CONNECTING)
		shadow_fail(sh, OUTCOME_CONNECT_FAILURE, "connect timeout");
	else
		shadow_fail(sh, OUTCOME_TIMEOUT, "shadow upstream timeout");
}

/* Both sides are in: compare, count and log; then free. */
static void
shadow_conclude(struct shadow *sh)
{
	struct worker *w = sh->w;
	size_t r = sh->route->id; /* its metrics slot */
	struct shadow_mismatch m;
	struct cmp_rules rules;
	char quoted[2 * CMP_DIFF_MAX];

	switch (sh->state) {
	case SHADOW_S_FAILED:
		metrics_shadow(w->metrics, r, METRICS_SHADOW_ERROR);
		log_debug("shadow_error", "route=%s upstream=%s request_id=%s "
		    "reason=\"%s\"", sh->route->name, sh->up->name, sh->reqid,
		    sh->why);
		break;
	case SHADOW_S_SKIPPED:
		metrics_shadow(w->metrics, r, METRICS_SHADOW_SKIPPED);
		log_debug("shadow_skipped", "route=%s request_id=%s reason=%s",
		    sh->route->name, sh->reqid, sh->why);
		break;
	case SHADOW_S_DONE:
		if (!sh->route->shadow.compare) {
			metrics_shadow(w->metrics, r, METRICS_SHADOW_SENT);
			break;
		}
		if (!sh->primary_ok) {
			/* Nothing whole to compare with: the primary failed or was cut. */
			metrics_shadow(w->metrics, r, METRICS_SHADOW_SKIPPED);
			log_debug("shadow_skipped", "route=%s request_id=%s "
			    "reason=primary_incomplete", sh->route->name, sh->reqid);
			break;
		}
		cmp_response_finish(&sh->primary);
		memset(&rules, 0, sizeof(rules));
		rules.ignore_headers = sh->route->shadow.ignore_headers;
		rules.nignore_headers = sh->route->shadow.nignore_headers;
		rules.ignore_json_fields = sh->route->shadow.ignore_json_fields;
		rules.nignore_json_fields = sh->route->shadow.nignore_json_fields;
		memset(&m, 0, sizeof(m));
		if (cmp_responses(&rules, &sh->primary, &sh->answer, m.diff,
			sizeof(m.diff))) {
			metrics_shadow(w->metrics, r, METRICS_SHADOW_MATCH);
			break;
		}
		metrics_shadow(w->metrics, r, METRICS_SHADOW_MISMATCH);
		m.unix_ms = clock_unix_ms();
		memcpy(m.request_id, sh->reqid, sizeof(m.request_id));
		shadow_copy(m.route, sizeof(m.route), sh->route->name,
		    strlen(sh->route->name));
		memcpy(m.method, sh->method, sizeof(m.method));
		memcpy(m.path, sh->path, sizeof(m.path));
		memcpy(m.upstream, sh->primary_up, sizeof(m.upstream));
		shadow_copy(m.shadow_upstream, sizeof(m.shadow_upstream),
		    sh->up->name, strlen(sh->up->name));
		m.primary_status = sh->primary.status;
		m.shadow_status = sh->answer.status;
		if (w->shared->shadow_log != NULL)
			shadow_log_add(w->shared->shadow_log, &m);
		log_quote(quoted, sizeof(quoted), m.diff);
		log_info("shadow_mismatch", "route=%s upstream=%s shadow=%s "
		    "request_id=%s primary_status=%d shadow_status=%d "
		    "difference=\"%s\"", m.route, m.upstream, m.shadow_upstream,
		    m.request_id, m.primary_status, m.shadow_status, quoted);
		break;
	default:
		fatal("shadow: concluded in state %s",
		    shadow_state_names[sh->state]);
	}
	shadow_free(sh);
}

static void
shadow_free(struct shadow *sh)
{
	TAILQ_REMOVE(&sh->w->shadows, sh, entry);
	evtimer_del(&sh->timer);
	evtimer_del(&sh->deadline);
	cmp_response_free(&sh->primary);
	cmp_response_free(&sh->answer);
	evbuffer_free(sh->req);
	config_unref(sh->cfg);
	free(sh);
}

void
shadow_free_all(struct worker *w)
{
	struct shadow *sh;

	while ((sh = TAILQ_FIRST(&w->shadows)) != NULL) {
		if (!shadow_ended(sh))
			shadow_finish_try(sh, OUTCOME_CLIENT_GONE, false);
		shadow_free(sh);
	}
}
