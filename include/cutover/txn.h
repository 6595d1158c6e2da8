#ifndef CUTOVER_TXN_H
#define CUTOVER_TXN_H
#endif
