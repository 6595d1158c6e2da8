/*
 * cidr: address ranges such as 10.0.0.0/8, 127.0.0.1/32, ::1/128 and
 * fd00::/8 (override.allow_from). A bare address is a /32 or /128. An
 * IPv4-mapped IPv6 client address (::ffff:10.1.2.3) matches IPv4 ranges.
 * Pure: no I/O.
 */
#ifndef CUTOVER_CIDR_H
#define CUTOVER_CIDR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

/* Owner: whoever embeds it; no heap memory. */
struct cidr {
	int family;	  /* AF_INET or AF_INET6 */
	uint8_t addr[16]; /* network byte order; host bits cleared */
	unsigned prefix;  /* 0..32 or 0..128 */
};

/*
 * Parse "ADDR" or "ADDR/PREFIX" (strict: no spaces, no leading zeros in
 * the prefix, host bits may be set and are cleared). 0, or -1 with *why
 * set to a static message.
 */
int cidr_parse(const char *s, struct cidr *c, const char **why)
    __attribute__((warn_unused_result));
/* Is the address `sa` inside `c`? */
bool cidr_contains(const struct cidr *c, const struct sockaddr *sa);
/* Is the textual address `addr` (as a client address is kept: "10.1.2.3", "::1") inside any of `list`? */
bool cidr_list_contains_text(const struct cidr *list, size_t n, const char *addr);

#endif /* CUTOVER_CIDR_H */
