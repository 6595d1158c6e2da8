/*
 * log: the event log on stderr, one `key=value` line an event.
 * Thread-safe (one write(2) per line). fatal() is for broken invariants only.
 */
#ifndef CUTOVER_LOG_H
#define CUTOVER_LOG_H

#include <stddef.h>

#include <stdbool.h>

enum log_level { LOG_LEVEL_ERROR = 0, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

void log_set_level(enum log_level l);
bool log_debug_enabled(void);
/* `event` is the event name; fmt adds further key=value pairs. */
void log_warn(const char *event, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));  /* adds err="strerror(errno)" */
void log_warnx(const char *event, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void log_info(const char *event, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void log_debug(const char *event, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/*
 * `src` made fit for a quoted key="value" of an event line: '"' and '\\'
 * escaped with a backslash, cut to cap-1 bytes (never mid-escape).
 */
void log_quote(char *dst, size_t cap, const char *src);

#endif /* CUTOVER_LOG_H */
