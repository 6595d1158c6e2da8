/*
 * breaker: one circuit breaker (SPEC 4.2), shared by every worker thread
 * of the process, so all of its state sits behind one mutex. Pure apart
 * from that lock: time comes in as arguments (monotonic milliseconds) and
 * the jitter from a generator seeded at init, so unit tests drive it by
 * hand.
 *
 *   CLOSED --consecutive|rate|slow--> OPEN --timer--> HALF_OPEN
 *   HALF_OPEN --probes-passed--> CLOSED
 *   HALF_OPEN --probe-failed--> OPEN (period doubled, up to max_open_for)
 *   any --operator--> FORCED_OPEN | FORCED_CLOSED; --operator(auto)--> CLOSED
 *
 * Every call that is admitted gets a ticket carrying the generation it
 * was admitted under; the generation changes with every transition, and
 * a report whose ticket is of an older generation changes nothing (it is
 * stale: admitted before the transition).
 *
 * OPEN -> HALF_OPEN is due at `half_open_at`; breaker_poll() applies it.
 * The caller arms a timer for the delay breaker_poll() returns, and every
 * admit, report and snapshot polls first, so the state shown is always
 * the true one even if a timer runs late.
 */
#ifndef CUTOVER_BREAKER_H
#define CUTOVER_BREAKER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "cutover/outcome.h"

/* Values of the cutover_upstream_breaker_state gauge (SPEC 6). */
enum breaker_state {
	BREAKER_CLOSED = 0,
	BREAKER_HALF_OPEN = 1,
	BREAKER_OPEN = 2,
	BREAKER_FORCED_OPEN = 3,
	BREAKER_FORCED_CLOSED = 4,
	BREAKER__STATES,
};

enum breaker_reason {
	BREAKER_R_CONSECUTIVE = 0, /* consecutive_failures reached */
	BREAKER_R_RATE,		   /* failure_rate reached with min_requests */
	BREAKER_R_SLOW,		   /* slow_call_rate reached with min_requests */
	BREAKER_R_PROBE_FAILED,	   /* a half-open probe failed (or its slot lease ran out) */
	BREAKER_R_PROBES_PASSED,   /* half_open_successes probes in a row succeeded */
	BREAKER_R_TIMER,	   /* the open period (plus jitter) is over */
	BREAKER_R_OPERATOR,	   /* forced or released through the admin API */
	BREAKER__REASONS,
};

enum breaker_mode {
	BREAKER_MODE_ENFORCE = 0,
	BREAKER_MODE_DRY_RUN, /* decide, log and count; never refuse */
};

enum breaker_force {
	BREAKER_FORCE_AUTO = 0, /* hand back to automatic: CLOSED, window reset */
	BREAKER_FORCE_OPEN,
	BREAKER_FORCE_CLOSED,
};

/* Thresholds; ratios are parts per million (conf_units). */
struct breaker_params {
	enum breaker_mode mode;
	uint32_t consecutive_failures; /* >= 1 */
	uint32_t failure_rate_ppm;     /* 0 = never by rate */
	uint32_t window_s;	       /* 1 s buckets; 1..3600 */
	uint32_t min_requests;
	uint64_t slow_call_ms;	       /* 0 = no slow-call rule */
	uint32_t slow_call_rate_ppm;
	uint64_t open_for_ms;
	uint64_t max_open_for_ms;      /* >= open_for_ms */
	uint32_t open_jitter_ppm;      /* random extra in [0, period * jitter] */
	uint32_t half_open_probes;     /* >= 1; at most BREAKER_MAX_PROBES */
	uint32_t half_open_successes;  /* >= 1 */
	uint64_t probe_lease_ms;       /* a probe slot is held at most this long (response_timeout) */
};

#define BREAKER_MAX_PROBES 64
#define BREAKER_MAX_WINDOW_S 3600

/* What an admitted call carries until it reports. */
struct breaker_ticket {
	uint64_t generation;
	int slot;	    /* probe slot index, or -1 when not a probe */
	bool would_reject;  /* dry run: enforce mode would have refused it */
	bool admitted;	    /* false: refused (nothing to report) */
};

/* One transition, as handed to the hook (for the event log). */
struct breaker_transition {
	enum breaker_state from, to;
	enum breaker_reason reason;
	uint32_t calls, failures, slow; /* in the window, at the moment of the transition */
	uint32_t consecutive;
	uint64_t open_period_ms;       /* the period now in force (0 when not open) */
	uint64_t half_open_in_ms;      /* when `to` is OPEN: ms until HALF_OPEN; else 0 */
	uint64_t generation;	       /* the new generation */
	bool dry_run;
};

/*
 * Called after a transition with the lock released (the hook may take
 * other locks, log, arm timers). May be NULL.
 */
typedef void breaker_hook_fn(void *arg, const struct breaker_transition *tr);

struct breaker_bucket {
	uint64_t sec; /* which second (now_ms / 1000) it counts; stale when older than the window */
	uint32_t calls, failures, slow;
	uint32_t throttled; /* 429s: successes to the breaker, counted apart (SPEC 4.2) */
};

/*
 * Owner: whoever embeds it (an upstream's runtime state). breaker_init
 * allocates the window ring; breaker_destroy frees it.
 */
struct breaker {
	pthread_mutex_t mu;
	struct breaker_params p;
	enum breaker_state state;
	uint64_t generation;
	struct breaker_bucket *ring; /* p.window_s buckets */
	uint32_t consecutive;	     /* failures in a row (CLOSED) */
	uint64_t open_period_ms;     /* current period; doubles on probe-failed */
	uint64_t opened_at_ms;
	uint64_t half_open_at_ms;    /* when OPEN: due time of HALF_OPEN */
	uint64_t closed_at_ms;	     /* last entry into CLOSED (for the period decay) */
	uint64_t half_opened_at_ms;
	uint32_t probe_successes;    /* in a row, this HALF_OPEN */
	uint64_t probe_lease_until[BREAKER_MAX_PROBES]; /* 0 = slot free */
	uint64_t rng;		     /* splitmix64 state for the jitter */
	/* Counters (read by breaker_snapshot; never reset). */
	uint64_t transitions[BREAKER__STATES][BREAKER__STATES][BREAKER__REASONS];
	uint64_t dry_run_rejects;    /* calls dry run let through that enforce would refuse */
	breaker_hook_fn *hook;
	void *hook_arg;
};

void breaker_init(struct breaker *b, const struct breaker_params *p,
    uint64_t now_ms, uint64_t seed, breaker_hook_fn *hook, void *hook_arg);
void breaker_destroy(struct breaker *b);

/*
 * May a call go to the upstream now? `idempotent`: the request is safe to
 * use as a half-open probe (preferred; a non-idempotent one becomes a
 * probe only once the half-open state has waited probe_lease_ms for one).
 * Fills `t` (t->admitted false when refused). In dry-run mode every call
 * is admitted, with t->would_reject telling what enforce would have done.
 */
bool breaker_admit(struct breaker *b, uint64_t now_ms, bool idempotent,
    struct breaker_ticket *t);

/*
 * The admitted call of ticket `t` ended with `o` after `duration_ms`
 * (time to the response head). Calls of an older generation, and
 * outcomes whose effect is IGNORE, leave the state alone. Resets the
 * ticket (admitted = false), so a second report is a no-op.
 */
void breaker_report(struct breaker *b, uint64_t now_ms,
    struct breaker_ticket *t, enum try_outcome o, uint64_t duration_ms);

/*
 * Apply what time makes due (OPEN -> HALF_OPEN; expired probe leases).
 * Returns ms until the next thing that will be due, or UINT64_MAX.
 */
uint64_t breaker_poll(struct breaker *b, uint64_t now_ms);

/* Operator control (the admin API). */
void breaker_force(struct breaker *b, uint64_t now_ms, enum breaker_force f);

/* A consistent copy of what /upstreams and /metrics show. */
struct breaker_snapshot {
	enum breaker_state state;
	bool dry_run;
	uint32_t calls, failures, slow; /* in the window */
	uint32_t throttled;		/* 429s among the calls, in the window */
	uint32_t consecutive;
	uint64_t half_open_in_ms;	/* OPEN: ms until HALF_OPEN; else 0 */
	uint64_t open_period_ms;
	uint32_t probes_in_flight;
	uint64_t generation;
	uint64_t dry_run_rejects;
	uint64_t transitions[BREAKER__STATES][BREAKER__STATES][BREAKER__REASONS];
};
void breaker_snapshot(struct breaker *b, uint64_t now_ms,
    struct breaker_snapshot *s);

/* The state now (polled first); *dry_run (may be NULL) says the mode. */
enum breaker_state breaker_state_now(struct breaker *b, uint64_t now_ms,
    bool *dry_run);

/* Retry-After for a refusal: whole seconds until HALF_OPEN, at least 1. */
unsigned breaker_retry_after_s(struct breaker *b, uint64_t now_ms);

/* "closed", "half_open", "open", "forced_open", "forced_closed". */
const char *breaker_state_name(enum breaker_state s);
/* "consecutive", "rate", "slow", "probe-failed", "probes-passed", "timer", "operator". */
const char *breaker_reason_name(enum breaker_reason r);

#endif /* CUTOVER_BREAKER_H */
