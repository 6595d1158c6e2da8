/*
 * migration: the migration report (SPEC 5, /migration): how much of the
 * monolith is already carved out, route by route, and what to carve out
 * next.
 *
 * Most of it is read from the metrics (requests per route and upstream,
 * fallbacks, shadow results). What the metrics cannot hold is the list
 * of paths reaching the catch-all route: each worker keeps a top-K
 * sketch of their templates (ID-like segments collapsed), behind its own
 * mutex, which only the admin thread's report ever contends for.
 *
 * Owner: the worker owns its struct migration_worker (new/free); the
 * admin thread reads all of them through the view.
 */
#ifndef CUTOVER_MIGRATION_H
#define CUTOVER_MIGRATION_H

#include <stddef.h>

#include "cutover/config.h"
#include "cutover/metrics.h"
#include "cutover/strbuf.h"

/* Counters per worker sketch; the report lists at most MIGRATION_TOP. */
#define MIGRATION_SKETCH 128
#define MIGRATION_TOP 20

struct migration_worker;

struct migration_worker *migration_worker_new(void);
void migration_worker_free(struct migration_worker *m);
/* A request reached the catch-all route; `path` is normalised. */
void migration_catch_all(struct migration_worker *m, const char *path,
    size_t len);

/* The report as JSON (see cutover(8), "Migration report"). */
void migration_render(struct strbuf *out, const struct config *cfg,
    struct metrics_worker *const *mw, struct migration_worker *const *gw,
    size_t n);

#endif /* CUTOVER_MIGRATION_H */
