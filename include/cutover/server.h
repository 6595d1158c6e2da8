#ifndef CUTOVER_SERVER_H
#define CUTOVER_SERVER_H
#endif
