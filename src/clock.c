/* clock: the monotonic clock, and a fake one tests can advance. */
#include <time.h>

#include "cutover/clock.h"

static uint64_t clock_system_now(struct clock *c);
static uint64_t clock_fake_now(struct clock *c);

struct clock clock_system = { clock_system_now, 0 };

uint64_t
clock_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t
clock_unix_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t
clock_system_now(struct clock *c)
{
	(void)c;
	return clock_now_ms();
}

static uint64_t
clock_fake_now(struct clock *c)
{
	return c->fake_ms;
}

void
clock_fake_init(struct clock *c, uint64_t start_ms)
{
	c->now_ms = clock_fake_now;
	c->fake_ms = start_ms;
}

void
clock_fake_advance(struct clock *c, uint64_t ms)
{
	c->fake_ms += ms;
}
