#ifndef CUTOVER_WORKER_H
#define CUTOVER_WORKER_H
#endif
