/*
 * listener: listening sockets. Each worker gets its own socket per
 * configured address, bound with SO_REUSEPORT, so the kernel spreads new
 * connections across workers without a shared accept lock.
 */
#ifndef CUTOVER_LISTENER_H
#define CUTOVER_LISTENER_H

#include "cutover/config.h"

/* Open a non-blocking listening socket for `l`; -1 with errno on failure. */
int listener_open(const struct listener_conf *l);

#endif /* CUTOVER_LISTENER_H */
