/*
 * http_body: resumable, byte-exact body framing (Content-Length and
 * chunked) for streaming bodies in both directions.
 *
 * Contract: the decoder never allocates and never copies. The caller feeds
 * it whatever bytes it has (any split, down to one byte at a time); each
 * call either consumes framing bytes, or points at a run of body data the
 * caller should forward, or reports the end, or an error. Chunk sizes,
 * extensions and trailers are validated strictly (RFC 9112 7.1) and never
 * forwarded as received: the caller re-frames the data it is given, so what
 * reaches the peer is always unambiguous.
 */
#ifndef CUTOVER_HTTP_BODY_H
#define CUTOVER_HTTP_BODY_H

#include <stddef.h>
#include <stdint.h>

#include "cutover/http_parse.h"

enum http_body_state {
	HTTP_BODY_S_LENGTH = 0,	   /* counting down content_length */
	HTTP_BODY_S_CHUNK_SIZE,	   /* reading hex digits */
	HTTP_BODY_S_CHUNK_EXT,	   /* after ';' up to CRLF */
	HTTP_BODY_S_CHUNK_EXT_QUOTED,
	HTTP_BODY_S_CHUNK_EXT_QUOTED_ESC,
	HTTP_BODY_S_CHUNK_SIZE_WS, /* BWS after the size or ext, before ';' / CR */
	HTTP_BODY_S_CHUNK_SIZE_LF, /* CR seen, LF expected */
	HTTP_BODY_S_CHUNK_DATA,
	HTTP_BODY_S_CHUNK_DATA_CR,
	HTTP_BODY_S_CHUNK_DATA_LF,
	HTTP_BODY_S_TRAILER_START, /* start of a trailer line, or the final CRLF */
	HTTP_BODY_S_TRAILER_LINE,  /* inside a trailer field line */
	HTTP_BODY_S_TRAILER_LF,	   /* CR ending a trailer line seen */
	HTTP_BODY_S_FINAL_LF,	   /* CR of the final empty line seen */
	HTTP_BODY_S_CLOSE,	   /* until EOF: every byte is data */
	HTTP_BODY_S_DONE,
	HTTP_BODY_S_ERROR,
};

/*
 * Decoder state for one body. Owner: the caller, one per message; holds no
 * memory.
 */
struct http_body {
	enum http_body_state state;
	uint64_t remaining;   /* LENGTH: bytes left; CHUNK_DATA: bytes left in chunk */
	uint64_t total;	      /* data bytes seen so far (decoded) */
	size_t line_len;      /* bytes in the current size/ext/trailer line */
	size_t trailer_bytes; /* bytes of trailers so far */
	unsigned digits;      /* hex digits in the current chunk size */
	const char *error;    /* static reason when state == ERROR */
};

enum http_body_rc {
	HTTP_BODY_AGAIN = 0, /* all input consumed as framing; feed more */
	HTTP_BODY_DATA,	     /* data run found: see http_body_step */
	HTTP_BODY_DONE,	     /* message complete; *consumed bytes belong to it */
	HTTP_BODY_ERROR,     /* framing error; b->error says why */
};

/* Longest chunk-size line (size + extensions) accepted, and trailer total. */
#define HTTP_BODY_MAX_LINE	4096u
#define HTTP_BODY_MAX_TRAILERS	8192u

/* Start decoding a body with the framing from a parsed head. */
void http_body_init(struct http_body *b, enum http_framing framing,
    uint64_t content_length);

/*
 * Feed `len` bytes at `buf`.
 *   *skip     framing bytes at the start of buf that the caller drops
 *   *data_len body bytes that follow them (only with HTTP_BODY_DATA)
 * The call consumed *skip + *data_len bytes; bytes after that are not
 * looked at (call again with them). With HTTP_BODY_DONE the message ended
 * after *skip bytes; anything after belongs to the next message.
 * HTTP_BODY_AGAIN sets *skip = len. HTTP_FRAMING_CLOSE bodies never end
 * here: the caller ends them at EOF.
 */
enum http_body_rc http_body_step(struct http_body *b, const char *buf,
    size_t len, size_t *skip, size_t *data_len);

#endif /* CUTOVER_HTTP_BODY_H */
