/*
 * path: request-target splitting, path normalisation and rewrites.
 * Pure functions; no allocation: outputs go to caller buffers that are at
 * least as large as documented.
 */
#ifndef CUTOVER_PATH_H
#define CUTOVER_PATH_H

#include <stdbool.h>
#include <stddef.h>

#include "cutover/config.h"
#include "cutover/http_parse.h"

/* The parts of a request target. Spans point into the target. */
struct target_parts {
	struct http_span authority; /* absolute-form only: "host[:port]" */
	struct http_span path;	    /* starts with '/' ("*" for asterisk-form) */
	struct http_span query;	    /* after '?', without it; len 0 if none */
	bool has_query;		    /* a '?' was present (even if empty) */
	bool absolute;
	bool asterisk;
};

/*
 * Split a request target (origin-form, absolute-form "http://a/b?c" or
 * "https://...", or "*"). The fragment is never valid in a request: error.
 * Bytes outside visible ASCII are an error. Returns 0 or -1.
 * Absolute-form: the scheme is case-insensitive, userinfo ('@') is an error,
 * and an empty path is "/" (then `path` points at a static "/", not into
 * the target). Paths are not normalised here: see path_normalise.
 */
int path_split_target(struct http_span target, struct target_parts *out)
    __attribute__((warn_unused_result));

/* The same; on error, *reason (when not NULL) is set to a static string. */
int path_split_target_ex(struct http_span target, struct target_parts *out,
    const char **reason) __attribute__((warn_unused_result));

/*
 * Normalise a path: decode percent-encoded unreserved characters
 * (ALPHA DIGIT - . _ ~), upper-case the hex of the encodings kept, merge
 * repeated slashes, resolve "." and ".." segments (also when encoded as
 * %2E). "%2F" stays encoded and never splits a segment. A path that climbs
 * above "/" or carries a malformed '%' escape is an error (-1). `out` must
 * hold `len + 1` bytes (the output is never longer than the input; it is
 * NUL-terminated). Returns 0 and sets *out_len.
 */
int path_normalise(const char *in, size_t len, char *out, size_t *out_len)
    __attribute__((warn_unused_result));

/* The same; on error, *reason (when not NULL) is set to a static string. */
int path_normalise_ex(const char *in, size_t len, char *out, size_t *out_len,
    const char **reason) __attribute__((warn_unused_result));

/*
 * Segment-aware prefix test: `prefix` (no trailing '/' unless it is "/")
 * matches `path` when path == prefix, or path starts with prefix followed by
 * '/'. "/" matches every path.
 */
bool path_prefix_match(const char *prefix, size_t plen, const char *path,
    size_t len);

/*
 * Apply a rewrite to a normalised path that its route matched. Never
 * produces "//": replace_prefix {from: /foo, to: /xyz} maps /foo/bar to
 * /xyz/bar, /foo to /xyz, /foo/ to /xyz/; with to "/" (or strip_prefix),
 * /foo/bar -> /bar and /foo -> /. `out` must hold len + strlen(to) + 2
 * bytes; NUL-terminated. Returns the output length.
 */
size_t path_rewrite(const struct route_rewrite *rw, const char *path,
    size_t len, char *out);

#endif /* CUTOVER_PATH_H */
