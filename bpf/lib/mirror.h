/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The copy path of traffic mirroring (include/kanary/mirror.h): each
 * request the exchange sees start (exchange.h) is drawn for the mirror
 * subsets of the route it took (on the canary path the split, at once; on
 * the rule path once routed, handoff.h); a drawn request's client segments go
 * to the ring kanary_mirbuf_v1 until the next request starts.  The draw
 * hashes the flow and the request's first sequence number, so a
 * retransmission draws the same.  A segment goes as ring events of at most
 * KANARY_MIRROR_CHUNK bytes, KANARY_MIRROR_CHUNKS at most; the first one
 * that cannot go ends the request's copy.  The live packet is never held
 * or changed here.
 */
#ifndef KANARY_BPF_MIRROR_H
#define KANARY_BPF_MIRROR_H

#include "maps.h"
#include "parse.h"
#include "conntrack.h"
#include "select.h"
#include "mirror_live.h"

/* Salt of the per-request draw, apart from the split's and the rules' draws. */
#define KANARY_HASH_MIRROR	0x27d4eb2f

static __always_inline struct kanary_mirror_copy_stats *kanary_mirror_stats(__u32 svc_id)
{
	return bpf_map_lookup_elem(&kanary_mircopy_v1, &svc_id);
}

/*
 * The mirror subsets (bits) of the request that p starts, routed by route
 * (a rule's index or KANARY_MIRROR_ROUTE_SPLIT); 0: none.
 */
static __always_inline __u8 kanary_mirror_draw(const struct kanary_pkt *p, __u32 svc_id,
					       __u32 route)
{
	const struct kanary_mirror_cfg *cfg = bpf_map_lookup_elem(&kanary_mirror_v2, &svc_id);
	const __u32 *ppm;
	__u32 h, point;
	__u8 subsets = 0;

	if (!cfg)
		return 0;
	if (route == KANARY_MIRROR_ROUTE_SPLIT)
		ppm = cfg->ppm;
	else if (route < KANARY_RULES_MAX) {
		/* The mask in a register the verifier follows: clang drops it after the test. */
		asm volatile("" : "+r"(route));
		ppm = cfg->rule_ppm[route & (KANARY_RULES_MAX - 1)];
	} else {
		return 0;
	}
	h = kanary_flow_hash(p, kanary_hash_seed() ^ p->seq ^ KANARY_HASH_MIRROR);
	point = ((__u64)h * KANARY_MIRROR_PPM_MAX) >> 32;
#pragma unroll
	for (int i = 0; i < KANARY_MAX_SUBSETS; i++)
		if (point < ppm[i])
			subsets |= 1 << i;
	return subsets;
}

/*
 * Writes p's payload to the ring as events of at most KANARY_MIRROR_CHUNK
 * bytes.  Returns 0, or -1 when some of it could not go (counted): the
 * request it belongs to is lost, and the caller stops copying it.  Global,
 * so the verifier walks its loop once, not once per call site (the canary
 * and the rule path both copy).
 */
__noinline int kanary_mirror_copy(struct __sk_buff *skb, const struct kanary_pkt *p,
				  __u32 svc_id, __u8 subsets, __u8 flags)
{
	struct kanary_mirror_copy_stats *st = kanary_mirror_stats(svc_id);
	struct kanary_mirror_scratch *sc;
	__u32 zero = 0, off, len;

	sc = bpf_map_lookup_elem(&kanary_mirror_scratch_pcpu, &zero);
	if (!p || !sc || !st)
		return -1;
	off = p->l4_off + p->tcp_hlen;
	/* By the IP length (a short frame may be padded), or all of a BIG TCP skb. */
	len = p->payload_len;
	if (len == KANARY_PAYLOAD_UNKNOWN)
		len = skb->len > off ? skb->len - off : 0;
	if (!len)
		return 0;
	if (len > KANARY_MIRROR_CHUNK * KANARY_MIRROR_CHUNKS) {
		st->too_big++;
		return -1;
	}
	kanary_mirror_ev_head(sc, p->saddr, p->sport, subsets, svc_id);
	for (int i = 0; i < KANARY_MIRROR_CHUNKS; i++) {
		__u32 done = i * KANARY_MIRROR_CHUNK, n;

		if (done >= len)
			break;
		n = len - done;
		if (n > KANARY_MIRROR_CHUNK)
			n = KANARY_MIRROR_CHUNK;
		/* 1 .. KANARY_MIRROR_CHUNK in a form the verifier can see; clang must not fold it. */
		asm volatile("" : "+r"(n));
		n = ((n - 1) & (KANARY_MIRROR_CHUNK - 1)) + 1;
		sc->ev.flags = i ? 0 : flags;
		sc->ev.seq = p->seq + done;
		sc->ev.len = n;
		if (bpf_skb_load_bytes(skb, off + done, sc->data, n))
			return -1;
		if (kanary_mirror_output(sc, sizeof(sc->ev) + n)) {
			st->ring_full++;
			return -1;
		}
		st->events++;
		st->bytes += n;
	}
	return 0;
}

/*
 * p starts a request, routed by route: draws it, and copies p when it is
 * mirrored (x->mirror: its subsets, 0 when not or when the copy failed).
 */
static __always_inline void kanary_mirror_start(struct __sk_buff *skb, const struct kanary_pkt *p,
						struct kanary_xchg *x, __u32 svc_id, __u32 route)
{
	struct kanary_mirror_copy_stats *st;

	x->mirror = kanary_mirror_draw(p, svc_id, route);
	if (!x->mirror || !p->payload_len)
		return;
	if (kanary_mirror_copy(skb, p, svc_id, x->mirror, KANARY_MIRROR_EV_START)) {
		x->mirror = 0;
		return;
	}
	st = kanary_mirror_stats(svc_id);
	if (st)
		st->requests++;
}

/* A later segment of the current request: copied when the request is mirrored. */
static __always_inline void kanary_mirror_follow(struct __sk_buff *skb, const struct kanary_pkt *p,
						 struct kanary_xchg *x, __u32 svc_id)
{
	if (x->mirror && p->payload_len && kanary_mirror_copy(skb, p, svc_id, x->mirror, 0))
		x->mirror = 0;
}

/*
 * A client segment on the canary path, x its connection's exchange,
 * start set when the segment starts a request: every request there takes
 * the weighted split, so it is drawn at once.
 */
static __always_inline void kanary_mirror_client(struct __sk_buff *skb, const struct kanary_pkt *p,
						 struct kanary_xchg *x, __u32 svc_id, int start)
{
	if (start)
		kanary_mirror_start(skb, p, x, svc_id, KANARY_MIRROR_ROUTE_SPLIT);
	else
		kanary_mirror_follow(skb, p, x, svc_id);
}

#endif /* KANARY_BPF_MIRROR_H */
