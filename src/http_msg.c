/*
 * http_msg: rebuild request and response heads for the other side.
 * The field loop is the hot path: one pass, a switch on the name length
 * before any string compare.
 */
#include <stdio.h>
#include <string.h>

#include "cutover/http_msg.h"
#include "cutover/http_reply.h"

static bool http_msg_hop_by_hop(const struct http_head *h,
    const struct http_field *f, bool keep_upgrade);
static void http_msg_add_field(struct evbuffer *out, const struct http_field *f);
static void http_msg_add_framing(struct evbuffer *out, enum http_out_framing fr,
    uint64_t length);
static void http_msg_add_codings(struct evbuffer *out, const struct http_head *h);

/* Lower-case ASCII compare of a span with a lower-case literal. */
static inline bool
ieq(struct http_span s, const char *lit, size_t n)
{
	if (s.len != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s.p[i];
		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c + 32);
		if (c != (unsigned char)lit[i])
			return false;
	}
	return true;
}

#define IEQ(s, lit) ieq((s), (lit), sizeof(lit) - 1)

/*
 * Fields that never cross the proxy as received: hop-by-hop ones, framing
 * (we write our own), and the ones we set ourselves.
 */
static bool
http_msg_hop_by_hop(const struct http_head *h, const struct http_field *f,
    bool keep_upgrade)
{
	struct http_span n = f->name;

	switch (n.len) {
	case 2:
		if (IEQ(n, "te"))
			return true;
		break;
	case 7:
		if (IEQ(n, "upgrade"))
			return !keep_upgrade;
		if (IEQ(n, "trailer"))
			return true;
		break;
	case 10:
		if (IEQ(n, "connection") || IEQ(n, "keep-alive"))
			return true;
		break;
	case 14:
		if (IEQ(n, "content-length") || IEQ(n, "http2-settings"))
			return true;
		break;
	case 16:
		if (IEQ(n, "proxy-connection"))
			return true;
		break;
	case 17:
		if (IEQ(n, "transfer-encoding"))
			return true;
		break;
	}
	if ((h->flags & (HTTP_F_CONN_CLOSE | HTTP_F_CONN_KEEPALIVE |
	    HTTP_F_CONN_UPGRADE)) == 0 && http_head_find(h, "connection") == NULL)
		return false;
	return http_head_connection_lists(h, n) &&
	    !(keep_upgrade && IEQ(n, "upgrade"));
}

static void
http_msg_add_field(struct evbuffer *out, const struct http_field *f)
{
	evbuffer_add(out, f->name.p, f->name.len);
	evbuffer_add(out, ": ", 2);
	evbuffer_add(out, f->value.p, f->value.len);
	evbuffer_add(out, "\r\n", 2);
}

static void
http_msg_add_framing(struct evbuffer *out, enum http_out_framing fr,
    uint64_t length)
{
	char buf[48];
	int n;

	switch (fr) {
	case HTTP_OUT_LENGTH:
		n = snprintf(buf, sizeof(buf), "Content-Length: %llu\r\n",
		    (unsigned long long)length);
		evbuffer_add(out, buf, (size_t)n);
		break;
	case HTTP_OUT_CHUNKED:
		evbuffer_add(out, "Transfer-Encoding: chunked\r\n", 28);
		break;
	case HTTP_OUT_NONE:
	case HTTP_OUT_CLOSE:
		break;
	}
}

/*
 * A re-chunked response keeps the transfer codings the upstream applied
 * under chunked (e.g. "gzip, chunked"): dropping them would hand the client
 * coded bytes it cannot know to decode.
 */
static void
http_msg_add_codings(struct evbuffer *out, const struct http_head *h)
{
	bool any = false;

	for (size_t i = 0; i < h->nfields; i++) {
		const struct http_field *f = &h->fields[i];
		size_t a = 0;

		if (!(f->name.len == 17 && IEQ(f->name, "transfer-encoding")))
			continue;
		while (a < f->value.len) {
			size_t b = a;
			bool quoted = false;
			struct http_span c;

			/* A comma inside a quoted parameter does not end a coding. */
			while (b < f->value.len && (quoted || f->value.p[b] != ',')) {
				if (f->value.p[b] == '"')
					quoted = !quoted;
				else if (quoted && f->value.p[b] == '\\' && b + 1 < f->value.len)
					b++;
				b++;
			}
			c.p = f->value.p + a;
			c.len = b - a;
			while (c.len > 0 && (c.p[0] == ' ' || c.p[0] == '\t')) {
				c.p++;
				c.len--;
			}
			while (c.len > 0 && (c.p[c.len - 1] == ' ' || c.p[c.len - 1] == '\t'))
				c.len--;
			if (c.len > 0 && !IEQ(c, "chunked")) {
				evbuffer_add(out, any ? ", " : "Transfer-Encoding: ", any ? 2 : 19);
				evbuffer_add(out, c.p, c.len);
				any = true;
			}
			a = b + 1;
		}
	}
	if (any)
		evbuffer_add(out, ", chunked\r\n", 11);
	else
		evbuffer_add(out, "Transfer-Encoding: chunked\r\n", 28);
}

void
http_msg_request(struct evbuffer *out, const struct http_head *h,
    const struct http_msg_request *m)
{
	bool has_conn = http_head_find(h, "connection") != NULL;
	bool seen_xff = false;

	evbuffer_expand(out, h->head_len + m->path.len + 256);
	evbuffer_add(out, h->method.p, h->method.len);
	evbuffer_add(out, " ", 1);
	evbuffer_add(out, m->path.p, m->path.len);
	if (m->has_query) {
		evbuffer_add(out, "?", 1);
		evbuffer_add(out, m->query.p, m->query.len);
	}
	evbuffer_add(out, " HTTP/1.1\r\nHost: ", 17);
	evbuffer_add(out, m->host.p, m->host.len);
	evbuffer_add(out, "\r\n", 2);

	for (size_t i = 0; i < h->nfields; i++) {
		const struct http_field *f = &h->fields[i];
		struct http_span n = f->name;

		if (n.len == 4 && IEQ(n, "host"))
			continue;
		if (n.len == 6 && IEQ(n, "expect"))
			continue; /* we answer 100-continue ourselves */
		if (m->id_name.len > 0 && n.len == m->id_name.len &&
		    http_span_ieq(n, m->id_name.p))
			continue; /* ours replaces it */
		if (m->drop_name.len > 0 && n.len == m->drop_name.len &&
		    http_span_ieq(n, m->drop_name.p))
			continue;
		if (m->traceparent != NULL && n.len == 11 && IEQ(n, "traceparent"))
			continue;
		if (m->drop_tracestate && n.len == 10 && IEQ(n, "tracestate"))
			continue;
		if (n.len == 15 && IEQ(n, "x-forwarded-for")) {
			/* Folded into one list below, unless the client made it hop-by-hop. */
			if (!(has_conn && http_head_connection_lists(h, n)))
				seen_xff = true;
			continue;
		}
		/* We set these; a client's own values are not trusted. */
		if ((n.len == 17 && (IEQ(n, "x-forwarded-proto") ||
			IEQ(n, "x-cutover-attempt"))) ||
		    (n.len == 16 && (IEQ(n, "x-forwarded-host") ||
			IEQ(n, "x-cutover-shadow"))))
			continue; /* a client's X-Cutover-Shadow would switch off side effects */
		if (has_conn || n.len == 2 || n.len == 7 || n.len == 10 ||
		    n.len == 14 || n.len == 16 || n.len == 17) {
			if (http_msg_hop_by_hop(h, f, m->upgrade))
				continue;
		}
		http_msg_add_field(out, f);
	}
	/*
	 * X-Forwarded-For: every incoming value in order, then the client.
	 * Our own fields come after the client's hop-by-hop list was applied,
	 * so "Connection: X-Forwarded-For" cannot remove them.
	 */
	evbuffer_add(out, "X-Forwarded-For: ", 17);
	for (size_t i = 0; seen_xff && i < h->nfields; i++) {
		const struct http_field *f = &h->fields[i];

		if (f->name.len == 15 && IEQ(f->name, "x-forwarded-for") &&
		    f->value.len > 0) {
			evbuffer_add(out, f->value.p, f->value.len);
			evbuffer_add(out, ", ", 2);
		}
	}
	evbuffer_add(out, m->client_addr, strlen(m->client_addr));
	evbuffer_add(out, "\r\nX-Forwarded-Proto: ", 21);
	evbuffer_add(out, m->proto, strlen(m->proto));
	evbuffer_add(out, "\r\n", 2);
	if (m->host.len > 0) {
		evbuffer_add(out, "X-Forwarded-Host: ", 18);
		evbuffer_add(out, m->host.p, m->host.len);
		evbuffer_add(out, "\r\n", 2);
	}
	if (m->id_name.len > 0) {
		evbuffer_add(out, m->id_name.p, m->id_name.len);
		evbuffer_add(out, ": ", 2);
		evbuffer_add(out, m->id.p, m->id.len);
		evbuffer_add(out, "\r\n", 2);
	}
	if (m->traceparent != NULL) {
		evbuffer_add(out, "traceparent: ", 13);
		evbuffer_add(out, m->traceparent, strlen(m->traceparent));
		evbuffer_add(out, "\r\n", 2);
	}
	if (m->upgrade)
		evbuffer_add(out, "Connection: upgrade\r\n", 21);
	http_msg_add_framing(out, m->framing, m->length);
	evbuffer_add(out, "\r\n", 2);
}

void
http_msg_response(struct evbuffer *out, const struct http_head *h,
    const struct http_msg_response *m)
{
	char line[64];
	int n;
	bool has_conn = http_head_find(h, "connection") != NULL;

	evbuffer_expand(out, h->head_len + 128);
	n = snprintf(line, sizeof(line), "HTTP/1.1 %03d ", h->status);
	evbuffer_add(out, line, (size_t)n);
	if (h->reason.len > 0)
		evbuffer_add(out, h->reason.p, h->reason.len);
	else {
		const char *r = http_reply_reason(h->status);
		evbuffer_add(out, r, strlen(r));
	}
	evbuffer_add(out, "\r\n", 2);
	for (size_t i = 0; i < h->nfields; i++) {
		const struct http_field *f = &h->fields[i];
		struct http_span nm = f->name;

		if (m->id_name.len > 0 && nm.len == m->id_name.len &&
		    http_span_ieq(nm, m->id_name.p))
			continue; /* the ID we echo replaces the upstream's */
		if (m->keep_content_length && nm.len == 14 &&
		    IEQ(nm, "content-length")) {
			http_msg_add_field(out, f);
			continue;
		}
		if (has_conn || nm.len == 2 || nm.len == 7 || nm.len == 10 ||
		    nm.len == 14 || nm.len == 16 || nm.len == 17) {
			if (http_msg_hop_by_hop(h, f, m->upgrade))
				continue;
		}
		http_msg_add_field(out, f);
	}
	if (m->id_name.len > 0) {
		evbuffer_add(out, m->id_name.p, m->id_name.len);
		evbuffer_add(out, ": ", 2);
		evbuffer_add(out, m->id.p, m->id.len);
		evbuffer_add(out, "\r\n", 2);
	}
	if (m->upgrade)
		evbuffer_add(out, "Connection: upgrade\r\n", 21);
	else if (m->close)
		evbuffer_add(out, "Connection: close\r\n", 19);
	else if (m->keepalive_10)
		evbuffer_add(out, "Connection: keep-alive\r\n", 24);
	if (m->framing == HTTP_OUT_CHUNKED && (h->flags & HTTP_F_HAS_TE))
		http_msg_add_codings(out, h);
	else
		http_msg_add_framing(out, m->framing, m->length);
	evbuffer_add(out, "\r\n", 2);
}

void
http_msg_chunk_header(struct evbuffer *out, size_t n)
{
	char buf[24];
	int len = snprintf(buf, sizeof(buf), "%zx\r\n", n);

	evbuffer_add(out, buf, (size_t)len);
}

void
http_msg_chunk_end(struct evbuffer *out)
{
	evbuffer_add(out, "\r\n", 2);
}

void
http_msg_last_chunk(struct evbuffer *out)
{
	evbuffer_add(out, "0\r\n\r\n", 5);
}
