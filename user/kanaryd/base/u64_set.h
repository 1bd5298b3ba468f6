/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A set of 64-bit hashes: pushed, then sorted once and searched.  The
 * partial build collects the FQDN hashes an event touches this way.
 */
#ifndef KD_U64_SET_H
#define KD_U64_SET_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

struct kd_u64_set {
	size_t n, cap;
	__u64 *v;
};

void kd_u64_set_add(struct kd_u64_set *h, __u64 x);
/* Sorts and drops duplicates: kd_u64_set_has works from then on. */
void kd_u64_set_sort(struct kd_u64_set *h);
bool kd_u64_set_has(const struct kd_u64_set *h, __u64 x);
void kd_u64_set_free(struct kd_u64_set *h);

#endif
