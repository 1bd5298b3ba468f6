/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The dark-release handoff (delayed binding), for services with rules.
 *
 *   client              kanary (host veth tc)                 backend
 *     SYN  ------------> answered here: SYN-ACK, ISN from the flow
 *     ACK  ------------> dropped
 *     data ------------> stashed, matched, backend chosen;
 *                        the segment becomes a SYN (client ISN) --> SYN
 *                        SYN-ACK becomes ACK + stash, re-injected <-- SYN-ACK
 *                                                        ACK+data -->
 *     <------------------ then seq/ack offsets and NAT both ways ------->
 *
 * Ingress runs on what the client sends, egress on what it receives (see
 * kanary.bpf.c).  The state is in include/kanary/handoff.h.  Every packet
 * this file sends somewhere new is the skb it was given, reshaped by
 * segment.h; nothing is allocated, and only kanary_ho_clear_timewait
 * sends a clone (a RST ahead of the SYN).
 */
#ifndef KANARY_BPF_HANDOFF_H
#define KANARY_BPF_HANDOFF_H

#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include "maps.h"
#include "parse.h"
#include "csum.h"
#include "conntrack.h"
#include "select.h"
#include "counters.h"
#include "segment.h"

#define KANARY_HO_STAT(svc, field)						\
	do {									\
		__u32 __k = (svc);						\
		struct kanary_ho_stats *__s = bpf_map_lookup_elem(&kanary_hostat_v2, &__k); \
		if (__s)							\
			__s->field++;						\
	} while (0)

/* a is b or after it in sequence space. */
static __always_inline int kanary_seq_geq(__u32 a, __u32 b)
{
	return (__s32)(a - b) >= 0;
}

/* The reverse conntrack key of a handoff connection, from its state. */
static __always_inline void kanary_ho_rev_key(struct kanary_ct_key *k,
					      const struct kanary_ct_key *fwd,
					      const struct kanary_ho_entry *ho)
{
	kanary_ct_key_v4(k, ho->backend.w[3], fwd->src.w[3], ho->backend_port, fwd->sport,
			 KANARY_CT_REVERSE);
}

/* Forgets a connection: its state, its reverse entry and its stash. */
static __always_inline void kanary_ho_forget(const struct kanary_ct_key *fwd,
					     const struct kanary_ho_entry *ho)
{
	struct kanary_ct_key rk;

	if (ho->state >= KANARY_HO_SYN_SENT) {
		kanary_ho_rev_key(&rk, fwd, ho);
		bpf_map_delete_elem(&kanary_ct_v1, &rk);
	}
	bpf_map_delete_elem(&kanary_stash_v1, fwd);
	bpf_map_delete_elem(&kanary_ho_v2, fwd);
}

static __always_inline struct kanary_ho_scratch *kanary_ho_scratch_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&kanary_ho_scratch_pcpu, &zero);
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
 * Reshapes p into a segment of the same direction or turned around, with
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
	if (reverse && kanary_seg_reverse(skb, p))
		return -1;
	acc = kanary_seg_header(skb, p, m, &sc->opts, &sc->old_opts);
	if (p->payload_len)
		acc = kanary_csum_buf(sc->stash.data, p->payload_len, acc, 1);
	if (kanary_l4_apply(skb, p, acc))
		return -1;
	return kanary_seg_set_len(skb, p, p->tcp_hlen);
}

/*
 * Answers p, a segment from the client, with a RST carrying seq (the
 * sequence the client expects) straight back into the client's netns.
 */
static __noinline int kanary_ho_reset_client(struct __sk_buff *skb, const struct kanary_pkt *p,
						  __u32 seq)
{
	struct kanary_ho_scratch *sc = kanary_ho_scratch_get();
	struct kanary_tcp_mut m = {};

	if (!sc || (p->payload_len && kanary_ho_load_payload(skb, p, sc->stash.data) < 0))
		return TC_ACT_SHOT;
	m.seq = bpf_htonl(seq);
	m.ack_seq = bpf_htonl(p->seq + p->payload_len + p->syn + p->fin);
	m.doff_res = (p->tcp_hlen / 4) << 4;
	m.flags = KANARY_TF_RST | KANARY_TF_ACK;
	kanary_opts_fill(&sc->opts, 0, 0);
	if (kanary_ho_reshape(skb, p, &m, sc, 1))
		return TC_ACT_SHOT;
	return bpf_redirect_peer(skb->ifindex, 0);
}

/* Our SYN-ACK: the client may send one segment of at most the stash before we choose. */
static __always_inline __u16 kanary_ho_first_flight(__u16 client_mss)
{
	return client_mss < KANARY_HTTP_STASH ? client_mss : KANARY_HTTP_STASH;
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
	if (kanary_ho_reshape(skb, p, &m, sc, 1))
		return TC_ACT_SHOT;
	return bpf_redirect_peer(skb->ifindex, 0);
}

/* A SYN to a service with rules: track it and answer it ourselves. */
static __noinline int kanary_ho_accept(struct __sk_buff *skb, const struct kanary_pkt *p,
					    const struct kanary_ct_key *fwd,
					    const struct kanary_svc_ref *ref)
{
	struct kanary_ho_scratch *sc = kanary_ho_scratch_get();
	struct kanary_ho_entry ho = {};

	if (!sc)
		return TC_ACT_SHOT;
	ho.state = KANARY_HO_SYN_RCVD;
	ho.client_isn = p->seq;
	/* From the flow and the client's ISN: a retransmitted SYN gets the same answer. */
	ho.our_isn = kanary_hash3(p->saddr ^ bpf_htonl(p->seq), p->daddr, kanary_flow_ports(p),
				  kanary_hash_seed() ^ KANARY_HASH_ISN);
	ho.mss = kanary_tcp_opt_mss(skb, p, &sc->walk);
	ho.svc_id = ref->id;
	if (bpf_map_update_elem(&kanary_ho_v2, fwd, &ho, BPF_ANY))
		return TC_ACT_SHOT;
	return kanary_ho_synack(skb, p, &ho);
}

/*
 * The destination of the rule that matched: a weighted pick among its
 * subsets.  A destination subset without backends leaves the choice to
 * the weighted default (returns -1).
 */
static __always_inline int kanary_ho_pick_rule(const struct kanary_svc_ref *ref,
					       const struct kanary_svc_config *cfg,
					       const struct kanary_rule *rule,
					       const struct kanary_pkt *p, __u32 seed,
					       struct kanary_ct_entry *out)
{
	__u32 point = ((__u64)kanary_flow_hash(p, seed ^ KANARY_HASH_RULE) *
		       KANARY_WEIGHT_SCALE) >> 32;
	__u32 n = rule->n_dests;

#pragma unroll
	for (int i = 0; i < KANARY_RULE_DESTS_MAX; i++) {
		if (i >= n)
			break;
		if (point < rule->dest_cum_parts[i])
			return kanary_pick_backend(ref, cfg, rule->dest_subset[i], p, seed, out);
	}
	return -1;
}

/*
 * Chooses the backend from the first data in sc: by the first rule that
 * matches, else by the weights.  Sets *by_rule when a rule chose.
 */
static __always_inline int kanary_ho_choose(const struct kanary_svc_ref *ref,
					    struct kanary_ho_scratch *sc, __u32 len,
					    const struct kanary_pkt *p, struct kanary_ct_entry *out,
					    __u8 *by_rule)
{
	const struct kanary_svc_config *cfg = kanary_live_config(ref);
	const struct kanary_rules *rules;
	int rule = KANARY_RULE_NONE;
	__u32 seed = kanary_hash_seed();

	if (!cfg)
		return -1;
	rules = bpf_map_lookup_elem(&kanary_rules_v1, &ref->id);
	if (rules) {
		rule = kanary_http_match(&sc->st, rules, sc->stash.data, len);
		if (rule >= 0 && rule < KANARY_RULES_MAX &&
		    !kanary_ho_pick_rule(ref, cfg, &rules->rules[rule & (KANARY_RULES_MAX - 1)], p,
					 seed, out)) {
			*by_rule = 1;
			return 0;
		}
		if (rule == KANARY_RULE_NONE && (sc->st.head == KANARY_HTTP_PARTIAL_LINE ||
						 sc->st.head == KANARY_HTTP_PARTIAL_HEAD))
			KANARY_HO_STAT(ref->id, beyond_first_flight);
	}
	return kanary_select(ref, cfg, p, seed, out);
}

/*
 * Turns a segment towards the backend (the client's first data, or a
 * crafted RST) into the SYN to it: the client's ISN, its MSS as the only
 * option, no payload.  The header grows to hold the MSS (data segments
 * carry no options once timestamps are stripped): its last 4 bytes take
 * the place of the old options and payload, which sc->stash.data holds
 * (kanary_ho_load_payload) when there is one.
 */
static __noinline int kanary_ho_syn_to_backend(struct __sk_buff *skb,
					       const struct kanary_pkt *p,
					       const struct kanary_ho_entry *ho)
{
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
	m.seq = bpf_htonl(ho->client_isn);
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
	return TC_ACT_OK;
}

/* The reverse entry that leads the backend's replies to the handoff state. */
static __noinline int kanary_ho_track_reverse(const struct kanary_ct_key *fwd,
					      const struct kanary_ho_entry *ho)
{
	struct kanary_ct_entry rev = {};
	struct kanary_ct_key rk;

	kanary_ho_rev_key(&rk, fwd, ho);
	__builtin_memcpy(&rev.addr, &fwd->dst, sizeof(rev.addr));
	rev.port = fwd->dport;
	rev.subset = ho->subset;
	rev.flags = KANARY_CT_F_HANDOFF;
	rev.svc_id = ho->svc_id;
	return bpf_map_update_elem(&kanary_ct_v1, &rk, &rev, BPF_ANY) ? -1 : 0;
}

/* The first data: read it, choose, and open the connection to the backend. */
static __noinline int kanary_ho_bind(struct __sk_buff *skb, const struct kanary_pkt *p,
					  const struct kanary_ct_key *fwd,
					  struct kanary_ho_entry *ho,
					  const struct kanary_svc_ref *ref)
{
	struct kanary_ho_scratch *sc = kanary_ho_scratch_get();
	struct kanary_subset_stats *st;
	struct kanary_ct_entry be = {};
	__u8 by_rule = 0;
	int len;

	if (!sc)
		return TC_ACT_SHOT;
	len = kanary_ho_load_payload(skb, p, sc->stash.data);
	if (len < 0)
		return TC_ACT_SHOT;	/* more than the window we gave: not a well-behaved client */
	if (kanary_ho_choose(ref, sc, len, p, &be, &by_rule)) {
		__u32 seq = ho->our_isn + 1;

		KANARY_HO_STAT(ref->id, no_backend);
		kanary_ho_forget(fwd, ho);
		return kanary_ho_reset_client(skb, p, seq);
	}

	/* Deterministic in the data, so two CPUs binding at once write the same. */
	__builtin_memcpy(&ho->backend, &be.addr, sizeof(ho->backend));
	ho->backend_port = be.port;
	ho->subset = be.subset;
	ho->by_rule = by_rule;
	ho->window = bpf_ntohs(p->window);
	ho->stash_len = len;
	ho->tries = 1;
	if (__sync_val_compare_and_swap(&ho->state, KANARY_HO_SYN_RCVD, KANARY_HO_SYN_SENT) !=
	    KANARY_HO_SYN_RCVD)
		return TC_ACT_SHOT;

	sc->stash.len = len;
	if (bpf_map_update_elem(&kanary_stash_v1, fwd, &sc->stash, BPF_ANY))
		return TC_ACT_SHOT;
	if (kanary_ho_track_reverse(fwd, ho))
		return TC_ACT_SHOT;

	st = kanary_subset_stats(ho->svc_id, be.subset);
	if (st) {
		st->connections++;
		if (by_rule)
			st->rule_connections++;
	}
	return kanary_ho_syn_to_backend(skb, p, ho);
}

/* The client's first data again: the backend has not answered; try again, or give up. */
static __noinline int kanary_ho_retry(struct __sk_buff *skb, const struct kanary_pkt *p,
					   const struct kanary_ct_key *fwd,
					   struct kanary_ho_entry *ho)
{
	struct kanary_ho_scratch *sc = kanary_ho_scratch_get();
	__u32 seq = ho->our_isn + 1;

	/* Racing retransmissions may both count: the bound holds, give or take one. */
	if (ho->tries++ >= KANARY_HO_SYN_TRIES) {
		KANARY_HO_STAT(ho->svc_id, backend_silent);
		kanary_ho_forget(fwd, ho);
		return kanary_ho_reset_client(skb, p, seq);
	}
	if (!sc || kanary_ho_load_payload(skb, p, sc->stash.data) < 0)
		return TC_ACT_SHOT;
	return kanary_ho_syn_to_backend(skb, p, ho);
}

/*
 * FIN bookkeeping: a connection ends once both FINs are acked, so the
 * last ACK still finds its state.  Returns 1 when p is that ACK.
 */
static __always_inline int kanary_ho_closed_in(const struct kanary_pkt *p,
					       struct kanary_ho_entry *ho)
{
	if (p->fin && !ho->fin_in) {
		ho->fin_in_ack = p->seq + p->payload_len + 1;
		ho->fin_in = 1;
	}
	if (ho->fin_out && p->ack && kanary_seq_geq(p->ack_seq, ho->fin_out_ack))
		ho->fin_out_acked = 1;
	return ho->fin_in_acked && ho->fin_out_acked;
}

/* The same for the backend's packets; seq is as the client sees it. */
static __always_inline int kanary_ho_closed_out(const struct kanary_pkt *p, __u32 seq,
						struct kanary_ho_entry *ho)
{
	if (p->fin && !ho->fin_out) {
		ho->fin_out_ack = seq + p->payload_len + 1;
		ho->fin_out = 1;
	}
	if (ho->fin_in && p->ack && kanary_seq_geq(p->ack_seq, ho->fin_in_ack))
		ho->fin_in_acked = 1;
	return ho->fin_in_acked && ho->fin_out_acked;
}

/* An established connection, client to backend: DNAT, and acks into the backend's space. */
static __noinline int kanary_ho_forward(struct __sk_buff *skb, const struct kanary_pkt *p,
					     const struct kanary_ct_key *fwd,
					     struct kanary_ho_entry *ho)
{
	struct kanary_subset_stats *st = kanary_subset_stats(ho->svc_id, ho->subset);
	int done = p->rst || kanary_ho_closed_in(p, ho);

	if (st) {
		st->packets_in += kanary_segs(skb);
		st->bytes_in += skb->len;
	}
	if (p->ack) {
		__be32 old = bpf_htonl(p->ack_seq);
		__be32 new = bpf_htonl(p->ack_seq - ho->our_isn + ho->backend_isn);
		__u32 off = p->l4_off + offsetof(struct tcphdr, ack_seq);

		if (bpf_skb_store_bytes(skb, off, &new, sizeof(new), 0) ||
		    bpf_l4_csum_replace(skb, KANARY_TCP_CSUM_OFF(p), old, new, sizeof(new)))
			return TC_ACT_SHOT;
	}
	if (kanary_nat_rewrite(skb, p, KANARY_IP_DADDR_OFF, p->daddr, ho->backend.w[3],
			       KANARY_TCP_DPORT_OFF(p), p->dport, ho->backend_port))
		return TC_ACT_SHOT;
	if (done)
		kanary_ho_forget(fwd, ho);
	return TC_ACT_OK;
}

/* Ingress: a packet of a connection on the rule path. */
static __always_inline int kanary_ho_ingress(struct __sk_buff *skb, const struct kanary_pkt *p,
					     const struct kanary_ct_key *fwd,
					     struct kanary_ho_entry *ho,
					     const struct kanary_svc_ref *ref)
{
	__u64 state = ho->state;

	if (p->syn) {
		if (p->ack)
			return TC_ACT_SHOT;
		if (p->seq == ho->client_isn)
			return state == KANARY_HO_SYN_RCVD ? kanary_ho_synack(skb, p, ho) : TC_ACT_SHOT;
		/* A new connection reusing the tuple. */
		kanary_ho_forget(fwd, ho);
		return kanary_ho_accept(skb, p, fwd, ref);
	}
	if (state == KANARY_HO_ESTABLISHED)
		return kanary_ho_forward(skb, p, fwd, ho);
	if (p->rst) {
		kanary_ho_forget(fwd, ho);
		return TC_ACT_SHOT;
	}
	if (p->payload_len && p->seq == ho->client_isn + 1) {
		if (state == KANARY_HO_SYN_RCVD)
			return kanary_ho_bind(skb, p, fwd, ho, ref);
		if (state == KANARY_HO_SYN_SENT)
			return kanary_ho_retry(skb, p, fwd, ho);
		return TC_ACT_SHOT;
	}
	/* A FIN before any data: nothing to route on. */
	if (p->fin && state == KANARY_HO_SYN_RCVD) {
		__u32 seq = ho->our_isn + 1;

		kanary_ho_forget(fwd, ho);
		return kanary_ho_reset_client(skb, p, seq);
	}
	/* The ACK of our SYN-ACK, and anything sent before the backend answers. */
	return TC_ACT_SHOT;
}

/*
 * Ingress: a mid-flow packet to a service with rules, of no known
 * connection (its state was evicted, or it predates kanary).  Without the
 * sequence offsets it cannot be translated, so the client is reset at the
 * sequence it expects: its own ack.
 */
static __always_inline int kanary_ho_orphan(struct __sk_buff *skb, const struct kanary_pkt *p,
					    __u32 svc_id)
{
	if (p->rst || !p->ack || p->payload_len > KANARY_HTTP_STASH)
		return TC_ACT_SHOT;
	KANARY_HO_STAT(svc_id, state_lost);
	return kanary_ho_reset_client(skb, p, p->ack_seq);
}

/*
 * Turns the backend's SYN-ACK into the ACK that completes its handshake and
 * carries the stash, and re-injects it as if the client had sent it.  Its
 * destination MAC is the host veth's own (the SYN-ACK's source), or the
 * node would drop it as another host's.
 */
static __noinline int kanary_ho_deliver_stash(struct __sk_buff *skb,
						   const struct kanary_pkt *p,
						   const struct kanary_ho_entry *ho,
						   const struct kanary_stash *stash)
{
	struct kanary_ho_scratch *sc = kanary_ho_scratch_get();
	__u32 len = stash->len, off = p->l4_off + p->tcp_hlen;
	struct kanary_tcp_mut m = {};
	__s64 acc;

	if (!sc || p->payload_len || len < 1 || len > KANARY_HTTP_STASH)
		return TC_ACT_SHOT;
	if (bpf_skb_change_tail(skb, off + len, 0) ||
	    bpf_skb_store_bytes(skb, off, stash->data, len, 0) ||
	    kanary_seg_reverse(skb, p))
		return TC_ACT_SHOT;
	m.seq = bpf_htonl(ho->client_isn + 1);
	m.ack_seq = bpf_htonl(ho->backend_isn + 1);
	m.doff_res = (p->tcp_hlen / 4) << 4;
	m.flags = KANARY_TF_ACK | KANARY_TF_PSH;
	m.window = bpf_htons(ho->window);
	kanary_opts_fill(&sc->opts, 0, 0);
	acc = kanary_seg_header(skb, p, &m, &sc->opts, &sc->old_opts);
	acc = kanary_csum_buf(stash->data, len, acc, 0);
	if (kanary_l4_apply(skb, p, acc) || kanary_seg_set_len(skb, p, p->tcp_hlen + len))
		return TC_ACT_SHOT;
	return bpf_redirect(skb->ifindex, BPF_F_INGRESS);
}

/* The backend's SYN-ACK: bind, or a retransmission that needs the stash again. */
static __always_inline int kanary_ho_backend_synack(struct __sk_buff *skb,
						    const struct kanary_pkt *p,
						    const struct kanary_ct_key *fwd,
						    struct kanary_ho_entry *ho)
{
	const struct kanary_stash *stash;

	if (p->ack_seq != ho->client_isn + 1)
		return TC_ACT_SHOT;
	if (ho->state == KANARY_HO_ESTABLISHED) {
		if (p->seq != ho->backend_isn || ho->stash_acked)
			return TC_ACT_SHOT;
	} else if (__sync_val_compare_and_swap(&ho->state, KANARY_HO_SYN_SENT,
					       KANARY_HO_BINDING) == KANARY_HO_SYN_SENT) {
		ho->backend_isn = p->seq;
		ho->state = KANARY_HO_ESTABLISHED;
	} else {
		return TC_ACT_SHOT;
	}
	stash = bpf_map_lookup_elem(&kanary_stash_v1, fwd);
	if (!stash) {
		KANARY_HO_STAT(ho->svc_id, stash_lost);
		kanary_ho_forget(fwd, ho);
		return TC_ACT_SHOT;
	}
	return kanary_ho_deliver_stash(skb, p, ho, stash);
}

/* The backend refused: the client sees a RST at the sequence it expects from us. */
static __noinline int kanary_ho_refused(struct __sk_buff *skb, const struct kanary_pkt *p,
					     const struct kanary_ct_key *fwd,
					     struct kanary_ho_entry *ho)
{
	__be32 vip = fwd->dst.w[3];
	__be16 vport = fwd->dport;
	struct kanary_ho_scratch *sc = kanary_ho_scratch_get();
	struct kanary_tcp_mut m = {};
	__s64 acc;

	KANARY_HO_STAT(ho->svc_id, backend_refused);
	m.seq = bpf_htonl(ho->our_isn + 1);
	m.ack_seq = bpf_htonl(ho->client_isn + 1 + ho->stash_len);
	m.doff_res = (p->tcp_hlen / 4) << 4;
	m.flags = KANARY_TF_RST | KANARY_TF_ACK;
	kanary_ho_forget(fwd, ho);
	if (!sc || p->payload_len)
		return TC_ACT_SHOT;
	kanary_opts_fill(&sc->opts, 0, 0);
	acc = kanary_seg_header(skb, p, &m, &sc->opts, &sc->old_opts);
	if (kanary_l4_apply(skb, p, acc) ||
	    kanary_nat_rewrite(skb, p, KANARY_IP_SADDR_OFF, p->saddr, vip,
			       KANARY_TCP_SPORT_OFF(p), p->sport, vport))
		return TC_ACT_SHOT;
	return TC_ACT_OK;
}

/* An established connection, backend to client: SNAT, and seq into our space. */
static __noinline int kanary_ho_reply(struct __sk_buff *skb, const struct kanary_pkt *p,
					   const struct kanary_ct_key *fwd,
					   struct kanary_ho_entry *ho)
{
	__be32 vip = fwd->dst.w[3];
	__be16 vport = fwd->dport;
	struct kanary_subset_stats *st = kanary_subset_stats(ho->svc_id, ho->subset);
	__u32 seq = p->seq - ho->backend_isn + ho->our_isn;
	__be32 old = bpf_htonl(p->seq), new = bpf_htonl(seq);
	int done = p->rst || kanary_ho_closed_out(p, seq, ho);

	if (st) {
		st->packets_out += kanary_segs(skb);
		st->bytes_out += skb->len;
	}
	if (!ho->stash_acked && p->ack &&
	    kanary_seq_geq(p->ack_seq, ho->client_isn + 1 + ho->stash_len)) {
		ho->stash_acked = 1;
		bpf_map_delete_elem(&kanary_stash_v1, fwd);
	}
	if (bpf_skb_store_bytes(skb, p->l4_off + offsetof(struct tcphdr, seq), &new, sizeof(new), 0) ||
	    bpf_l4_csum_replace(skb, KANARY_TCP_CSUM_OFF(p), old, new, sizeof(new)) ||
	    kanary_nat_rewrite(skb, p, KANARY_IP_SADDR_OFF, p->saddr, vip,
			       KANARY_TCP_SPORT_OFF(p), p->sport, vport))
		return TC_ACT_SHOT;
	if (done)
		kanary_ho_forget(fwd, ho);
	return TC_ACT_OK;
}

/*
 * The backend answered our SYN with a bare ACK: it holds the tuple in
 * TIME-WAIT from an earlier connection, and our SYN, which carries the
 * client's ISN and no timestamp, did not pass for a new one (as when the
 * client reached the pod directly before: its ISNs came from another
 * tuple).  A RST at the sequence the ACK names ends the TIME-WAIT; a copy
 * of it goes first, then the same skb, reshaped again, brings the SYN.
 */
static __noinline int kanary_ho_clear_timewait(struct __sk_buff *skb, const struct kanary_pkt *p,
					       const struct kanary_ho_entry *ho)
{
	struct kanary_ho_scratch *sc = kanary_ho_scratch_get();
	struct kanary_tcp_mut m = {};
	struct kanary_pkt rst;

	if (!sc || p->payload_len)
		return TC_ACT_SHOT;
	m.seq = bpf_htonl(p->ack_seq);
	m.doff_res = (p->tcp_hlen / 4) << 4;
	m.flags = KANARY_TF_RST;
	kanary_opts_fill(&sc->opts, 0, 0);
	if (kanary_ho_reshape(skb, p, &m, sc, 1) ||
	    bpf_clone_redirect(skb, skb->ifindex, BPF_F_INGRESS) ||
	    kanary_parse_tcp4(skb, &rst) ||
	    kanary_ho_syn_to_backend(skb, &rst, ho) != TC_ACT_OK)
		return TC_ACT_SHOT;
	return bpf_redirect(skb->ifindex, BPF_F_INGRESS);
}

/*
 * Ingress: a SYN from the client to a pod address.  A new direct connection
 * may reuse the tuple of an earlier service connection to that pod, whose
 * reverse entry would rewrite its replies: that entry goes.  Unless the SYN
 * is the one kanary_ho_clear_timewait re-injected for a handoff still
 * opening, whose entry it is.
 */
static __always_inline void kanary_ct_forget_stale_reverse(const struct kanary_pkt *p)
{
	const struct kanary_ct_entry *rev;
	const struct kanary_ho_entry *ho;
	struct kanary_ct_key rk, k;

	kanary_ct_key_v4(&rk, p->daddr, p->saddr, p->dport, p->sport, KANARY_CT_REVERSE);
	rev = bpf_map_lookup_elem(&kanary_ct_v1, &rk);
	if (!rev)
		return;
	if (rev->flags & KANARY_CT_F_HANDOFF) {
		kanary_ct_key_v4(&k, p->saddr, rev->addr.w[3], p->sport, rev->port,
				 KANARY_CT_FORWARD);
		ho = bpf_map_lookup_elem(&kanary_ho_v2, &k);
		if (ho && ho->state == KANARY_HO_SYN_SENT && ho->client_isn == p->seq)
			return;
	}
	bpf_map_delete_elem(&kanary_ct_v1, &rk);
}

/* Egress: a packet from the backend of a rule-path connection (rev is its reverse entry). */
static __noinline int kanary_ho_egress(struct __sk_buff *skb, const struct kanary_pkt *p,
					    const struct kanary_ct_key *rkey,
					    const struct kanary_ct_entry *rev)
{
	__be32 vip = rev->addr.w[3];
	__be16 vport = rev->port;
	struct kanary_ho_entry *ho;
	struct kanary_ct_key fwd;

	kanary_ct_key_v4(&fwd, p->daddr, vip, p->dport, vport, KANARY_CT_FORWARD);
	ho = bpf_map_lookup_elem(&kanary_ho_v2, &fwd);
	if (!ho || ho->backend.w[3] != p->saddr || ho->backend_port != p->sport) {
		/* The connection is gone: its replies mean nothing to the client. */
		bpf_map_delete_elem(&kanary_ct_v1, rkey);
		return TC_ACT_SHOT;
	}
	if (p->syn)
		return p->ack ? kanary_ho_backend_synack(skb, p, &fwd, ho) : TC_ACT_SHOT;
	if (ho->state == KANARY_HO_ESTABLISHED)
		return kanary_ho_reply(skb, p, &fwd, ho);
	if (ho->state == KANARY_HO_SYN_SENT) {
		if (p->rst)
			return kanary_ho_refused(skb, p, &fwd, ho);
		if (p->ack)
			return kanary_ho_clear_timewait(skb, p, ho);
	}
	return TC_ACT_SHOT;
}

#endif /* KANARY_BPF_HANDOFF_H */
