/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Weighted choice of a subset, then of a backend in it, from a flow hash. */
#ifndef KANARY_BPF_SELECT_H
#define KANARY_BPF_SELECT_H

#include "maps.h"
#include "hash.h"
#include <linux/in.h>

/* Maps h onto [0, 10000) and finds the subset whose cumulative range holds it. */
static __always_inline int kanary_pick_subset(const struct kanary_svc_config *cfg, __u32 h)
{
	__u32 point = ((__u64)h * KANARY_WEIGHT_SCALE) >> 32;
	__u32 n = cfg->n_subsets;

#pragma unroll
	for (int i = 0; i < KANARY_MAX_SUBSETS; i++) {
		if (i >= n)
			break;
		if (point < cfg->cum_weight[i] && cfg->subsets[i].n_backends)
			return i;
	}
	return -1;
}

/*
 * Chooses the backend for a flow of service ref.  Deterministic in the flow
 * and the live configuration, so a flow whose conntrack entry was evicted
 * lands on the same backend again while nothing changed.
 */
static __always_inline int kanary_select(const struct kanary_svc_ref *ref, __be32 saddr,
					 __be32 daddr, __be16 sport, __be16 dport,
					 struct kanary_ct_entry *out)
{
	__u32 cfg_key = ref->id * 2 + (ref->slot & 1), zero = 0;
	struct kanary_backend_key bk = {};
	const struct kanary_svc_config *cfg;
	const struct kanary_globals *g;
	const struct kanary_backend *be;
	__u32 ports, seed, h, n;
	int subset;

	cfg = bpf_map_lookup_elem(&kanary_cfg_v1, &cfg_key);
	g = bpf_map_lookup_elem(&kanary_glob_v1, &zero);
	if (!cfg || !g)
		return -1;
	seed = g->hash_seed;
	ports = ((__u32)sport << 16) | dport;

	h = kanary_hash3(saddr, daddr, ports ^ IPPROTO_TCP, seed);
	subset = kanary_pick_subset(cfg, h);
	if (subset < 0)
		return -1;
	n = cfg->subsets[subset & (KANARY_MAX_SUBSETS - 1)].n_backends;
	if (!n || n > KANARY_MAX_BACKENDS)
		return -1;

	h = kanary_hash3(saddr, daddr, ports ^ IPPROTO_TCP, seed ^ KANARY_HASH_BACKEND);
	bk.svc_id = ref->id;
	bk.slot = ref->slot & 1;
	bk.subset = subset;
	bk.index = h % n;
	be = bpf_map_lookup_elem(&kanary_be_v1, &bk);
	if (!be)
		return -1;

	__builtin_memcpy(&out->addr, &be->addr, sizeof(out->addr));
	out->port = be->port;
	out->subset = subset;
	out->flags = 0;
	out->svc_id = ref->id;
	return 0;
}

#endif /* KANARY_BPF_SELECT_H */
