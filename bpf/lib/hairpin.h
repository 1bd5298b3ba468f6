/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Hairpin: a pod steered to itself through a VIP
 * (KANARY_HAIRPIN_V4 in include/kanary/abi.h says why).  Its packets get
 * the hairpin address as their source besides the DNAT, and both entries
 * of the connection are flagged KANARY_CT_F_HAIRPIN.  The pod answers that
 * address by its default route, so its replies come to kanary_ingress on
 * the same veth, not to egress: kanary_hairpin_reply_of finds them, and
 * kanary_ingress gives them the egress path's reverse NAT and the pod's
 * own address back as their destination.  The rule path does the same per
 * leg (kanary_ho_hairpin in handoff_craft.h, kanary_ho_ingress_hairpin).
 */
#ifndef KANARY_BPF_HAIRPIN_H
#define KANARY_BPF_HAIRPIN_H

#include "maps.h"
#include "parse.h"
#include "csum.h"
#include "conntrack.h"

#define KANARY_HAIRPIN_BE	bpf_htonl(KANARY_HAIRPIN_V4)

/* A client packet p of a hairpin connection: its source becomes the hairpin address. */
static __always_inline int kanary_hairpin_snat(struct __sk_buff *skb, const struct kanary_pkt *p)
{
	return kanary_nat_rewrite_addr(skb, p, KANARY_IP_SADDR_OFF, p->saddr, KANARY_HAIRPIN_BE);
}

/*
 * The reverse entry of the hairpin connection p answers (p: from the pod,
 * to the hairpin address), or NULL: keyed as any reply's, backend to
 * client, both the pod's address.  key is the caller's, to build it in.
 */
static __always_inline struct kanary_ct_entry *kanary_hairpin_reply_of(const struct kanary_pkt *p,
								      struct kanary_ct_key *key)
{
	struct kanary_ct_entry *rev;

	kanary_ct_key_v4(key, p->saddr, p->saddr, p->sport, p->dport, KANARY_CT_REVERSE);
	rev = bpf_map_lookup_elem(&kanary_ct_v3, key);
	if (!rev)
		rev = bpf_map_lookup_elem(&kanary_ctnew_v1, key);
	return rev && (rev->flags & KANARY_CT_F_HAIRPIN) ? rev : NULL;
}

/* The reply p of a hairpin connection: back to the pod's own address (p follows). */
static __always_inline int kanary_hairpin_undo(struct __sk_buff *skb, struct kanary_pkt *p)
{
	if (kanary_nat_rewrite_addr(skb, p, KANARY_IP_DADDR_OFF, p->daddr, p->saddr))
		return -1;
	p->daddr = p->saddr;
	return 0;
}

#endif /* KANARY_BPF_HAIRPIN_H */
