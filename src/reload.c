/*
 * reload: switch the running process to a new configuration generation.
 * See reload.h for the order of the steps and why.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cutover/clock.h"
#include "cutover/conf_diff.h"
#include "cutover/health.h"
#include "cutover/listener.h"
#include "cutover/log.h"
#include "cutover/reload.h"
#include "cutover/systemd.h"
#include "cutover/upstream_rt.h"
#include "cutover/worker.h"

/* How long the workers get to switch; they do it at their next loop turn. */
#define RELOAD_SWITCH_WAIT_MS 10000

void
reload_init(struct reload *r, struct config *cfg)
{
	char err[160];

	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->one, NULL);
	config_current_init(&r->current, cfg);
	conf_ids_init(&r->ids);
	/* The first generation's slots are its positions: take them as they are. */
	if (conf_ids_assign(&r->ids, cfg, err, sizeof(err)) == -1)
		fatal("reload: %s", err);
	atomic_init(&r->closed, false);
	atomic_init(&r->ok, 0);
	atomic_init(&r->failed, 0);
}

void
reload_free(struct reload *r)
{
	conf_ids_free(&r->ids);
	config_current_free(&r->current);
	pthread_mutex_destroy(&r->one);
}

void
reload_close(struct reload *r)
{
	pthread_mutex_lock(&r->one);
	atomic_store(&r->closed, true);
	pthread_mutex_unlock(&r->one);
}

struct config *
reload_current(struct reload *r)
{
	return config_current_get(&r->current);
}

/* A refusal: logged, counted, answered. */
static int
reload_refuse(struct reload *r, const char *source, struct strbuf *answer,
    const char *const *errors, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char q[1024];

		log_quote(q, sizeof(q), errors[i]);
		log_warnx("reload_failed", "source=%s error=\"%s\"", source, q);
		if (answer != NULL)
			strbuf_addf(answer, "%s\n", errors[i]);
	}
	atomic_fetch_add(&r->failed, 1);
	/* While draining systemd hears STOPPING, not READY. */
	if (!atomic_load(&r->closed))
		systemd_notify_reloaded(false, "reload refused: the running "
		    "configuration stays");
	return -1;
}

/* What a running process cannot take from a new file: kept, with a warning. */
static void
reload_keep_fixed(const struct config *old, struct config *cfg)
{
	if (cfg->workers != old->workers) {
		log_warnx("reload_ignored", "key=workers value=%u running=%u "
		    "reason=\"needs a restart\"", cfg->workers, old->workers);
		cfg->workers = old->workers;
	}
	if ((cfg->admin.token == NULL) != (old->admin.token == NULL) ||
	    (cfg->admin.token != NULL && old->admin.token != NULL &&
		strcmp(cfg->admin.token, old->admin.token) != 0))
		log_warnx("reload_ignored", "key=admin.token_file reason=\"the "
		    "admin token changes on restart\"");
	if (cfg->watch != old->watch)
		log_warnx("reload_ignored", "key=watch reason=\"the file watch "
		    "starts or stops on restart\"");
	if (cfg->admin.enabled != old->admin.enabled ||
	    (cfg->admin.address != NULL && old->admin.address != NULL &&
		strcmp(cfg->admin.address, old->admin.address) != 0))
		log_warnx("reload_ignored", "key=admin reason=\"the admin "
		    "listener changes on restart\"");
	if (cfg->access_log.enabled != old->access_log.enabled ||
	    cfg->access_log.to_stdout != old->access_log.to_stdout ||
	    (cfg->access_log.path != NULL && old->access_log.path != NULL &&
		strcmp(cfg->access_log.path, old->access_log.path) != 0))
		log_warnx("reload_ignored", "key=access_log reason=\"the access "
		    "log changes on restart (SIGUSR1 reopens it)\"");
}

static bool
reload_kept(const char *name, void *arg)
{
	return conf_diff_kept(arg, name);
}

/* Does `old` serve a listener at `address`? */
static bool
reload_listening(const struct config *old, const char *address)
{
	for (size_t i = 0; i < old->nlisteners; i++)
		if (strcmp(old->listeners[i].address, address) == 0)
			return true;
	return false;
}

/*
 * Sockets for the listeners `cfg` adds: fds[w][i] for worker w, -1 for a
 * listener already open. On failure nothing stays open and *why says
 * which address.
 */
static int **
reload_open_listeners(const struct reload *r, const struct config *old,
    const struct config *cfg, char *why, size_t whylen)
{
	int **fds = xcalloc(r->nworkers, sizeof(*fds));

	for (unsigned w = 0; w < r->nworkers; w++) {
		fds[w] = xcalloc(cfg->nlisteners ? cfg->nlisteners : 1, sizeof(int));
		for (size_t i = 0; i < cfg->nlisteners; i++)
			fds[w][i] = -1;
	}
	for (size_t i = 0; i < cfg->nlisteners; i++) {
		const struct listener_conf *l = &cfg->listeners[i];

		if (reload_listening(old, l->address))
			continue;
		for (unsigned w = 0; w < r->nworkers; w++) {
			if ((fds[w][i] = listener_open(l)) != -1)
				continue;
			snprintf(why, whylen, "%s:%u:%u: cannot listen on \"%s\": %s",
			    cfg->path, l->mark.line, l->mark.col, l->address,
			    strerror(errno));
			for (unsigned k = 0; k < r->nworkers; k++) {
				for (size_t j = 0; j < cfg->nlisteners; j++)
					if (fds[k][j] != -1)
						close(fds[k][j]);
				free(fds[k]);
			}
			free(fds);
			return NULL;
		}
	}
	return fds;
}

/* Hand `cfg` to every worker and wait until each serves it. */
static bool
reload_switch_workers(struct reload *r, struct config *cfg, int **fds)
{
	uint64_t deadline = clock_now_ms() + RELOAD_SWITCH_WAIT_MS;

	atomic_store(&r->shared->switched, 0);
	for (unsigned w = 0; w < r->nworkers; w++) {
		r->workers[w].next_fds = fds[w];
		r->workers[w].next_cfg = config_ref(cfg);
		worker_command(&r->workers[w], WORKER_CMD_SWITCH);
	}
	while (atomic_load(&r->shared->switched) < r->nworkers) {
		struct timespec ts = { 0, 1000000 };

		if (clock_now_ms() > deadline)
			return false;
		nanosleep(&ts, NULL);
	}
	return true;
}

/* One event line per change, and the answer's text. */
static void
reload_report(const struct conf_diff *d, const struct config_diag *diag,
    const char *source, struct strbuf *answer)
{
	struct strbuf text;

	for (size_t i = 0; i < d->n; i++) {
		const struct conf_change *ch = &d->changes[i];

		char q[512];

		log_quote(q, sizeof(q), ch->detail != NULL ? ch->detail : "");
		log_info("reload_change", "kind=%s name=%s%s%s%s",
		    conf_change_name(ch->kind), ch->name,
		    ch->detail != NULL ? " detail=\"" : "", q,
		    ch->detail != NULL ? "\"" : "");
	}
	log_info("reload", "result=ok source=%s changes=%zu", source, d->n);
	if (answer == NULL)
		return;
	strbuf_init(&text);
	conf_diff_text(d, &text);
	/* As `cutover -t` says it: the verdict, the warnings; then the changes. */
	strbuf_adds(answer, "configuration OK\n");
	for (size_t i = 0; i < diag->nwarnings; i++)
		strbuf_addf(answer, "%s\n", diag->warnings[i]);
	strbuf_add(answer, text.s, text.len);
	strbuf_free(&text);
}

/* Everything after the new generation is checked and its sockets are open. */
static void
reload_adopt(struct reload *r, struct config *old, struct config *cfg,
    int **fds)
{
	/*
	 * Retire first: each worker closes the idle connections of retired
	 * upstreams as it switches, and no connection of theirs goes back to
	 * a pool after (upconn_release), so none is left when they are freed.
	 */
	upstream_rt_retire(old, cfg);
	/* Before the switch: a worker paused at the old limit resumes at the new one. */
	atomic_store(&r->shared->max_conns, cfg->limits.max_connections ?
	    (size_t)cfg->limits.max_connections : SIZE_MAX);
	if (!reload_switch_workers(r, cfg, fds)) {
		/* A late worker still reads its own fds[w]: only the outer array goes. */
		log_warnx("reload_slow_worker", "reason=\"a worker did not switch "
		    "within %d ms; it will at its next turn\"",
		    RELOAD_SWITCH_WAIT_MS);
	} else {
		for (unsigned w = 0; w < r->nworkers; w++)
			free(fds[w]);
	}
	free(fds);
	upstream_rt_clock_switch(cfg);
	if (r->health != NULL) {
		health_stop(*r->health);
		*r->health = health_start(cfg);
	}
	/* The admin API reads the same holder. */
	config_current_set(&r->current, cfg);
	config_unref(cfg); /* the loader's reference: `current` has its own */
}

int
reload_run(struct reload *r, const char *source, struct strbuf *answer)
{
	struct config_diag d;
	struct conf_diff diff;
	struct config *old, *cfg;
	char why[512];
	const char *whyp = why;
	int **fds;
	int rc = -1;

	pthread_mutex_lock(&r->one);
	if (atomic_load(&r->closed)) {
		const char *msg = "draining: no reload";

		rc = reload_refuse(r, source, answer, &msg, 1);
		pthread_mutex_unlock(&r->one);
		return rc;
	}
	if (atomic_load_explicit(&r->shared->switched, memory_order_acquire) <
	    r->nworkers) {
		const char *msg = "a worker has not finished the previous "
		    "reload yet: try again";

		rc = reload_refuse(r, source, answer, &msg, 1);
		pthread_mutex_unlock(&r->one);
		return rc;
	}
	systemd_notify_reloading();
	old = reload_current(r);
	config_diag_init(&d);
	cfg = config_load(old->path, &d);
	for (size_t i = 0; i < d.nwarnings; i++) {
		char q[1024];

		log_quote(q, sizeof(q), d.warnings[i]);
		log_warnx("reload_warning", "warning=\"%s\"", q);
	}
	if (cfg == NULL) {
		rc = reload_refuse(r, source, answer,
		    (const char *const *)d.errors, d.nerrors);
		goto out;
	}
	reload_keep_fixed(old, cfg);
	if (conf_ids_assign(&r->ids, cfg, why, sizeof(why)) == -1) {
		rc = reload_refuse(r, source, answer, &whyp, 1);
		config_unref(cfg);
		goto out;
	}
	conf_diff_init(&diff);
	conf_diff_compute(&diff, old, cfg);
	upstream_rt_attach(cfg, old, reload_kept, &diff);
	if ((fds = reload_open_listeners(r, old, cfg, why, sizeof(why))) == NULL) {
		rc = reload_refuse(r, source, answer, &whyp, 1);
		config_unref(cfg); /* gives the shared runtime state back */
		conf_diff_free(&diff);
		goto out;
	}
	/* reload_adopt swaps `current` (which drops its reference to `old`); `out` drops ours. */
	reload_adopt(r, old, cfg, fds);
	reload_report(&diff, &d, source, answer);
	conf_diff_free(&diff);
	atomic_fetch_add(&r->ok, 1);
	systemd_notify_reloaded(true, "configuration reloaded");
	rc = 0;
out:
	config_unref(old);
	config_diag_free(&d);
	pthread_mutex_unlock(&r->one);
	return rc;
}

void
reload_render_metrics(struct reload *r, struct strbuf *out)
{
	strbuf_addf(out,
	    "# HELP cutover_config_reloads_total Configuration reloads, by "
	    "result.\n"
	    "# TYPE cutover_config_reloads_total counter\n"
	    "cutover_config_reloads_total{result=\"ok\"} %" PRIu64 "\n"
	    "cutover_config_reloads_total{result=\"failed\"} %" PRIu64 "\n",
	    atomic_load(&r->ok), atomic_load(&r->failed));
}
