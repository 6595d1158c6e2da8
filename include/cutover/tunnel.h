#ifndef CUTOVER_TUNNEL_H
#define CUTOVER_TUNNEL_H
#endif
