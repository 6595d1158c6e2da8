/*
 * txn: one request through the proxy. See txn.h for the two state
 * machines. Everything that reads the parsed head runs synchronously in
 * txn_start, because the head's fields live in worker scratch space and
 * point into the client's input buffer; after it, only the body decoders
 * and the decisions taken remain.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cutover/accesslog.h"
#include "cutover/client.h"
#include "cutover/clock.h"
#include "cutover/http_reply.h"
#include "cutover/log.h"
#include "cutover/path.h"
#include "cutover/pool.h"
#include "cutover/route.h"
#include "cutover/timer.h"
#include "cutover/tunnel.h"
#include "cutover/txn.h"
#include "cutover/upstream_conn.h"
#include "cutover/worker.h"

/* Flow control: stop reading a side when the other's output holds this much. */
#define TXN_HIGH_WATER (256 * 1024)
#define TXN_LOW_WATER  (64 * 1024)
/* Longest upstream response head we accept. */
#define TXN_MAX_RESPONSE_HEAD (64 * 1024)

static void txn_up_read(struct stream *s, void *arg);
static void txn_up_drain(struct stream *s, void *arg);
static void txn_up_event(struct stream *s, enum stream_event ev, void *arg);
static void txn_phase_timercb(evutil_socket_t fd, short what, void *arg);
static void txn_deadline_cb(evutil_socket_t fd, short what, void *arg);
static void txn_set_req(struct txn *t, enum txn_req_state st);
static void txn_set_resp(struct txn *t, enum txn_resp_state st);
static void txn_pump_request(struct txn *t);
static void txn_pump_response(struct txn *t);
static void txn_read_response_head(struct txn *t);
static void txn_upstream_failed(struct txn *t, int status,
    enum metrics_outcome o, const char *why);
static void txn_end(struct txn *t, bool reuse_upstream);
static void txn_reply_local(struct txn *t, int status, const char *detail);
static bool txn_connect(struct txn *t);
static bool txn_wants_websocket(const struct http_head *h);
static void txn_correlate(struct txn *t, const struct http_head *h);
static void txn_reply_opts(const struct txn *t, struct http_reply_opts *o,
    bool close);
static void txn_try_ended(struct txn *t, enum metrics_outcome o);
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

/* Answer the request ourselves; the connection survives unless a body is unread. */
static void
txn_reply_local(struct txn *t, int status, const char *detail)
{
	struct client *c = t->c;
	bool unread_body = t->req == TXN_REQ_BODY;

	if (unread_body || !t->keepalive) {
		txn_end(t, false);
		client_error(c, status, detail);
		return;
	}
	{
		struct http_reply_opts ro;

		txn_reply_opts(t, &ro, false);
		t->status = status;
		http_reply_error_opts(c->s.out, status, detail, &ro);
	}
	stream_flush(&c->s);
	txn_end(t, false);
	client_txn_done(c, true);
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
		txn_reply_local(t, tp.asterisk ? 404 : 400,
		    tp.asterisk ? "no route for *" : "bad request target");
		return;
	}
	if (path_normalise(tp.path.p, tp.path.len, w->path_buf, &plen) == -1) {
		evbuffer_drain(c->s.in, h->head_len);
		txn_reply_local(t, 400, "bad path");
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
		txn_reply_local(t, 413, "body larger than limits.max_body_bytes");
		return;
	}

	t->route = route_match(t->cfg, &rq, NULL);
	if (t->route == NULL) {
		t->flags |= ACCESSLOG_F_NR;
		evbuffer_drain(c->s.in, h->head_len);
		txn_reply_local(t, 404, NULL);
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

	t->up = t->route->upstream;
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
	m.proto = "http";
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

	if (!txn_connect(t)) {
		t->flags |= ACCESSLOG_F_UF;
		txn_try_ended(t, METRICS_TRY_CONNECT_FAILURE);
		evbuffer_drain(c->s.in, h->head_len);
		txn_reply_local(t, 502, "cannot connect to upstream");
		return;
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
	http_msg_request(t->uc->s.out, h, &m);
	evbuffer_drain(c->s.in, h->head_len);
	txn_set_resp(t, TXN_RESP_WAIT_HEAD);
	if (t->up->request_timeout_ms > 0)
		timer_arm(&t->deadline, t->up->request_timeout_ms);

	/* We answer 100-continue ourselves once the request has somewhere to go. */
	if ((h->flags & HTTP_F_EXPECT_100) && t->req == TXN_REQ_BODY &&
	    t->client_minor >= 1 && evbuffer_get_length(c->s.in) == 0) {
		http_reply_continue(c->s.out);
		stream_flush(&c->s);
	}
	if (t->req == TXN_REQ_BODY)
		stream_set_timeouts(&c->s, t->cfg->client_timeouts.body_ms,
		    t->cfg->client_timeouts.send_ms);
	txn_pump_request(t);
}

/* Take a pooled connection or start a new one. */
static bool
txn_connect(struct txn *t)
{
	struct worker *w = t->c->w;
	const struct upstream_conf *up = t->up;
	size_t si = balance_pick(&w->balance[up->index], w->weights[up->index]);
	struct pool_server *ps = pool_server(&w->pool, up->index, si);

	t->server = ps->server;
	t->tries++;
	t->try_start_us = txn_now_us();
	t->uc = upconn_take_idle(ps, &txn_up_ops, t);
	if (t->uc != NULL) {
		t->uc->txn = t;
		/* An upstream that stops reading our request is as stuck as a silent one. */
		stream_set_timeouts(&t->uc->s, 0, up->response_timeout_ms);
		return true;
	}
	t->uc = upconn_connect(w, ps, &txn_up_ops, t);
	if (t->uc == NULL) {
		log_warn("upstream_connect", "upstream=%s server=%s", up->name,
		    ps->server->address);
		return false;
	}
	t->uc->txn = t;
	timer_arm(&t->phase_timer, up->connect_timeout_ms);
	return true;
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

	if (t->uc == NULL)
		return;
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
			stream_flush(&t->uc->s);
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
			if (t->req_chunked_out)
				http_msg_chunk_header(out, dlen);
			evbuffer_remove_buffer(in, out, dlen);
			if (t->req_chunked_out)
				http_msg_chunk_end(out);
			break;
		case HTTP_BODY_DONE:
			if (t->req_chunked_out)
				http_msg_last_chunk(out);
			txn_set_req(t, TXN_REQ_DONE);
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
	stream_flush(&t->uc->s);
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
		if (t->resp == TXN_RESP_WAIT_HEAD && t->uc->state != UPCONN_CONNECTING)
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

static void
txn_read_response_head(struct txn *t)
{
	struct client *c = t->c;
	struct worker *w = c->w;
	struct evbuffer *in = t->uc->s.in;
	struct http_limits hl = {
		.max_header_bytes = TXN_MAX_RESPONSE_HEAD,
		.max_target_bytes = TXN_MAX_RESPONSE_HEAD,
		.max_headers = w->max_fields,
	};

	while (t->resp == TXN_RESP_WAIT_HEAD && evbuffer_get_length(in) > 0) {
		struct http_head h;
		struct http_error err;
		struct http_msg_response m;
		size_t len = evbuffer_get_length(in);
		const char *p;

		if (len > TXN_MAX_RESPONSE_HEAD + 1)
			len = TXN_MAX_RESPONSE_HEAD + 1;
		p = (const char *)evbuffer_pullup(in, (ssize_t)len);
		http_head_init(&h, w->resp_fields, w->max_fields);
		h.scan_pos = t->resp_scan_pos; /* a trickled head costs linear time */
		switch (http_parse_response(p, len, &h, t->meth, &hl, &err)) {
		case HTTP_PARSE_AGAIN:
			t->resp_scan_pos = h.scan_pos;
			return;
		case HTTP_PARSE_ERROR:
			txn_upstream_failed(t, 502, METRICS_TRY_FAILURE, err.reason);
			return;
		case HTTP_PARSE_DONE:
			t->resp_scan_pos = 0;
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
				txn_upstream_failed(t, 502, METRICS_TRY_FAILURE, "unsolicited 101");
				return;
			}
			m.upgrade = true;
			m.framing = HTTP_OUT_NONE;
			t->status = 101;
			txn_try_ended(t, METRICS_TRY_SUCCESS);
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
		t->resp_chunked_out = m.framing == HTTP_OUT_CHUNKED;
		t->status = h.status;
		/* Per the outcome table: 5xx is a failed try, anything else a success. */
		txn_try_ended(t, h.status >= 500 ? METRICS_TRY_FAILURE : METRICS_TRY_SUCCESS);
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
		if (t->resp == TXN_RESP_WAIT_HEAD) {
			t->flags |= ACCESSLOG_F_UR;
			txn_upstream_failed(t, 502, METRICS_TRY_RESET,
			    "upstream closed before response head");
		} else if (t->resp == TXN_RESP_BODY &&
		    t->resp_body.state == HTTP_BODY_S_CLOSE) {
			if (t->resp_chunked_out)
				http_msg_last_chunk(c->s.out);
			txn_set_resp(t, TXN_RESP_DONE);
			stream_flush(&c->s);
			{
				bool ka = t->keepalive;

				txn_end(t, false);
				client_txn_done(c, ka);
			}
		} else {
			/* Truncated: pass on what came, then cut (never pad). */
			stream_flush(&c->s);
			txn_end(t, false);
			client_finish(c, "upstream closed mid-response");
		}
		break;
	case STREAM_EV_ERROR:
		if (t->resp == TXN_RESP_WAIT_HEAD && !t->resp_started) {
			bool connecting = t->uc->state == UPCONN_CONNECTING;

			t->flags |= connecting ? ACCESSLOG_F_UF : ACCESSLOG_F_UR;
			txn_upstream_failed(t, 502, connecting ? METRICS_TRY_CONNECT_FAILURE :
			    METRICS_TRY_RESET, connecting ? "connect failed" :
			    "upstream connection reset");
		} else {
			stream_flush(&c->s);
			txn_end(t, false);
			client_finish(c, "upstream error mid-response");
		}
		break;
	case STREAM_EV_READ_TIMEOUT:
		stream_flush(&c->s);
		txn_end(t, false);
		client_finish(c, "upstream read timeout");
		break;
	case STREAM_EV_WRITE_TIMEOUT:
		t->flags |= ACCESSLOG_F_UT;
		txn_upstream_failed(t, 504, METRICS_TRY_TIMEOUT, "upstream not reading");
		break;
	}
}

static void
txn_phase_timercb(evutil_socket_t fd, short what, void *arg)
{
	struct txn *t = arg;

	(void)fd;
	(void)what;
	if (t->uc != NULL && t->uc->state == UPCONN_CONNECTING) {
		t->flags |= ACCESSLOG_F_UF;
		txn_upstream_failed(t, 502, METRICS_TRY_CONNECT_FAILURE, "connect timeout");
	} else {
		t->flags |= ACCESSLOG_F_UT;
		txn_upstream_failed(t, 504, METRICS_TRY_TIMEOUT,
		    "no response head within response_timeout");
	}
}

static void
txn_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct txn *t = arg;
	struct client *c = t->c;

	(void)fd;
	(void)what;
	if (!t->resp_started) {
		t->flags |= ACCESSLOG_F_UT;
		txn_upstream_failed(t, 504, METRICS_TRY_TIMEOUT, "request_timeout");
		return;
	}
	t->flags |= ACCESSLOG_F_UT;
	stream_flush(&c->s);
	txn_end(t, false);
	client_finish(c, "request_timeout mid-response");
}

/* The upstream failed before any of its response reached the client. */
static void
txn_upstream_failed(struct txn *t, int status, enum metrics_outcome o,
    const char *why)
{
	struct client *c = t->c;
	struct http_reply_opts ro;

	if (!t->resp_started)
		txn_try_ended(t, o);

	log_info("upstream_failed", "client=%s upstream=%s server=%s status=%d reason=\"%s\"",
	    c->addr, t->up ? t->up->name : "-",
	    t->uc ? t->uc->ps->server->address : "-", status, why);
	if (t->resp_started) {
		stream_flush(&c->s);
		txn_end(t, false);
		client_finish(c, why);
		return;
	}
	if (t->req == TXN_REQ_BODY || !t->keepalive) {
		txn_end(t, false);
		client_error(c, status, why);
		return;
	}
	txn_reply_opts(t, &ro, false);
	t->status = status;
	http_reply_error_opts(c->s.out, status, why, &ro);
	stream_flush(&c->s);
	txn_end(t, false);
	client_txn_done(c, true);
}

/* Release everything the transaction holds. */
static void
txn_end(struct txn *t, bool reuse_upstream)
{
	evtimer_del(&t->phase_timer);
	evtimer_del(&t->deadline);
	if (t->uc != NULL) {
		if (reuse_upstream && t->up != NULL)
			upconn_release(t->uc, t->up->idle_timeout_ms);
		else
			upconn_close(t->uc, "transaction ended");
		t->uc = NULL;
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

/* One try ended: count it once, and note when the upstream's part was over. */
static void
txn_try_ended(struct txn *t, enum metrics_outcome o)
{
	if (t->up != NULL)
		metrics_try(t->c->w->metrics, t->up->index, o);
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
		metrics_request(w->metrics, t->route ? t->route->index : METRICS_NONE,
		    t->up ? t->up->index : METRICS_NONE, t->status, dur);
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
	free(t);
}
