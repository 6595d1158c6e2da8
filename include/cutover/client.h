#ifndef CUTOVER_CLIENT_H
#define CUTOVER_CLIENT_H
#endif
