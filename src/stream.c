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
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "cutover/stream.h"
#include "cutover/timer.h"
#include "cutover/tls.h"

#define STREAM_READ_CHUNK 16384
#define STREAM_READ_ROUNDS 4
#define STREAM_TLS_RECORD 16384 /* one full TLS record per SSL_write */

/* stream_write_now(): all written or the kernel is full / waiting on a read. */
#define STREAM_WRITE_OK 0
#define STREAM_WRITE_NEEDS_READ 1 /* TLS: the write goes on once readable */
#define STREAM_WRITE_ERROR (-1)

static void stream_readcb(evutil_socket_t fd, short what, void *arg);
static void stream_writecb(evutil_socket_t fd, short what, void *arg);
static void stream_timercb(evutil_socket_t fd, short what, void *arg);
static void stream_arm_timer(struct stream *s);
static int stream_write_now(struct stream *s);
static void stream_setup(struct stream *s, struct event_base *base, int fd,
    const struct stream_ops *ops, void *arg);
static void stream_write_ready(struct stream *s);
static void stream_read_some(struct stream *s);
static bool stream_tls_handshake(struct stream *s);
static void stream_tls_want(struct stream *s, uint32_t need);
static void stream_tls_unwant(struct stream *s);
static void stream_shut(struct stream *s);
static bool stream_tls_plain_http(struct stream *s);
static void stream_tls_failed(struct stream *s);
static bool stream_tls_may_notify(const struct stream *s);

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
	if (s->ssl != NULL) {
		/* A clean end, with all our data written (as nginx does). */
		if (stream_tls_may_notify(s) && !(s->flags & STREAM_F_SHUT_DONE) &&
		    evbuffer_get_length(s->out) == 0 && s->tls_wlen == 0) {
			errno = 0;
			(void)SSL_shutdown(s->ssl);
		}
		SSL_free(s->ssl);
		s->ssl = NULL;
		ERR_clear_error();
	}
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
	/* Plaintext already decrypted inside the SSL makes the socket no noise. */
	if (s->ssl != NULL && !(s->flags & STREAM_F_TLS_HANDSHAKE) &&
	    SSL_has_pending(s->ssl))
		event_active(&s->rev, EV_READ, 1);
}

void
stream_read_stop(struct stream *s)
{
	if (!(s->flags & STREAM_F_READING))
		return;
	s->flags &= ~STREAM_F_READING;
	if (!(s->flags & STREAM_F_TLS_NEED_READ))
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

/*
 * Write some of s->out over TLS: bytes written, or -1 with errno (EAGAIN:
 * not now). Output goes in full records, pulled up to one contiguous
 * block; a write that has to wait is repeated with the same length, as
 * OpenSSL requires (the buffer only grows behind it meanwhile).
 */
static int
stream_tls_send(struct stream *s)
{
	size_t len = evbuffer_get_length(s->out);
	int wlen = s->tls_wlen != 0 ? s->tls_wlen :
	    (int)(len < STREAM_TLS_RECORD ? len : STREAM_TLS_RECORD);
	unsigned char *p;
	int n;

	/* After a fatal error OpenSSL answers SYSCALL with no errno of its own. */
	if (s->flags & STREAM_F_TLS_FAILED) {
		errno = EPROTO;
		return -1;
	}
	p = evbuffer_pullup(s->out, wlen);
	ERR_clear_error();
	errno = 0; /* SSL_ERROR_SYSCALL with errno 0 is an EOF, never an old errno */
	n = SSL_write(s->ssl, p, wlen);
	if (n > 0) {
		s->tls_wlen = 0;
		evbuffer_drain(s->out, (size_t)n);
		return n;
	}
	s->tls_wlen = wlen;
	switch (SSL_get_error(s->ssl, n)) {
	case SSL_ERROR_WANT_WRITE:
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_WANT_READ:
		stream_tls_want(s, STREAM_F_TLS_NEED_READ);
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_SYSCALL:
		if (errno == 0)
			errno = EPIPE;
		stream_tls_failed(s);
		return -1;
	default:
		stream_tls_failed(s);
		errno = EPROTO;
		return -1;
	}
}

/* STREAM_WRITE_OK when all written or the kernel is full; see the defines. */
static int
stream_write_now(struct stream *s)
{
	while (evbuffer_get_length(s->out) > 0) {
		int n = s->ssl != NULL ? stream_tls_send(s) :
		    evbuffer_write(s->out, s->fd);

		if (n > 0) {
			s->bytes_out += (uint64_t)n;
			continue;
		}
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return (s->flags & STREAM_F_TLS_NEED_READ) ?
			    STREAM_WRITE_NEEDS_READ : STREAM_WRITE_OK;
		if (n == -1 && errno == EINTR)
			continue;
		s->saved_errno = n == 0 ? EPIPE : errno;
		return STREAM_WRITE_ERROR;
	}
	return STREAM_WRITE_OK;
}

void
stream_flush(struct stream *s)
{
	if (!(s->flags & STREAM_F_OPEN) || (s->flags & STREAM_F_CONNECTING))
		return;
	if ((s->flags & (STREAM_F_WANT_WRITE | STREAM_F_TLS_NEED_READ)) == 0) {
		int rc = stream_write_now(s);

		if (rc == STREAM_WRITE_ERROR) {
			/* Reported from the loop: arm wev so the error surfaces there. */
			s->flags |= STREAM_F_WANT_WRITE;
			event_add(&s->wev, NULL);
			return;
		}
		if (rc == STREAM_WRITE_NEEDS_READ)
			return; /* rev resumes it */
		if (evbuffer_get_length(s->out) > 0) {
			s->flags |= STREAM_F_WANT_WRITE;
			event_add(&s->wev, NULL);
			stream_arm_timer(s);
		} else if (s->flags & STREAM_F_SHUT_WR) {
			stream_shut(s);
		}
	}
}

/*
 * The write side ends, once: close_notify first over TLS (unless the data
 * was cut), then the FIN. A second SSL_shutdown would wait for the peer's
 * close_notify and read away what the owner still wants to read.
 */
static void
stream_shut(struct stream *s)
{
	if (s->flags & STREAM_F_SHUT_DONE)
		return;
	s->flags |= STREAM_F_SHUT_DONE;
	if (stream_tls_may_notify(s)) {
		ERR_clear_error();
		errno = 0;
		(void)SSL_shutdown(s->ssl);
		ERR_clear_error();
	}
	(void)shutdown(s->fd, SHUT_WR);
}

void
stream_cut(struct stream *s)
{
	s->flags |= STREAM_F_CUT;
}

void
stream_shutdown_wr(struct stream *s)
{
	s->flags |= STREAM_F_SHUT_WR;
	if (evbuffer_get_length(s->out) == 0 && !(s->flags & STREAM_F_CONNECTING))
		stream_shut(s);
}

/* Read into v: bytes, 0 at EOF, -1 with errno (EAGAIN: nothing now). */
static ssize_t
stream_recv(struct stream *s, struct evbuffer_iovec *v, int nv)
{
	int n;

	if (s->ssl == NULL)
		return readv(s->fd, (struct iovec *)v, nv);
	if (s->flags & STREAM_F_TLS_FAILED) {
		errno = EPROTO;
		return -1;
	}
	ERR_clear_error();
	errno = 0;
	n = SSL_read(s->ssl, v[0].iov_base, (int)v[0].iov_len);
	if (n > 0)
		return n;
	switch (SSL_get_error(s->ssl, n)) {
	case SSL_ERROR_ZERO_RETURN:
		return 0; /* close_notify, or a plain EOF (IGNORE_UNEXPECTED_EOF) */
	case SSL_ERROR_WANT_READ:
		errno = EAGAIN; /* a partial record, or a post-handshake message */
		return -1;
	case SSL_ERROR_WANT_WRITE:
		stream_tls_want(s, STREAM_F_TLS_NEED_WRITE);
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_SYSCALL:
		stream_tls_failed(s);
		return errno == 0 ? 0 : -1;
	default:
		stream_tls_failed(s);
		errno = EPROTO;
		return -1;
	}
}

static void
stream_readcb(evutil_socket_t fd, short what, void *arg)
{
	struct stream *s = arg;

	(void)fd;
	(void)what;
	if ((s->flags & STREAM_F_TLS_HANDSHAKE) && stream_tls_plain_http(s)) {
		/* Plain HTTP on a TLS port: read it in clear, for the owner's 400. */
		SSL_free(s->ssl);
		s->ssl = NULL;
		s->flags &= ~STREAM_F_TLS_HANDSHAKE;
		s->flags |= STREAM_F_PLAIN_ON_TLS;
		stream_tls_unwant(s);
	} else if (s->flags & STREAM_F_TLS_HANDSHAKE) {
		/* Waiting to write: a readable socket changes nothing (no spin). */
		if ((s->flags & STREAM_F_TLS_NEED_WRITE) &&
		    !(s->flags & STREAM_F_TLS_NEED_READ))
			return;
		stream_tls_unwant(s);
		if (!stream_tls_handshake(s))
			return;
	} else if (s->flags & STREAM_F_TLS_NEED_READ) {
		/* A TLS write was waiting for this; reading resumes next turn. */
		stream_tls_unwant(s);
		stream_write_ready(s);
		return;
	}
	if (s->flags & STREAM_F_READING)
		stream_read_some(s);
}

static void
stream_read_some(struct stream *s)
{
	struct evbuffer_iovec v[2];
	int nv;
	ssize_t n = 0;
	size_t got = 0;

	/*
	 * A full read means more is likely waiting: take up to a few chunks
	 * per wakeup (bulk transfers then cost fewer epoll_wait calls), and
	 * call the owner once, last. Over TLS one record a read, into one
	 * contiguous block.
	 */
	for (int round = 0; round < STREAM_READ_ROUNDS; round++) {
		size_t want = 0;

		nv = evbuffer_reserve_space(s->in, STREAM_READ_CHUNK, v,
		    s->ssl != NULL ? 1 : 2);
		if (nv <= 0)
			break;
		for (int i = 0; i < nv; i++)
			want += v[i].iov_len;
		n = stream_recv(s, v, nv);
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
		/* What the SSL holds decrypted, the socket will not announce. */
		if (s->ssl != NULL && SSL_has_pending(s->ssl))
			event_active(&s->rev, EV_READ, 1);
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

	(void)what;
	if (s->flags & STREAM_F_TLS_HANDSHAKE) {
		stream_tls_unwant(s);
		if (stream_tls_handshake(s) && (s->flags & STREAM_F_READING))
			stream_read_some(s);
		return;
	}
	if (s->flags & STREAM_F_CONNECTING) {
		int err = 0;
		socklen_t len = sizeof(err);

		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
			err = errno;
		s->flags &= ~(STREAM_F_CONNECTING | STREAM_F_WANT_WRITE);
		event_del(&s->wev);
		s->saved_errno = err;
		if (err == 0 && s->ssl != NULL) {
			/*
			 * Connected only once the handshake is done; the owner's
			 * connect timer covers it, no write-stall timer does.
			 */
			s->flags |= STREAM_F_CONNECTING | STREAM_F_TLS_HANDSHAKE;
			stream_arm_timer(s);
			(void)stream_tls_handshake(s);
			return;
		}
		/*
		 * The callback is the last thing we do: the owner may free us
		 * in it. Output queued while connecting goes out when the
		 * owner calls stream_flush() from CONNECTED.
		 */
		s->ops->on_event(s, err ? STREAM_EV_ERROR : STREAM_EV_CONNECTED,
		    s->arg);
		return;
	}
	if (s->flags & STREAM_F_TLS_NEED_WRITE) {
		/* A TLS read was waiting for this. */
		stream_tls_unwant(s);
		if (s->flags & STREAM_F_READING) {
			stream_read_some(s);
			return;
		}
	}
	if (s->flags & STREAM_F_WANT_WRITE)
		stream_write_ready(s);
}

/* The socket takes output again: write, then tell the owner what it asked for. */
static void
stream_write_ready(struct stream *s)
{
	size_t before = evbuffer_get_length(s->out);
	int rc = stream_write_now(s);

	if (rc == STREAM_WRITE_ERROR) {
		event_del(&s->wev);
		s->flags &= ~STREAM_F_WANT_WRITE;
		s->ops->on_event(s, STREAM_EV_ERROR, s->arg);
		return;
	}
	if (evbuffer_get_length(s->out) == 0 || rc == STREAM_WRITE_NEEDS_READ) {
		event_del(&s->wev);
		s->flags &= ~STREAM_F_WANT_WRITE;
		if (evbuffer_get_length(s->out) == 0 && (s->flags & STREAM_F_SHUT_WR))
			stream_shut(s);
	} else if (!(s->flags & STREAM_F_WANT_WRITE)) {
		s->flags |= STREAM_F_WANT_WRITE;
		event_add(&s->wev, NULL);
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

/* ---- TLS */

void
stream_tls_start(struct stream *s, SSL *ssl)
{
	s->ssl = ssl;
	s->tls_verify = X509_V_OK;
	(void)SSL_set_fd(ssl, s->fd);
	/* An outgoing stream starts its handshake once the TCP connect is done. */
	if (!(s->flags & STREAM_F_CONNECTING))
		s->flags |= STREAM_F_TLS_HANDSHAKE;
}

/*
 * A fatal TLS error: from now on no SSL call but SSL_free (OpenSSL's state
 * is an error state, and would answer with no errno of its own). Keeps the
 * first reason for stream_tls_error; leaves errno as it was.
 */
static void
stream_tls_failed(struct stream *s)
{
	int e = errno;

	s->flags |= STREAM_F_TLS_FAILED;
	if (s->tls_err == 0)
		s->tls_err = ERR_peek_error();
	ERR_clear_error();
	errno = e;
}

/*
 * May this stream end with a close_notify? Over a sound, established
 * session whose data was not cut short: anything else ends with a bare
 * FIN, so the peer can tell a cut from a whole message.
 */
static bool
stream_tls_may_notify(const struct stream *s)
{
	return s->ssl != NULL && !(s->flags & (STREAM_F_TLS_FAILED |
	    STREAM_F_TLS_HANDSHAKE | STREAM_F_CUT));
}

/* Arm the event TLS needs (NEED_READ: rev, NEED_WRITE: wev) for itself. */
static void
stream_tls_want(struct stream *s, uint32_t need)
{
	if ((need & STREAM_F_TLS_NEED_READ) && !(s->flags & STREAM_F_TLS_NEED_READ)) {
		s->flags |= STREAM_F_TLS_NEED_READ;
		if (!(s->flags & STREAM_F_READING))
			event_add(&s->rev, NULL);
	}
	if ((need & STREAM_F_TLS_NEED_WRITE) && !(s->flags & STREAM_F_TLS_NEED_WRITE)) {
		s->flags |= STREAM_F_TLS_NEED_WRITE;
		if (!(s->flags & STREAM_F_WANT_WRITE))
			event_add(&s->wev, NULL);
	}
}

/* Drop what stream_tls_want armed, leaving the owner's own interest. */
static void
stream_tls_unwant(struct stream *s)
{
	if (s->flags & STREAM_F_TLS_NEED_READ) {
		s->flags &= ~STREAM_F_TLS_NEED_READ;
		if (!(s->flags & STREAM_F_READING))
			event_del(&s->rev);
	}
	if (s->flags & STREAM_F_TLS_NEED_WRITE) {
		s->flags &= ~STREAM_F_TLS_NEED_WRITE;
		if (!(s->flags & STREAM_F_WANT_WRITE))
			event_del(&s->wev);
	}
}

/*
 * One step of the handshake. True when it is done and the caller may go
 * on reading; false while it waits, once it failed (ERROR told), or when
 * an outgoing stream has just become CONNECTED (told): after telling,
 * the owner may have freed the stream.
 */
static bool
stream_tls_handshake(struct stream *s)
{
	int rc, e;

	ERR_clear_error();
	errno = 0;
	rc = SSL_do_handshake(s->ssl);
	if (rc == 1) {
		s->flags &= ~STREAM_F_TLS_HANDSHAKE;
		if (s->flags & STREAM_F_CONNECTING) {
			s->flags &= ~STREAM_F_CONNECTING;
			s->ops->on_event(s, STREAM_EV_CONNECTED, s->arg);
			return false;
		}
		return true;
	}
	e = SSL_get_error(s->ssl, rc);
	if (e == SSL_ERROR_WANT_READ) {
		stream_tls_want(s, STREAM_F_TLS_NEED_READ);
		return false;
	}
	if (e == SSL_ERROR_WANT_WRITE) {
		stream_tls_want(s, STREAM_F_TLS_NEED_WRITE);
		return false;
	}
	s->tls_verify = tls_verify_failure(s->ssl);
	stream_tls_failed(s);
	s->saved_errno = e == SSL_ERROR_SYSCALL && errno != 0 ? errno : EPROTO;
	s->flags &= ~(STREAM_F_CONNECTING | STREAM_F_TLS_HANDSHAKE);
	stream_read_stop(s);
	s->ops->on_event(s, STREAM_EV_ERROR, s->arg);
	return false;
}

/*
 * Before a server's handshake has read a byte: does the client speak
 * plain HTTP? A TLS record starts with 0x16 (handshake); an HTTP request
 * with a method's upper-case letter. Peeks one byte, consumes none.
 */
static bool
stream_tls_plain_http(struct stream *s)
{
	unsigned char b;

	if ((s->flags & STREAM_F_CONNECTING) || !SSL_in_before(s->ssl))
		return false;
	if (recv(s->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) != 1)
		return false;
	return b >= 'A' && b <= 'Z';
}

const char *
stream_tls_error(const struct stream *s, char *buf, size_t len)
{
	const char *why;

	if (s->ssl == NULL && s->tls_err == 0 && s->tls_verify == X509_V_OK)
		return NULL;
	if (s->tls_verify != X509_V_OK) {
		snprintf(buf, len, "certificate verify failed: %s",
		    X509_verify_cert_error_string(s->tls_verify));
		return buf;
	}
	if (s->tls_err == 0)
		return NULL;
	why = ERR_reason_error_string(s->tls_err);
	snprintf(buf, len, "%s", why != NULL ? why : "TLS failure");
	return buf;
}

bool
stream_peer_gone(struct stream *s)
{
	char b;
	ssize_t n;

	if (s->ssl != NULL) {
		int r, e;

		/* Consumes what is not data (a late session ticket) on the way. */
		if (s->flags & STREAM_F_TLS_FAILED)
			return true;
		ERR_clear_error();
		errno = 0;
		r = SSL_peek(s->ssl, &b, 1);
		if (r > 0)
			return true; /* bytes nobody asked for poison it */
		e = SSL_get_error(s->ssl, r);
		if (e == SSL_ERROR_SSL || e == SSL_ERROR_SYSCALL)
			stream_tls_failed(s);
		ERR_clear_error();
		return e != SSL_ERROR_WANT_READ;
	}
	n = recv(s->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n == -1)
		return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
	return true; /* 0: closed; > 0: bytes nobody asked for poison it */
}
