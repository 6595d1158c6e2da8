/*
 * watch: reload when the configuration file changes (`watch: true`, SPEC
 * 4.6). One thread with inotify on the file's directory, not on the file:
 * an editor that saves by writing a new file and renaming it over the old
 * one, and a Kubernetes ConfigMap volume that swaps a `..data` symlink,
 * both replace the file's inode, which a watch on the file itself would
 * lose. Events are gathered for WATCH_SETTLE_MS after the last one, so a
 * save made of several writes is one reload.
 *
 * The watch runs when the file the process started with says `watch:
 * true`; a reload that changes `watch` is told to restart (reload.c).
 *
 * Owner: the server (watch_start / watch_stop).
 */
#ifndef CUTOVER_WATCH_H
#define CUTOVER_WATCH_H

#include <stdbool.h>

struct reload;
struct watch;

#define WATCH_SETTLE_MS 150

/* Watch `path` and call reload_run(r, "watch", NULL) on changes; NULL on failure (logged). */
struct watch *watch_start(const char *path, struct reload *r);
void watch_stop(struct watch *w);

#endif /* CUTOVER_WATCH_H */
