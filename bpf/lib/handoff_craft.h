/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The segments the rule path makes: our SYN-ACK to the client, a leg's SYN
 * to a backend, the ACK that hands a backend its stashed request, RSTs to
 * either side.  Every one is the skb the program was given, reshaped by
 * segment.h; nothing is allocated, and only clones (a RST ahead of a SYN)
 * go out twice.  The state machine that sends them is handoff.h.
 */
#ifndef KANARY_BPF_HANDOFF_CRAFT_H
#define KANARY_BPF_HANDOFF_CRAFT_H

#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include "maps.h"
#include "parse.h"
#include "csum.h"
#include "conntrack.h"
#include "counters.h"
#include "handoff_source.h"
#include "exchange.h"
#include "segment.h"
#include "hairpin.h"

#define KANARY_HO_STAT(svc, field)						\
	do {									\
		__u32 __k = (svc);						\
		struct kanary_ho_stats *__s = bpf_map_lookup_elem(&kanary_hostat_v2, &__k); \
		if (__s)							\
			__s->field++;						\
	} while (0)

/* Windows are never scaled on the rule path (the handshakes strip the option). */
#define KANARY_HO_WINDOW_MAX	65535

/* The reverse conntrack key of a handoff connection, from its state. */
static __always_inline void kanary_ho_rev_key(struct kanary_ct_key *k,
					      const struct kanary_ct_key *fwd,
					      const struct kanary_ho_entry *ho)
{
	kanary_ct_key_v4(k, ho->backend.w[3], fwd->src.w[3], ho->backend_port, fwd->sport,
			 KANARY_CT_REVERSE);
}

/*
 * Whether the current leg's backend is its client (lib/hairpin.h): the
 * leg's client segments then leave from the hairpin address, and the
 * backend's come to ingress, not egress.  Per leg: a keep-alive
 * connection may switch between the pod itself and another.
 */
static __always_inline int kanary_ho_hairpin(const struct kanary_ho_entry *ho, __be32 client)
{
	return ho->backend.w[3] == client;
}

/*
 * How a segment of the backend's is turned into the client's: a hairpin
 * leg's came to ingress from the pod, and goes back in there, so its MACs
 * (the pod's to the host veth's) stay as they are.
 */
static __always_inline int kanary_ho_turn(int hairpin)
{
	return hairpin ? KANARY_SEG_TURN_L3 : KANARY_SEG_TURN;
}

/* The backend a choice made (sc->be) becomes the current leg's. */
static __always_inline void kanary_ho_take_backend(struct kanary_ho_entry *ho,
						   const struct kanary_ct_entry *be)
{
	__builtin_memcpy(&ho->backend, &be->addr, sizeof(ho->backend));
	ho->backend_port = be->port;
	ho->subset = be->subset;
}

/* Forgets a connection: its state, its reverse entry and its stash. */
static __always_inline void kanary_ho_forget(const struct kanary_ct_key *fwd,
					     const struct kanary_ho_entry *ho)
{
	struct kanary_ct_key rk;

	/* A request still awaited, with the client reset or gone: no response. */
	if (ho->xchg.req_ns)
		kanary_http_count_lost(ho->svc_id, ho->subset);
	if (ho->state >= KANARY_HO_SYN_SENT) {
		kanary_ho_rev_key(&rk, fwd, ho);
		bpf_map_delete_elem(&kanary_ct_v3, &rk);
	}
	bpf_map_delete_elem(&kanary_stash_v1, fwd);
	/* Either table: a closing CPU has already moved the state on.  Deleted once, so released once. */
	if (!bpf_map_delete_elem(&kanary_ho_v4, fwd))
		kanary_ho_source_release(fwd->src.w[3]);
	bpf_map_delete_elem(&kanary_hosyn_v1, fwd);
}

/*
 * Ends a connection once.  Ingress and egress may both see its end at the
 * same time (a RST each way, or the last ACK while the other side's FIN
 * goes by): the CPU whose compare-and-swap moves the state to CLOSED
 * forgets it, the other leaves it alone.
 */
static __always_inline void kanary_ho_close(const struct kanary_ct_key *fwd,
					    struct kanary_ho_entry *ho)
{
	__u64 state = ho->state;

	if (state != KANARY_HO_CLOSED &&
	    __sync_val_compare_and_swap(&ho->state, state, KANARY_HO_CLOSED) == state)
		kanary_ho_forget(fwd, ho);
}

/*
 * Loads the payload of p (1..KANARY_HTTP_STASH bytes) into buf, zero-padded
 * to a multiple of 4.  Returns its length, or -1.
 */
static __always_inline int kanary_ho_load_payload(struct __sk_buff *skb,
						  const struct kanary_pkt *p, __u8 *buf)
{
	__u32 len = p->payload_len;

	if (len < 1 || len > KANARY_HTTP_STASH ||
	    bpf_skb_load_bytes(skb, p->l4_off + p->tcp_hlen, buf, len))
		return -1;
	kanary_pad4(buf, len);
	return len;
}

/*
 * Loads the first bytes of p's payload, at most KANARY_HTTP_STASH, into
 * buf, zero-padded to a multiple of 4: a request's head, for the matcher
 * and the framer, even when its body makes the segment larger.  Returns
 * how many, or -1.
 */
static __always_inline int kanary_ho_load_head(struct __sk_buff *skb, const struct kanary_pkt *p,
					       __u32 skip, __u8 *buf)
{
	__u64 len = p->payload_len;

	if (len > KANARY_HTTP_STASH)
		len = KANARY_HTTP_STASH;
	/* Keeps clang from bounding one copy of len and passing another. */
	barrier_var(len);
	if (len < 1 || bpf_skb_load_bytes(skb, p->l4_off + p->tcp_hlen + skip, buf, len))
		return -1;
	kanary_pad4(buf, len);
	return len;
}

/*
 * Reshapes p into a segment of the same direction (reverse 0) or turned
 * around (kanary_seg_reverse's how), with
 * header fields m, the options in sc->opts and no payload.  The payload's
 * bytes leave the checksum too: the caller has loaded them into
 * sc->stash.data (kanary_ho_load_payload).
 */
static __always_inline int kanary_ho_reshape(struct __sk_buff *skb, const struct kanary_pkt *p,
					     const struct kanary_tcp_mut *m,
					     struct kanary_ho_scratch *sc, int reverse)
{
	__s64 acc;

	if (p->payload_len && bpf_skb_change_tail(skb, p->l4_off + p->tcp_hlen, 0))
		return -1;
	if (reverse && kanary_seg_reverse(skb, p, reverse))
		return -1;
	acc = kanary_seg_header(skb, p, m, &sc->opts, &sc->old_opts);
	if (p->payload_len)
		acc = kanary_csum_buf(sc->stash.data, p->payload_len, acc, 1);
	if (kanary_l4_apply(skb, p, acc))
		return -1;
	return kanary_seg_set_len(skb, p, p->tcp_hlen);
}

/*
 * Answers p, a segment from the client, with one of header m (sequence
 * numbers, flags, window; no options, no payload) straight back into the
 * client's netns.
 */
static __noinline int kanary_ho_answer_client(struct __sk_buff *skb, const struct kanary_pkt *p,
					      struct kanary_tcp_mut *m)
{
	struct kanary_ho_scratch *sc = kanary_ho_scratch_get();

	if (!sc || (p->payload_len && kanary_ho_load_payload(skb, p, sc->stash.data) < 0))
		return TC_ACT_SHOT;
	m->doff_res = (p->tcp_hlen / 4) << 4;
	kanary_opts_fill(&sc->opts, 0, 0);
	if (kanary_ho_reshape(skb, p, m, sc, KANARY_SEG_TURN))
		return TC_ACT_SHOT;
	return bpf_redirect_peer(skb->ifindex, 0);
}

/* Answers p with a RST carrying seq, the sequence the client expects. */
static __always_inline int kanary_ho_reset_client(struct __sk_buff *skb, const struct kanary_pkt *p,
						  __u32 seq)
{
	struct kanary_tcp_mut m = {};

	m.seq = bpf_htonl(seq);
	m.ack_seq = bpf_htonl(kanary_seq_end(p));
	m.flags = KANARY_TF_RST | KANARY_TF_ACK;
	return kanary_ho_answer_client(skb, p, &m);
}

/* Our SYN-ACK's window: what the client may send before we choose, all of it stashed. */
static __always_inline __u16 kanary_ho_first_flight(__u16 client_mss)
{
	return client_mss < KANARY_HTTP_STASH ? client_mss : KANARY_HTTP_STASH;
}

/*
 * RFC 5961's challenge ACK, where kanary answers for the backend (no leg
 * established): the sequence numbers the connection is at, and the window
 * it offered.  A real client reusing the tuple (its connection gone)
 * answers it with a RST at cli_nxt, which ends the state; the SYN it sends
 * again then opens a new connection.
 */
static __always_inline int kanary_ho_challenge_ack(struct __sk_buff *skb,
						   const struct kanary_pkt *p,
						   struct kanary_ho_entry *ho)
{
	__u32 now_ms = (__u32)(bpf_ktime_get_coarse_ns() / 1000000) | 1;
	struct kanary_tcp_mut m = {};

	/* Racing CPUs may both send: the limit holds, give or take one. */
	if (ho->challenged_ms && now_ms - ho->challenged_ms < KANARY_HO_CHALLENGE_MS) {
		kanary_count(KANARY_CNT_CHALLENGE_LIMITED);
		return TC_ACT_SHOT;
	}
	ho->challenged_ms = now_ms;

	m.seq = bpf_htonl(ho->srv_nxt);
	m.ack_seq = bpf_htonl(ho->cli_nxt);
	m.flags = KANARY_TF_ACK;
	m.window = bpf_htons(kanary_ho_first_flight(ho->mss));
	return kanary_ho_answer_client(skb, p, &m);
}

/* Turns the client's SYN into our SYN-ACK and sends it back. */
static __noinline int kanary_ho_synack(struct __sk_buff *skb, const struct kanary_pkt *p,
					    const struct kanary_ho_entry *ho)
{
	struct kanary_ho_scratch *sc = kanary_ho_scratch_get();
	__u16 flight = kanary_ho_first_flight(ho->mss);
	struct kanary_tcp_mut m = {};

	/* Data on a SYN (TFO) is not acked: the client sends it again. */
	if (!sc || (p->payload_len && kanary_ho_load_payload(skb, p, sc->stash.data) < 0))
		return TC_ACT_SHOT;
	m.seq = bpf_htonl(ho->our_isn);
	m.ack_seq = bpf_htonl(ho->client_isn + 1);
	m.doff_res = (p->tcp_hlen / 4) << 4;
	m.flags = KANARY_TF_SYN | KANARY_TF_ACK;
	m.window = bpf_htons(flight);
	/* MSS only: no timestamps, SACK, window scaling, ECN or TFO cookie. */
	kanary_opts_fill(&sc->opts, flight, kanary_tcp_opts_len(p));
	if (kanary_ho_reshape(skb, p, &m, sc, KANARY_SEG_TURN))
		return TC_ACT_SHOT;
	return bpf_redirect_peer(skb->ifindex, 0);
}

/*
 * Turns a segment towards the backend (a request that opens a leg, or a
 * crafted RST) into the leg's SYN: ISN leg_isn, the client's MSS as the
 * only option, no payload.  The header grows to hold the MSS (data segments
 * carry no options once timestamps are stripped): its last 4 bytes take
 * the place of the old options and payload, which sc->stash.data holds
 * (kanary_ho_load_payload) when there is one.  Its source becomes client,
 * or the hairpin address when the backend is the client: p may come from
 * either (a leg that follows a hairpin one, or a crafted RST).
 */
static __noinline int kanary_ho_syn_to_backend(struct __sk_buff *skb,
					       const struct kanary_pkt *p,
					       const struct kanary_ho_entry *ho, __be32 client)
{
	__be32 src = kanary_ho_hairpin(ho, client) ? KANARY_HAIRPIN_BE : client;
	struct kanary_ho_scratch *sc = kanary_ho_scratch_get();
	__u32 olen = kanary_tcp_opts_len(p), off = p->l4_off + KANARY_TCP_MUT_OFF;
	__u32 hlen = sizeof(struct tcphdr) + 4;
	struct kanary_tcp_mut m = {}, old;
	__s64 acc;

	if (!sc || olen > KANARY_TCP_OPTS_MAX)
		return TC_ACT_SHOT;
	if (olen && bpf_skb_load_bytes(skb, p->l4_off + sizeof(struct tcphdr), sc->old_opts.b, olen))
		return TC_ACT_SHOT;
	if (bpf_skb_load_bytes(skb, off, &old, sizeof(old)) ||
	    bpf_skb_change_tail(skb, p->l4_off + hlen, 0))
		return TC_ACT_SHOT;
	m.seq = bpf_htonl(ho->leg_isn);
	m.doff_res = (hlen / 4) << 4;
	m.flags = KANARY_TF_SYN;
	m.window = bpf_htons(ho->window);
	kanary_opts_fill(&sc->opts, ho->mss, 4);
	if (bpf_skb_store_bytes(skb, off, &m, sizeof(m), 0) ||
	    bpf_skb_store_bytes(skb, p->l4_off + sizeof(struct tcphdr), sc->opts.b, 4, 0))
		return TC_ACT_SHOT;
	acc = bpf_csum_diff((__be32 *)&old, sizeof(old), (__be32 *)&m, sizeof(m), 0);
	if (olen && acc >= 0)
		acc = bpf_csum_diff((__be32 *)sc->old_opts.b, olen, NULL, 0, (__u32)acc);
	if (p->payload_len)
		acc = kanary_csum_buf(sc->stash.data, p->payload_len, acc, 1);
	if (acc >= 0)
		acc = bpf_csum_diff(NULL, 0, (__be32 *)sc->opts.b, 4, (__u32)acc);
	if (kanary_l4_apply(skb, p, acc) || kanary_seg_set_len(skb, p, hlen))
		return TC_ACT_SHOT;
	if (kanary_nat_rewrite(skb, p, KANARY_IP_DADDR_OFF, p->daddr, ho->backend.w[3],
			       KANARY_TCP_DPORT_OFF(p), p->dport, ho->backend_port))
		return TC_ACT_SHOT;
	if (p->saddr != src &&
	    kanary_nat_rewrite_addr(skb, p, KANARY_IP_SADDR_OFF, p->saddr, src))
		return TC_ACT_SHOT;
	return TC_ACT_OK;
}

/* The reverse entry that leads the backend's replies to the handoff state. */
static __noinline int kanary_ho_track_reverse(const struct kanary_ct_key *fwd,
					      const struct kanary_ho_entry *ho, __u64 flags)
{
	struct kanary_ho_scratch *sc = kanary_ho_scratch_get();
	struct kanary_ct_entry *rev;

	/* Made in the scratch: called three deep, it has no stack to spare. */
	if (!sc)
		return -1;
	rev = &sc->rev;
	kanary_ho_rev_key(&sc->key, fwd, ho);
	__builtin_memset(rev, 0, sizeof(*rev));
	__builtin_memcpy(&rev->addr, &fwd->dst, sizeof(rev->addr));
	rev->port = fwd->dport;
	rev->subset = ho->subset;
	rev->flags = KANARY_CT_F_HANDOFF;
	/* kanary_ingress_hairpin finds a hairpin leg's replies by this flag. */
	if (kanary_ho_hairpin(ho, fwd->src.w[3]))
		rev->flags |= KANARY_CT_F_HAIRPIN;
	rev->svc_id = ho->svc_id;
	return bpf_map_update_elem(&kanary_ct_v3, &sc->key, rev, flags) ? -1 : 0;
}

/*
 * The reverse entry of an established leg, made again if it was lost
 * (evicted or deleted), as on the plain path (conntrack.h); only one of two
 * CPUs that find it missing inserts it.
 */
static __always_inline void kanary_ho_keep_reverse(const struct kanary_ct_key *fwd,
						   const struct kanary_ho_entry *ho)
{
	struct kanary_ho_scratch *sc = kanary_ho_scratch_get();

	if (!sc)
		return;
	kanary_ho_rev_key(&sc->key, fwd, ho);
	if (!bpf_map_lookup_elem(&kanary_ct_v3, &sc->key) &&
	    !kanary_ho_track_reverse(fwd, ho, BPF_NOEXIST))
		kanary_count(KANARY_CNT_CT_REV_REBUILT);
}

/*
 * Turns the backend's SYN-ACK into the ACK that completes its handshake and
 * carries the stash (the request the leg opens with; none, stash NULL, for
 * a silent client's leg), and re-injects it as if the client had sent it.  Its
 * destination MAC is the host veth's own (the SYN-ACK's source), or the
 * node would drop it as another host's.  A hairpin leg's (p at ingress,
 * its destination the pod's own address again) leaves from the hairpin
 * address, its MACs kept: re-injected at ingress again, it is no
 * connection's there (from the hairpin address to a pod), and the node
 * routes it back out to the pod.
 */
static __noinline int kanary_ho_deliver_stash(struct __sk_buff *skb,
						   const struct kanary_pkt *p,
						   const struct kanary_ho_entry *ho,
						   const struct kanary_stash *stash)
{
	struct kanary_ho_scratch *sc = kanary_ho_scratch_get();
	__u32 len = stash ? stash->len : 0, off = p->l4_off + p->tcp_hlen;
	int hairpin = kanary_ho_hairpin(ho, p->daddr);
	struct kanary_tcp_mut m = {};
	__s64 acc;

	if (!sc || p->payload_len || (stash && len < 1) || len > KANARY_HTTP_STASH)
		return TC_ACT_SHOT;
	if (bpf_skb_change_tail(skb, off + len, 0))
		return TC_ACT_SHOT;
	if (stash) {
		/* Bounded again here, where the verifier can see it. */
		__u32 n = stash->len;

		if (n != len || n < 1 || n > KANARY_HTTP_STASH ||
		    bpf_skb_store_bytes(skb, off, stash->data, n, 0))
			return TC_ACT_SHOT;
	}
	if (kanary_seg_reverse(skb, p, kanary_ho_turn(hairpin)))
		return TC_ACT_SHOT;
	m.seq = bpf_htonl(ho->leg_isn + 1);
	m.ack_seq = bpf_htonl(ho->backend_isn + 1);
	m.doff_res = (p->tcp_hlen / 4) << 4;
	m.flags = stash ? KANARY_TF_ACK | KANARY_TF_PSH : KANARY_TF_ACK;
	m.window = bpf_htons(ho->window);
	kanary_opts_fill(&sc->opts, 0, 0);
	acc = kanary_seg_header(skb, p, &m, &sc->opts, &sc->old_opts);
	if (stash)
		acc = kanary_csum_buf(stash->data, len, acc, 0);
	if (kanary_l4_apply(skb, p, acc) || kanary_seg_set_len(skb, p, p->tcp_hlen + len))
		return TC_ACT_SHOT;
	/* Turned around, the client's address is the source. */
	if (hairpin && kanary_nat_rewrite_addr(skb, p, KANARY_IP_SADDR_OFF, p->daddr,
					       KANARY_HAIRPIN_BE))
		return TC_ACT_SHOT;
	return bpf_redirect(skb->ifindex, BPF_F_INGRESS);
}

/*
 * The backend answered our SYN with a bare ACK: it holds the tuple in
 * TIME-WAIT from an earlier connection, and our SYN, which carries the
 * client's ISN and no timestamp, did not pass for a new one (as when the
 * client reached the pod directly before: its ISNs came from another
 * tuple).  A RST at the sequence the ACK names ends the TIME-WAIT; a copy
 * of it goes first, then the same skb, reshaped again, brings the SYN.
 * A hairpin leg's (p at ingress, to the pod's own address again) leave
 * from the hairpin address, re-injected at ingress as kanary_ho_deliver_stash's.
 */
static __noinline int kanary_ho_clear_timewait(struct __sk_buff *skb, const struct kanary_pkt *p,
					       const struct kanary_ho_entry *ho)
{
	struct kanary_ho_scratch *sc = kanary_ho_scratch_get();
	int hairpin = kanary_ho_hairpin(ho, p->daddr);
	struct kanary_tcp_mut m = {};
	struct kanary_pkt rst;

	if (!sc || p->payload_len)
		return TC_ACT_SHOT;
	m.seq = bpf_htonl(p->ack_seq);
	m.doff_res = (p->tcp_hlen / 4) << 4;
	m.flags = KANARY_TF_RST;
	kanary_opts_fill(&sc->opts, 0, 0);
	if (kanary_ho_reshape(skb, p, &m, sc, kanary_ho_turn(hairpin)) ||
	    (hairpin && kanary_nat_rewrite_addr(skb, p, KANARY_IP_SADDR_OFF, p->daddr,
						KANARY_HAIRPIN_BE)) ||
	    bpf_clone_redirect(skb, skb->ifindex, BPF_F_INGRESS) ||
	    kanary_parse_tcp4(skb, &rst) ||
	    kanary_ho_syn_to_backend(skb, &rst, ho, p->daddr) != TC_ACT_OK)
		return TC_ACT_SHOT;
	return bpf_redirect(skb->ifindex, BPF_F_INGRESS);
}

/*
 * Closes the leg a request leaves: a copy of p, a request from the client
 * whose payload sc->stash.data holds, goes to the old backend as a RST at
 * the sequence it expects next.  That is p's own, unless p leads with the
 * previous request's tail and only its ACK was lost: then it is req_seq,
 * where the request starts, and a second RST goes there (Linux drops a RST
 * before its window silently, so at most one of the two lands).  A RST
 * frees the backend's socket at once, with no TIME-WAIT to get in the way
 * of a later leg on the same tuple.  p's skb stays a RST to the old
 * backend (from the hairpin address, when that was the client itself); the
 * caller reshapes it again.
 */
static __noinline int kanary_ho_reset_leg(struct __sk_buff *skb, const struct kanary_pkt *p,
					  const struct kanary_ho_entry *ho, __u32 req_seq)
{
	struct kanary_ho_scratch *sc = kanary_ho_scratch_get();
	struct kanary_tcp_mut m = {};

	if (!sc)
		return -1;
	m.seq = bpf_htonl(p->seq);
	m.doff_res = (p->tcp_hlen / 4) << 4;
	m.flags = KANARY_TF_RST;
	kanary_opts_fill(&sc->opts, 0, 0);
	if (kanary_ho_reshape(skb, p, &m, sc, 0) ||
	    kanary_nat_rewrite(skb, p, KANARY_IP_DADDR_OFF, p->daddr, ho->backend.w[3],
			       KANARY_TCP_DPORT_OFF(p), p->dport, ho->backend_port) ||
	    (kanary_ho_hairpin(ho, p->saddr) && kanary_hairpin_snat(skb, p)) ||
	    bpf_clone_redirect(skb, skb->ifindex, BPF_F_INGRESS))
		return -1;
	if (req_seq != p->seq &&
	    (kanary_tcp_set32(skb, p, offsetof(struct tcphdr, seq), m.seq, bpf_htonl(req_seq)) ||
	     bpf_clone_redirect(skb, skb->ifindex, BPF_F_INGRESS)))
		return -1;
	return 0;
}

#endif /* KANARY_BPF_HANDOFF_CRAFT_H */
