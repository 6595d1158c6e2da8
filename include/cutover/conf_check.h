/*
 * conf_check: the semantic pass over a built configuration: references
 * between its parts, warnings about routes and upstreams that cannot do
 * what the operator meant, and the "did you mean" helper.
 */
#ifndef CUTOVER_CONF_CHECK_H
#define CUTOVER_CONF_CHECK_H

#include <stddef.h>

#include "cutover/config.h"

/* Suggestions are offered up to this edit distance. */
#define CONF_CHECK_SUGGEST_MAX 2

/*
 * Edit distance (Levenshtein plus adjacent transpositions) between `a`
 * and `b`, or `max` + 1 when it is larger than `max`.
 */
size_t conf_check_distance(const char *a, const char *b, size_t max);

/*
 * The closest candidate to a word, fed one candidate at a time. Strings
 * are borrowed; `best` is NULL while nothing is within
 * CONF_CHECK_SUGGEST_MAX (ties keep the first candidate).
 */
struct conf_check_suggest {
	const char *word;
	const char *best;
	size_t dist;
};

void conf_check_suggest_init(struct conf_check_suggest *s, const char *word);
void conf_check_suggest_add(struct conf_check_suggest *s, const char *cand);

/*
 * Resolve every route's upstream by name (route->upstream), reporting
 * `unknown upstream "X"` (with a suggestion) at route->upstream_mark.
 * Returns 0, or -1 when an error was added to `d`.
 */
int conf_check_routes(struct config *c, struct config_diag *d)
    __attribute__((warn_unused_result));

/*
 * Warnings for a configuration that has no errors: unused upstreams,
 * routes an earlier route always wins over, no catch-all. `routes_mark`
 * is where the no-catch-all warning points (the `routes` key, or 1:1).
 */
void conf_check_warnings(const struct config *c, struct conf_mark routes_mark,
    struct config_diag *d);

#endif /* CUTOVER_CONF_CHECK_H */
