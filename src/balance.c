/* balance: smooth weighted round-robin. */
#include <stdlib.h>

#include "cutover/balance.h"
#include "cutover/strbuf.h"

void
balance_init(struct balance *b, size_t n)
{
	b->n = n;
	b->current = xcalloc(n ? n : 1, sizeof(*b->current));
}

void
balance_free(struct balance *b)
{
	free(b->current);
	b->current = NULL;
	b->n = 0;
}

/*
 * Each pick adds every weight to its server's running score, chooses the
 * highest score and takes the total off the winner: heavy servers win
 * often, yet never many times in a row when lighter ones are due.
 */
size_t
balance_pick(struct balance *b, const unsigned *weights)
{
	int64_t total = 0;
	size_t best = 0;

	if (b->n <= 1)
		return 0;
	for (size_t i = 0; i < b->n; i++) {
		b->current[i] += weights[i];
		total += weights[i];
		if (b->current[i] > b->current[best])
			best = i;
	}
	b->current[best] -= total;
	return best;
}

/*
 * The same over the servers `usable` marks (health, or "not the one that
 * just failed"); the others neither score nor win. SIZE_MAX when none is.
 */
size_t
balance_pick_among(struct balance *b, const unsigned *weights,
    const bool *usable)
{
	int64_t total = 0;
	size_t best = SIZE_MAX;

	for (size_t i = 0; i < b->n; i++) {
		if (!usable[i])
			continue;
		b->current[i] += weights[i];
		total += weights[i];
		if (best == SIZE_MAX || b->current[i] > b->current[best])
			best = i;
	}
	if (best != SIZE_MAX)
		b->current[best] -= total;
	return best;
}

/*
 * Which server balance_pick_among would choose, without moving the
 * scores: a retry's pick must not shift the rotation of first tries.
 */
size_t
balance_peek_among(const struct balance *b, const unsigned *weights,
    const bool *usable)
{
	size_t best = SIZE_MAX;

	for (size_t i = 0; i < b->n; i++) {
		if (!usable[i])
			continue;
		if (best == SIZE_MAX ||
		    b->current[i] + weights[i] > b->current[best] + weights[best])
			best = i;
	}
	return best;
}
