/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Per-CPU counters: no locking and no atomics on the packet path. */
#ifndef KANARY_BPF_COUNTERS_H
#define KANARY_BPF_COUNTERS_H

#include "maps.h"

static __always_inline void kanary_count(enum kanary_counter c)
{
	__u32 key = c;
	__u64 *v = bpf_map_lookup_elem(&kanary_cnt_v4, &key);

	if (v)
		*v += 1;
}

static __always_inline struct kanary_subset_stats *kanary_subset_stats(__u32 svc_id, __u8 subset)
{
	__u32 key = KANARY_STATS_INDEX(svc_id, subset);

	return bpf_map_lookup_elem(&kanary_stat_v3, &key);
}

/* A GSO skb carries several segments; count what goes on the wire. */
static __always_inline __u32 kanary_segs(const struct __sk_buff *skb)
{
	return skb->gso_segs > 1 ? skb->gso_segs : 1;
}

#endif /* KANARY_BPF_COUNTERS_H */
