/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Weighted choice of a subset, then of a backend in it by the subset's
 * Maglev table, from a flow hash.
 */
#ifndef KANARY_BPF_SELECT_H
#define KANARY_BPF_SELECT_H

#include "maps.h"
#include "hash.h"
#include "parse.h"
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

/* The live configuration of service ref. */
static __always_inline const struct kanary_svc_config *kanary_live_config(const struct kanary_svc_ref *ref)
{
	__u32 cfg_key = ref->id * 2 + (ref->slot & 1);

	return bpf_map_lookup_elem(&kanary_cfg_v1, &cfg_key);
}

/* The instance's hash seed, read once per packet by the callers below. */
static __always_inline __u32 kanary_hash_seed(void)
{
	const struct kanary_globals *g = kanary_globals();

	return g ? g->hash_seed : 0;
}

/* The third word of a flow's hash: its ports and protocol. */
static __always_inline __u32 kanary_flow_ports(const struct kanary_pkt *p)
{
	return (((__u32)p->sport << 16) | p->dport) ^ IPPROTO_TCP;
}

/* The flow's hash under seed (the instance seed, perturbed by a salt). */
static __always_inline __u32 kanary_flow_hash(const struct kanary_pkt *p, __u32 seed)
{
	return kanary_hash3(p->saddr, p->daddr, kanary_flow_ports(p), seed);
}

/*
 * The index of the backend of subset bk (its index field unused) that owns
 * the flow hash h: the Maglev table's point h lands on.  A subset written
 * before the tables existed (pins of an older kanary, until load has
 * written its table) has none: h % n, as then.
 */
static __always_inline __u32 kanary_maglev_pick(const struct kanary_backend_key *bk, __u32 n,
						__u32 h)
{
	struct kanary_maglev_key mk = { .svc_id = bk->svc_id, .slot = bk->slot,
					.subset = bk->subset };
	const struct kanary_maglev *tbl = bpf_map_lookup_elem(&kanary_mag_v1, &mk);
	/* Multiply and shift, not %: the verifier sees the bound. */
	__u32 point = ((__u64)h * KANARY_MAGLEV_SIZE) >> 32;

	return tbl ? tbl->backend[point] : h % n;
}

/* Chooses a backend of subset (of the live config cfg) for the flow. */
static __always_inline int kanary_pick_backend(const struct kanary_svc_ref *ref,
					       const struct kanary_svc_config *cfg, int subset,
					       const struct kanary_pkt *p, __u32 seed,
					       struct kanary_ct_entry *out)
{
	struct kanary_backend_key bk = {};
	const struct kanary_backend *be;
	__u32 n;

	if (subset < 0 || subset >= KANARY_MAX_SUBSETS || subset >= cfg->n_subsets)
		return -1;
	n = cfg->subsets[subset & (KANARY_MAX_SUBSETS - 1)].n_backends;
	if (!n || n > KANARY_MAX_BACKENDS)
		return -1;

	bk.svc_id = ref->id;
	bk.slot = ref->slot & 1;
	bk.subset = subset;
	bk.index = kanary_maglev_pick(&bk, n, kanary_flow_hash(p, seed ^ KANARY_HASH_BACKEND));
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

/*
 * Chooses the backend for a flow of service ref by the weights.
 * Deterministic in the flow and the live configuration, so a flow whose
 * conntrack entry was evicted lands on the same backend again while
 * nothing changed.
 */
static __always_inline int kanary_select(const struct kanary_svc_ref *ref,
					 const struct kanary_svc_config *cfg,
					 const struct kanary_pkt *p, __u32 seed,
					 struct kanary_ct_entry *out)
{
	return kanary_pick_backend(ref, cfg, kanary_pick_subset(cfg, kanary_flow_hash(p, seed)),
				   p, seed, out);
}

#endif /* KANARY_BPF_SELECT_H */
