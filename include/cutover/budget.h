/*
 * budget: the retry budget of one upstream (SPEC 4.3), shared by every
 * worker (one mutex). A rate: over the last `window` seconds (1 s
 * buckets), retries may be at most `ratio` of the first tries, and on top
 * of that `min_per_second` retries are allowed in any one second.
 * Retries are counted when they are scheduled, so retries waiting in
 * backoff are already spent. Time comes in as arguments.
 */
#ifndef CUTOVER_BUDGET_H
#define CUTOVER_BUDGET_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct budget_bucket {
	uint64_t sec; /* the second it counts (now_ms / 1000) */
	uint64_t firsts, retries;
};

/* Owner: whoever embeds it; budget_init allocates the ring, budget_destroy frees it. */
struct retry_budget {
	pthread_mutex_t mu;
	uint32_t ratio_ppm;
	uint32_t window_s; /* 1..3600 */
	uint32_t min_per_second;
	struct budget_bucket *ring;
	uint64_t exhausted; /* retries refused, ever */
};

void budget_init(struct retry_budget *b, uint32_t ratio_ppm,
    uint64_t window_ms, uint32_t min_per_second);
void budget_destroy(struct retry_budget *b);
/* A request's first try went out. */
void budget_first_try(struct retry_budget *b, uint64_t now_ms);
/* May a retry be scheduled now? true: it is counted; false: counted as exhausted. */
bool budget_try_spend(struct retry_budget *b, uint64_t now_ms);

struct budget_snapshot {
	uint64_t firsts, retries; /* in the window */
	uint64_t exhausted;
};
void budget_snapshot(struct retry_budget *b, uint64_t now_ms,
    struct budget_snapshot *s);

#endif /* CUTOVER_BUDGET_H */
