/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The status file's "files" array, as JSON text kept from one write to the
 * next and made again only when what it shows changed (a file added or
 * removed, turned good or bad, its objects' counts).  At 1,000 files,
 * building and printing the array on each write was an eighth of
 * kanaryd's CPU for one pod event.
 */
#ifndef KD_STATUS_FILES_H
#define KD_STATUS_FILES_H

#include <stddef.h>
#include <jansson.h>
#include <linux/types.h>
#include "source/manifest_files.h"

struct kd_status_files {
	__u64 print;		/* fingerprint of everything the text shows */
	char *text;		/* compact JSON array; NULL: none made yet */
	size_t made;		/* times the text was made, for tests */
};

/* The array for fs, as the status file shows it. */
json_t *kd_files_json(const struct kd_files *fs);
/* Its compact text: the kept one when nothing it shows changed; NULL when out of memory. */
const char *kd_status_files_text(struct kd_status_files *c, const struct kd_files *fs);
void kd_status_files_free(struct kd_status_files *c);

#endif
