/*
 * timer: arm a libevent timer for a number of milliseconds, the one way
 * every event-driven module does it.
 */
#ifndef CUTOVER_TIMER_H
#define CUTOVER_TIMER_H

#include <event2/event.h>
#include <stdint.h>

/* (Re)arm `ev` to fire in `ms` milliseconds; 0 disarms it. */
void timer_arm(struct event *ev, uint64_t ms);

#endif /* CUTOVER_TIMER_H */
