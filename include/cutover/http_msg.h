#ifndef CUTOVER_HTTP_MSG_H
#define CUTOVER_HTTP_MSG_H
#endif
