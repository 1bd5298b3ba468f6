/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Address and port rewrites with incremental checksum updates.  Only the
 * kernel's csum helpers touch check fields, so that one code path is right
 * for CHECKSUM_PARTIAL skbs (veth's default: the TCP field holds only the
 * pseudo-header seed) and for fully checksummed ones (tx offload off).
 */
#ifndef KANARY_BPF_CSUM_H
#define KANARY_BPF_CSUM_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "parse.h"

/* Rewrites the IPv4 address at addr_off (source or destination) alone. */
static __always_inline int kanary_nat_rewrite_addr(struct __sk_buff *skb, const struct kanary_pkt *p,
						   __u32 addr_off, __be32 old_addr, __be32 new_addr)
{
	if (bpf_skb_store_bytes(skb, addr_off, &new_addr, sizeof(new_addr), 0))
		return -1;
	/* Addresses are in the IP header sum and the TCP pseudo-header. */
	if (bpf_l3_csum_replace(skb, KANARY_IP_CSUM_OFF, old_addr, new_addr, sizeof(new_addr)) ||
	    bpf_l4_csum_replace(skb, KANARY_TCP_CSUM_OFF(p), old_addr, new_addr,
				BPF_F_PSEUDO_HDR | sizeof(new_addr)))
		return -1;
	return 0;
}

/* Rewrites the IPv4 address at addr_off and the TCP port at port_off. */
static __always_inline int kanary_nat_rewrite(struct __sk_buff *skb, const struct kanary_pkt *p,
					      __u32 addr_off, __be32 old_addr, __be32 new_addr,
					      __u32 port_off, __be16 old_port, __be16 new_port)
{
	if (bpf_skb_store_bytes(skb, port_off, &new_port, sizeof(new_port), 0) ||
	    kanary_nat_rewrite_addr(skb, p, addr_off, old_addr, new_addr))
		return -1;
	/* The port is payload of the TCP sum, which a PARTIAL skb computes later. */
	if (old_port != new_port &&
	    bpf_l4_csum_replace(skb, KANARY_TCP_CSUM_OFF(p), old_port, new_port, sizeof(new_port)))
		return -1;
	return 0;
}

#endif /* KANARY_BPF_CSUM_H */
