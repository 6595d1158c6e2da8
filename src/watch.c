/*
 * watch: the configuration file watch. See watch.h for why the directory
 * is watched and events settle before a reload.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "cutover/log.h"
#include "cutover/reload.h"
#include "cutover/strbuf.h"
#include "cutover/watch.h"

/* Owner: the server. `dir` and `base` are owned; `stop_fd[1]` ends the thread. */
struct watch {
	struct reload *r;
	char *dir;
	char *base;
	int ifd;
	int stop_fd[2];
	pthread_t thread;
};

/* Split `path` into its directory and file name. */
static void
watch_split(const char *path, char **dir, char **base)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL) {
		*dir = xstrdup(".");
		*base = xstrdup(path);
	} else if (slash == path) {
		*dir = xstrdup("/");
		*base = xstrdup(slash + 1);
	} else {
		*dir = xstrndup(path, (size_t)(slash - path));
		*base = xstrdup(slash + 1);
	}
}

/*
 * Does this event concern the file? Its own name, or the `..data`
 * symlink a ConfigMap volume swaps (the file is a link through it).
 */
static bool
watch_concerns(const struct watch *w, const struct inotify_event *ev)
{
	if (ev->mask & IN_Q_OVERFLOW)
		return true;
	if (ev->len == 0)
		return false;
	return strcmp(ev->name, w->base) == 0 || strcmp(ev->name, "..data") == 0;
}

/* Read what is queued; true when something concerns the file. */
static bool
watch_drain(struct watch *w)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool hit = false;
	ssize_t n;

	while ((n = read(w->ifd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const void *)p;

			hit |= watch_concerns(w, ev);
			p += sizeof(*ev) + ev->len;
		}
	}
	return hit;
}

static void *
watch_main(void *arg)
{
	struct watch *w = arg;
	bool pending = false;

	for (;;) {
		struct pollfd p[2] = {
			{ .fd = w->ifd, .events = POLLIN },
			{ .fd = w->stop_fd[0], .events = POLLIN },
		};
		int rc = poll(p, 2, pending ? WATCH_SETTLE_MS : -1);

		if (rc == -1 && errno == EINTR)
			continue;
		if (rc == -1 || (p[1].revents & POLLIN))
			break;
		if (rc == 0) { /* settled */
			pending = false;
			log_info("config_changed", "path=%s/%s", w->dir, w->base);
			(void)reload_run(w->r, "watch", NULL);
			continue;
		}
		if ((p[0].revents & POLLIN) && watch_drain(w))
			pending = true;
	}
	return NULL;
}

struct watch *
watch_start(const char *path, struct reload *r)
{
	struct watch *w = xcalloc(1, sizeof(*w));

	w->r = r;
	w->stop_fd[0] = w->stop_fd[1] = -1;
	watch_split(path, &w->dir, &w->base);
	w->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->ifd == -1 || inotify_add_watch(w->ifd, w->dir, IN_CLOSE_WRITE |
		IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_ATTRIB) == -1 ||
	    pipe2(w->stop_fd, O_CLOEXEC) == -1 ||
	    pthread_create(&w->thread, NULL, watch_main, w) != 0) {
		log_warn("watch_failed", "path=%s", path);
		if (w->ifd != -1)
			close(w->ifd);
		if (w->stop_fd[0] != -1) {
			close(w->stop_fd[0]);
			close(w->stop_fd[1]);
		}
		free(w->dir);
		free(w->base);
		free(w);
		return NULL;
	}
	log_info("watching", "path=%s directory=%s", path, w->dir);
	return w;
}

void
watch_stop(struct watch *w)
{
	if (w == NULL)
		return;
	(void)write(w->stop_fd[1], "x", 1);
	pthread_join(w->thread, NULL);
	close(w->ifd);
	close(w->stop_fd[0]);
	close(w->stop_fd[1]);
	free(w->dir);
	free(w->base);
	free(w);
}
