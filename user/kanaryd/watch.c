// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include "arena.h"
#include "log.h"
#include "watch.h"

#define EVENTS	(IN_CREATE | IN_DELETE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_FROM | \
		 IN_MOVED_TO | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF)

int kd_watch_init(struct kd_watch *w, const char *path)
{
	struct stat st;
	char *copy;

	w->fd = -1;
	w->wd = -1;
	w->name = NULL;
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		w->dir = kd_xstrdup(path);
	} else {
		copy = kd_xstrdup(path);
		w->dir = kd_xstrdup(dirname(copy));
		free(copy);
		/* A symlink (a ConfigMap key) changes when its target dir is swapped: any event counts. */
		if (lstat(path, &st) || !S_ISLNK(st.st_mode)) {
			copy = kd_xstrdup(path);
			w->name = kd_xstrdup(basename(copy));
			free(copy);
		}
	}
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->fd < 0) {
		pr_err("inotify: %s; manifests are re-read only every few seconds and on SIGHUP",
		       strerror(errno));
		return -errno;
	}
	kd_watch_rearm(w);
	return 0;
}

bool kd_watch_rearm(struct kd_watch *w)
{
	if (w->fd < 0 || w->wd >= 0)
		return false;
	w->wd = inotify_add_watch(w->fd, w->dir, EVENTS | IN_ONLYDIR);
	if (w->wd < 0) {
		pr_debug("inotify on %s: %s (tried again later)", w->dir, strerror(errno));
		return false;
	}
	pr_debug("watching %s%s%s", w->dir, w->name ? " for " : "", w->name ? w->name : "");
	return true;
}

enum kd_watch_event kd_watch_read(struct kd_watch *w)
{
	char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	enum kd_watch_event what = KD_WATCH_NONE;

	for (;;) {
		ssize_t n = read(w->fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *ev = (struct inotify_event *)p;

			p += sizeof(*ev) + ev->len;
			if (ev->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) {
				/* The directory itself went or moved: watch the path again when it is back. */
				if (ev->wd == w->wd) {
					if (!(ev->mask & IN_IGNORED))
						inotify_rm_watch(w->fd, w->wd);
					w->wd = -1;
				}
				what = KD_WATCH_NOW;
				continue;
			}
			if (ev->mask & IN_Q_OVERFLOW) {
				what = KD_WATCH_NOW;
				continue;
			}
			if (w->name && !(ev->len && strcmp(ev->name, w->name) == 0))
				continue;
			/* Reading a file while it is rewritten in place would see half of it. */
			if (ev->mask & (IN_MODIFY | IN_CREATE)) {
				if (what == KD_WATCH_NONE)
					what = KD_WATCH_WRITING;
			} else {
				what = KD_WATCH_NOW;
			}
		}
	}
	return what;
}

void kd_watch_free(struct kd_watch *w)
{
	if (w->fd >= 0)
		close(w->fd);
	free(w->dir);
	free(w->name);
	w->fd = w->wd = -1;
	w->dir = w->name = NULL;
}
