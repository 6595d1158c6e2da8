/*
 * fuzz_shadow_compare: two upstream answers, as hostile as they come,
 * through the shadow comparison. The input is split at its first NUL
 * into the primary's and the shadow's body; its first byte picks the
 * content types and the ignore rules. Invariants: a body always matches
 * itself; the difference text is bounded and has no control characters;
 * comparing never crashes or leaks.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cutover/shadow_compare.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *fz_ignore_headers[] = { "Date" };
static char *fz_ignore_fields[] = { "generated_at", "items.*.id", "*" };

static void
fz_response(struct cmp_response *r, const char *ctype, const uint8_t *p,
    size_t n)
{
	cmp_response_init(r);
	cmp_response_set_status(r, 200);
	cmp_response_add_field(r, "Content-Type", 12, ctype, strlen(ctype));
	cmp_response_add_field(r, "Date", 4, "x", 1);
	cmp_response_add_body(r, p, n);
	cmp_response_finish(r);
}

static void
fz_check_diff(const char *diff)
{
	size_t n = strlen(diff);

	assert(n < CMP_DIFF_MAX);
	for (size_t i = 0; i < n; i++)
		assert((unsigned char)diff[i] >= 0x20 && diff[i] != 0x7f);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const ctypes[] = {
		"application/json", "application/problem+json; charset=utf-8",
		"text/plain", "+json",
	};
	struct cmp_rules rules = { 0 };
	struct cmp_response a, b;
	const uint8_t *sep;
	size_t alen;
	char diff[CMP_DIFF_MAX];
	uint8_t sel;

	if (size < 1)
		return 0;
	sel = data[0];
	data++;
	size--;
	sep = memchr(data, 0, size);
	alen = sep != NULL ? (size_t)(sep - data) : size;
	if (sel & 0x10) {
		rules.ignore_headers = fz_ignore_headers;
		rules.nignore_headers = 1;
		rules.ignore_json_fields = fz_ignore_fields;
		rules.nignore_json_fields = (sel >> 5) % 4;
	}
	fz_response(&a, ctypes[sel & 3], data, alen);
	fz_response(&b, ctypes[(sel >> 2) & 3], sep != NULL ? sep + 1 : data,
	    sep != NULL ? size - alen - 1 : size);
	diff[0] = '\0';
	if (!cmp_responses(&rules, &a, &b, diff, sizeof(diff)))
		fz_check_diff(diff);
	/* Anything equals itself. */
	assert(cmp_responses(&rules, &a, &a, diff, sizeof(diff)));
	{
		char *path = strndup((const char *)data, alen);
		const char *why;

		assert(path != NULL);
		(void)cmp_json_path_valid(path, &why);
		free(path);
	}
	cmp_response_free(&a);
	cmp_response_free(&b);
	return 0;
}
