/*
 * tunnel: relay bytes both ways after 101 Switching Protocols. Each
 * direction has flow control (stop reading one side while the other's
 * output is full); an EOF on one side is passed on as a half-close, and
 * the tunnel ends when both sides have closed or either fails.
 */
#include <stdlib.h>

#include "cutover/client.h"
#include "cutover/log.h"
#include "cutover/tunnel.h"
#include "cutover/upstream_conn.h"
#include "cutover/upstream_rt.h"
#include "cutover/worker.h"

#define TUNNEL_HIGH_WATER (256 * 1024)
#define TUNNEL_LOW_WATER  (64 * 1024)

/* The tunnel's state lives in the client: the upstream side points at it. */
static void tunnel_client_read(struct stream *s, void *arg);
static void tunnel_client_drain(struct stream *s, void *arg);
static void tunnel_client_event(struct stream *s, enum stream_event ev, void *arg);
static void tunnel_up_read(struct stream *s, void *arg);
static void tunnel_up_drain(struct stream *s, void *arg);
static void tunnel_up_event(struct stream *s, enum stream_event ev, void *arg);
static void tunnel_relay(struct stream *from, struct stream *to);
static void tunnel_eof(struct client *c, struct stream *from, struct stream *to);
static void tunnel_maybe_done(struct client *c);

static const struct stream_ops tunnel_client_ops = {
	.on_read = tunnel_client_read,
	.on_drain = tunnel_client_drain,
	.on_event = tunnel_client_event,
};

static const struct stream_ops tunnel_up_ops = {
	.on_read = tunnel_up_read,
	.on_drain = tunnel_up_drain,
	.on_event = tunnel_up_event,
};

void
tunnel_start(struct client *c, struct upstream_conn *uc)
{
	client_set_state(c, CLIENT_S_TUNNEL);
	/* A reload must not free the upstream's pool under the tunnel. */
	c->tunnel_cfg = config_ref(c->txn->cfg != NULL ? c->txn->cfg : c->w->cfg);
	client_release_txn(c);
	c->tunnel = uc; /* the client owns it now: client_close frees it */
	uc->txn = NULL;
	uc->state = UPCONN_BUSY;
	stream_set_ops(&c->s, &tunnel_client_ops, c);
	stream_set_ops(&uc->s, &tunnel_up_ops, c);
	/* No idle limit inside a tunnel; slow readers still get cut off. */
	stream_set_timeouts(&c->s, 0, c->w->cfg->client_timeouts.send_ms);
	stream_set_timeouts(&uc->s, 0, c->w->cfg->client_timeouts.send_ms);
	stream_read_start(&c->s);
	stream_read_start(&uc->s);
	log_debug("tunnel_start", "client=%s upstream=%s", c->addr, uc->ps->rt->name);
	/* The 101 head is already queued; bytes that came with the heads follow. */
	stream_flush(&c->s);
	tunnel_relay(&uc->s, &c->s);
	tunnel_relay(&c->s, &uc->s);
	/* A client that half-closed before the 101: pass the close on. */
	if (c->s.flags & STREAM_F_EOF)
		tunnel_eof(c, &c->s, &uc->s);
}

static void
tunnel_relay(struct stream *from, struct stream *to)
{
	if (evbuffer_get_length(from->in) > 0) {
		evbuffer_add_buffer(to->out, from->in);
		stream_flush(to);
	}
	if (stream_out_pending(to) >= TUNNEL_HIGH_WATER) {
		stream_read_stop(from);
		stream_watch_drain(to, TUNNEL_LOW_WATER);
	}
}

static void
tunnel_eof(struct client *c, struct stream *from, struct stream *to)
{
	tunnel_relay(from, to);
	stream_shutdown_wr(to);
	tunnel_maybe_done(c);
}

/* Both sides closed and everything delivered: the tunnel is over. */
static void
tunnel_maybe_done(struct client *c)
{
	struct stream *u = &c->tunnel->s;

	if (!(c->s.flags & STREAM_F_EOF) || !(u->flags & STREAM_F_EOF))
		return;
	if (stream_out_pending(&c->s) == 0 && stream_out_pending(u) == 0) {
		client_close(c, "tunnel closed");
		return;
	}
	/* Both closed, bytes still queued: look again when they are out. */
	if (stream_out_pending(&c->s) > 0)
		stream_watch_drain(&c->s, 0);
	if (stream_out_pending(u) > 0)
		stream_watch_drain(u, 0);
}

static void
tunnel_client_read(struct stream *s, void *arg)
{
	struct client *c = arg;

	tunnel_relay(s, &c->tunnel->s);
}

static void
tunnel_up_read(struct stream *s, void *arg)
{
	struct client *c = arg;

	tunnel_relay(s, &c->s);
}

/* The client's output drained: read the upstream again. */
static void
tunnel_client_drain(struct stream *s, void *arg)
{
	struct client *c = arg;

	(void)s;
	stream_read_start(&c->tunnel->s);
	tunnel_maybe_done(c);
}

static void
tunnel_up_drain(struct stream *s, void *arg)
{
	struct client *c = arg;

	(void)s;
	stream_read_start(&c->s);
	tunnel_maybe_done(c);
}

static void
tunnel_client_event(struct stream *s, enum stream_event ev, void *arg)
{
	struct client *c = arg;

	if (ev == STREAM_EV_EOF) {
		c->peer_eof = true;
		tunnel_eof(c, s, &c->tunnel->s);
		return;
	}
	client_close(c, "tunnel: client side failed");
}

static void
tunnel_up_event(struct stream *s, enum stream_event ev, void *arg)
{
	struct client *c = arg;

	if (ev == STREAM_EV_EOF) {
		tunnel_eof(c, s, &c->s);
		return;
	}
	client_close(c, "tunnel: upstream side failed");
}
