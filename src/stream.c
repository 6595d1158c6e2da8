/*
 * stream: non-blocking socket I/O with evbuffers; see stream.h for why.
 *
 * Timer rule: one timer per stream. While output is pending and blocked it
 * measures the write stall; otherwise, while reading, the read gap. Every
 * byte of progress re-arms it.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "cutover/stream.h"
#include "cutover/timer.h"

#define STREAM_READ_CHUNK 16384
#define STREAM_READ_ROUNDS 4

static void stream_readcb(evutil_socket_t fd, short what, void *arg);
static void stream_writecb(evutil_socket_t fd, short what, void *arg);
static void stream_timercb(evutil_socket_t fd, short what, void *arg);
static void stream_arm_timer(struct stream *s);
static int stream_write_now(struct stream *s);
static void stream_setup(struct stream *s, struct event_base *base, int fd,
    const struct stream_ops *ops, void *arg);

static void
stream_setup(struct stream *s, struct event_base *base, int fd,
    const struct stream_ops *ops, void *arg)
{
	memset(s, 0, sizeof(*s));
	s->fd = fd;
	s->base = base;
	s->ops = ops;
	s->arg = arg;
	s->flags = STREAM_F_OPEN;
	s->in = evbuffer_new();
	s->out = evbuffer_new();
	event_assign(&s->rev, base, fd, EV_READ | EV_PERSIST, stream_readcb, s);
	event_assign(&s->wev, base, fd, EV_WRITE | EV_PERSIST, stream_writecb, s);
	evtimer_assign(&s->tev, base, stream_timercb, s);
}

void
stream_init(struct stream *s, struct event_base *base, int fd,
    const struct stream_ops *ops, void *arg)
{
	stream_setup(s, base, fd, ops, arg);
}

int
stream_connect(struct stream *s, struct event_base *base,
    const struct sockaddr *sa, socklen_t salen, const struct stream_ops *ops,
    void *arg)
{
	int one = 1;
	int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd == -1)
		return -1;
	if (sa->sa_family != AF_UNIX)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	stream_setup(s, base, fd, ops, arg);
	if (connect(fd, sa, salen) == -1) {
		if (errno != EINPROGRESS) {
			int e = errno;
			stream_close(s);
			errno = e;
			return -1;
		}
	}
	/* Even an immediate success is reported from the loop, as promised. */
	s->flags |= STREAM_F_CONNECTING;
	event_add(&s->wev, NULL);
	s->flags |= STREAM_F_WANT_WRITE;
	return 0;
}

void
stream_close(struct stream *s)
{
	if (!(s->flags & STREAM_F_OPEN))
		return;
	event_del(&s->rev);
	event_del(&s->wev);
	event_del(&s->tev);
	if (s->fd != -1)
		close(s->fd);
	s->fd = -1;
	evbuffer_free(s->in);
	evbuffer_free(s->out);
	s->in = s->out = NULL;
	s->flags = 0;
}

void
stream_set_ops(struct stream *s, const struct stream_ops *ops, void *arg)
{
	s->ops = ops;
	s->arg = arg;
}

void
stream_read_start(struct stream *s)
{
	if ((s->flags & (STREAM_F_READING | STREAM_F_EOF)) || !(s->flags & STREAM_F_OPEN))
		return;
	s->flags |= STREAM_F_READING;
	event_add(&s->rev, NULL);
	stream_arm_timer(s);
}

void
stream_read_stop(struct stream *s)
{
	if (!(s->flags & STREAM_F_READING))
		return;
	s->flags &= ~STREAM_F_READING;
	event_del(&s->rev);
	stream_arm_timer(s);
}

void
stream_set_timeouts(struct stream *s, uint64_t read_ms, uint64_t write_ms)
{
	s->read_timeout_ms = read_ms;
	s->write_timeout_ms = write_ms;
	stream_arm_timer(s);
}

void
stream_watch_drain(struct stream *s, size_t low)
{
	s->out_low = low;
	s->flags |= STREAM_F_WATCH_DRAIN;
}

static void
stream_arm_timer(struct stream *s)
{
	uint64_t ms = 0;

	if ((s->flags & STREAM_F_WANT_WRITE) && s->write_timeout_ms)
		ms = s->write_timeout_ms;
	else if ((s->flags & STREAM_F_READING) && s->read_timeout_ms)
		ms = s->read_timeout_ms;
	timer_arm(&s->tev, ms);
}

/* Returns 0 when all written or would block, -1 on error (errno saved). */
static int
stream_write_now(struct stream *s)
{
	while (evbuffer_get_length(s->out) > 0) {
		int n = evbuffer_write(s->out, s->fd);

		if (n > 0) {
			s->bytes_out += (uint64_t)n;
			continue;
		}
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n == -1 && errno == EINTR)
			continue;
		s->saved_errno = n == 0 ? EPIPE : errno;
		return -1;
	}
	return 0;
}

void
stream_flush(struct stream *s)
{
	if (!(s->flags & STREAM_F_OPEN) || (s->flags & STREAM_F_CONNECTING))
		return;
	if ((s->flags & STREAM_F_WANT_WRITE) == 0) {
		if (stream_write_now(s) == -1) {
			/* Reported from the loop: arm wev so the error surfaces there. */
			s->flags |= STREAM_F_WANT_WRITE;
			event_add(&s->wev, NULL);
			return;
		}
		if (evbuffer_get_length(s->out) > 0) {
			s->flags |= STREAM_F_WANT_WRITE;
			event_add(&s->wev, NULL);
			stream_arm_timer(s);
		} else if (s->flags & STREAM_F_SHUT_WR) {
			(void)shutdown(s->fd, SHUT_WR);
		}
	}
}

void
stream_shutdown_wr(struct stream *s)
{
	s->flags |= STREAM_F_SHUT_WR;
	if (evbuffer_get_length(s->out) == 0 && !(s->flags & STREAM_F_CONNECTING))
		(void)shutdown(s->fd, SHUT_WR);
}

static void
stream_readcb(evutil_socket_t fd, short what, void *arg)
{
	struct stream *s = arg;
	struct evbuffer_iovec v[2];
	int nv;
	ssize_t n = 0;
	size_t got = 0;

	(void)what;
	/*
	 * A full read means more is likely waiting: take up to a few chunks
	 * per wakeup (bulk transfers then cost fewer epoll_wait calls), and
	 * call the owner once, last.
	 */
	for (int round = 0; round < STREAM_READ_ROUNDS; round++) {
		size_t want = 0;

		nv = evbuffer_reserve_space(s->in, STREAM_READ_CHUNK, v, 2);
		if (nv <= 0)
			break;
		for (int i = 0; i < nv; i++)
			want += v[i].iov_len;
		n = readv(fd, (struct iovec *)v, nv);
		if (n <= 0) {
			evbuffer_commit_space(s->in, v, 0);
			if (got > 0)
				break; /* report what we have; EOF or error comes next time */
			goto nothing;
		}
		size_t left = (size_t)n;
		for (int i = 0; i < nv; i++) {
			size_t take = left < v[i].iov_len ? left : v[i].iov_len;
			v[i].iov_len = take;
			left -= take;
		}
		evbuffer_commit_space(s->in, v, nv);
		got += (size_t)n;
		if ((size_t)n < want)
			break;
	}
	if (got > 0) {
		s->bytes_in += got;
		stream_arm_timer(s);
		s->ops->on_read(s, s->arg);
		return;
	}
	return;
nothing:
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n == 0) {
		s->flags |= STREAM_F_EOF;
		stream_read_stop(s);
		s->ops->on_event(s, STREAM_EV_EOF, s->arg);
		return;
	}
	s->saved_errno = errno;
	stream_read_stop(s);
	s->ops->on_event(s, STREAM_EV_ERROR, s->arg);
}

static void
stream_writecb(evutil_socket_t fd, short what, void *arg)
{
	struct stream *s = arg;
	size_t before;

	(void)what;
	if (s->flags & STREAM_F_CONNECTING) {
		int err = 0;
		socklen_t len = sizeof(err);

		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
			err = errno;
		s->flags &= ~(STREAM_F_CONNECTING | STREAM_F_WANT_WRITE);
		event_del(&s->wev);
		s->saved_errno = err;
		/*
		 * The callback is the last thing we do: the owner may free us
		 * in it. Output queued while connecting goes out when the
		 * owner calls stream_flush() from CONNECTED.
		 */
		s->ops->on_event(s, err ? STREAM_EV_ERROR : STREAM_EV_CONNECTED,
		    s->arg);
		return;
	}
	before = evbuffer_get_length(s->out);
	if (stream_write_now(s) == -1) {
		event_del(&s->wev);
		s->flags &= ~STREAM_F_WANT_WRITE;
		s->ops->on_event(s, STREAM_EV_ERROR, s->arg);
		return;
	}
	if (evbuffer_get_length(s->out) == 0) {
		event_del(&s->wev);
		s->flags &= ~STREAM_F_WANT_WRITE;
		if (s->flags & STREAM_F_SHUT_WR)
			(void)shutdown(s->fd, SHUT_WR);
	}
	if (evbuffer_get_length(s->out) != before)
		stream_arm_timer(s);
	if ((s->flags & STREAM_F_WATCH_DRAIN) &&
	    evbuffer_get_length(s->out) <= s->out_low) {
		s->flags &= ~STREAM_F_WATCH_DRAIN;
		s->ops->on_drain(s, s->arg);
	}
}

static void
stream_timercb(evutil_socket_t fd, short what, void *arg)
{
	struct stream *s = arg;

	(void)fd;
	(void)what;
	if ((s->flags & STREAM_F_WANT_WRITE) && s->write_timeout_ms)
		s->ops->on_event(s, STREAM_EV_WRITE_TIMEOUT, s->arg);
	else
		s->ops->on_event(s, STREAM_EV_READ_TIMEOUT, s->arg);
}
