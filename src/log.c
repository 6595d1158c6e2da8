/*
 * log: event log lines on stderr: `ts=... level=... event=... k=v ...`.
 * Each line is formatted in a local buffer and written with one write(2),
 * so lines from different worker threads never interleave.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cutover/log.h"

static enum log_level log_level = LOG_LEVEL_INFO;

static void log_emit(enum log_level lvl, const char *event, const char *extra,
    const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));

void
log_set_level(enum log_level l)
{
	log_level = l;
}

bool
log_debug_enabled(void)
{
	return log_level >= LOG_LEVEL_DEBUG;
}

static void
log_emit(enum log_level lvl, const char *event, const char *extra,
    const char *fmt, va_list ap)
{
	static const char *names[] = { "error", "warn", "info", "debug" };
	char line[2048];
	struct timespec ts;
	struct tm tm;
	size_t n;
	int r;

	if (lvl > log_level)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(line, sizeof(line), "ts=%Y-%m-%dT%H:%M:%S", &tm);
	r = snprintf(line + n, sizeof(line) - n, ".%03ldZ level=%s event=%s",
	    ts.tv_nsec / 1000000, names[lvl], event);
	if (r > 0)
		n += (size_t)r < sizeof(line) - n ? (size_t)r : sizeof(line) - n - 1;
	if (fmt != NULL && *fmt != '\0' && n < sizeof(line) - 2) {
		line[n++] = ' ';
		r = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
		if (r > 0)
			n += (size_t)r < sizeof(line) - n ? (size_t)r : sizeof(line) - n - 1;
	}
	if (extra != NULL && n < sizeof(line) - 2) {
		r = snprintf(line + n, sizeof(line) - n, " err=\"%s\"", extra);
		if (r > 0)
			n += (size_t)r < sizeof(line) - n ? (size_t)r : sizeof(line) - n - 1;
	}
	if (n >= sizeof(line) - 1)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	ssize_t w = write(STDERR_FILENO, line, n);
	(void)w;
}

void
log_warn(const char *event, const char *fmt, ...)
{
	const char *e = strerror(errno);
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_LEVEL_WARN, event, e, fmt, ap);
	va_end(ap);
}

void
log_warnx(const char *event, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_LEVEL_WARN, event, NULL, fmt, ap);
	va_end(ap);
}

void
log_info(const char *event, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_LEVEL_INFO, event, NULL, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *event, const char *fmt, ...)
{
	va_list ap;

	if (log_level < LOG_LEVEL_DEBUG)
		return;
	va_start(ap, fmt);
	log_emit(LOG_LEVEL_DEBUG, event, NULL, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "level=error event=fatal msg=\"%s\"\n", msg);
	abort();
}

void
log_quote(char *dst, size_t cap, const char *src)
{
	size_t n = 0;

	for (; *src != '\0' && n + 3 < cap; src++) {
		if (*src == '"' || *src == '\\')
			dst[n++] = '\\';
		dst[n++] = *src;
	}
	dst[n] = '\0';
}
