/*
 * shadow: a copy of a request sent to its route's shadow upstream, whose
 * answer is compared with the primary's and never sent (SPEC 4.5).
 *
 * A copy lives on its worker, apart from the client connection and the
 * transaction: the transaction hands it the request (the head at once,
 * body bytes as they go to the primary) and, when the route compares,
 * the primary's response; then lets go (shadow_release) and never waits
 * for it. The copy goes out only once the whole request is in hand, so
 * it never slows the primary's upload; it runs on its own connection
 * from the shadow upstream's pool, under that upstream's breaker and
 * bulkhead (it never waits for a slot: none free means skipped), with
 * that upstream's timeouts and no retries. It ends by itself: when its
 * answer is in and the transaction let go, it is compared, counted
 * (cutover_shadow_total) and freed.
 *
 *   state: SHADOW_S_BUFFERING -> SHADOW_S_CONNECTING -> SHADOW_S_WAIT_HEAD
 *          -> SHADOW_S_BODY -> SHADOW_S_DONE
 *   any state -> SHADOW_S_FAILED (shadow error) or SHADOW_S_SKIPPED
 *
 * Owner: the worker (worker.shadows), from shadow_begin until it ends;
 * the transaction holds a borrowed pointer until shadow_release.
 */
#ifndef CUTOVER_SHADOW_H
#define CUTOVER_SHADOW_H

#include <event2/buffer.h>
#include <stdbool.h>
#include <stdint.h>

#include "cutover/config.h"
#include "cutover/http_parse.h"

struct shadow;
struct worker;

/* What the transaction knows when it decides. */
struct shadow_request {
	const struct route_conf *route; /* the route that matched */
	enum http_method meth;
	bool upgrade;		 /* a WebSocket upgrade: never shadowed */
	bool has_body;
	bool chunked;		 /* the body goes out re-framed as chunks */
	bool length_known;
	uint64_t content_length; /* when length_known */
	const char *reqid;
	const char *method;	 /* for the mismatch log: line as received */
	size_t method_len;
	const char *path;	 /* the normalised path */
	size_t path_len;
	struct evbuffer *head;	 /* the primary's request head, ending in one CRLF too many */
};

/*
 * Start a copy of the request, or not: the route has no shadow, the
 * method is not listed or the percent draw says no (NULL, *note NULL);
 * or it is skipped and counted: max_inflight reached, body larger than
 * max_body (NULL, *note "skipped"). Otherwise the copy, *note "sent".
 * `cfg` is referenced for the copy's lifetime.
 */
struct shadow *shadow_begin(struct worker *w, struct config *cfg,
    const struct shadow_request *rq, const char **note);
/* Body bytes of the request, decoded (the copy frames them like the primary). */
void shadow_request_body(struct shadow *sh, const void *p, size_t n);
/* The request is whole: send the copy. */
void shadow_request_done(struct shadow *sh);
/* The primary's final response head from `upstream` (only when wanted; once). */
void shadow_primary_head(struct shadow *sh, const struct http_head *h,
    const char *upstream);
/* Decoded body bytes of the primary's response. */
void shadow_primary_body(struct shadow *sh, const void *p, size_t n);
/*
 * The transaction lets go. `primary_complete`: the client got the whole
 * upstream answer given to shadow_primary_head. A copy whose request is
 * not yet whole is dropped (skipped).
 */
void shadow_release(struct shadow *sh, bool primary_complete);
/* Does the copy want the primary's response? */
bool shadow_wants_primary(const struct shadow *sh);

/* Worker exit: drop every copy still in flight (not counted). */
void shadow_free_all(struct worker *w);

#endif /* CUTOVER_SHADOW_H */
