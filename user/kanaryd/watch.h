/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * inotify on the manifests: the directory, or the directory holding the
 * file, so that editors that write a new file and rename it over the old
 * one, and ConfigMap volumes that swap a ..data symlink, are all seen.
 */
#ifndef KD_WATCH_H
#define KD_WATCH_H

#include <stdbool.h>

struct kd_watch {
	int fd;			/* inotify; -1 when unavailable */
	int wd;			/* -1 while the directory is gone */
	char *dir;
	char *name;		/* only events for this entry; NULL: any */
};

int kd_watch_init(struct kd_watch *w, const char *path);
/* Adds the watch again when the directory came back; true when it did. */
bool kd_watch_rearm(struct kd_watch *w);
enum kd_watch_event {
	KD_WATCH_NONE,
	KD_WATCH_NOW,		/* a file was closed, renamed, removed: read soon */
	KD_WATCH_WRITING,	/* a file is being written in place: wait for it to be closed */
};

/* Drains the events; what the most urgent one concerning the manifests means. */
enum kd_watch_event kd_watch_read(struct kd_watch *w);
void kd_watch_free(struct kd_watch *w);

#endif
