/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What kanaryd last wrote for each service it owns: the hash of that
 * service's desired state.  It decides precedence: while a service's hash is
 * unchanged, kanaryd leaves it alone, so `kanaryctl weight set` stays in
 * force until the service's manifests change.  Kept in a file next to the
 * status file (bpffs holds no regular files), so it survives restarts.
 */
#ifndef KD_APPLIED_H
#define KD_APPLIED_H

#include <stdbool.h>
#include <stddef.h>
#include "kanary.h"

struct kd_applied_entry {
	char name[KANARY_NAME_LEN];
	__u64 hash;
};

struct kd_applied {
	size_t n, cap;
	struct kd_applied_entry *v;	/* sorted by name */
	bool dirty;		/* changed since load or save */
};

/* A missing file is an empty record; an unreadable one too, but -EINVAL (e says why). */
int kd_applied_load(struct kd_applied *a, const char *path, struct kanary_err *e);
/* Written to a temporary file, then renamed over path: never half written.  0 or -EIO. */
int kd_applied_save(struct kd_applied *a, const char *path, struct kanary_err *e);
bool kd_applied_get(const struct kd_applied *a, const char *name, __u64 *hash);
void kd_applied_set(struct kd_applied *a, const char *name, __u64 hash);
void kd_applied_del(struct kd_applied *a, const char *name);
void kd_applied_free(struct kd_applied *a);

#endif
