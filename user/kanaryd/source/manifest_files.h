/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The files source: the manifest files under --manifests PATH (a file, or
 * a directory whose *.yaml, *.yml and *.json files are read, not
 * recursively, hidden ones skipped, symlinks followed as in a mounted
 * ConfigMap).  Each file keeps the objects of its last good version.
 */
#ifndef KD_MANIFEST_FILES_H
#define KD_MANIFEST_FILES_H

#include <stdbool.h>
#include "base/diag.h"
#include "source/source.h"
#include "source/store.h"

struct kd_files {
	struct kd_source source;	/* its interface, for the loop */
	char *root;
	char *root_error;	/* PATH itself cannot be read: everything is kept */
	struct kd_store store;	/* one item per file, named by its path */
};

void kd_files_init(struct kd_files *f, const char *root);
/*
 * Reads every file again and decodes those whose content changed, adding
 * what decoding said to said.  Returns true when the good objects changed.
 * force re-decodes every file (SIGHUP), so its warnings are seen again.
 */
bool kd_files_scan(struct kd_files *f, bool force, struct kd_diags *said);
void kd_files_free(struct kd_files *f);

#endif
