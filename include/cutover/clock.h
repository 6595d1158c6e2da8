#ifndef CUTOVER_CLOCK_H
#define CUTOVER_CLOCK_H
#endif
