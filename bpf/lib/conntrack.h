/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Conntrack keys and entries: one forward and one reverse entry per connection. */
#ifndef KANARY_BPF_CONNTRACK_H
#define KANARY_BPF_CONNTRACK_H

#include "maps.h"
#include "parse.h"

static __always_inline void kanary_v4mapped(union kanary_addr *a, __be32 v4)
{
	a->w[0] = 0;
	a->w[1] = 0;
	a->w[2] = bpf_htonl(0x0000ffff);
	a->w[3] = v4;
}

static __always_inline void kanary_ct_key_v4(struct kanary_ct_key *k, __be32 src, __be32 dst,
					     __be16 sport, __be16 dport, __u8 dir)
{
	__builtin_memset(k, 0, sizeof(*k));
	kanary_v4mapped(&k->src, src);
	kanary_v4mapped(&k->dst, dst);
	k->sport = sport;
	k->dport = dport;
	k->proto = IPPROTO_TCP;
	k->dir = dir;
}

/* Tracks a connection chosen for fwd (the client's tuple) both ways. */
static __always_inline void kanary_ct_create(const struct kanary_pkt *p,
					     const struct kanary_ct_key *fwd,
					     const struct kanary_ct_entry *chosen)
{
	struct kanary_ct_entry rev = {};
	struct kanary_ct_key rkey;

	kanary_ct_key_v4(&rkey, chosen->addr.w[3], p->saddr, chosen->port, p->sport,
			 KANARY_CT_REVERSE);
	kanary_v4mapped(&rev.addr, p->daddr);
	rev.port = p->dport;
	rev.subset = chosen->subset;
	rev.svc_id = chosen->svc_id;

	bpf_map_update_elem(&kanary_ct_v2, fwd, chosen, BPF_ANY);
	bpf_map_update_elem(&kanary_ct_v2, &rkey, &rev, BPF_ANY);
}

#endif /* KANARY_BPF_CONNTRACK_H */
