/*
 * conf_units: strict parsing of durations, sizes and ratios.
 *
 * durations: "0" or 1*DIGIT followed by one of ms, s, m, h ("250ms", "5s",
 *            "2m"); no sign, no space, no fraction; overflow is an error.
 * sizes:     1*DIGIT optionally followed by KiB, MiB or GiB ("512", "64KiB").
 * ratios:    1*DIGIT [ "." 1*DIGIT ] "%" between 0% and 100% ("50%", "12.5%");
 *            stored as parts per million.
 * Each returns 0, or -1 with *why set to a static message.
 */
#ifndef CUTOVER_CONF_UNITS_H
#define CUTOVER_CONF_UNITS_H

#include <stdint.h>

int units_parse_duration(const char *s, uint64_t *ms, const char **why)
    __attribute__((warn_unused_result));
int units_parse_size(const char *s, uint64_t *bytes, const char **why)
    __attribute__((warn_unused_result));
int units_parse_ratio(const char *s, uint32_t *ppm, const char **why)
    __attribute__((warn_unused_result));
int units_parse_uint(const char *s, uint64_t max, uint64_t *out,
    const char **why) __attribute__((warn_unused_result));

#endif /* CUTOVER_CONF_UNITS_H */
