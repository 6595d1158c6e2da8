/*
 * accesslog: one JSON line a request (SPEC section 7), written without
 * ever blocking an event loop. Each worker formats lines into its own
 * block; full blocks (and, on a timer, partial ones) are handed to one
 * writer thread that does the write(2)s. A slow disk therefore only grows
 * the queue, which is bounded: beyond it lines are dropped and counted.
 * accesslog_close() writes everything still queued (SIGTERM loses
 * nothing); accesslog_reopen() makes the writer reopen the file (SIGUSR1,
 * for logrotate).
 */
#ifndef CUTOVER_ACCESSLOG_H
#define CUTOVER_ACCESSLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cutover/http_parse.h"

/* Short codes of SPEC section 7, as bits of accesslog_entry.flags. */
#define ACCESSLOG_F_UF 0x0001u /* upstream connect failure */
#define ACCESSLOG_F_UT 0x0002u /* upstream timeout */
#define ACCESSLOG_F_UR 0x0004u /* upstream reset */
#define ACCESSLOG_F_BO 0x0008u /* breaker open */
#define ACCESSLOG_F_UO 0x0010u /* bulkhead full */
#define ACCESSLOG_F_RX 0x0020u /* retries exhausted */
#define ACCESSLOG_F_RB 0x0040u /* retry budget spent */
#define ACCESSLOG_F_BL 0x0080u /* body too large to replay */
#define ACCESSLOG_F_FB 0x0100u /* fallback used */
#define ACCESSLOG_F_NR 0x0200u /* no route */

/* One request, as the transaction saw it. Strings may be NULL (JSON null). */
struct accesslog_entry {
	uint64_t ts_unix_us; /* when the request head arrived */
	const char *request_id;
	const char *client;
	struct http_span method;
	struct http_span path; /* the target as received (path and query) */
	const char *route;
	const char *upstream;
	const char *server;
	int status;
	uint64_t bytes_in;
	uint64_t bytes_out;
	uint64_t duration_us;
	int64_t upstream_us; /* -1: no upstream answered */
	unsigned tries;
	const char *breaker;
	const char *fallback;
	const char *shadow;
	uint32_t flags; /* ACCESSLOG_F_* */
};

struct accesslog;	 /* process-wide: the file and the writer thread */
struct accesslog_worker; /* one per worker thread: its current block */

/*
 * Open the log: `path` is a file (appended to, created 0644), "stdout", or
 * NULL for off (then every call below is a cheap no-op). Returns NULL and
 * sets *err (static text) when the file cannot be opened.
 */
struct accesslog *accesslog_open(const char *path, const char **err);
struct accesslog_worker *accesslog_worker_new(struct accesslog *log);
/* Format one line into the worker's block (hand it off when full). */
void accesslog_write(struct accesslog_worker *w, const struct accesslog_entry *e);
/* Hand the worker's partial block to the writer (call every ~100 ms and before exit). */
void accesslog_flush(struct accesslog_worker *w);
void accesslog_worker_free(struct accesslog_worker *w); /* flushes first */
void accesslog_reopen(struct accesslog *log);
/* Write everything queued, stop the writer, close the file, free. */
void accesslog_close(struct accesslog *log);
/* Lines dropped because the queue was full. */
uint64_t accesslog_dropped(const struct accesslog *log);
/* Format one entry as a JSON line (with '\n') into `out`; for tests and the writer. */
struct strbuf;
void accesslog_format(struct strbuf *out, const struct accesslog_entry *e);

#endif /* CUTOVER_ACCESSLOG_H */
