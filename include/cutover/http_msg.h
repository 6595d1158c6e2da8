/*
 * http_msg: re-emitting message heads across the proxy. Heads are never
 * forwarded as received: the request line and status line are rebuilt,
 * hop-by-hop fields (Connection and what it names, Keep-Alive,
 * Proxy-Connection, TE, Trailer, Upgrade unless tunnelling, HTTP2-Settings)
 * dropped, framing fields replaced by our own, and every line ends CRLF.
 */
#ifndef CUTOVER_HTTP_MSG_H
#define CUTOVER_HTTP_MSG_H

#include <event2/buffer.h>
#include <stdbool.h>
#include <stdint.h>

#include "cutover/http_parse.h"

/* How a body is framed on the wire we write. */
enum http_out_framing {
	HTTP_OUT_NONE = 0,
	HTTP_OUT_LENGTH,
	HTTP_OUT_CHUNKED,
	HTTP_OUT_CLOSE, /* response only: delimited by closing the connection */
};

struct http_msg_request {
	struct http_span path;	/* normalised, rewritten */
	struct http_span query; /* raw, without '?' */
	bool has_query;
	struct http_span host;	      /* the Host to send (absolute-form authority wins) */
	const char *client_addr;      /* appended to X-Forwarded-For */
	const char *proto;	      /* X-Forwarded-Proto */
	enum http_out_framing framing;
	uint64_t length;
	bool upgrade; /* keep Upgrade and send Connection: upgrade */
	/* Correlation: the header name (len 0: none) and the ID to send in it;
	 * incoming fields of that name are replaced. */
	struct http_span id_name;
	struct http_span id;
	/* W3C Trace Context: the traceparent to send (NULL: leave the client's
	 * fields alone); drop_tracestate also removes tracestate. */
	const char *traceparent;
	bool drop_tracestate;
	/* A field never forwarded (the override header); len 0: none. */
	struct http_span drop_name;
};

void http_msg_request(struct evbuffer *out, const struct http_head *h,
    const struct http_msg_request *m);

struct http_msg_response {
	enum http_out_framing framing;
	uint64_t length;
	bool keep_content_length; /* HEAD/304: the upstream's Content-Length is informational */
	bool close;		  /* send Connection: close */
	bool keepalive_10;	  /* HTTP/1.0 client keeping the connection: Connection: keep-alive */
	bool upgrade;		  /* 101: keep Upgrade, send Connection: upgrade */
	/* Echo the correlation ID (len 0: do not); the upstream's own field of that name is replaced. */
	struct http_span id_name;
	struct http_span id;
};

void http_msg_response(struct evbuffer *out, const struct http_head *h,
    const struct http_msg_response *m);

/* Chunk framing helpers for re-chunked bodies. */
void http_msg_chunk_header(struct evbuffer *out, size_t n);
void http_msg_chunk_end(struct evbuffer *out); /* "\r\n" after chunk data */
void http_msg_last_chunk(struct evbuffer *out); /* "0\r\n\r\n" */

#endif /* CUTOVER_HTTP_MSG_H */
