/*
 * cidr: address ranges for override.allow_from (SPEC 4.5).
 *
 * Parsing is strict because a range is a security boundary: "10.0.0.0/8 "
 * or "10.0.0.0/08" is more likely a typo than what was meant, so it is an
 * error at load rather than a guess. Addresses are read by inet_pton(3),
 * which already refuses spaces, octets with leading zeros and the short
 * forms ("10.1") that inet_aton would take.
 *
 * Families stay apart, with one exception: a dual-stack listener sees an
 * IPv4 client as ::ffff:a.b.c.d, and that address is checked against the
 * IPv4 ranges, as the operator who wrote 10.0.0.0/8 meant. An IPv4 client
 * is never inside an IPv6 range, ::/0 included.
 *
 * Pure: no I/O, no globals.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cutover/cidr.h"

static int cidr_parse_prefix(const char *p, unsigned max, unsigned *out,
    const char **why);
static void cidr_clear_host_bits(uint8_t *addr, size_t len, unsigned prefix);
static bool cidr_match(const uint8_t *net, const uint8_t *addr,
    unsigned prefix);
static bool cidr_v4_mapped(const struct in6_addr *a);

/*
 * The decimal prefix after the '/': digits only, no sign, no leading
 * zero ("0" itself is fine), at most `max`. 0 or -1 with *why set.
 */
static int
cidr_parse_prefix(const char *p, unsigned max, unsigned *out,
    const char **why)
{
	unsigned v = 0;
	size_t i, len = strlen(p);

	if (len == 0) {
		*why = "empty prefix after '/'";
		return -1;
	}
	for (i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9') {
			*why = "prefix is not a decimal number";
			return -1;
		}
	}
	if (p[0] == '0' && len > 1) {
		*why = "prefix has a leading zero";
		return -1;
	}
	/* Without leading zeros, four digits are already past 128. */
	for (i = 0; i < len && i < 4; i++)
		v = v * 10 + (unsigned)(p[i] - '0');
	if (v > max) {
		*why = max == 32 ? "prefix over 32 for an IPv4 address" :
				   "prefix over 128 for an IPv6 address";
		return -1;
	}
	*out = v;
	return 0;
}

/* Zero every bit of addr[0..len) after the first `prefix`. */
static void
cidr_clear_host_bits(uint8_t *addr, size_t len, unsigned prefix)
{
	size_t i = prefix / 8;

	if (i >= len)
		return;
	if (prefix % 8 != 0)
		addr[i++] &= (uint8_t)(0xff << (8 - prefix % 8));
	memset(addr + i, 0, len - i);
}

/* Do the first `prefix` bits of net and addr agree? */
static bool
cidr_match(const uint8_t *net, const uint8_t *addr, unsigned prefix)
{
	size_t whole = prefix / 8;
	uint8_t mask;

	if (memcmp(net, addr, whole) != 0)
		return false;
	if (prefix % 8 == 0)
		return true;
	mask = (uint8_t)(0xff << (8 - prefix % 8));
	return (net[whole] & mask) == (addr[whole] & mask);
}

/* ::ffff:a.b.c.d */
static bool
cidr_v4_mapped(const struct in6_addr *a)
{
	static const uint8_t head[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff,
		0xff };

	return memcmp(a->s6_addr, head, sizeof(head)) == 0;
}

/*
 * "ADDR" or "ADDR/PREFIX", IPv4 tried first. The address part is copied
 * out to be NUL-terminated for inet_pton; one longer than the longest
 * IPv6 text form cannot be an address.
 */
int
cidr_parse(const char *s, struct cidr *c, const char **why)
{
	char buf[INET6_ADDRSTRLEN];
	const char *slash;
	size_t alen;
	unsigned max;

	slash = strchr(s, '/');
	alen = slash != NULL ? (size_t)(slash - s) : strlen(s);
	if (alen == 0) {
		*why = "empty address";
		return -1;
	}
	if (alen >= sizeof(buf)) {
		*why = "not an IPv4 or IPv6 address";
		return -1;
	}
	memcpy(buf, s, alen);
	buf[alen] = '\0';

	memset(c, 0, sizeof(*c));
	if (inet_pton(AF_INET, buf, c->addr) == 1) {
		c->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, c->addr) == 1) {
		c->family = AF_INET6;
		max = 128;
	} else {
		*why = "not an IPv4 or IPv6 address";
		return -1;
	}

	c->prefix = max;
	if (slash != NULL &&
	    cidr_parse_prefix(slash + 1, max, &c->prefix, why) == -1)
		return -1;
	cidr_clear_host_bits(c->addr, max / 8, c->prefix);
	return 0;
}

bool
cidr_contains(const struct cidr *c, const struct sockaddr *sa)
{
	const struct sockaddr_in *sin;
	const struct sockaddr_in6 *sin6;

	if (sa == NULL)
		return false;
	if (sa->sa_family == AF_INET) {
		sin = (const struct sockaddr_in *)(const void *)sa;
		return c->family == AF_INET &&
		    cidr_match(c->addr, (const uint8_t *)&sin->sin_addr,
			c->prefix);
	}
	if (sa->sa_family != AF_INET6)
		return false;
	sin6 = (const struct sockaddr_in6 *)(const void *)sa;
	if (c->family == AF_INET6)
		return cidr_match(c->addr, sin6->sin6_addr.s6_addr, c->prefix);
	return c->family == AF_INET && cidr_v4_mapped(&sin6->sin6_addr) &&
	    cidr_match(c->addr, sin6->sin6_addr.s6_addr + 12, c->prefix);
}

/* Text that is not an address (a Unix socket's peer, say) is in no range. */
bool
cidr_list_contains_text(const struct cidr *list, size_t n, const char *addr)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	size_t i;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1)
		sin->sin_family = AF_INET;
	else if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1)
		sin6->sin6_family = AF_INET6;
	else
		return false;
	for (i = 0; i < n; i++)
		if (cidr_contains(&list[i], (const struct sockaddr *)&ss))
			return true;
	return false;
}
