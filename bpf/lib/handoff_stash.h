/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The stash while a leg opens.  A client may send more than one segment
 * before the backend answers the leg's SYN: a POST's head and then its
 * body, typically.  Each in-order segment that still fits joins the stash,
 * and the backend gets them all in the one ACK that completes its
 * handshake, so no client waits for a retransmission timeout the
 * datapath caused.  What the client may send before then is bounded: by
 * our SYN-ACK's window on a connection's first leg, and for later legs by
 * only switching requests that fit the stash whole (request.h).
 */
#ifndef KANARY_BPF_HANDOFF_STASH_H
#define KANARY_BPF_HANDOFF_STASH_H

#include "handoff_craft.h"

/* bpf_loop's context: copy len bytes of src to dst + off. */
struct kanary_stash_copy {
	const __u8 *src;
	__u8 *dst;
	__u32 off;
};

static int kanary_stash_copy_step(__u32 i, void *ctx)
{
	struct kanary_stash_copy *x = ctx;

	x->dst[(x->off + i) & (KANARY_HTTP_STASH - 1)] = x->src[i & (KANARY_HTTP_STASH - 1)];
	return 0;
}

/*
 * A segment from the client that follows what is stashed for the leg
 * being opened: append it.  Out of order, or beyond the stash: dropped, as
 * the client will send it again.  The segment itself always goes.  A
 * segment appended while another CPU hands the stash over (a race of
 * microseconds) misses that ACK and is sent again by the client.
 */
static __noinline int kanary_ho_stash_append(struct __sk_buff *skb, const struct kanary_pkt *p,
					     const struct kanary_ct_key *fwd,
					     struct kanary_ho_entry *ho)
{
	struct kanary_ho_scratch *sc = kanary_ho_scratch_get();
	struct kanary_stash *stash = bpf_map_lookup_elem(&kanary_stash_v1, fwd);
	struct kanary_stash_copy x;
	__u32 off, len;

	if (!sc || !stash)
		return TC_ACT_SHOT;
	off = stash->len;
	len = p->payload_len;
	if (off != ho->stash_len || p->seq != ho->leg_isn + 1 + off ||
	    len > KANARY_HTTP_STASH - off || kanary_ho_load_payload(skb, p, sc->stash.data) < 0)
		return TC_ACT_SHOT;
	x.src = sc->stash.data;
	x.dst = stash->data;
	x.off = off;
	bpf_loop(len, kanary_stash_copy_step, &x, 0);
	kanary_pad4(stash->data, off + len);
	stash->len = off + len;
	ho->stash_len = off + len;
	return TC_ACT_SHOT;
}

#endif /* KANARY_BPF_HANDOFF_STASH_H */
