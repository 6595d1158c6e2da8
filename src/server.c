/*
 * server: start the workers, wait for signals, drain, exit.
 * Signals are blocked in every thread and taken synchronously here with
 * sigtimedwait(), so no handler ever runs inside an event loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cutover/accesslog.h"
#include "cutover/admin.h"
#include "cutover/health.h"
#include "cutover/upstream_rt.h"
#include "cutover/watch.h"
#include "cutover/clock.h"
#include "cutover/listener.h"
#include "cutover/log.h"
#include "cutover/reload.h"
#include "cutover/server.h"
#include "cutover/shadow_log.h"
#include "cutover/strbuf.h"
#include "cutover/systemd.h"
#include "cutover/worker.h"
#include "config.h"

struct server {
	struct config *cfg;
	struct worker *workers;
	unsigned nworkers;
	struct worker_shared shared;
	struct accesslog *alog;
	struct admin *admin;
	struct health_checker *health;
	struct admin_view view;
	struct reload reload; /* holds the generation served now */
	struct watch *watch;  /* with `watch: true` */
	atomic_bool draining;
};

static int server_open_listeners(const struct config *cfg, unsigned nworkers,
    int **fds);
static int server_admin_reload(void *arg, struct strbuf *answer);
static void server_extra_metrics(struct strbuf *out, void *arg);
static void server_join_until(struct server *srv, uint64_t deadline_ms,
    bool *joined);

/*
 * One fd per worker and listener, in (*fds)[w * nlisteners + i]. A
 * listener whose address came as an inherited socket (systemd socket
 * activation) gives every worker a dup of that one socket: SO_REUSEPORT
 * groups only form from separate binds, and workers waiting on the same
 * socket is fine (each accept loop stops at EAGAIN). The others are bound
 * here, once per worker, with SO_REUSEPORT.
 */
static int
server_open_listeners(const struct config *cfg, unsigned nworkers, int **fds)
{
	size_t nl = cfg->nlisteners, nfds = (size_t)nworkers * nl;
	struct systemd_fds inherited;

	*fds = xcalloc(nfds ? nfds : 1, sizeof(int));
	for (size_t k = 0; k < nfds; k++)
		(*fds)[k] = -1;
	(void)systemd_listen_fds(&inherited);
	for (size_t i = 0; i < nl; i++) {
		const struct listener_conf *l = &cfg->listeners[i];
		int ifd = systemd_fds_take(&inherited, l);

		if (ifd != -1)
			log_info("listener_inherited", "address=%s fd=%d", l->address,
			    ifd);
		for (unsigned w = 0; w < nworkers; w++) {
			int fd;

			if (ifd == -1)
				fd = listener_open(l);
			else if (w == 0)
				fd = ifd;
			else
				fd = fcntl(ifd, F_DUPFD_CLOEXEC, 0);
			if (fd == -1) {
				log_warn("listen_failed", "address=%s", l->address);
				goto fail;
			}
			(*fds)[(size_t)w * nl + i] = fd;
		}
	}
	systemd_fds_close_unused(&inherited);
	return 0;
fail:
	for (size_t k = 0; k < nfds; k++) {
		if ((*fds)[k] != -1)
			close((*fds)[k]);
	}
	free(*fds);
	*fds = NULL;
	systemd_fds_close_unused(&inherited);
	return -1;
}

static void
server_join_until(struct server *srv, uint64_t deadline_ms, bool *joined)
{
	for (unsigned i = 0; i < srv->nworkers; i++) {
		uint64_t now = clock_now_ms();
		struct timespec ts;

		if (joined[i])
			continue;
		clock_gettime(CLOCK_REALTIME, &ts);
		if (deadline_ms > now) {
			uint64_t left = deadline_ms - now;
			ts.tv_sec += (time_t)(left / 1000);
			ts.tv_nsec += (long)(left % 1000) * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
		}
		if (pthread_timedjoin_np(srv->workers[i].thread, NULL, &ts) == 0)
			joined[i] = true;
	}
}

int
server_run(struct config *cfg)
{
	struct server srv = { .cfg = cfg };
	sigset_t set;
	int *fds = NULL;
	int status = 0;
	bool *joined;
	struct config *cur = NULL;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	srv.nworkers = cfg->workers ? cfg->workers : 1;
	atomic_init(&srv.draining, false);
	{
		const char *why = NULL;
		const char *path = !cfg->access_log.enabled ? NULL :
		    cfg->access_log.to_stdout ? "stdout" : cfg->access_log.path;

		srv.alog = accesslog_open(path, &why);
		if (srv.alog == NULL) {
			log_warnx("access_log_failed", "path=%s reason=\"%s\"", path, why);
			return 1;
		}
	}
	if (server_open_listeners(cfg, srv.nworkers, &fds) == -1) {
		accesslog_close(srv.alog);
		return 1;
	}
	/* Breakers, budgets, bulkheads and health: shared by the workers. */
	upstream_rt_attach(cfg, NULL, NULL, NULL);
	srv.workers = xcalloc(srv.nworkers, sizeof(*srv.workers));
	joined = xcalloc(srv.nworkers, sizeof(*joined));
	atomic_init(&srv.shared.nconns, 0);
	atomic_init(&srv.shared.stopping, false);
	atomic_init(&srv.shared.max_conns, cfg->limits.max_connections ?
	    (size_t)cfg->limits.max_connections : SIZE_MAX);
	srv.shared.workers = srv.workers;
	srv.shared.nworkers = srv.nworkers;
	srv.shared.alog = srv.alog;
	srv.shared.shadow_log = shadow_log_new();
	/* The reload state holds the server's own reference to the generation served. */
	reload_init(&srv.reload, cfg);
	srv.reload.workers = srv.workers;
	srv.reload.nworkers = srv.nworkers;
	srv.reload.shared = &srv.shared;
	atomic_init(&srv.shared.switched, srv.nworkers); /* no switch pending */
	srv.reload.health = &srv.health;
	for (unsigned i = 0; i < srv.nworkers; i++) {
		if (worker_init(&srv.workers[i], &srv.shared, i, cfg,
		    fds + (size_t)i * cfg->nlisteners) == -1)
			fatal("worker %u: cannot initialise", i);
	}
	free(fds);
	for (size_t i = 0; i < cfg->nlisteners; i++)
		log_info("listening", "address=%s workers=%u", cfg->listeners[i].address,
		    srv.nworkers);
	if (cfg->admin.enabled) {
		srv.view.current = &srv.reload.current;
		srv.view.reload = server_admin_reload;
		srv.view.reload_arg = &srv.reload;
		srv.view.extra_metrics = server_extra_metrics;
		srv.view.extra_arg = &srv.reload;
		srv.view.nworkers = srv.nworkers;
		srv.view.metrics = xcalloc(srv.nworkers, sizeof(*srv.view.metrics));
		srv.view.migration = xcalloc(srv.nworkers,
		    sizeof(*srv.view.migration));
		for (unsigned i = 0; i < srv.nworkers; i++) {
			srv.view.metrics[i] = srv.workers[i].metrics;
			srv.view.migration[i] = srv.workers[i].migration;
		}
		srv.view.shadow_log = srv.shared.shadow_log;
		srv.view.draining = &srv.draining;
		srv.admin = admin_start(&cfg->admin, &srv.view);
		if (srv.admin == NULL) {
			/* Nothing serves yet: give up cleanly, like a listener that cannot bind. */
			log_warn("admin_listen_failed", "address=%s", cfg->admin.address);
			atomic_store(&srv.shared.stopping, true);
			for (unsigned i = 0; i < srv.nworkers; i++)
				worker_free(&srv.workers[i]);
			reload_free(&srv.reload);
			free(srv.view.metrics);
			free(srv.view.migration);
			shadow_log_free(srv.shared.shadow_log);
			free(srv.workers);
			free(joined);
			accesslog_close(srv.alog);
			return 1;
		}
		log_info("admin_listening", "address=%s auth=%s", cfg->admin.address,
		    cfg->admin.token ? "bearer" : "none");
	}
	upstream_rt_clock_start(cfg);
	srv.health = health_start(cfg);
	for (unsigned i = 0; i < srv.nworkers; i++) {
		if (worker_start(&srv.workers[i]) == -1)
			fatal("worker %u: cannot start thread", i);
	}
	log_info("start", "version=%s pid=%ld config=%s workers=%u routes=%zu upstreams=%zu",
	    PACKAGE_VERSION, (long)getpid(), cfg->path ? cfg->path : "-",
	    srv.nworkers, cfg->nroutes, cfg->nupstreams);
	systemd_notify_ready();
	if (cfg->watch && cfg->path != NULL)
		srv.watch = watch_start(cfg->path, &srv.reload);

	for (;;) {
		int sig = sigwaitinfo(&set, NULL);

		if (sig == -1) {
			if (errno == EINTR)
				continue;
			fatal("sigwaitinfo: %s", strerror(errno));
		}
		if (sig == SIGTERM || sig == SIGINT) {
			/*
			 * No reload from here on (one in progress finishes
			 * first): the drain uses what is served now.
			 */
			reload_close(&srv.reload);
			watch_stop(srv.watch);
			srv.watch = NULL;
			cur = reload_current(&srv.reload);
			log_info("draining", "signal=%s shutdown_timeout_ms=%llu",
			    sig == SIGTERM ? "SIGTERM" : "SIGINT",
			    (unsigned long long)cur->shutdown_timeout_ms);
			systemd_notify_stopping();
			break;
		}
		if (sig == SIGUSR1) {
			log_info("access_log_reopen", "signal=SIGUSR1");
			accesslog_reopen(srv.alog);
			continue;
		}
		(void)reload_run(&srv.reload, "SIGHUP", NULL);
	}
	atomic_store(&srv.draining, true);

	for (unsigned i = 0; i < srv.nworkers; i++)
		worker_command(&srv.workers[i], WORKER_CMD_DRAIN);
	server_join_until(&srv, clock_now_ms() + cur->shutdown_timeout_ms, joined);
	for (unsigned i = 0; i < srv.nworkers; i++) {
		if (!joined[i]) {
			log_warnx("drain_timeout", "worker=%u reason=\"closing remaining connections\"", i);
			worker_command(&srv.workers[i], WORKER_CMD_QUIT);
		}
	}
	for (unsigned i = 0; i < srv.nworkers; i++) {
		if (!joined[i])
			pthread_join(srv.workers[i].thread, NULL);
	}
	/* The admin thread reads the workers' counters: stop it first. */
	if (srv.admin != NULL)
		admin_stop(srv.admin);
	health_stop(srv.health);
	upstream_rt_clock_stop();
	free(srv.view.metrics);
	free(srv.view.migration);
	/* No worker pokes another once they are being taken apart. */
	atomic_store(&srv.shared.stopping, true);
	for (unsigned i = 0; i < srv.nworkers; i++)
		worker_free(&srv.workers[i]);
	config_unref(cur);
	reload_free(&srv.reload); /* the server's reference: the last but main's */
	shadow_log_free(srv.shared.shadow_log);
	if (accesslog_dropped(srv.alog) > 0)
		log_warnx("access_log_dropped", "lines=%llu",
		    (unsigned long long)accesslog_dropped(srv.alog));
	/* Everything queued is written before we go: SIGTERM loses no line. */
	accesslog_close(srv.alog);
	free(joined);
	free(srv.workers);
	log_info("exit", "status=%d", status);
	return status;
}

/* POST /reload, on the admin thread. */
static int
server_admin_reload(void *arg, struct strbuf *answer)
{
	return reload_run(arg, "admin", answer);
}

static void
server_extra_metrics(struct strbuf *out, void *arg)
{
	reload_render_metrics(arg, out);
}
