/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * inotify on the manifests: the directory, or the directory holding the
 * file, so that editors that write a new file and rename it over the old
 * one, and ConfigMap volumes that swap a ..data symlink, are all seen.
 */
#ifndef KD_WATCH_H
#define KD_WATCH_H

#include <stdbool.h>
#include <stddef.h>

struct kd_watch {
	int fd;			/* inotify; -1 when unavailable */
	int wd;			/* -1 while the directory is gone */
	char *dir;
	char *name;		/* only events for this entry; NULL: any */
	size_t nwriting, cap_writing;
	char **writing;		/* entries created or modified and not closed yet */
};

int kd_watch_init(struct kd_watch *w, const char *path);
/* Adds the watch again when the directory came back; true when it did. */
bool kd_watch_rearm(struct kd_watch *w);
/* Drains the events; true when one may concern the manifests. */
bool kd_watch_read(struct kd_watch *w);
/* A file is being written in place: read it once it is closed. */
bool kd_watch_writing(const struct kd_watch *w);
void kd_watch_free(struct kd_watch *w);

#endif
