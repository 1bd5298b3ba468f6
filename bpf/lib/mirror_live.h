/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The live side of the mirrors' comparison (include/kanary/mirror.h): a
 * mirrored request's start leaves, on the backend side of its exchange,
 * which mirrors it went to and its first sequence number; when the live
 * response begins, a LIVE event carries its status and latency to the
 * relay, which pairs it with the mirror's answer to the same request.
 * Built in the per-CPU scratch, as the copies are: the egress path has no
 * stack to spare.  A full ring loses the event (counted); the live packet
 * is never held or changed.
 */
#ifndef KANARY_BPF_MIRROR_LIVE_H
#define KANARY_BPF_MIRROR_LIVE_H

#include "maps.h"
#include "parse.h"
#include "conntrack.h"

/*
 * Writes sc's event (size bytes from its start) to the ring.  It may wake
 * the relay only when this CPU has not for KANARY_MIRROR_WAKE_MS, and then
 * only if the relay has read all (the kernel's own rule, flags 0): the
 * events between wait for the relay's next look, which comes within that.
 */
static __always_inline long kanary_mirror_output(struct kanary_mirror_scratch *sc, __u32 size)
{
	__u64 now = bpf_ktime_get_ns(), flags = BPF_RB_NO_WAKEUP;

	if (now - sc->woke_ns >= KANARY_MIRROR_WAKE_MS * 1000000ull) {
		sc->woke_ns = now;
		flags = 0;
	}
	return bpf_ringbuf_output(&kanary_mirbuf_v1, sc, size, flags);
}

/* The header of a ring event of svc_id's client at addr:port, for the mirror subsets. */
static __always_inline void kanary_mirror_ev_head(struct kanary_mirror_scratch *sc, __be32 addr,
						  __be16 port, __u8 subsets, __u32 svc_id)
{
	kanary_v4mapped(&sc->ev.client, addr);
	sc->ev.client_port = port;
	sc->ev.subsets = subsets;
	sc->ev.svc_id = svc_id;
}

/* A request starts (backend side x): mirrored to subsets (0: not), first byte at seq. */
static __always_inline void kanary_mirror_await(struct kanary_xchg *x, __u8 subsets, __u32 seq)
{
	x->mirror_live = subsets;
	x->mirror_seq = seq;
}

/*
 * The response awaited by x begins with code: p is its first segment,
 * from the backend to the client (p's destination).  Called before the
 * exchange forgets req_ns.
 */
static __noinline void kanary_mirror_live(const struct kanary_pkt *p, struct kanary_xchg *x,
					  __u32 svc_id, __u32 code)
{
	struct kanary_mirror_copy_stats *st;
	struct kanary_mirror_scratch *sc;
	struct kanary_mirror_live *live;
	__u32 zero = 0;
	__u64 us;

	sc = bpf_map_lookup_elem(&kanary_mirror_scratch_pcpu, &zero);
	if (!sc || !x->req_ns)
		return;
	us = (bpf_ktime_get_ns() - x->req_ns) / 1000;
	kanary_mirror_ev_head(sc, p->daddr, p->dport, x->mirror_live, svc_id);
	sc->ev.flags = KANARY_MIRROR_EV_LIVE;
	sc->ev.seq = x->mirror_seq;
	sc->ev.len = 0;
	live = (struct kanary_mirror_live *)sc->data;
	live->status = code;
	live->latency_us = us > 0xffffffffu ? 0xffffffffu : (__u32)us;
	x->mirror_live = 0;
	if (kanary_mirror_output(sc, sizeof(sc->ev) + sizeof(*live))) {
		st = bpf_map_lookup_elem(&kanary_mircopy_v1, &svc_id);
		if (st)
			st->ring_full++;
	}
}

#endif /* KANARY_BPF_MIRROR_LIVE_H */
