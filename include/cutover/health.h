/*
 * health: active health checks (the upstream `health_check` key).
 *
 * health_observe() is the pure part: a server goes down after
 * `unhealthy` failed checks in a row and up again after `healthy` good
 * ones. Servers start up.
 *
 * The checker is one thread with its own event loop, started after the
 * workers' runtime state exists: for every server of every upstream with
 * a health_check, every `interval` it connects, sends
 * "GET <path> HTTP/1.1" (Host: the server's host, Connection: close,
 * User-Agent: cutover-health-check) and waits up to `timeout` for the
 * status line; a 2xx or 3xx is good, anything else (refused, timeout,
 * reset, garbage, other statuses) is a failure. A change is stored in the
 * server's runtime flag (upstream_rt), read by the workers' balancer, and
 * logged as an event line `health_changed upstream=... server=...
 * state=up|down checks=N reason="..."`.
 */
#ifndef CUTOVER_HEALTH_H
#define CUTOVER_HEALTH_H

#include <stdbool.h>
#include <stdint.h>

struct config;

/* Owner: whoever embeds it (struct server_rt). No heap memory. */
struct health_counter {
	uint32_t good_run; /* good checks in a row */
	uint32_t bad_run;  /* failed checks in a row */
	bool down;
};

/* Count one check; true when the server's state (down) changed. */
bool health_observe(struct health_counter *h, bool ok, uint32_t healthy,
    uint32_t unhealthy);

struct health_checker;

/*
 * Start checking every upstream of `cfg` that has a health_check (each
 * upstream's `rt` must be attached). NULL when there is nothing to check.
 * Holds a reference to cfg until health_stop.
 */
struct health_checker *health_start(struct config *cfg);
/* Stop the thread, close every probe, free it all. NULL is fine. */
void health_stop(struct health_checker *h);

#endif /* CUTOVER_HEALTH_H */
