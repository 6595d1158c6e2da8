/*
 * tunnel: after a 101 Switching Protocols, relay bytes both ways between
 * the client and the upstream connection until either side closes.
 * The client owns the tunnel; client_close() ends it.
 */
#ifndef CUTOVER_TUNNEL_H
#define CUTOVER_TUNNEL_H

struct client;
struct upstream_conn;

void tunnel_start(struct client *c, struct upstream_conn *uc);

#endif /* CUTOVER_TUNNEL_H */
