/*
 * rng: a per-thread byte source for request IDs and trace IDs.
 *
 * The real generator keeps RNG_BUF bytes from the kernel's CSPRNG and hands
 * them out in order, refilling when they run out, so an ID costs a memcpy
 * and one syscall serves dozens of requests. The fake one fills the same
 * buffer from splitmix64, so a test sees the same bytes for the same seed
 * however it slices its reads.
 *
 * No locks: each worker thread owns its struct rng. A process that forks
 * must rng_init() again in the child, or both would hand out the same bytes.
 */
#include <sys/random.h>

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "cutover/log.h"
#include "cutover/rng.h"

static void rng_refill(struct rng *r);
static int rng_getrandom(uint8_t *buf, size_t n);
static int rng_urandom(uint8_t *buf, size_t n);

/*
 * getrandom(2) until n bytes arrived: it may stop short or be interrupted
 * by a signal. Returns 0, or -1 with errno set (ENOSYS on old kernels).
 */
static int
rng_getrandom(uint8_t *buf, size_t n)
{
	size_t got = 0;
	ssize_t k;

	while (got < n) {
		k = getrandom(buf + got, n - got, 0);
		if (k == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		got += (size_t)k;
	}
	return 0;
}

/* The fallback for kernels without getrandom(2). Returns 0 or -1. */
static int
rng_urandom(uint8_t *buf, size_t n)
{
	size_t got = 0;
	ssize_t k;
	int fd, saved;

	do
		fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	while (fd == -1 && errno == EINTR);
	if (fd == -1)
		return -1;
	while (got < n) {
		k = read(fd, buf + got, n - got);
		if (k == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (k == 0) {
			errno = EIO; /* a character device should never end */
			break;
		}
		got += (size_t)k;
	}
	saved = errno;
	close(fd);
	errno = saved;
	return got == n ? 0 : -1;
}

/* Sebastiano Vigna's splitmix64: one step, one 64-bit output. */
uint64_t
rng_splitmix64(uint64_t *state)
{
	uint64_t z;

	z = (*state += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/*
 * Fill the whole buffer and rewind. Without a kernel CSPRNG we cannot make
 * IDs that are safe to trust as unique, and no later request would do
 * better, so that is a fatal() and not an error to return.
 */
static void
rng_refill(struct rng *r)
{
	uint64_t v;
	size_t i, j;
	int gr_errno;

	if (r->fake) {
		/* Byte by byte, so the stream is the same on any endianness. */
		for (i = 0; i < RNG_BUF; i += 8) {
			v = rng_splitmix64(&r->state);
			for (j = 0; j < 8 && i + j < RNG_BUF; j++)
				r->buf[i + j] = (uint8_t)(v >> (8 * j));
		}
	} else if (rng_getrandom(r->buf, RNG_BUF) == -1) {
		gr_errno = errno;
		if (rng_urandom(r->buf, RNG_BUF) == -1)
			fatal("rng: no randomness: getrandom: %s; "
			    "/dev/urandom: %s", strerror(gr_errno),
			    strerror(errno));
	}
	r->pos = 0;
}

void
rng_init(struct rng *r)
{
	memset(r, 0, sizeof(*r));
	rng_refill(r);
}

void
rng_init_fake(struct rng *r, uint64_t seed)
{
	memset(r, 0, sizeof(*r));
	r->fake = 1;
	r->state = seed;
	rng_refill(r);
}

/* n bytes into out; any n, refilling as often as it takes. */
void
rng_bytes(struct rng *r, void *out, size_t n)
{
	uint8_t *o = out;
	size_t k;

	while (n > 0) {
		if (r->pos >= RNG_BUF)
			rng_refill(r);
		k = RNG_BUF - r->pos;
		if (k > n)
			k = n;
		memcpy(o, r->buf + r->pos, k);
		r->pos += k;
		o += k;
		n -= k;
	}
}

uint64_t
rng_u64(struct rng *r)
{
	uint64_t v;

	rng_bytes(r, &v, sizeof(v));
	return v;
}
