/*
 * fuzz_path: request targets through splitting, normalisation, rewriting
 * and route conditions. Invariants: normalisation never grows the path,
 * never leaves "//", and is idempotent; rewrites never produce "//".
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cutover/path.h"
#include "cutover/route.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *fz_values[] = { "1", "a b" };
static struct match_cond fz_query[] = {
	{ .name = "a b", .kind = MATCH_IN, .values = fz_values, .nvalues = 2 },
};
static struct match_cond fz_cookie[] = {
	{ .name = "s", .kind = MATCH_PRESENT, .present = true },
};
static struct match_cond fz_header[] = {
	{ .name = "X", .kind = MATCH_EXACT, .values = fz_values, .nvalues = 1 },
};
static struct route_conf fz_prefix_route = {
	.name = "prefix",
	.active = true,
	.match = { .path_kind = PATH_MATCH_PREFIX, .path = "/a",
	    .host = ".ex.com", .host_wildcard = true },
};
static struct route_conf fz_cond_route = {
	.name = "conditions",
	.active = true,
	.match = { .headers = fz_header, .nheaders = 1, .cookies = fz_cookie,
	    .ncookies = 1, .query = fz_query, .nquery = 1 },
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = malloc(size ? size : 1);
	char *out = malloc(size + 1);
	struct target_parts tp;
	struct http_span target;
	size_t olen;

	memcpy(in, data, size);
	target.p = in;
	target.len = size;
	if (path_split_target(target, &tp) == 0 && !tp.asterisk &&
	    path_normalise(tp.path.p, tp.path.len, out, &olen) == 0) {
		static const struct route_rewrite rw = { REWRITE_REPLACE_PREFIX, "/a", "/xy" };
		char *again = malloc(olen + 1);
		char *rewritten = malloc(olen + strlen(rw.to) + 2);
		size_t alen, rlen;

		assert(olen <= tp.path.len && strlen(out) == olen);
		assert(strstr(out, "//") == NULL);
		assert(path_normalise(out, olen, again, &alen) == 0);
		assert(alen == olen && memcmp(out, again, olen) == 0);
		rlen = path_rewrite(&rw, out, olen, rewritten);
		assert(rlen == strlen(rewritten) && strstr(rewritten, "//") == NULL);
		free(again);
		free(rewritten);
	}
	{
		struct http_field fields[2] = {
			{ { in, size / 3 }, { in + size / 3, size / 3 } },
			{ { "Cookie", 6 }, { in, size } },
		};
		struct route_request rq = {
			{ in, size / 2 }, { in, size }, { in, size }, { in, size },
			fields, 2,
		};

		(void)route_conditions_hold(&fz_prefix_route, &rq, NULL, NULL);
		(void)route_conditions_hold(&fz_cond_route, &rq, NULL, NULL);
	}
	free(in);
	free(out);
	return 0;
}
