/*
 * route_explain: the decision trace behind `cutover explain` (and later the
 * admin /explain call): every route considered in order with the first
 * condition that failed; for the match, the rewritten path and each
 * target's share.
 */
#ifndef CUTOVER_ROUTE_EXPLAIN_H
#define CUTOVER_ROUTE_EXPLAIN_H

#include <stddef.h>

#include "cutover/config.h"
#include "cutover/strbuf.h"

/*
 * Explain how `method url` with the given "Name: value" header lines would
 * be routed by `cfg`. Appends human-readable text to `out`. Returns 0 when
 * a route matched, 1 when none did, -1 when the URL or a header line is
 * malformed (the reason is in `out`).
 */
int route_explain(const struct config *cfg, const char *method,
    const char *url, const char *const *headers, size_t nheaders,
    struct strbuf *out);

#endif /* CUTOVER_ROUTE_EXPLAIN_H */
