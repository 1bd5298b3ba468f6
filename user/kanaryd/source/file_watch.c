// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include "base/arena.h"
#include "base/log.h"
#include "source/file_watch.h"

#define EVENTS	(IN_CREATE | IN_DELETE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_FROM | \
		 IN_MOVED_TO | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF)

int kd_watch_init(struct kd_watch *w, const char *path)
{
	struct stat st;
	char *copy;

	w->fd = -1;
	w->wd = -1;
	w->name = NULL;
	w->writing = NULL;
	w->nwriting = w->cap_writing = 0;
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

/* ---- files being written in place ---- */

static ssize_t writing_at(const struct kd_watch *w, const char *name)
{
	for (size_t i = 0; i < w->nwriting; i++)
		if (strcmp(w->writing[i], name) == 0)
			return (ssize_t)i;
	return -1;
}

static void writing_add(struct kd_watch *w, const char *name)
{
	if (writing_at(w, name) < 0)
		KD_PUSH(w->writing, w->nwriting, w->cap_writing, kd_xstrdup(name));
}

static void writing_done(struct kd_watch *w, const char *name)
{
	ssize_t i = writing_at(w, name);

	if (i < 0)
		return;
	free(w->writing[i]);
	w->writing[i] = w->writing[--w->nwriting];
}

static void writing_forget(struct kd_watch *w)
{
	while (w->nwriting)
		free(w->writing[--w->nwriting]);
}

/* A regular file just created: it is written next, and closed when complete. */
static bool created_file(const struct kd_watch *w, const struct inotify_event *ev)
{
	char path[PATH_MAX];
	struct stat st;

	if (ev->mask & IN_ISDIR)
		return false;
	snprintf(path, sizeof(path), "%s/%s", w->dir, ev->name);
	return lstat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/*
 * One event about an entry of the directory; false when it cannot concern
 * the manifests.  The kernel reports the close of every file opened for
 * writing, so a file created or modified and not yet closed is known to be
 * incomplete; closed, renamed or removed, it is whole or gone.  In a
 * directory, hidden names are never manifests (sources.c), so their writes
 * (an editor's swap file, open for the whole session) are no change.
 */
static bool entry_event(struct kd_watch *w, const struct inotify_event *ev)
{
	if (ev->mask & (IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE)) {
		writing_done(w, ev->name);
		return true;
	}
	if (!(ev->mask & (IN_MODIFY | IN_CREATE)))
		return true;
	if (!w->name && ev->name[0] == '.')
		return false;
	if ((ev->mask & IN_MODIFY) || created_file(w, ev))
		writing_add(w, ev->name);
	return true;
}

bool kd_watch_read(struct kd_watch *w)
{
	char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool changed = false;

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
					writing_forget(w);
				}
				changed = true;
				continue;
			}
			if (ev->mask & IN_Q_OVERFLOW) {
				writing_forget(w);	/* events were lost: what is open is unknown */
				changed = true;
				continue;
			}
			if (w->name && !(ev->len && strcmp(ev->name, w->name) == 0))
				continue;
			changed |= !ev->len || entry_event(w, ev);
		}
	}
	return changed;
}

bool kd_watch_writing(const struct kd_watch *w)
{
	return w->nwriting > 0;
}

void kd_watch_free(struct kd_watch *w)
{
	if (w->fd >= 0)
		close(w->fd);
	writing_forget(w);
	free(w->writing);
	free(w->dir);
	free(w->name);
	w->fd = w->wd = -1;
	w->dir = w->name = NULL;
}
