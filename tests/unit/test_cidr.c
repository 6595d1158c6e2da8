/*
 * test_cidr: parsing of address ranges (what is accepted, what it means
 * once host bits are cleared, and the reason given for each rejection),
 * and membership for IPv4, IPv6, IPv4-mapped IPv6 and mixed families,
 * by sockaddr and by text.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cutover/cidr.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static void parse_ok(const char *s, struct cidr *c);
static void sockaddr_of(const char *text, struct sockaddr_storage *ss);

/* ---- helpers */

static void
parse_ok(const char *s, struct cidr *c)
{
	const char *why = NULL;

	if (cidr_parse(s, c, &why) != 0)
		fail_msg("'%s' refused: %s", s, why);
}

/* A sockaddr_in or sockaddr_in6 for a literal address. */
static void
sockaddr_of(const char *text, struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, text, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(40000);
	} else if (inet_pton(AF_INET6, text, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(40000);
	} else
		fail_msg("bad test address '%s'", text);
}

/* ---- parsing */

/* Accepted: the family, the prefix and the network once host bits go. */
static void
test_parse_accepts(void **state)
{
	static const struct {
		const char *in;
		int family;
		unsigned prefix;
		const char *net;
	} cases[] = {
		{ "10.0.0.0/8", AF_INET, 8, "10.0.0.0" },
		{ "10.1.2.3/8", AF_INET, 8, "10.0.0.0" },
		{ "10.255.255.255/9", AF_INET, 9, "10.128.0.0" },
		{ "192.168.1.77/30", AF_INET, 30, "192.168.1.76" },
		{ "192.168.1.77/31", AF_INET, 31, "192.168.1.76" },
		{ "192.168.1.77/32", AF_INET, 32, "192.168.1.77" },
		{ "127.0.0.1", AF_INET, 32, "127.0.0.1" },
		{ "0.0.0.0/0", AF_INET, 0, "0.0.0.0" },
		{ "255.255.255.255/0", AF_INET, 0, "0.0.0.0" },
		{ "255.255.255.255/1", AF_INET, 1, "128.0.0.0" },
		{ "::1/128", AF_INET6, 128, "::1" },
		{ "::1", AF_INET6, 128, "::1" },
		{ "::", AF_INET6, 128, "::" },
		{ "::/0", AF_INET6, 0, "::" },
		{ "ffff::1/0", AF_INET6, 0, "::" },
		{ "fd00::/8", AF_INET6, 8, "fd00::" },
		{ "fdab:cd::1/8", AF_INET6, 8, "fd00::" },
		{ "fdab:cd::1/9", AF_INET6, 9, "fd80::" },
		{ "2001:db8::ff/127", AF_INET6, 127, "2001:db8::fe" },
		{ "2001:db8:1234:5678::1/36", AF_INET6, 36, "2001:db8:1000::" },
		{ "2001:DB8::1/64", AF_INET6, 64, "2001:db8::" },
		/* Written as IPv6, it stays an IPv6 range. */
		{ "::ffff:10.1.2.3/104", AF_INET6, 104, "::ffff:10.0.0.0" },
		{ "::ffff:0:0/96", AF_INET6, 96, "::ffff:0.0.0.0" },
	};
	char text[INET6_ADDRSTRLEN];
	struct cidr c;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		parse_ok(cases[i].in, &c);
		if (c.family != cases[i].family || c.prefix != cases[i].prefix)
			fail_msg("'%s': family %d prefix %u", cases[i].in,
			    c.family, c.prefix);
		assert_non_null(inet_ntop(c.family, c.addr, text, sizeof(text)));
		if (strcmp(text, cases[i].net) != 0)
			fail_msg("'%s': network %s, want %s", cases[i].in, text,
			    cases[i].net);
	}
}

/* Refused, each with the reason the operator will read. */
static void
test_parse_rejects(void **state)
{
	static const struct {
		const char *in;
		const char *why; /* a part of the message */
	} cases[] = {
		{ "", "empty address" },
		{ "/8", "empty address" },
		{ "10.0.0.0/", "empty prefix" },
		{ "::/", "empty prefix" },
		{ "10.0.0.0/08", "leading zero" },
		{ "10.0.0.0/00", "leading zero" },
		{ "::/0128", "leading zero" },
		{ "10.0.0.0/+8", "not a decimal" },
		{ "10.0.0.0/-1", "not a decimal" },
		{ "10.0.0.0/ 8", "not a decimal" },
		{ "10.0.0.0/8 ", "not a decimal" },
		{ "10.0.0.0/8/8", "not a decimal" },
		{ "10.0.0.0/0x8", "not a decimal" },
		{ "10.0.0.0/8\n", "not a decimal" },
		{ "1.2.3.4/32x", "not a decimal" },
		{ "10.0.0.0/33", "over 32" },
		{ "10.0.0.0/100", "over 32" },
		{ "10.0.0.0/4294967304", "over 32" },
		{ "::/129", "over 128" },
		{ "::/1000", "over 128" },
		{ "::1/99999999999999999999", "over 128" },
		{ "10.0.0.0 /8", "not an IPv4 or IPv6" },
		{ " 10.0.0.0/8", "not an IPv4 or IPv6" },
		{ "10.0.0/8", "not an IPv4 or IPv6" },
		{ "10.0.0.0.0/8", "not an IPv4 or IPv6" },
		{ "256.0.0.0/8", "not an IPv4 or IPv6" },
		/* Octal or decimal? Refused rather than guessed. */
		{ "010.0.0.0/8", "not an IPv4 or IPv6" },
		{ "0x0a.0.0.0/8", "not an IPv4 or IPv6" },
		{ "10/8", "not an IPv4 or IPv6" },
		{ "fe80::1%eth0/64", "not an IPv4 or IPv6" },
		{ "[::1]/128", "not an IPv4 or IPv6" },
		{ "1::2::3/64", "not an IPv4 or IPv6" },
		{ "localhost", "not an IPv4 or IPv6" },
		{ "0000:0000:0000:0000:0000:0000:0000:0000:0000/128",
		    "not an IPv4 or IPv6" },
	};
	struct cidr c;
	const char *why;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		why = NULL;
		if (cidr_parse(cases[i].in, &c, &why) != -1)
			fail_msg("'%s' accepted", cases[i].in);
		if (why == NULL || strstr(why, cases[i].why) == NULL)
			fail_msg("'%s': message '%s', want '%s'", cases[i].in,
			    why != NULL ? why : "(none)", cases[i].why);
	}
}

/* ---- membership */

static const struct {
	const char *range, *addr;
	bool in;
} contains_cases[] = {
	{ "10.0.0.0/8", "10.0.0.0", true },
	{ "10.0.0.0/8", "10.255.255.255", true },
	{ "10.0.0.0/8", "11.0.0.0", false },
	{ "10.0.0.0/8", "9.255.255.255", false },
	{ "10.1.2.3/8", "10.200.0.1", true }, /* host bits were cleared */
	{ "10.128.0.0/9", "10.128.0.1", true },
	{ "10.128.0.0/9", "10.127.255.255", false },
	{ "192.168.1.76/30", "192.168.1.75", false },
	{ "192.168.1.76/30", "192.168.1.76", true },
	{ "192.168.1.76/30", "192.168.1.79", true },
	{ "192.168.1.76/30", "192.168.1.80", false },
	{ "0.0.0.0/0", "1.2.3.4", true },
	{ "0.0.0.0/0", "0.0.0.0", true },
	{ "0.0.0.0/0", "255.255.255.255", true },
	{ "127.0.0.1/32", "127.0.0.1", true },
	{ "127.0.0.1", "127.0.0.1", true },
	{ "127.0.0.1/32", "127.0.0.2", false },
	{ "127.0.0.1/32", "127.0.0.0", false },
	{ "::1/128", "::1", true },
	{ "::1", "0:0:0:0:0:0:0:1", true },
	{ "::1/128", "::2", false },
	{ "::1/128", "::", false },
	{ "::/0", "::1", true },
	{ "::/0", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true },
	{ "fd00::/8", "fd12:3456::1", true },
	{ "fd00::/8", "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true },
	{ "fd00::/8", "fe00::1", false },
	{ "fd00::/8", "fc00::1", false },
	{ "2001:db8::/127", "2001:db8::1", true },
	{ "2001:db8::/127", "2001:db8::2", false },
	/* IPv4-mapped clients (a dual-stack listener) match IPv4 ranges. */
	{ "10.0.0.0/8", "::ffff:10.1.2.3", true },
	{ "10.0.0.0/8", "::ffff:11.1.2.3", false },
	{ "127.0.0.1/32", "::ffff:127.0.0.1", true },
	{ "127.0.0.1/32", "::ffff:127.0.0.2", false },
	{ "0.0.0.0/0", "::ffff:1.2.3.4", true },
	/* Only the mapped form: IPv4-compatible and NAT64 are IPv6. */
	{ "10.0.0.0/8", "::10.1.2.3", false },
	{ "10.0.0.0/8", "64:ff9b::a01:203", false },
	{ "0.0.0.0/0", "::1", false },
	{ "0.0.0.0/0", "::", false },
	/* A mapped address is still an IPv6 address for IPv6 ranges... */
	{ "::/0", "::ffff:10.1.2.3", true },
	{ "::ffff:0:0/96", "::ffff:1.2.3.4", true },
	{ "::ffff:10.0.0.0/104", "::ffff:10.9.9.9", true },
	/* ...but an IPv4 client is in no IPv6 range. */
	{ "::/0", "10.1.2.3", false },
	{ "::ffff:0:0/96", "1.2.3.4", false },
	{ "::1/128", "127.0.0.1", false },
};

/* Every case by sockaddr. */
static void
test_contains_sockaddr(void **state)
{
	struct sockaddr_storage ss;
	struct cidr c;
	bool got;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(contains_cases); i++) {
		parse_ok(contains_cases[i].range, &c);
		sockaddr_of(contains_cases[i].addr, &ss);
		got = cidr_contains(&c, (const struct sockaddr *)&ss);
		if (got != contains_cases[i].in)
			fail_msg("%s in %s: %s", contains_cases[i].addr,
			    contains_cases[i].range, got ? "yes" : "no");
	}
}

/* Every case again by text, as a list of one. */
static void
test_contains_text(void **state)
{
	struct cidr c;
	bool got;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(contains_cases); i++) {
		parse_ok(contains_cases[i].range, &c);
		got = cidr_list_contains_text(&c, 1, contains_cases[i].addr);
		if (got != contains_cases[i].in)
			fail_msg("'%s' in %s: %s", contains_cases[i].addr,
			    contains_cases[i].range, got ? "yes" : "no");
	}
}

/* Other families, and no address at all, are in no range. */
static void
test_contains_other_families(void **state)
{
	struct sockaddr_un sun;
	struct cidr v4, v6;

	(void)state;
	parse_ok("0.0.0.0/0", &v4);
	parse_ok("::/0", &v6);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, "/run/cutover.sock");
	assert_false(cidr_contains(&v4, (const struct sockaddr *)&sun));
	assert_false(cidr_contains(&v6, (const struct sockaddr *)&sun));
	assert_false(cidr_contains(&v4, NULL));
	assert_false(cidr_contains(&v6, NULL));
}

/* A list of mixed families: any entry will do; bad text matches none. */
static void
test_list_contains_text(void **state)
{
	static const char *const ranges[] = { "10.0.0.0/8", "::1/128",
		"192.168.0.0/16", "fd00::/8" };
	static const struct {
		const char *addr;
		bool in;
	} cases[] = {
		{ "10.9.8.7", true },
		{ "::1", true },
		{ "192.168.5.5", true },
		{ "fd00::beef", true },
		{ "::ffff:192.168.1.1", true },
		{ "172.16.0.1", false },
		{ "127.0.0.1", false },
		{ "2001:db8::1", false },
		/* Not addresses: as a Unix socket peer, or with a port. */
		{ "", false },
		{ "unix:", false },
		{ "10.1.2.3:80", false },
		{ "[::1]", false },
		{ " 10.1.2.3", false },
		{ "10.1.2.3 ", false },
	};
	struct cidr list[NELEM(ranges)];
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(ranges); i++)
		parse_ok(ranges[i], &list[i]);
	for (i = 0; i < NELEM(cases); i++)
		if (cidr_list_contains_text(list, NELEM(list),
			cases[i].addr) != cases[i].in)
			fail_msg("'%s': want %s", cases[i].addr,
			    cases[i].in ? "in" : "out");
	/* An empty list allows nobody. */
	assert_false(cidr_list_contains_text(list, 0, "10.9.8.7"));
	assert_false(cidr_list_contains_text(NULL, 0, "::1"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_accepts),
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_contains_sockaddr),
		cmocka_unit_test(test_contains_text),
		cmocka_unit_test(test_contains_other_families),
		cmocka_unit_test(test_list_contains_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
