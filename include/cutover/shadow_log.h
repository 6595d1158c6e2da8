/*
 * shadow_log: the last SHADOW_LOG_CAP shadow mismatches, for the admin
 * API's /shadow/mismatches (SPEC 5). One ring for the process, written
 * by the workers and read by the admin thread under one mutex (a
 * mismatch is rare next to a request; the lock is never on the data
 * path otherwise).
 *
 * Owner: the server (shadow_log_new / shadow_log_free); workers and the
 * admin API borrow it.
 */
#ifndef CUTOVER_SHADOW_LOG_H
#define CUTOVER_SHADOW_LOG_H

#include <stdint.h>

#include "cutover/reqid.h"
#include "cutover/shadow_compare.h"
#include "cutover/strbuf.h"

#define SHADOW_LOG_CAP 100

/* One mismatch, copied in whole (strings cut to fit). */
struct shadow_mismatch {
	uint64_t unix_ms;
	char request_id[REQID_MAX + 1];
	char route[128];
	char method[16];
	char path[256];
	char upstream[128];	   /* the primary's */
	char shadow_upstream[128];
	int primary_status;
	int shadow_status;
	char diff[CMP_DIFF_MAX];
};

struct shadow_log;

struct shadow_log *shadow_log_new(void);
void shadow_log_free(struct shadow_log *l);
void shadow_log_add(struct shadow_log *l, const struct shadow_mismatch *m);
/* Mismatches recorded since start (also those the ring no longer holds). */
uint64_t shadow_log_total(struct shadow_log *l);
/*
 * {"total":N,"kept":K,"mismatches":[...]} newest first, each with
 * time, request_id, route, method, path, upstream, shadow_upstream,
 * primary_status, shadow_status, difference.
 */
void shadow_log_render(struct shadow_log *l, struct strbuf *out);

#endif /* CUTOVER_SHADOW_LOG_H */
