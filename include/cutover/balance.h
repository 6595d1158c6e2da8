/*
 * balance: smooth weighted round-robin (the nginx algorithm): over every
 * cycle of sum(weights) picks, server i is chosen exactly weight[i] times,
 * and the picks are interleaved rather than bunched.
 * Pure: no clock, no randomness, no I/O.
 */
#ifndef CUTOVER_BALANCE_H
#define CUTOVER_BALANCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Per-upstream picker state. Owner: whoever embeds it (one per worker per
 * upstream); balance_init allocates `current`, balance_free releases it.
 */
struct balance {
	size_t n;
	int64_t *current;
};

void balance_init(struct balance *b, size_t n);
void balance_free(struct balance *b);
/* Index of the next server given the weights (each >= 1). */
size_t balance_pick(struct balance *b, const unsigned *weights);
/* Among the servers with usable[i] only; SIZE_MAX when none is usable. */
size_t balance_pick_among(struct balance *b, const unsigned *weights,
    const bool *usable);
/* The server balance_pick_among would choose now, leaving the scores alone. */
size_t balance_peek_among(const struct balance *b, const unsigned *weights,
    const bool *usable);

#endif /* CUTOVER_BALANCE_H */
