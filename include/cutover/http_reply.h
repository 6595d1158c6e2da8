/*
 * http_reply: the responses cutover makes itself (SPEC section 3): short
 * JSON error bodies, `respond` routes and 100 Continue.
 */
#ifndef CUTOVER_HTTP_REPLY_H
#define CUTOVER_HTTP_REPLY_H

#include <event2/buffer.h>
#include <stdbool.h>

#include "cutover/config.h"

/* Reason phrase for a status ("Unknown" when we have none). */
const char *http_reply_reason(int status);
/* Short error text used in the JSON body, e.g. "no route". */
const char *http_reply_error_text(int status);

/*
 * Append a complete error response: {"error":"...","detail":"..."}
 * (detail omitted when NULL). `close` adds Connection: close.
 */
void http_reply_error(struct evbuffer *out, int status, const char *detail,
    bool close);
/* How an answer of ours is shaped for the request it answers. */
struct http_reply_opts {
	bool close;	       /* Connection: close */
	bool head_only;	       /* HEAD: the length of the body, not the body */
	int client_minor;      /* 0: an HTTP/1.0 client keeping the connection gets Connection: keep-alive */
	const char *id_header; /* echo the correlation ID in this header (NULL: do not) */
	const char *request_id; /* put in the JSON body as "request_id" (NULL: left out) */
	unsigned retry_after_s;	/* > 0: Retry-After: N */
	const char *breaker_upstream; /* an open breaker refused: X-Cutover-Breaker: open; upstream=NAME */
};

/* An error answer: {"error":"...","request_id":"...","detail":"..."}. */
void http_reply_error_opts(struct evbuffer *out, int status, const char *detail,
    const struct http_reply_opts *o);
/* Append a `respond` route's answer (no body for HEAD). */
void http_reply_respond(struct evbuffer *out, const struct route_respond *r,
    bool head_only, bool close, int client_minor);
void http_reply_respond_opts(struct evbuffer *out, const struct route_respond *r,
    const struct http_reply_opts *o);
void http_reply_continue(struct evbuffer *out);

#endif /* CUTOVER_HTTP_REPLY_H */
