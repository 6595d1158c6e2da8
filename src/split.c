/*
 * split: weighted, sticky choice of a route's target (SPEC 4.5).
 *
 * Three pieces: SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast
 * short-input PRF", 2012), written here from the paper's description, so
 * the bucket of a key depends on nothing but the key, the seed and this
 * file; the bucket table, built once per configuration by weighted
 * rendezvous hashing; and the plain weighted draw for requests without a
 * key.
 *
 * Everything here is part of the external contract: a user's bucket, and
 * which target a bucket goes to, must not change between versions, or an
 * upgrade would move sticky users from one side of a migration to the
 * other. tests/unit/test_split.c pins the values.
 *
 * Pure: no clock, no I/O, no globals.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <openssl/evp.h>

#include "cutover/log.h"
#include "cutover/split.h"

/*
 * SipHash state for input fed in pieces: the table builder hashes a
 * bucket number followed by a name without copying them together.
 * Owner: the caller's stack; no heap memory.
 */
struct sip {
	uint64_t v0, v1, v2, v3;
	uint8_t tail[8]; /* input not yet making a whole word */
	size_t ntail;	 /* bytes used in tail, 0..7 */
	uint64_t total;	 /* bytes fed so far; its low byte ends the input */
};

static uint64_t sip_rotl(uint64_t x, unsigned b);
static uint64_t sip_le64(const uint8_t *p);
static void sip_round(struct sip *s);
static void sip_word(struct sip *s, uint64_t m);
static void sip_init(struct sip *s, const struct split_key *k);
static void sip_update(struct sip *s, const void *data, size_t len);
static uint64_t sip_final(struct sip *s);
static double split_score(const struct split_key *k, unsigned bucket,
    const char *name, uint32_t weight);

static uint64_t
sip_rotl(uint64_t x, unsigned b)
{
	return x << b | x >> (64 - b);
}

/* Eight bytes as a little-endian word, whatever the host's byte order. */
static uint64_t
sip_le64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* One SipRound: the ARX network of the paper's figure 2.1. */
static void
sip_round(struct sip *s)
{
	s->v0 += s->v1;
	s->v1 = sip_rotl(s->v1, 13) ^ s->v0;
	s->v0 = sip_rotl(s->v0, 32);
	s->v2 += s->v3;
	s->v3 = sip_rotl(s->v3, 16) ^ s->v2;
	s->v0 += s->v3;
	s->v3 = sip_rotl(s->v3, 21) ^ s->v0;
	s->v2 += s->v1;
	s->v1 = sip_rotl(s->v1, 17) ^ s->v2;
	s->v2 = sip_rotl(s->v2, 32);
}

/* Compression of one message word: c = 2 rounds. */
static void
sip_word(struct sip *s, uint64_t m)
{
	s->v3 ^= m;
	sip_round(s);
	sip_round(s);
	s->v0 ^= m;
}

/* The key xor'ed into the constants "somepseudorandomlygeneratedbytes". */
static void
sip_init(struct sip *s, const struct split_key *k)
{
	s->v0 = k->k0 ^ UINT64_C(0x736f6d6570736575);
	s->v1 = k->k1 ^ UINT64_C(0x646f72616e646f6d);
	s->v2 = k->k0 ^ UINT64_C(0x6c7967656e657261);
	s->v3 = k->k1 ^ UINT64_C(0x7465646279746573);
	s->ntail = 0;
	s->total = 0;
}

static void
sip_update(struct sip *s, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t k;

	s->total += len;
	if (s->ntail > 0) {
		k = 8 - s->ntail;
		if (k > len)
			k = len;
		memcpy(s->tail + s->ntail, p, k);
		s->ntail += k;
		p += k;
		len -= k;
		if (s->ntail < 8)
			return;
		sip_word(s, sip_le64(s->tail));
		s->ntail = 0;
	}
	for (; len >= 8; p += 8, len -= 8)
		sip_word(s, sip_le64(p));
	memcpy(s->tail, p, len);
	s->ntail = len;
}

/*
 * The last word holds the 0..7 leftover bytes and, in its top byte, the
 * input's length mod 256; then d = 4 finalisation rounds.
 */
static uint64_t
sip_final(struct sip *s)
{
	uint64_t m = (s->total & 0xff) << 56;
	size_t i;

	for (i = 0; i < s->ntail; i++)
		m |= (uint64_t)s->tail[i] << (8 * i);
	sip_word(s, m);
	s->v2 ^= 0xff;
	sip_round(s);
	sip_round(s);
	sip_round(s);
	sip_round(s);
	return s->v0 ^ s->v1 ^ s->v2 ^ s->v3;
}

/*
 * SHA-256 so that any seed, short or long, spreads over the whole key;
 * OpenSSL failing to digest a few bytes in memory is a broken install,
 * not bad input.
 */
void
split_key_from_seed(struct split_key *k, const char *seed, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (EVP_Digest(seed, len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen < 16)
		fatal("split: SHA-256 of the seed failed");
	k->k0 = sip_le64(md);
	k->k1 = sip_le64(md + 8);
}

uint64_t
split_hash(const struct split_key *k, const void *data, size_t len)
{
	struct sip s;

	sip_init(&s, k);
	sip_update(&s, data, len);
	return sip_final(&s);
}

/*
 * The modulo bias is 2^64 mod 10000 in 2^64: nothing a traffic share
 * could show.
 */
unsigned
split_bucket(const struct split_key *k, const void *data, size_t len)
{
	return (unsigned)(split_hash(k, data, len) % SPLIT_BUCKETS);
}

/*
 * Target `name`'s score for `bucket`: weight / -ln(U), U uniform in
 * (0, 1) from the top 53 bits of the hash of the bucket (two bytes,
 * little-endian) and the name. For a bucket the target with the highest
 * score wins, and the chance that target i wins is exactly w_i / sum(w):
 * -ln(U) is exponential with rate 1, so score_i is exponential with rate
 * 1/w_i and the largest of them is i's with that probability. A target's
 * score depends only on its own weight and name, which is what makes the
 * table move only the buckets it must when weights or targets change.
 */
static double
split_score(const struct split_key *k, unsigned bucket, const char *name,
    uint32_t weight)
{
	uint8_t b[2] = { (uint8_t)bucket, (uint8_t)(bucket >> 8) };
	struct sip s;
	double u;

	sip_init(&s, k);
	sip_update(&s, b, sizeof(b));
	sip_update(&s, name, strlen(name));
	/* +0.5 keeps U off both 0 and 1, so -ln(U) is finite and > 0. */
	u = ((double)(sip_final(&s) >> 11) + 0.5) / 9007199254740992.0;
	return (double)weight / -log(u);
}

/*
 * Ties go to the lower index (only a strictly higher score replaces the
 * best); weight 0 never competes. With no positive weight (outside the
 * contract) every bucket goes to target 0 rather than being left unset.
 */
void
split_table_build(struct split_table *t, const struct split_key *k,
    const char *const *names, const uint32_t *weights, size_t n)
{
	double best, score;
	unsigned b;
	size_t i, win;

	if (n > SPLIT_MAX_TARGETS)
		n = SPLIT_MAX_TARGETS;
	for (b = 0; b < SPLIT_BUCKETS; b++) {
		win = 0;
		best = 0.0;
		for (i = 0; i < n; i++) {
			if (weights[i] == 0)
				continue;
			score = split_score(k, b, names[i], weights[i]);
			if (score > best) {
				best = score;
				win = i;
			}
		}
		t->target[b] = (uint8_t)win;
	}
}

/*
 * random mod the total weight, then the target whose stretch of
 * [0, total) holds it. The total is at most 64 * (2^32 - 1), so the
 * modulo bias is below 2^-25. With no positive weight (outside the
 * contract) the answer is 0.
 */
size_t
split_draw(const uint32_t *weights, size_t n, uint64_t random)
{
	uint64_t total = 0, r;
	size_t i;

	for (i = 0; i < n; i++)
		total += weights[i];
	if (total == 0)
		return 0;
	r = random % total;
	for (i = 0; i < n; i++) {
		if (r < weights[i])
			return i;
		r -= weights[i];
	}
	return 0; /* not reached: r < total */
}
