/*
 * server: the process: workers, signals, drain and exit.
 */
#ifndef CUTOVER_SERVER_H
#define CUTOVER_SERVER_H

#include "cutover/config.h"

/* Run until SIGTERM/SIGINT and a drain. Returns the process exit status. */
int server_run(struct config *cfg);

#endif /* CUTOVER_SERVER_H */
