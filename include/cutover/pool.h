#ifndef CUTOVER_POOL_H
#define CUTOVER_POOL_H
#endif
