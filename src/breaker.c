/*
 * breaker: one circuit breaker (SPEC 4.2). The state machine is driven
 * by breaker_set_state() alone; every exported function takes the lock,
 * lets time catch up (breaker_poll_locked), does its work while queueing
 * the transitions it caused, and hands those to the hook only after the
 * lock is released, so the hook may log, take other locks or re-enter.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "cutover/breaker.h"
#include "cutover/strbuf.h"

/*
 * One call makes at most a handful of transitions (timer, an expired
 * lease, the timer again when open_for is 0, then the call's own), so a
 * small array on the caller's stack holds them until the unlock.
 */
#define BREAKER_PENDING_MAX 6

struct breaker_pending {
	struct breaker_transition tr[BREAKER_PENDING_MAX];
	int n;
};

struct breaker_counts {
	uint32_t calls, failures, slow, throttled;
};

static uint64_t breaker_rng_next(struct breaker *);
static uint64_t breaker_add_sat(uint64_t, uint64_t);
static uint64_t breaker_diff(uint64_t, uint64_t);
static uint64_t breaker_jitter(struct breaker *, uint64_t);
static void breaker_window_clear(struct breaker *);
static struct breaker_bucket *breaker_window_bucket(struct breaker *, uint64_t);
static void breaker_window_sum(const struct breaker *, uint64_t,
    struct breaker_counts *);
static void breaker_slots_clear(struct breaker *);
static uint32_t breaker_slots_used(const struct breaker *);
static void breaker_set_state(struct breaker *, uint64_t, enum breaker_state,
    enum breaker_reason, struct breaker_pending *);
static void breaker_enter_open(struct breaker *, uint64_t, enum breaker_state);
static void breaker_poll_locked(struct breaker *, uint64_t,
    struct breaker_pending *);
static uint64_t breaker_next_due(const struct breaker *, uint64_t);
static void breaker_unlock(struct breaker *, struct breaker_pending *);
static void breaker_record(struct breaker *, uint64_t, enum try_outcome,
    enum outcome_breaker, uint64_t);
static void breaker_check_closed(struct breaker *, uint64_t,
    struct breaker_pending *);
static void breaker_report_probe(struct breaker *, uint64_t,
    const struct breaker_ticket *, enum outcome_breaker,
    struct breaker_pending *);
static bool breaker_admit_half_open(struct breaker *, uint64_t, bool,
    struct breaker_ticket *);
static bool breaker_refuse(struct breaker *, struct breaker_ticket *);

/* Which transitions exist at all (SPEC 4.2 and the operator's). */
static const bool breaker_allowed[BREAKER__STATES][BREAKER__STATES] = {
	[BREAKER_CLOSED] = {
	    [BREAKER_OPEN] = true,
	    [BREAKER_FORCED_OPEN] = true,
	    [BREAKER_FORCED_CLOSED] = true,
	},
	[BREAKER_OPEN] = {
	    [BREAKER_HALF_OPEN] = true,
	    [BREAKER_CLOSED] = true,
	    [BREAKER_FORCED_OPEN] = true,
	    [BREAKER_FORCED_CLOSED] = true,
	},
	[BREAKER_HALF_OPEN] = {
	    [BREAKER_CLOSED] = true,
	    [BREAKER_OPEN] = true,
	    [BREAKER_FORCED_OPEN] = true,
	    [BREAKER_FORCED_CLOSED] = true,
	},
	[BREAKER_FORCED_OPEN] = {
	    [BREAKER_CLOSED] = true,
	    [BREAKER_FORCED_CLOSED] = true,
	},
	[BREAKER_FORCED_CLOSED] = {
	    [BREAKER_CLOSED] = true,
	    [BREAKER_FORCED_OPEN] = true,
	},
};

static const char *const breaker_state_names[BREAKER__STATES] = {
	[BREAKER_CLOSED] = "closed",
	[BREAKER_HALF_OPEN] = "half_open",
	[BREAKER_OPEN] = "open",
	[BREAKER_FORCED_OPEN] = "forced_open",
	[BREAKER_FORCED_CLOSED] = "forced_closed",
};

static const char *const breaker_reason_names[BREAKER__REASONS] = {
	[BREAKER_R_CONSECUTIVE] = "consecutive",
	[BREAKER_R_RATE] = "rate",
	[BREAKER_R_SLOW] = "slow",
	[BREAKER_R_PROBE_FAILED] = "probe-failed",
	[BREAKER_R_PROBES_PASSED] = "probes-passed",
	[BREAKER_R_TIMER] = "timer",
	[BREAKER_R_OPERATOR] = "operator",
};

/* splitmix64: tiny, seedable, and good enough to spread probe times. */
static uint64_t
breaker_rng_next(struct breaker *b)
{
	uint64_t z = (b->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t
breaker_add_sat(uint64_t a, uint64_t c)
{
	return a > UINT64_MAX - c ? UINT64_MAX : a + c;
}

/*
 * later - earlier, or 0 if `later` is not: threads read the clock before
 * they take the lock, so a call may carry a time a little older than the
 * last transition's, and an unsigned wrap would make it look ages away.
 */
static uint64_t
breaker_diff(uint64_t later, uint64_t earlier)
{
	return later > earlier ? later - earlier : 0;
}

/* Uniform in [0, period * open_jitter], computed without overflow. */
static uint64_t
breaker_jitter(struct breaker *b, uint64_t period)
{
	uint64_t ppm = b->p.open_jitter_ppm;
	uint64_t max;

	max = period / 1000000 * ppm + period % 1000000 * ppm / 1000000;
	if (max == 0)
		return 0;
	if (max == UINT64_MAX)
		return breaker_rng_next(b);
	return breaker_rng_next(b) % (max + 1);
}

static void
breaker_window_clear(struct breaker *b)
{
	memset(b->ring, 0, b->p.window_s * sizeof(*b->ring));
}

/*
 * The bucket of the current second, emptied if it last counted an older
 * one. A call a thread timed just before the others moved on to a
 * newer second reusing this slot is counted there rather than wiping it.
 */
static struct breaker_bucket *
breaker_window_bucket(struct breaker *b, uint64_t now_ms)
{
	uint64_t sec = now_ms / 1000;
	struct breaker_bucket *k = &b->ring[sec % b->p.window_s];

	if (k->sec < sec) {
		memset(k, 0, sizeof(*k));
		k->sec = sec;
	}
	return k;
}

/* A bucket is live while its second is one of the last window_s ones. */
static void
breaker_window_sum(const struct breaker *b, uint64_t now_ms,
    struct breaker_counts *c)
{
	uint64_t sec = now_ms / 1000;

	memset(c, 0, sizeof(*c));
	for (uint32_t i = 0; i < b->p.window_s; i++) {
		const struct breaker_bucket *k = &b->ring[i];

		if (k->sec > sec || k->sec + b->p.window_s <= sec)
			continue;
		c->calls += k->calls;
		c->failures += k->failures;
		c->slow += k->slow;
		c->throttled += k->throttled;
	}
}

static void
breaker_slots_clear(struct breaker *b)
{
	memset(b->probe_lease_until, 0, sizeof(b->probe_lease_until));
	b->probe_successes = 0;
}

static uint32_t
breaker_slots_used(const struct breaker *b)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < b->p.half_open_probes; i++)
		if (b->probe_lease_until[i] != 0)
			n++;
	return n;
}

/*
 * Entry into OPEN: pick the period and the due time of HALF_OPEN. A
 * breaker that re-opens soon after closing keeps the period it had, so a
 * flapping upstream does not get the short period back; one that stayed
 * closed for max_open_for starts over at open_for.
 */
static void
breaker_enter_open(struct breaker *b, uint64_t now_ms, enum breaker_state from)
{
	uint64_t period = b->open_period_ms;

	if (from == BREAKER_HALF_OPEN) {
		if (period > b->p.max_open_for_ms / 2)
			period = b->p.max_open_for_ms;
		else
			period *= 2;
	} else if (breaker_diff(now_ms, b->closed_at_ms) >=
	    b->p.max_open_for_ms)
		period = b->p.open_for_ms;
	b->open_period_ms = period;
	b->opened_at_ms = now_ms;
	b->half_open_at_ms = breaker_add_sat(now_ms,
	    breaker_add_sat(period, breaker_jitter(b, period)));
}

/*
 * The one place the state changes: checks the transition, runs the entry
 * actions of the new state and queues the record for the hook. Caller
 * holds the lock.
 */
static void
breaker_set_state(struct breaker *b, uint64_t now_ms, enum breaker_state to,
    enum breaker_reason reason, struct breaker_pending *pend)
{
	enum breaker_state from = b->state;
	struct breaker_transition *tr = NULL;
	struct breaker_counts c;

	assert(breaker_allowed[from][to]);
	if (!breaker_allowed[from][to])
		return;
	if (pend->n < BREAKER_PENDING_MAX)
		tr = &pend->tr[pend->n++];
	if (tr != NULL) {
		breaker_window_sum(b, now_ms, &c);
		memset(tr, 0, sizeof(*tr));
		tr->from = from;
		tr->to = to;
		tr->reason = reason;
		tr->calls = c.calls;
		tr->failures = c.failures;
		tr->slow = c.slow;
		tr->consecutive = b->consecutive;
	}

	b->state = to;
	b->generation++;
	b->transitions[from][to][reason]++;
	/* Every slot belongs to the old generation now; its report is stale. */
	breaker_slots_clear(b);
	switch (to) {
	case BREAKER_CLOSED:
		breaker_window_clear(b);
		b->consecutive = 0;
		b->closed_at_ms = now_ms;
		if (reason == BREAKER_R_OPERATOR)
			b->open_period_ms = b->p.open_for_ms;
		break;
	case BREAKER_OPEN:
		breaker_enter_open(b, now_ms, from);
		break;
	case BREAKER_HALF_OPEN:
		b->half_opened_at_ms = now_ms;
		break;
	case BREAKER_FORCED_OPEN:
	case BREAKER_FORCED_CLOSED:
	case BREAKER__STATES:
		break;
	}

	if (tr != NULL) {
		tr->generation = b->generation;
		tr->dry_run = b->p.mode == BREAKER_MODE_DRY_RUN;
		if (to == BREAKER_OPEN) {
			tr->open_period_ms = b->open_period_ms;
			tr->half_open_in_ms =
			    breaker_diff(b->half_open_at_ms, now_ms);
		}
	}
}

/*
 * What time makes due: the end of the open period, and probe leases that
 * ran out (a probe that never reported counts as failed, or a lost
 * report would hold the breaker half-open for ever). Loops because with
 * open_for 0 a re-open is due at once.
 */
static void
breaker_poll_locked(struct breaker *b, uint64_t now_ms,
    struct breaker_pending *pend)
{
	for (int round = 0; round < 3; round++) {
		bool expired = false;

		switch (b->state) {
		case BREAKER_OPEN:
			if (now_ms < b->half_open_at_ms)
				return;
			breaker_set_state(b, now_ms, BREAKER_HALF_OPEN,
			    BREAKER_R_TIMER, pend);
			break;
		case BREAKER_HALF_OPEN:
			for (uint32_t i = 0; i < b->p.half_open_probes; i++)
				if (b->probe_lease_until[i] != 0 &&
				    now_ms >= b->probe_lease_until[i])
					expired = true;
			if (!expired)
				return;
			breaker_set_state(b, now_ms, BREAKER_OPEN,
			    BREAKER_R_PROBE_FAILED, pend);
			break;
		case BREAKER_CLOSED:
		case BREAKER_FORCED_OPEN:
		case BREAKER_FORCED_CLOSED:
		case BREAKER__STATES:
			return;
		}
	}
}

/* Ms until the next thing poll has to do; caller has polled already. */
static uint64_t
breaker_next_due(const struct breaker *b, uint64_t now_ms)
{
	uint64_t next = UINT64_MAX;

	if (b->state == BREAKER_OPEN)
		return breaker_diff(b->half_open_at_ms, now_ms);
	if (b->state != BREAKER_HALF_OPEN)
		return UINT64_MAX;
	for (uint32_t i = 0; i < b->p.half_open_probes; i++)
		if (b->probe_lease_until[i] != 0 &&
		    breaker_diff(b->probe_lease_until[i], now_ms) < next)
			next = breaker_diff(b->probe_lease_until[i], now_ms);
	return next;
}

/* Release the lock, then tell the hook, in order, what happened. */
static void
breaker_unlock(struct breaker *b, struct breaker_pending *pend)
{
	breaker_hook_fn *hook = b->hook;
	void *arg = b->hook_arg;

	pthread_mutex_unlock(&b->mu);
	if (hook == NULL)
		return;
	for (int i = 0; i < pend->n; i++)
		hook(arg, &pend->tr[i]);
}

void
breaker_init(struct breaker *b, const struct breaker_params *p,
    uint64_t now_ms, uint64_t seed, breaker_hook_fn *hook, void *hook_arg)
{
	memset(b, 0, sizeof(*b));
	b->p = *p;
	if (b->p.window_s < 1)
		b->p.window_s = 1;
	if (b->p.window_s > BREAKER_MAX_WINDOW_S)
		b->p.window_s = BREAKER_MAX_WINDOW_S;
	if (b->p.half_open_probes < 1)
		b->p.half_open_probes = 1;
	if (b->p.half_open_probes > BREAKER_MAX_PROBES)
		b->p.half_open_probes = BREAKER_MAX_PROBES;
	/* The config checker enforces these; keep the arithmetic sane. */
	if (b->p.consecutive_failures < 1)
		b->p.consecutive_failures = 1;
	if (b->p.half_open_successes < 1)
		b->p.half_open_successes = 1;
	if (b->p.max_open_for_ms < b->p.open_for_ms)
		b->p.max_open_for_ms = b->p.open_for_ms;

	b->ring = xcalloc(b->p.window_s, sizeof(*b->ring));
	b->state = BREAKER_CLOSED;
	b->generation = 1;
	/* Never opened: the first open uses open_for, whatever the decay. */
	b->open_period_ms = b->p.open_for_ms;
	b->closed_at_ms = now_ms;
	b->rng = seed;
	b->hook = hook;
	b->hook_arg = hook_arg;
	pthread_mutex_init(&b->mu, NULL);
}

void
breaker_destroy(struct breaker *b)
{
	free(b->ring);
	b->ring = NULL;
	pthread_mutex_destroy(&b->mu);
}

/* A refusal, or in dry run the admission enforce mode would have refused. */
static bool
breaker_refuse(struct breaker *b, struct breaker_ticket *t)
{
	if (b->p.mode != BREAKER_MODE_DRY_RUN)
		return false;
	t->admitted = true;
	t->would_reject = true;
	b->dry_run_rejects++;
	return true;
}

/*
 * A free probe slot goes to an idempotent call at once; a non-idempotent
 * one may have it only after the half-open state has waited a lease
 * period for a safer candidate, so a failing probe is rarely a half-done
 * write, yet the breaker never sticks half-open on a POST-only route.
 */
static bool
breaker_admit_half_open(struct breaker *b, uint64_t now_ms, bool idempotent,
    struct breaker_ticket *t)
{
	uint32_t i;

	if (!idempotent &&
	    breaker_diff(now_ms, b->half_opened_at_ms) < b->p.probe_lease_ms)
		return breaker_refuse(b, t);
	for (i = 0; i < b->p.half_open_probes; i++)
		if (b->probe_lease_until[i] == 0)
			break;
	if (i == b->p.half_open_probes)
		return breaker_refuse(b, t);
	b->probe_lease_until[i] = breaker_add_sat(now_ms, b->p.probe_lease_ms);
	if (b->probe_lease_until[i] == 0) /* 0 means free; now 0, lease 0 */
		b->probe_lease_until[i] = 1;
	t->slot = (int)i;
	t->admitted = true;
	return true;
}

bool
breaker_admit(struct breaker *b, uint64_t now_ms, bool idempotent,
    struct breaker_ticket *t)
{
	struct breaker_pending pend = { .n = 0 };
	bool ok = false;

	pthread_mutex_lock(&b->mu);
	breaker_poll_locked(b, now_ms, &pend);
	memset(t, 0, sizeof(*t));
	t->generation = b->generation;
	t->slot = -1;
	switch (b->state) {
	case BREAKER_CLOSED:
	case BREAKER_FORCED_CLOSED:
		t->admitted = true;
		ok = true;
		break;
	case BREAKER_OPEN:
		ok = breaker_refuse(b, t);
		break;
	case BREAKER_HALF_OPEN:
		ok = breaker_admit_half_open(b, now_ms, idempotent, t);
		break;
	case BREAKER_FORCED_OPEN:
	case BREAKER__STATES:
		break;
	}
	breaker_unlock(b, &pend);
	return ok;
}

/* Count one outcome in the window (CLOSED and FORCED_CLOSED). */
static void
breaker_record(struct breaker *b, uint64_t now_ms, enum try_outcome o,
    enum outcome_breaker e, uint64_t duration_ms)
{
	struct breaker_bucket *k = breaker_window_bucket(b, now_ms);

	k->calls++;
	if (o == OUTCOME_THROTTLED)
		k->throttled++;
	switch (e) {
	case OUTCOME_B_SUCCESS:
		b->consecutive = 0;
		if (b->p.slow_call_ms > 0 && duration_ms > b->p.slow_call_ms)
			k->slow++;
		break;
	case OUTCOME_B_FAILURE_SLOW:
		k->slow++;
		/* FALLTHROUGH */
	case OUTCOME_B_FAILURE:
		k->failures++;
		b->consecutive++;
		break;
	case OUTCOME_B_RELEASE:
	case OUTCOME_B_IGNORE:
		break;
	}
}

/* CLOSED's three ways to open, in the order their reason is named. */
static void
breaker_check_closed(struct breaker *b, uint64_t now_ms,
    struct breaker_pending *pend)
{
	struct breaker_counts c;
	bool enough;

	if (b->consecutive >= b->p.consecutive_failures) {
		breaker_set_state(b, now_ms, BREAKER_OPEN,
		    BREAKER_R_CONSECUTIVE, pend);
		return;
	}
	breaker_window_sum(b, now_ms, &c);
	enough = c.calls >= b->p.min_requests;
	if (enough && b->p.failure_rate_ppm > 0 &&
	    (uint64_t)c.failures * 1000000 >=
	    (uint64_t)b->p.failure_rate_ppm * c.calls) {
		breaker_set_state(b, now_ms, BREAKER_OPEN, BREAKER_R_RATE,
		    pend);
		return;
	}
	if (enough && b->p.slow_call_ms > 0 && b->p.slow_call_rate_ppm > 0 &&
	    (uint64_t)c.slow * 1000000 >=
	    (uint64_t)b->p.slow_call_rate_ppm * c.calls)
		breaker_set_state(b, now_ms, BREAKER_OPEN, BREAKER_R_SLOW,
		    pend);
}

static void
breaker_report_probe(struct breaker *b, uint64_t now_ms,
    const struct breaker_ticket *t, enum outcome_breaker e,
    struct breaker_pending *pend)
{
	if (t->slot < 0 || (uint32_t)t->slot >= b->p.half_open_probes ||
	    b->probe_lease_until[t->slot] == 0)
		return;
	switch (e) {
	case OUTCOME_B_SUCCESS:
		b->probe_lease_until[t->slot] = 0;
		if (++b->probe_successes >= b->p.half_open_successes)
			breaker_set_state(b, now_ms, BREAKER_CLOSED,
			    BREAKER_R_PROBES_PASSED, pend);
		break;
	case OUTCOME_B_FAILURE:
	case OUTCOME_B_FAILURE_SLOW:
		breaker_set_state(b, now_ms, BREAKER_OPEN,
		    BREAKER_R_PROBE_FAILED, pend);
		break;
	case OUTCOME_B_RELEASE:
	case OUTCOME_B_IGNORE:
		/*
		 * Not a verdict on the upstream, but the slot must come back
		 * now: held until its lease ran out it would count as a
		 * failed probe.
		 */
		b->probe_lease_until[t->slot] = 0;
		break;
	}
}

void
breaker_report(struct breaker *b, uint64_t now_ms, struct breaker_ticket *t,
    enum try_outcome o, uint64_t duration_ms)
{
	struct breaker_pending pend = { .n = 0 };
	enum outcome_breaker e;

	if (!t->admitted)
		return;
	t->admitted = false;
	e = outcome_breaker_effect(o);

	pthread_mutex_lock(&b->mu);
	breaker_poll_locked(b, now_ms, &pend);
	/* Stale (admitted before a transition), or enforce would refuse it. */
	if (t->generation != b->generation || t->would_reject)
		goto out;
	switch (b->state) {
	case BREAKER_CLOSED:
		if (e == OUTCOME_B_RELEASE || e == OUTCOME_B_IGNORE)
			break;
		breaker_record(b, now_ms, o, e, duration_ms);
		breaker_check_closed(b, now_ms, &pend);
		break;
	case BREAKER_FORCED_CLOSED:
		/* Shown in /upstreams, but the operator decides the state. */
		if (e != OUTCOME_B_RELEASE && e != OUTCOME_B_IGNORE)
			breaker_record(b, now_ms, o, e, duration_ms);
		break;
	case BREAKER_HALF_OPEN:
		breaker_report_probe(b, now_ms, t, e, &pend);
		break;
	case BREAKER_OPEN:
	case BREAKER_FORCED_OPEN:
	case BREAKER__STATES:
		break;
	}
out:
	breaker_unlock(b, &pend);
}

uint64_t
breaker_poll(struct breaker *b, uint64_t now_ms)
{
	struct breaker_pending pend = { .n = 0 };
	uint64_t next;

	pthread_mutex_lock(&b->mu);
	breaker_poll_locked(b, now_ms, &pend);
	next = breaker_next_due(b, now_ms);
	breaker_unlock(b, &pend);
	return next;
}

void
breaker_force(struct breaker *b, uint64_t now_ms, enum breaker_force f)
{
	struct breaker_pending pend = { .n = 0 };
	enum breaker_state to = BREAKER_CLOSED;

	switch (f) {
	case BREAKER_FORCE_AUTO:
		to = BREAKER_CLOSED;
		break;
	case BREAKER_FORCE_OPEN:
		to = BREAKER_FORCED_OPEN;
		break;
	case BREAKER_FORCE_CLOSED:
		to = BREAKER_FORCED_CLOSED;
		break;
	}
	pthread_mutex_lock(&b->mu);
	breaker_poll_locked(b, now_ms, &pend);
	if (b->state != to)
		breaker_set_state(b, now_ms, to, BREAKER_R_OPERATOR, &pend);
	breaker_unlock(b, &pend);
}

void
breaker_snapshot(struct breaker *b, uint64_t now_ms, struct breaker_snapshot *s)
{
	struct breaker_pending pend = { .n = 0 };
	struct breaker_counts c;

	memset(s, 0, sizeof(*s));
	pthread_mutex_lock(&b->mu);
	breaker_poll_locked(b, now_ms, &pend);
	breaker_window_sum(b, now_ms, &c);
	s->state = b->state;
	s->dry_run = b->p.mode == BREAKER_MODE_DRY_RUN;
	s->calls = c.calls;
	s->throttled = c.throttled;
	s->failures = c.failures;
	s->slow = c.slow;
	s->consecutive = b->consecutive;
	if (b->state == BREAKER_OPEN)
		s->half_open_in_ms = breaker_diff(b->half_open_at_ms, now_ms);
	s->open_period_ms = b->open_period_ms;
	if (b->state == BREAKER_HALF_OPEN)
		s->probes_in_flight = breaker_slots_used(b);
	s->generation = b->generation;
	s->dry_run_rejects = b->dry_run_rejects;
	memcpy(s->transitions, b->transitions, sizeof(s->transitions));
	breaker_unlock(b, &pend);
}

enum breaker_state
breaker_state_now(struct breaker *b, uint64_t now_ms, bool *dry_run)
{
	struct breaker_pending pend = { .n = 0 };
	enum breaker_state st;

	pthread_mutex_lock(&b->mu);
	breaker_poll_locked(b, now_ms, &pend);
	st = b->state;
	if (dry_run != NULL)
		*dry_run = b->p.mode == BREAKER_MODE_DRY_RUN;
	breaker_unlock(b, &pend);
	return st;
}

unsigned
breaker_retry_after_s(struct breaker *b, uint64_t now_ms)
{
	struct breaker_pending pend = { .n = 0 };
	uint64_t ms = 0;
	uint64_t s;

	pthread_mutex_lock(&b->mu);
	breaker_poll_locked(b, now_ms, &pend);
	if (b->state == BREAKER_OPEN)
		ms = breaker_diff(b->half_open_at_ms, now_ms);
	else if (b->state == BREAKER_FORCED_OPEN)
		ms = b->p.open_for_ms;
	breaker_unlock(b, &pend);
	s = ms / 1000 + (ms % 1000 != 0);
	if (s < 1)
		s = 1;
	if (s > UINT32_MAX)
		s = UINT32_MAX;
	return (unsigned)s;
}

const char *
breaker_state_name(enum breaker_state s)
{
	if ((unsigned)s >= BREAKER__STATES)
		return "unknown";
	return breaker_state_names[s];
}

const char *
breaker_reason_name(enum breaker_reason r)
{
	if ((unsigned)r >= BREAKER__REASONS)
		return "unknown";
	return breaker_reason_names[r];
}
