/*
 * path_template: a path with its ID-like segments collapsed to "{id}", so
 * /orders/42/items/7 and /orders/43/items/9 count as one endpoint,
 * /orders/{id}/items/{id} (SPEC 5, /migration).
 *
 * A segment is ID-like when it is
 *   - all decimal digits ("42", "2026"),
 *   - a UUID in the 8-4-4-4-12 hex form, either case ("0b7c...-..."),
 *   - 16 or more hex digits with at least one decimal digit (object IDs,
 *     hashes: "5f3a9c0e1b2d4f6a"),
 *   - 20 or more characters of [A-Za-z0-9_-] mixing letters and digits
 *     with at least 4 digits (opaque tokens, base64url IDs),
 * and otherwise kept as it is ("v2", "users", "2fa" stay). The path is the
 * normalised one (no query, no "//", no dot segments).
 */
#ifndef CUTOVER_PATH_TEMPLATE_H
#define CUTOVER_PATH_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>

/* Is segment `seg` (len bytes, no '/') ID-like? */
bool path_segment_is_id(const char *seg, size_t len);

/*
 * Write the template of `path` (len bytes) into `out` (cap bytes, NUL
 * terminated; cap >= 1). A template that does not fit is cut at a segment
 * boundary and ends in "/..." (still NUL-terminated, never more than cap-1
 * bytes). Returns the length written.
 */
size_t path_template(const char *path, size_t len, char *out, size_t cap);

#endif /* CUTOVER_PATH_TEMPLATE_H */
