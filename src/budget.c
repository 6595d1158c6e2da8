/*
 * budget: the retry budget (SPEC 4.3). A ring of one-second buckets, one
 * per second of the window; a bucket is found by `sec % window_s` and
 * reset when it is reused for a later second, so nothing ever has to run
 * on a timer to age the counts out.
 *
 * Why a budget at all: when an upstream fails as a whole, every request
 * fails and every request asks for a retry; without a cap the retries
 * multiply the load on what is already down. The ratio keeps retries a
 * bounded share of real traffic, and the per-second floor still lets a
 * quiet upstream retry its rare failures.
 */
#include <stdlib.h>

#include "cutover/budget.h"
#include "cutover/strbuf.h"

#define BUDGET_PPM	     1000000u
#define BUDGET_WINDOW_MAX_S 3600u

static struct budget_bucket *budget_bucket_now(struct retry_budget *b,
    uint64_t sec);
static void budget_sum(const struct retry_budget *b, uint64_t sec,
    uint64_t *firsts, uint64_t *retries);
static bool budget_ratio_allows(uint32_t ratio_ppm, uint64_t firsts,
    uint64_t retries);

void
budget_init(struct retry_budget *b, uint32_t ratio_ppm, uint64_t window_ms,
    uint32_t min_per_second)
{
	uint64_t w = window_ms / 1000;

	if (w < 1)
		w = 1;
	if (w > BUDGET_WINDOW_MAX_S)
		w = BUDGET_WINDOW_MAX_S;
	pthread_mutex_init(&b->mu, NULL);
	b->ratio_ppm = ratio_ppm;
	b->window_s = (uint32_t)w;
	b->min_per_second = min_per_second;
	b->ring = xcalloc(b->window_s, sizeof(*b->ring));
	b->exhausted = 0;
}

void
budget_destroy(struct retry_budget *b)
{
	free(b->ring);
	b->ring = NULL;
	pthread_mutex_destroy(&b->mu);
}

/* The bucket of second `sec`, emptied first if it still holds an older second. Under mu. */
static struct budget_bucket *
budget_bucket_now(struct retry_budget *b, uint64_t sec)
{
	struct budget_bucket *k = &b->ring[sec % b->window_s];

	if (k->sec != sec) {
		k->sec = sec;
		k->firsts = 0;
		k->retries = 0;
	}
	return k;
}

/* Counts over the window ending at second `sec` (buckets with sec - window_s < k->sec <= sec). Under mu. */
static void
budget_sum(const struct retry_budget *b, uint64_t sec, uint64_t *firsts,
    uint64_t *retries)
{
	*firsts = 0;
	*retries = 0;
	for (uint32_t i = 0; i < b->window_s; i++) {
		const struct budget_bucket *k = &b->ring[i];

		if (k->sec > sec || k->sec + b->window_s <= sec)
			continue;
		*firsts += k->firsts;
		*retries += k->retries;
	}
}

/*
 * One more retry keeps retries within ratio_ppm of the first tries:
 * (retries + 1) * 1e6 <= ratio_ppm * firsts, in integers (no rounding at
 * the edge), saturating rather than wrapping on absurd counts.
 */
static bool
budget_ratio_allows(uint32_t ratio_ppm, uint64_t firsts, uint64_t retries)
{
	uint64_t want, have;

	if (retries >= UINT64_MAX / BUDGET_PPM)
		return false;
	want = (retries + 1) * BUDGET_PPM;
	if (ratio_ppm != 0 && firsts > UINT64_MAX / ratio_ppm)
		return true;
	have = (uint64_t)ratio_ppm * firsts;
	return want <= have;
}

void
budget_first_try(struct retry_budget *b, uint64_t now_ms)
{
	pthread_mutex_lock(&b->mu);
	budget_bucket_now(b, now_ms / 1000)->firsts++;
	pthread_mutex_unlock(&b->mu);
}

bool
budget_try_spend(struct retry_budget *b, uint64_t now_ms)
{
	uint64_t sec = now_ms / 1000, firsts, retries;
	struct budget_bucket *k;
	bool ok;

	pthread_mutex_lock(&b->mu);
	k = budget_bucket_now(b, sec);
	budget_sum(b, sec, &firsts, &retries);
	ok = budget_ratio_allows(b->ratio_ppm, firsts, retries) ||
	    k->retries < b->min_per_second;
	if (ok)
		k->retries++;
	else
		b->exhausted++;
	pthread_mutex_unlock(&b->mu);
	return ok;
}

void
budget_snapshot(struct retry_budget *b, uint64_t now_ms,
    struct budget_snapshot *s)
{
	pthread_mutex_lock(&b->mu);
	budget_sum(b, now_ms / 1000, &s->firsts, &s->retries);
	s->exhausted = b->exhausted;
	pthread_mutex_unlock(&b->mu);
}
