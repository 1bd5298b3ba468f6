/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The per-source bound of the rule path: how many bound connections (in
 * kanary_ho_v4) one client address may hold on the node.  A handshake
 * holds nothing (SYN cookies, handoff_cookie.h); a connection takes its
 * slot when its first data binds it and gives it back when its state is
 * forgotten.  The LRU may evict a bound entry unseen, so a count can only
 * drift upwards, and only once the table is full: kanaryd recounts from
 * the table (kanary_ho_sources_recount) at every periodic pass.
 *
 * Global functions, so that the verifier walks each once for all callers.
 */
#ifndef KANARY_BPF_HANDOFF_SOURCE_H
#define KANARY_BPF_HANDOFF_SOURCE_H

#include "maps.h"
#include "counters.h"

/* Compare-and-swap attempts on one count before giving up on exactness. */
#define KANARY_HO_SOURCE_TRIES	4

/* Takes a slot for src: 0, or -1 when src holds its bound already (counted). */
__noinline int kanary_ho_source_claim(__be32 src)
{
	const struct kanary_ho_settings *cfg;
	__u32 zero = 0;
	__u64 one = 1, *held;

	cfg = bpf_map_lookup_elem(&kanary_hocfg_v1, &zero);
	if (!cfg || !cfg->per_source || cfg->per_source == KANARY_HO_PER_SOURCE_OFF)
		return 0;
	held = bpf_map_lookup_elem(&kanary_hosrc_v1, &src);
	if (!held) {
		/* Another CPU making it at once: take a slot in the one that won. */
		if (!bpf_map_update_elem(&kanary_hosrc_v1, &src, &one, BPF_NOEXIST))
			return 0;
		held = bpf_map_lookup_elem(&kanary_hosrc_v1, &src);
		if (!held)
			return 0;	/* evicted at once: the bound loosens, as for any eviction */
	}
	/* Compare-and-swap, so that racing CPUs never pass the bound together. */
	for (int i = 0; i < KANARY_HO_SOURCE_TRIES; i++) {
		__u64 n = *held, was;

		if (n >= cfg->per_source) {
			kanary_count(KANARY_CNT_HO_SOURCE_LIMIT);
			return -1;
		}
		was = __sync_val_compare_and_swap(held, n, n + 1);
		if (was == n)
			return 0;
	}
	return 0;	/* contended past all tries: let it in rather than refuse a client unseen */
}

/* Gives src's slot back: its connection's state was deleted from kanary_ho_v4. */
__noinline int kanary_ho_source_release(__be32 src)
{
	__u64 *held = bpf_map_lookup_elem(&kanary_hosrc_v1, &src);

	/* Never below zero (a slot made again after an eviction starts there). */
	for (int i = 0; held && i < KANARY_HO_SOURCE_TRIES; i++) {
		__u64 n = *held;

		if (!n || __sync_val_compare_and_swap(held, n, n - 1) == n)
			break;
	}
	return 0;
}

#endif /* KANARY_BPF_HANDOFF_SOURCE_H */
