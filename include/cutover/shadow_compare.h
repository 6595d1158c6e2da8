/*
 * shadow_compare: is the shadow's answer the same as the primary's?
 * (SPEC 4.5.) Pure logic, no I/O: each side's response is captured into a
 * struct cmp_response as it streams (status, header fields, the first
 * CMP_MAX_BODY bytes of the decoded body, and a digest of all of it), then
 * cmp_responses() says whether they match and, if not, where they first
 * differ.
 *
 * What is compared, in this order (the first difference wins):
 *   1. the status code;
 *   2. the header fields, less framing and hop-by-hop ones (Connection,
 *      Keep-Alive, Proxy-Connection, TE, Trailer, Transfer-Encoding,
 *      Upgrade, Content-Length) and less cmp_rules.ignore_headers (names
 *      compare case-insensitively; a name listed twice has its values
 *      joined with ", " in order, so "A: 1" + "A: 2" equals "A: 1, 2");
 *      fields are compared by name in ascending lower-case order;
 *   3. the body: when both Content-Types are JSON (application/json or any
 *      type ending in "+json", parameters ignored) and both bodies were kept
 *      whole and parse, as JSON values through jansson: key order and
 *      whitespace do not matter, numbers compare by value (1 == 1.0), the
 *      paths in cmp_rules.ignore_json_fields are left out on both sides.
 *      Otherwise byte for byte: the kept bytes, then the total length and
 *      the digest (so bodies longer than CMP_MAX_BODY still compare, but
 *      only the first CMP_MAX_BODY bytes can show where).
 *
 * An ignore_json_fields path is dot-separated object keys from the root
 * ("generated_at", "meta.trace.id"); `*` as a segment stands for any key;
 * arrays are walked through, so "items.id" leaves out the id of every
 * element of items. A literal dot or star in a key cannot be written.
 */
#ifndef CUTOVER_SHADOW_COMPARE_H
#define CUTOVER_SHADOW_COMPARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Body bytes kept per side for comparison; beyond, length + digest only. */
#define CMP_MAX_BODY (1024 * 1024)
/* Longest first-difference text cmp_responses writes (with its NUL). */
#define CMP_DIFF_MAX 256

struct cmp_field {
	char *name;  /* as received; owned */
	char *value; /* owned */
};

/*
 * One response as captured. Owner: whoever called cmp_response_init;
 * cmp_response_free releases fields, body and the digest state.
 */
struct cmp_response {
	int status;
	struct cmp_field *fields;
	size_t nfields;
	size_t fields_cap;
	char *body;	    /* the first min(body_total, CMP_MAX_BODY) bytes */
	size_t body_len;
	size_t body_cap;
	uint64_t body_total; /* every body byte added */
	void *md;	     /* EVP_MD_CTX * while open; NULL after finish */
	unsigned char digest[32]; /* SHA-256 of the whole body, after finish */
	bool finished;
};

/* What to leave out (borrowed from the configuration). */
struct cmp_rules {
	char *const *ignore_headers;
	size_t nignore_headers;
	char *const *ignore_json_fields;
	size_t nignore_json_fields;
};

void cmp_response_init(struct cmp_response *r);
void cmp_response_free(struct cmp_response *r);
void cmp_response_set_status(struct cmp_response *r, int status);
/* Add one header field (copied; not NUL-terminated on input). */
void cmp_response_add_field(struct cmp_response *r, const char *name,
    size_t nlen, const char *value, size_t vlen);
/* Add decoded body bytes (kept up to CMP_MAX_BODY, all of them digested). */
void cmp_response_add_body(struct cmp_response *r, const void *p, size_t n);
/* The body is complete: fix the digest. Idempotent. */
void cmp_response_finish(struct cmp_response *r);

/*
 * Compare the primary `a` with the shadow `b` (both finished). True when
 * they match. Otherwise `diff` (difflen bytes, at most CMP_DIFF_MAX used)
 * gets the first difference as one line of text, for example:
 *   status 200 != 500
 *   header etag: "abc" != "abd"
 *   header x-new: missing in primary
 *   body $.items[2].price: 3 != 4
 *   body $.user.email: missing in shadow
 *   body at byte 17: 'a' != 'b'
 *   body length 120 != 98
 *   body not JSON in shadow (line 1 column 3: ...)   [only when the shadow's
 *        Content-Type says JSON and its body does not parse while the primary's does]
 * Values in the text are cut to keep within the limit and never contain
 * control characters (they are written as '?').
 */
bool cmp_responses(const struct cmp_rules *rules, const struct cmp_response *a,
    const struct cmp_response *b, char *diff, size_t difflen);

/* Is `path` a well-formed ignore_json_fields path? `why` gets a reason when not. */
bool cmp_json_path_valid(const char *path, const char **why);

#endif /* CUTOVER_SHADOW_COMPARE_H */
