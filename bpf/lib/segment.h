/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Reshaping a TCP segment in place: the handoff turns a SYN into a SYN-ACK,
 * data into a SYN, a SYN-ACK into an ACK carrying the stash, and anything
 * into a RST.  As in csum.h, check fields are only ever changed by the
 * kernel's csum helpers, fed with the difference of every byte that
 * changed, appeared or went away: so a CHECKSUM_PARTIAL skb (veth's
 * default) gets its pseudo-header seed adjusted and a fully checksummed one
 * (tx offload off) its whole sum.  Bytes are stored before the sums are
 * updated, so no store overwrites an updated check field.
 */
#ifndef KANARY_BPF_SEGMENT_H
#define KANARY_BPF_SEGMENT_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include "parse.h"
#include "kanary/rules.h"

#define KANARY_TCP_OPTS_MAX	40
#define KANARY_TCPOPT_NOP	1
#define KANARY_TCPOPT_MSS	2
#define KANARY_MSS_DEFAULT	536	/* RFC 9293: what a peer may send without an MSS option */

#define KANARY_TF_FIN	0x01
#define KANARY_TF_SYN	0x02
#define KANARY_TF_RST	0x04
#define KANARY_TF_PSH	0x08
#define KANARY_TF_ACK	0x10

/* TCP header bytes 4..15: every field the handoff rewrites, and no check field. */
struct kanary_tcp_mut {
	__be32	seq;
	__be32	ack_seq;
	__u8	doff_res;	/* data offset << 4 */
	__u8	flags;		/* KANARY_TF_* */
	__be16	window;
};
#define KANARY_TCP_MUT_OFF	4

/* Room for the options and for masked indices into them. */
struct kanary_tcp_opts {
	__u8	b[64];
};

static __always_inline __u32 kanary_tcp_opts_len(const struct kanary_pkt *p)
{
	return (p->tcp_hlen - sizeof(struct tcphdr)) & 0x3c;
}

struct kanary_opt_walk {
	struct kanary_tcp_opts o;
	__u32 olen, i;
	__u16 mss;
};

/* bpf_loop's context must live on the stack; the walk is too big to. */
struct kanary_opt_walk_ctx {
	struct kanary_opt_walk *w;
};

/* One option per call, for bpf_loop: a loop the verifier walks once. */
static int kanary_opt_step(__u32 n, void *ctx)
{
	struct kanary_opt_walk *w = ((struct kanary_opt_walk_ctx *)ctx)->w;
	__u32 i = w->i;
	__u8 kind, len;

	if (i + 1 >= w->olen)
		return 1;
	kind = w->o.b[i & 63];
	if (kind == 0)
		return 1;
	if (kind == KANARY_TCPOPT_NOP) {
		w->i = i + 1;
		return 0;
	}
	len = w->o.b[(i + 1) & 63];
	if (len < 2)
		return 1;
	if (kind == KANARY_TCPOPT_MSS && len == 4 && i + 4 <= w->olen) {
		w->mss = ((__u16)w->o.b[(i + 2) & 63] << 8) | w->o.b[(i + 3) & 63];
		return 1;
	}
	w->i = i + len;
	return 0;
}

/* The MSS the sender of p announced, from a SYN's options; w is scratch. */
static __always_inline __u16 kanary_tcp_opt_mss(struct __sk_buff *skb, const struct kanary_pkt *p,
						struct kanary_opt_walk *w)
{
	w->olen = kanary_tcp_opts_len(p);
	w->i = 0;
	w->mss = KANARY_MSS_DEFAULT;
	if (!w->olen || w->olen > KANARY_TCP_OPTS_MAX ||
	    bpf_skb_load_bytes(skb, p->l4_off + sizeof(struct tcphdr), w->o.b, w->olen))
		return KANARY_MSS_DEFAULT;
	struct kanary_opt_walk_ctx x = { .w = w };

	bpf_loop(KANARY_TCP_OPTS_MAX, kanary_opt_step, &x, 0);
	return w->mss;
}

/* Sets the 32-bit TCP header field at field_off (seq or ack_seq) from old to new. */
static __always_inline int kanary_tcp_set32(struct __sk_buff *skb, const struct kanary_pkt *p,
					    __u32 field_off, __be32 old, __be32 new)
{
	if (bpf_skb_store_bytes(skb, p->l4_off + field_off, &new, sizeof(new), 0) ||
	    bpf_l4_csum_replace(skb, KANARY_TCP_CSUM_OFF(p), old, new, sizeof(new)))
		return -1;
	return 0;
}

/* Folds a csum_diff result into the TCP check field; a negative one is an error. */
static __always_inline int kanary_l4_apply(struct __sk_buff *skb, const struct kanary_pkt *p,
					   __s64 diff)
{
	if (diff < 0)
		return -1;
	return bpf_l4_csum_replace(skb, KANARY_TCP_CSUM_OFF(p), 0, (__u32)diff, 0) ? -1 : 0;
}

/*
 * The sum of the first len bytes of buf (a map value of at least
 * KANARY_HTTP_STASH bytes, zero from len up to a multiple of 4), added to
 * acc, or taken away from it when remove is set.  In slices, as
 * bpf_csum_diff takes a bounded size.  Payload starts at a multiple of 4
 * in the segment, so summing 32-bit words is the same as 16-bit ones.
 */
static __always_inline __s64 kanary_csum_buf(const __u8 *buf, __u32 len, __s64 acc, int remove)
{
	__u32 len4 = (len + 3) & ~3U;

#pragma unroll
	for (int i = 0; i < KANARY_HTTP_STASH / 256; i++) {
		__u32 off = i * 256, n;

		if (off >= len4 || acc < 0)
			break;
		/* A multiple of 4, as len4 and off are; the mask bounds it for the verifier. */
		n = len4 - off;
		n = n >= 256 ? 256 : n & 0xfc;
		if (remove)
			acc = bpf_csum_diff((__be32 *)(buf + off), n, NULL, 0, (__u32)acc);
		else
			acc = bpf_csum_diff(NULL, 0, (__be32 *)(buf + off), n, (__u32)acc);
	}
	return acc;
}

/* Zeroes buf[len] up to the next multiple of 4, for kanary_csum_buf. */
static __always_inline void kanary_pad4(__u8 *buf, __u32 len)
{
	__u32 len4 = (len + 3) & ~3U;

#pragma unroll
	for (int i = 0; i < 3; i++)
		if (len + i < len4)
			buf[(len + i) & (KANARY_HTTP_STASH - 1)] = 0;
}

/* How a segment is turned around (kanary_seg_reverse). */
#define KANARY_SEG_TURN		1	/* MACs, addresses and ports */
#define KANARY_SEG_TURN_L3	2	/* addresses and ports, the MACs kept */

/*
 * Turns the segment around, as how says: addresses and ports swap, and
 * the MACs too for KANARY_SEG_TURN (no sum changes).
 */
static __always_inline int kanary_seg_reverse(struct __sk_buff *skb, const struct kanary_pkt *p,
					      int how)
{
	__u8 mac[2 * ETH_ALEN], swapped[2 * ETH_ALEN];
	__be32 addrs[2] = { p->daddr, p->saddr };
	__be16 ports[2] = { p->dport, p->sport };

	if (how == KANARY_SEG_TURN) {
		if (bpf_skb_load_bytes(skb, 0, mac, sizeof(mac)))
			return -1;
		__builtin_memcpy(swapped, mac + ETH_ALEN, ETH_ALEN);
		__builtin_memcpy(swapped + ETH_ALEN, mac, ETH_ALEN);
		if (bpf_skb_store_bytes(skb, 0, swapped, sizeof(swapped), 0))
			return -1;
	}
	if (bpf_skb_store_bytes(skb, KANARY_IP_SADDR_OFF, addrs, sizeof(addrs), 0) ||
	    bpf_skb_store_bytes(skb, KANARY_TCP_SPORT_OFF(p), ports, sizeof(ports), 0))
		return -1;
	return 0;
}

/*
 * Rewrites header bytes 4..15 to m and the options to opts (the same
 * length: the header keeps its size), returning the checksum difference
 * in acc for the caller to add to before applying it.
 */
static __always_inline __s64 kanary_seg_header(struct __sk_buff *skb, const struct kanary_pkt *p,
					       const struct kanary_tcp_mut *m,
					       const struct kanary_tcp_opts *opts,
					       struct kanary_tcp_opts *old_opts)
{
	__u32 off = p->l4_off + KANARY_TCP_MUT_OFF, olen = kanary_tcp_opts_len(p);
	struct kanary_tcp_mut old;
	__s64 acc;

	if (bpf_skb_load_bytes(skb, off, &old, sizeof(old)) ||
	    bpf_skb_store_bytes(skb, off, m, sizeof(*m), 0))
		return -1;
	acc = bpf_csum_diff((__be32 *)&old, sizeof(old), (__be32 *)m, sizeof(*m), 0);
	if (olen && olen <= KANARY_TCP_OPTS_MAX) {
		off = p->l4_off + sizeof(struct tcphdr);
		if (bpf_skb_load_bytes(skb, off, old_opts->b, olen) ||
		    bpf_skb_store_bytes(skb, off, opts->b, olen, 0))
			return -1;
		acc = bpf_csum_diff((__be32 *)old_opts->b, olen, (__be32 *)opts->b, olen, (__u32)acc);
	}
	return acc;
}

/*
 * The segment now has tcp_len bytes of TCP (header and payload) instead of
 * what p says: IPv4 total length, its header sum and the pseudo-header.
 */
static __always_inline int kanary_seg_set_len(struct __sk_buff *skb, const struct kanary_pkt *p,
					      __u32 tcp_len)
{
	__u32 ip_hlen = p->l4_off - ETH_HLEN;
	__be16 old_tot = bpf_htons(p->ip_tot), new_tot = bpf_htons(ip_hlen + tcp_len);
	__be16 old_tcp = bpf_htons(p->ip_tot - ip_hlen), new_tcp = bpf_htons(tcp_len);

	if (old_tot == new_tot)
		return 0;
	if (bpf_skb_store_bytes(skb, ETH_HLEN + offsetof(struct iphdr, tot_len), &new_tot,
				sizeof(new_tot), 0) ||
	    bpf_l3_csum_replace(skb, KANARY_IP_CSUM_OFF, old_tot, new_tot, sizeof(new_tot)) ||
	    bpf_l4_csum_replace(skb, KANARY_TCP_CSUM_OFF(p), old_tcp, new_tcp,
				BPF_F_PSEUDO_HDR | sizeof(new_tcp)))
		return -1;
	return 0;
}

/* Options of a crafted segment: an MSS option when mss is set, then NOPs. */
static __always_inline void kanary_opts_fill(struct kanary_tcp_opts *o, __u16 mss, __u32 olen)
{
	__builtin_memset(o->b, KANARY_TCPOPT_NOP, sizeof(o->b));
	if (mss && olen >= 4) {
		o->b[0] = KANARY_TCPOPT_MSS;
		o->b[1] = 4;
		o->b[2] = mss >> 8;
		o->b[3] = mss & 0xff;
	}
}

#endif /* KANARY_BPF_SEGMENT_H */
