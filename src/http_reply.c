/* http_reply: cutover's own responses. */
#include <stdio.h>
#include <string.h>

#include "cutover/http_reply.h"
#include "cutover/strbuf.h"

static const char *http_reply_connection(const struct http_reply_opts *o);
static void http_reply_id_header(struct evbuffer *out, const struct http_reply_opts *o);

const char *
http_reply_reason(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 101: return "Switching Protocols";
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 303: return "See Other";
	case 304: return "Not Modified";
	case 307: return "Temporary Redirect";
	case 308: return "Permanent Redirect";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 417: return "Expectation Failed";
	case 421: return "Misdirected Request";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 451: return "Unavailable For Legal Reasons";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	default: return "Unknown";
	}
}

const char *
http_reply_error_text(int status)
{
	switch (status) {
	case 400: return "bad request";
	case 404: return "no route";
	case 408: return "request timeout";
	case 413: return "payload too large";
	case 414: return "uri too long";
	case 431: return "request header fields too large";
	case 501: return "not implemented";
	case 502: return "bad gateway";
	case 503: return "service unavailable";
	case 504: return "gateway timeout";
	case 505: return "http version not supported";
	default: return "error";
	}
}

void
http_reply_error(struct evbuffer *out, int status, const char *detail,
    bool close)
{
	struct http_reply_opts o = { .close = close, .client_minor = 1 };

	http_reply_error_opts(out, status, detail, &o);
}

static const char *
http_reply_connection(const struct http_reply_opts *o)
{
	if (o->close)
		return "Connection: close\r\n";
	if (o->client_minor == 0)
		return "Connection: keep-alive\r\n";
	return "";
}

static void
http_reply_id_header(struct evbuffer *out, const struct http_reply_opts *o)
{
	if (o->id_header != NULL && o->request_id != NULL)
		evbuffer_add_printf(out, "%s: %s\r\n", o->id_header, o->request_id);
}

void
http_reply_error_opts(struct evbuffer *out, int status, const char *detail,
    const struct http_reply_opts *o)
{
	struct strbuf body;

	strbuf_init(&body);
	strbuf_adds(&body, "{\"error\":\"");
	strbuf_adds(&body, http_reply_error_text(status));
	strbuf_adds(&body, "\"");
	if (o->request_id != NULL) {
		strbuf_adds(&body, ",\"request_id\":\"");
		strbuf_add_json(&body, o->request_id, strlen(o->request_id));
		strbuf_adds(&body, "\"");
	}
	if (detail != NULL) {
		strbuf_adds(&body, ",\"detail\":\"");
		strbuf_add_json(&body, detail, strlen(detail));
		strbuf_adds(&body, "\"");
	}
	strbuf_adds(&body, "}\n");
	evbuffer_add_printf(out,
	    "HTTP/1.1 %d %s\r\n"
	    "Content-Type: application/json\r\n"
	    "Content-Length: %zu\r\n",
	    status, http_reply_reason(status), body.len);
	http_reply_id_header(out, o);
	if (o->retry_after_s > 0)
		evbuffer_add_printf(out, "Retry-After: %u\r\n", o->retry_after_s);
	if (o->breaker_upstream != NULL)
		evbuffer_add_printf(out, "X-Cutover-Breaker: open; upstream=%s\r\n",
		    o->breaker_upstream);
	evbuffer_add_printf(out, "%s\r\n", http_reply_connection(o));
	/* A HEAD answer has the length of the body it leaves out (RFC 9110 9.3.2). */
	if (!o->head_only)
		evbuffer_add(out, body.s, body.len);
	strbuf_free(&body);
}

void
http_reply_respond(struct evbuffer *out, const struct route_respond *r,
    bool head_only, bool close, int client_minor)
{
	struct http_reply_opts o = {
		.close = close, .head_only = head_only, .client_minor = client_minor,
	};

	http_reply_respond_opts(out, r, &o);
}

void
http_reply_respond_opts(struct evbuffer *out, const struct route_respond *r,
    const struct http_reply_opts *o)
{
	bool bodyless = r->status == 204 || r->status == 304 || r->status < 200;

	evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\n", r->status,
	    http_reply_reason(r->status));
	if (!bodyless) {
		evbuffer_add_printf(out, "Content-Type: %s\r\nContent-Length: %zu\r\n",
		    r->content_type ? r->content_type : "text/plain", r->body_len);
	}
	http_reply_id_header(out, o);
	evbuffer_add_printf(out, "%s\r\n", http_reply_connection(o));
	if (!o->head_only && !bodyless && r->body_len > 0)
		evbuffer_add(out, r->body, r->body_len);
}

void
http_reply_continue(struct evbuffer *out)
{
	evbuffer_add(out, "HTTP/1.1 100 Continue\r\n\r\n", 25);
}
