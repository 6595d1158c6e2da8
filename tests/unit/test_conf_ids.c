/*
 * test_conf_ids: a name keeps its metrics slot across generations, new
 * names take fresh slots, removed names keep theirs for when they come
 * back, and a generation that would pass CONF_IDS_MAX is refused whole.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cutover/conf_ids.h"
#include "cutover/config.h"

/* A generation with routes and upstreams of the given names (only what conf_ids reads). */
static void
gen(struct config *c, const char *const *routes, size_t nr,
    const char *const *ups, size_t nu)
{
	memset(c, 0, sizeof(*c));
	c->routes = calloc(nr ? nr : 1, sizeof(*c->routes));
	c->upstreams = calloc(nu ? nu : 1, sizeof(*c->upstreams));
	c->listeners = calloc(1, sizeof(*c->listeners));
	for (size_t i = 0; i < nr; i++)
		c->routes[i].name = (char *)routes[i];
	for (size_t i = 0; i < nu; i++)
		c->upstreams[i].name = (char *)ups[i];
	c->listeners[0].address = "127.0.0.1:8080";
	c->nroutes = nr;
	c->nupstreams = nu;
	c->nlisteners = 1;
}

static void
ungen(struct config *c)
{
	free(c->routes);
	free(c->upstreams);
	free(c->listeners);
}

static void
test_names_keep_their_slots(void **state)
{
	static const char *const r1[] = { "users", "billing", "all" };
	static const char *const u1[] = { "legacy", "users" };
	static const char *const r2[] = { "new", "all", "users" };
	static const char *const u2[] = { "users", "next" };
	static const char *const r3[] = { "billing", "all" };
	struct conf_ids ids;
	struct config a, b, c;
	char err[160];

	(void)state;
	conf_ids_init(&ids);
	gen(&a, r1, 3, u1, 2);
	assert_int_equal(conf_ids_assign(&ids, &a, err, sizeof(err)), 0);
	/* The first generation: its positions. */
	assert_int_equal(a.routes[0].id, 0);
	assert_int_equal(a.routes[2].id, 2);
	assert_int_equal(a.upstreams[1].id, 1);
	assert_int_equal(a.listeners[0].id, 0);

	gen(&b, r2, 3, u2, 2);
	assert_int_equal(conf_ids_assign(&ids, &b, err, sizeof(err)), 0);
	assert_int_equal(b.routes[0].id, 3);	/* "new": a fresh slot */
	assert_int_equal(b.routes[1].id, 2);	/* "all" moved, kept its slot */
	assert_int_equal(b.routes[2].id, 0);	/* "users" */
	assert_int_equal(b.upstreams[0].id, 1); /* "users" */
	assert_int_equal(b.upstreams[1].id, 2); /* "next" */
	assert_int_equal(b.listeners[0].id, 0);

	/* "billing" was gone for one generation: it comes back to its slot. */
	gen(&c, r3, 2, u1, 1);
	assert_int_equal(conf_ids_assign(&ids, &c, err, sizeof(err)), 0);
	assert_int_equal(c.routes[0].id, 1);
	assert_int_equal(c.routes[1].id, 2);
	assert_int_equal(c.upstreams[0].id, 0);
	ungen(&a);
	ungen(&b);
	ungen(&c);
	conf_ids_free(&ids);
}

static void
test_full_registry_refuses_the_whole_generation(void **state)
{
	static char names[CONF_IDS_MAX + 1][16];
	const char *ptrs[CONF_IDS_MAX + 1];
	struct conf_ids ids;
	struct config a, b;
	char err[160];

	(void)state;
	for (size_t i = 0; i <= CONF_IDS_MAX; i++) {
		snprintf(names[i], sizeof(names[i]), "r%zu", i);
		ptrs[i] = names[i];
	}
	conf_ids_init(&ids);
	gen(&a, ptrs, CONF_IDS_MAX - 1, ptrs, 1);
	assert_int_equal(conf_ids_assign(&ids, &a, err, sizeof(err)), 0);
	/* Two new names where one slot is left: refused, nothing taken. */
	gen(&b, ptrs + CONF_IDS_MAX - 1, 2, ptrs, 1);
	b.routes[0].id = b.routes[1].id = 77;
	assert_int_equal(conf_ids_assign(&ids, &b, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "restart"));
	assert_int_equal(b.routes[0].id, 77);
	assert_int_equal(ids.nroutes, CONF_IDS_MAX - 1);
	/* One new name fits. */
	b.nroutes = 1;
	assert_int_equal(conf_ids_assign(&ids, &b, err, sizeof(err)), 0);
	assert_int_equal(b.routes[0].id, CONF_IDS_MAX - 1);
	ungen(&a);
	ungen(&b);
	conf_ids_free(&ids);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_keep_their_slots),
		cmocka_unit_test(test_full_registry_refuses_the_whole_generation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
