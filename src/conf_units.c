/*
 * conf_units: strict parsing of the value syntaxes of the configuration
 * (durations, sizes, ratios, whole numbers). Pure: no allocation, no
 * globals; every failure comes back as a static reason.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cutover/conf_units.h"

static int units_digits(const char **p, uint64_t *out, const char **why);

/*
 * Read 1*DIGIT at *p into *out and advance *p. Fails on no digit or on
 * overflow of uint64_t.
 */
static int
units_digits(const char **p, uint64_t *out, const char **why)
{
	const char *s = *p;
	uint64_t v = 0;

	if (*s < '0' || *s > '9') {
		*why = "not a number";
		return -1;
	}
	for (; *s >= '0' && *s <= '9'; s++) {
		unsigned d = (unsigned)(*s - '0');

		if (v > (UINT64_MAX - d) / 10) {
			*why = "too large";
			return -1;
		}
		v = v * 10 + d;
	}
	*p = s;
	*out = v;
	return 0;
}

int
units_parse_duration(const char *s, uint64_t *ms, const char **why)
{
	static const struct {
		const char *name;
		uint64_t ms;
	} units[] = {
		{ "ms", 1 },
		{ "s", 1000 },
		{ "m", 60 * 1000 },
		{ "h", 60 * 60 * 1000 },
	};
	const char *p = s;
	uint64_t v;

	if (*s == '\0') {
		*why = "empty";
		return -1;
	}
	if (units_digits(&p, &v, why) == -1)
		return -1;
	if (*p == '\0') {
		if (v == 0) {
			*ms = 0;
			return 0;
		}
		*why = "no unit: use ms, s, m or h";
		return -1;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(p, units[i].name) != 0)
			continue;
		if (v > UINT64_MAX / units[i].ms) {
			*why = "too large";
			return -1;
		}
		*ms = v * units[i].ms;
		return 0;
	}
	*why = "unknown unit: use ms, s, m or h";
	return -1;
}

int
units_parse_size(const char *s, uint64_t *bytes, const char **why)
{
	static const struct {
		const char *name;
		uint64_t mult;
	} units[] = {
		{ "", 1 },
		{ "KiB", UINT64_C(1) << 10 },
		{ "MiB", UINT64_C(1) << 20 },
		{ "GiB", UINT64_C(1) << 30 },
	};
	const char *p = s;
	uint64_t v;

	if (*s == '\0') {
		*why = "empty";
		return -1;
	}
	if (units_digits(&p, &v, why) == -1)
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(p, units[i].name) != 0)
			continue;
		if (v > UINT64_MAX / units[i].mult) {
			*why = "too large";
			return -1;
		}
		*bytes = v * units[i].mult;
		return 0;
	}
	*why = "unknown unit: use KiB, MiB or GiB";
	return -1;
}

/*
 * Ratios are kept in parts per million, so "12.5%" is 125000: four
 * fraction digits are the finest a percentage can say in ppm.
 */
int
units_parse_ratio(const char *s, uint32_t *ppm, const char **why)
{
	const char *p = s;
	uint64_t whole, frac = 0;
	unsigned nfrac = 0;

	if (*s == '\0') {
		*why = "empty";
		return -1;
	}
	if (units_digits(&p, &whole, why) == -1)
		return -1;
	if (whole > 100) {
		*why = "above 100%";
		return -1;
	}
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9') {
			*why = "expected digits after '.'";
			return -1;
		}
		for (; *p >= '0' && *p <= '9'; p++) {
			if (++nfrac > 4) {
				*why = "more than 4 decimals";
				return -1;
			}
			frac = frac * 10 + (uint64_t)(*p - '0');
		}
		for (unsigned i = nfrac; i < 4; i++)
			frac *= 10;
	}
	if (p[0] != '%' || p[1] != '\0') {
		*why = "missing '%'";
		return -1;
	}
	if (whole * 10000 + frac > 1000000) {
		*why = "above 100%";
		return -1;
	}
	*ppm = (uint32_t)(whole * 10000 + frac);
	return 0;
}

int
units_parse_uint(const char *s, uint64_t max, uint64_t *out, const char **why)
{
	const char *p = s;
	uint64_t v;

	if (*s == '\0') {
		*why = "empty";
		return -1;
	}
	if (units_digits(&p, &v, why) == -1)
		return -1;
	if (*p != '\0') {
		*why = "not a number";
		return -1;
	}
	if (v > max) {
		*why = "too large";
		return -1;
	}
	*out = v;
	return 0;
}
