/*
 * rng: random bytes for request IDs and trace IDs. One per worker thread
 * (no locking): a buffer refilled from the kernel's CSPRNG (getrandom),
 * so a request costs a memcpy, not a syscall. Tests use a fake one with a
 * fixed seed.
 */
#ifndef CUTOVER_RNG_H
#define CUTOVER_RNG_H

#include <stddef.h>
#include <stdint.h>

#define RNG_BUF 512

/* Owner: whoever embeds it; holds no heap memory. */
struct rng {
	uint8_t buf[RNG_BUF];
	size_t pos;	  /* next unused byte in buf */
	uint64_t state;	  /* fake generator state (tests) */
	int fake;	  /* 1: deterministic (splitmix64 from `state`) */
};

void rng_init(struct rng *r);			  /* kernel CSPRNG */
void rng_init_fake(struct rng *r, uint64_t seed); /* deterministic, for tests */
/* One step of Vigna's splitmix64 (the fake rng's generator; tests use it too). */
uint64_t rng_splitmix64(uint64_t *state);
void rng_bytes(struct rng *r, void *out, size_t n);
uint64_t rng_u64(struct rng *r);

#endif /* CUTOVER_RNG_H */
