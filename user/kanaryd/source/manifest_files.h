/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The manifest files under --manifests PATH (a file, or a directory whose
 * *.yaml, *.yml and *.json files are read, not recursively, hidden ones
 * skipped, symlinks followed as in a mounted ConfigMap).  Each file keeps
 * the objects of its last good version: a bad version is reported and
 * ignored as a whole.
 */
#ifndef KD_SOURCES_H
#define KD_SOURCES_H

#include <stdbool.h>
#include <stddef.h>
#include "base/diag.h"
#include "decode/model.h"

#define KD_MANIFEST_MAX_BYTES	(256u << 20)

struct kd_source_file {
	char *path;
	bool present;		/* found by the last scan */
	bool has_hash;
	unsigned long long hash;	/* of the content last read, good or bad */
	struct kd_objects *good;	/* objects of the last good version; NULL: none yet */
	char *error;		/* the last version is bad: the first error; NULL when good */
	struct kd_diags diags;	/* errors and warnings of the last version decoded */
};

struct kd_sources {
	char *root;
	size_t n, cap;
	struct kd_source_file *v;	/* sorted by path */
	char *root_error;	/* PATH itself cannot be read: everything is kept */
};

void kd_sources_init(struct kd_sources *s, const char *root);
/*
 * Reads every file again and decodes those whose content changed, adding
 * what decoding said to diags.  Returns true when the good objects changed.
 * force re-decodes every file (SIGHUP), so its warnings are seen again.
 */
bool kd_sources_scan(struct kd_sources *s, bool force, struct kd_diags *diags);
/* Good object sets in file order, for kd_desired_build; *n of them. */
struct kd_objects **kd_sources_sets(const struct kd_sources *s, size_t *n);
/* Files whose only version seen is bad: what they held is unknown. */
size_t kd_sources_unknown(const struct kd_sources *s);
void kd_sources_free(struct kd_sources *s);

#endif
