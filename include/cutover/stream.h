/*
 * stream: a non-blocking byte stream over one socket, with an input and an
 * output evbuffer, read/write readiness events and one timer.
 *
 * Why not bufferevents: a proxy's cost is syscalls per request. A stream
 * writes as soon as it is asked to and only registers for writability when
 * the kernel says EAGAIN, reads into reserved evbuffer space with readv()
 * (no FIONREAD ioctl per read), and leaves read interest to its owner. It is
 * also the seam TLS sits under: with an SSL attached (stream_tls_start) the
 * same buffers carry plaintext, the handshake runs inside the stream, and
 * the owner sees the same callbacks. An outgoing stream reports CONNECTED
 * only once its handshake is done.
 *
 * Owner: a stream is embedded in its owner (client or upstream connection);
 * stream_init opens it on an fd, stream_close releases the fd, events and
 * buffers. Callbacks run from the event loop only, never from inside
 * stream_* calls made by the owner, so the owner may close the stream from
 * any callback.
 */
#ifndef CUTOVER_STREAM_H
#define CUTOVER_STREAM_H

#include <event2/event.h>
#include <event2/buffer.h>
#include <event2/event_struct.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <openssl/ssl.h>

enum stream_event {
	STREAM_EV_EOF = 1,	    /* peer closed its side (input may hold data) */
	STREAM_EV_ERROR,	    /* read/write error or connect failure (errno saved) */
	STREAM_EV_READ_TIMEOUT,	    /* no byte read within read_timeout_ms */
	STREAM_EV_WRITE_TIMEOUT,    /* output pending with no progress in write_timeout_ms */
	STREAM_EV_CONNECTED,	    /* outgoing connect completed */
};

struct stream;

struct stream_ops {
	void (*on_read)(struct stream *s, void *arg);  /* new bytes in s->in */
	void (*on_drain)(struct stream *s, void *arg); /* output fell to <= low mark */
	void (*on_event)(struct stream *s, enum stream_event ev, void *arg);
};

#define STREAM_F_OPEN	    0x01u
#define STREAM_F_READING    0x02u
#define STREAM_F_WANT_WRITE 0x04u /* wev armed: kernel buffer was full */
#define STREAM_F_CONNECTING 0x08u
#define STREAM_F_EOF	    0x10u
#define STREAM_F_SHUT_WR    0x20u /* shutdown(SHUT_WR) once output drains */
#define STREAM_F_WATCH_DRAIN 0x40u /* call on_drain when output reaches low mark */
#define STREAM_F_TLS_HANDSHAKE 0x80u /* TLS handshake not finished */
#define STREAM_F_TLS_NEED_READ 0x100u  /* rev armed for TLS, not for the owner */
#define STREAM_F_TLS_NEED_WRITE 0x200u /* wev armed for TLS, not for output */
#define STREAM_F_TLS_FAILED 0x400u  /* a fatal TLS error: no close_notify */
#define STREAM_F_CUT	    0x800u  /* the data ends short (stream_cut): no close_notify */
#define STREAM_F_SHUT_DONE  0x1000u /* close_notify and FIN sent */
#define STREAM_F_PLAIN_ON_TLS 0x2000u /* TLS was expected, plain HTTP came: TLS dropped */

struct stream {
	int fd;
	uint32_t flags;
	int saved_errno;
	struct event_base *base;
	struct event rev;
	struct event wev;
	struct event tev;
	struct evbuffer *in;
	struct evbuffer *out;
	size_t out_low;		  /* on_drain fires at or below this */
	uint64_t read_timeout_ms;  /* 0 = none */
	uint64_t write_timeout_ms; /* 0 = none */
	uint64_t bytes_in;
	uint64_t bytes_out;
	const struct stream_ops *ops;
	void *arg;
	SSL *ssl;	     /* TLS transport when not NULL; owned */
	int tls_wlen;	     /* an SSL_write to repeat with this length, or 0 */
	unsigned long tls_err;  /* first OpenSSL error of a failure, or 0 */
	long tls_verify;     /* the peer's verification result (X509_V_OK) */
};

/* Open a stream on a connected (or connecting) non-blocking socket. */
void stream_init(struct stream *s, struct event_base *base, int fd,
    const struct stream_ops *ops, void *arg);
/* Start a non-blocking connect; completion arrives as CONNECTED or ERROR. */
int stream_connect(struct stream *s, struct event_base *base,
    const struct sockaddr *sa, socklen_t salen, const struct stream_ops *ops,
    void *arg) __attribute__((warn_unused_result));
void stream_close(struct stream *s);
/*
 * Run the stream over TLS: call right after stream_init (server side, the
 * handshake runs as reading starts) or stream_connect (client side, it
 * runs once the TCP connect completes). Takes ownership of `ssl`.
 */
void stream_tls_start(struct stream *s, SSL *ssl);
/*
 * The data this stream carries ends short (a response cut mid-body, an
 * error, a timeout): over TLS the end is then not announced with a
 * close_notify, so the peer can tell the cut from a whole message.
 */
void stream_cut(struct stream *s);
/*
 * Why the last TLS failure happened ("certificate verify failed: ...",
 * "wrong version number"), or NULL when the stream had none.
 */
const char *stream_tls_error(const struct stream *s, char *buf, size_t len);
/*
 * A server stream expecting TLS whose client spoke plain HTTP instead (its
 * first byte a letter, as a method starts, where a TLS record starts with
 * 0x16): the stream has dropped TLS so the owner can answer 400 in clear,
 * as nginx does, rather than a bare close the client cannot explain.
 */
static inline bool
stream_plain_on_tls(const struct stream *s)
{
	return (s->flags & STREAM_F_PLAIN_ON_TLS) != 0;
}
/*
 * Has the peer closed this (idle) stream, or sent bytes nobody asked for,
 * in a way the loop has not seen yet? Reads nothing an owner would see.
 */
bool stream_peer_gone(struct stream *s);
/* Change who gets the callbacks (pool hand-over, tunnels). */
void stream_set_ops(struct stream *s, const struct stream_ops *ops, void *arg);

void stream_read_start(struct stream *s);
void stream_read_stop(struct stream *s);
/* Try to write s->out now; arm writability if the kernel is full. */
void stream_flush(struct stream *s);
/* After the output drains, shut the write side down. */
void stream_shutdown_wr(struct stream *s);
void stream_set_timeouts(struct stream *s, uint64_t read_ms, uint64_t write_ms);
/*
 * Ask for on_drain when blocked output falls to `low` bytes (0 = empty).
 * It fires only from the loop after a blocked write: an owner that
 * flushes checks stream_out_pending() itself.
 */
void stream_watch_drain(struct stream *s, size_t low);
static inline size_t
stream_out_pending(const struct stream *s)
{
	return evbuffer_get_length(s->out);
}

#endif /* CUTOVER_STREAM_H */
