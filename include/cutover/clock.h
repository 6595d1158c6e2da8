/*
 * clock: time sources. Pure modules take a `struct clock *` so unit tests
 * can drive time by hand; the event-driven code uses clock_now_ms().
 */
#ifndef CUTOVER_CLOCK_H
#define CUTOVER_CLOCK_H

#include <stdint.h>

struct clock {
	uint64_t (*now_ms)(struct clock *);
	uint64_t fake_ms; /* used by clock_fake_* */
};

/* Monotonic milliseconds. */
uint64_t clock_now_ms(void);
/* Wall-clock milliseconds since the Unix epoch. */
uint64_t clock_unix_ms(void);
/* A clock backed by clock_now_ms(). */
extern struct clock clock_system;
/* A hand-driven clock for tests. */
void clock_fake_init(struct clock *c, uint64_t start_ms);
void clock_fake_advance(struct clock *c, uint64_t ms);

#endif /* CUTOVER_CLOCK_H */
