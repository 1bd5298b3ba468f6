/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What a source read, item by item (a manifest file, or one object from the
 * API server): the objects of each item's last good version, and the
 * problems of its last version.  A bad version is reported and ignored as
 * a whole; the good one before it stays in use.
 */
#ifndef KD_STORE_H
#define KD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include "base/diag.h"
#include "decode/model.h"

struct kd_store_item {
	char *name;		/* first member: a file's path, or "api:Pod/default/greeting-1" */
	struct kd_objects *good;	/* objects of the last good version; NULL: none yet */
	char *error;		/* the last version is bad: its first error; NULL when good */
	struct kd_diags diags;	/* errors and warnings of the last version */
	bool has_hash;		/* files: hash is of the content last read, good or bad */
	unsigned long long hash;
	/*
	 * Files: the identity (inode, size, change time) of the content last
	 * read, and whether it can be trusted to tell that content apart
	 * (manifest_files.c: settled).
	 */
	bool has_stat;
	unsigned long long ino, size, ctime_ns;
};

struct kd_store {
	size_t n, cap;
	struct kd_store_item *v;	/* sorted by name */
};

/* The item named name, added (with no version yet) when missing. */
struct kd_store_item *kd_store_item(struct kd_store *s, const char *name);
struct kd_store_item *kd_store_find(const struct kd_store *s, const char *name);
/* false when there was no such item. */
bool kd_store_remove(struct kd_store *s, const char *name);
/*
 * Records a decoded version of it: objs (taken) when good, NULL when bad.
 * problems (emptied) are what decoding said; those the previous version did
 * not have go to said, or all of them with repeat.  Returns true when the
 * good objects changed.
 */
bool kd_store_record(struct kd_store_item *it, struct kd_objects *objs, struct kd_diags *problems,
		     bool repeat, struct kd_diags *said);
/* A version that could not be read: the good one stays; msg is said when it is new. */
void kd_store_record_unreadable(struct kd_store_item *it, const char *msg, struct kd_diags *said);
/* Items whose only version seen is bad: what they hold is unknown. */
size_t kd_store_unknown(const struct kd_store *s);
/* Items whose last version is bad. */
size_t kd_store_bad(const struct kd_store *s);
/* Appends each good object set, in name order, to *sets (grown with KD_PUSH). */
void kd_store_sets(const struct kd_store *s, struct kd_objects ***sets, size_t *n, size_t *cap);
void kd_store_free(struct kd_store *s);

#endif
