/* http_reply: cutover's own responses. */
#include <stdio.h>
#include <string.h>

#include "cutover/http_reply.h"
#include "cutover/strbuf.h"

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
	http_reply_error_to(out, status, detail, close, false, 1);
}

void
http_reply_error_to(struct evbuffer *out, int status, const char *detail,
    bool close, bool head_only, int client_minor)
{
	struct strbuf body;
	const char *conn = "";

	if (close)
		conn = "Connection: close\r\n";
	else if (client_minor == 0)
		conn = "Connection: keep-alive\r\n";
	strbuf_init(&body);
	strbuf_adds(&body, "{\"error\":\"");
	strbuf_adds(&body, http_reply_error_text(status));
	strbuf_adds(&body, "\"");
	if (detail != NULL) {
		strbuf_adds(&body, ",\"detail\":\"");
		strbuf_add_json(&body, detail, strlen(detail));
		strbuf_adds(&body, "\"");
	}
	strbuf_adds(&body, "}\n");
	evbuffer_add_printf(out,
	    "HTTP/1.1 %d %s\r\n"
	    "Content-Type: application/json\r\n"
	    "Content-Length: %zu\r\n"
	    "%s"
	    "\r\n",
	    status, http_reply_reason(status), body.len, conn);
	/* A HEAD answer has the length of the body it leaves out (RFC 9110 9.3.2). */
	if (!head_only)
		evbuffer_add(out, body.s, body.len);
	strbuf_free(&body);
}

void
http_reply_respond(struct evbuffer *out, const struct route_respond *r,
    bool head_only, bool close, int client_minor)
{
	const char *conn = "";
	bool bodyless = r->status == 204 || r->status == 304 || r->status < 200;

	if (close)
		conn = "Connection: close\r\n";
	else if (client_minor == 0)
		conn = "Connection: keep-alive\r\n";
	evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\n", r->status,
	    http_reply_reason(r->status));
	if (!bodyless) {
		evbuffer_add_printf(out, "Content-Type: %s\r\nContent-Length: %zu\r\n",
		    r->content_type ? r->content_type : "text/plain", r->body_len);
	}
	evbuffer_add_printf(out, "%s\r\n", conn);
	if (!head_only && !bodyless && r->body_len > 0)
		evbuffer_add(out, r->body, r->body_len);
}

void
http_reply_continue(struct evbuffer *out)
{
	evbuffer_add(out, "HTTP/1.1 100 Continue\r\n\r\n", 25);
}
