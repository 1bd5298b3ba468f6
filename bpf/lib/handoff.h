/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The rule path (delayed binding), for services with rules: its state
 * machine.
 *
 *   client              kanary (host veth tc)                 backend
 *     SYN  ------------> answered here: SYN-ACK, ISN a cookie (handoff_cookie.h)
 *     ACK  ------------> dropped
 *     data ------------> stashed, matched, backend chosen;
 *                        the segment becomes a SYN (client ISN) --> SYN
 *     more data -------> joins the stash (handoff_stash.h)
 *                        SYN-ACK becomes ACK + stash, re-injected <-- SYN-ACK
 *                                                        ACK+data -->
 *     <------------------ then seq/ack offsets and NAT both ways ------->
 *     next request ----> matched again (request.h); elsewhere:
 *                        RST to the old backend, the request becomes
 *                        a new leg's SYN (ISN: its seq - 1)  --------> SYN
 *                        and on as for the first
 *
 * Ingress runs on what the client sends, egress on what it receives (see
 * kanary.bpf.c).  The state is in include/kanary/handoff.h; the segments
 * made here are in handoff_craft.h.
 */
#ifndef KANARY_BPF_HANDOFF_H
#define KANARY_BPF_HANDOFF_H

#include "handoff_craft.h"
#include "handoff_cookie.h"
#include "handoff_stash.h"
#include "handoff_detect.h"
#include "request.h"
#include "mirror.h"

/* A handshake's state in SYN_RCVD, in ho: what a SYN tells, or a cookie proves. */
static __always_inline void kanary_ho_begin(struct kanary_ho_entry *ho, __u32 client_isn,
					    __u32 our_isn, __u16 mss, __u32 svc_id)
{
	__builtin_memset(ho, 0, sizeof(*ho));
	ho->state = KANARY_HO_SYN_RCVD;
	ho->client_isn = client_isn;
	ho->our_isn = our_isn;
	ho->mss = mss;
	ho->svc_id = svc_id;
	ho->leg_isn = client_isn;
	ho->srv_nxt = our_isn + 1;
	ho->xchg.cli_nxt = client_isn + 1;
	ho->cli_nxt = client_isn + 1;
	kanary_xchg_server_isn(&ho->xchg, our_isn);
}

/* A SYN to a service with rules: track it and answer it ourselves. */
static __noinline int kanary_ho_accept(struct __sk_buff *skb, const struct kanary_pkt *p,
					    const struct kanary_ct_key *fwd,
					    const struct kanary_svc_ref *ref)
{
	struct kanary_ho_scratch *sc = kanary_ho_scratch_get();
	__u16 mss;

	if (!sc)
		return TC_ACT_SHOT;
	mss = kanary_tcp_opt_mss(skb, p, &sc->walk);
	/*
	 * Made in the scratch: on the stack it would not leave room for the
	 * calls after it.  The ISN is the cookie: a retransmitted SYN gets the
	 * same answer.
	 */
	kanary_ho_begin(&sc->ho, p->seq, kanary_cookie(p, p->seq, mss), mss, ref->id);
	if (bpf_map_update_elem(&kanary_hosyn_v1, fwd, &sc->ho, BPF_ANY))
		return TC_ACT_SHOT;
	return kanary_ho_synack(skb, p, &sc->ho);
}

/* kanary_ho_handshake's answer when the segment binds: the caller goes on with kanary_ho_v4's entry. */
#define KANARY_HO_PROMOTED	(-2)
/* kanary_ho_from_cookie's when p is no first data of ours: the caller goes on. */
#define KANARY_HO_NO_COOKIE	(-3)
/* Either's when the client's address holds its bound (handoff_source.h): the caller resets it. */
#define KANARY_HO_OVER_BOUND	(-4)

/*
 * Ingress: data to service svc_id of no known connection.  When it is a
 * client's first data and its cookie checks out, the handshake's entry was
 * evicted: it is made again, in kanary_ho_v4 as kanary_ho_handshake would
 * bind it (KANARY_HO_PROMOTED), with the cookie's MSS.
 */
static __noinline int kanary_ho_from_cookie(const struct kanary_pkt *p,
					    const struct kanary_ct_key *fwd, __u32 svc_id)
{
	struct kanary_ho_scratch *sc = kanary_ho_scratch_get();
	__u32 our_isn;

	if (!sc || !p || !fwd || !kanary_cookie_proves(p) ||
	    !bpf_map_lookup_elem(&kanary_rules_v1, &svc_id))
		return KANARY_HO_NO_COOKIE;
	our_isn = p->ack_seq - 1;
	kanary_ho_begin(&sc->ho, p->seq - 1, our_isn, kanary_cookie_mss(our_isn), svc_id);
	if (kanary_ho_source_claim(fwd->src.w[3]))
		return KANARY_HO_OVER_BOUND;
	/* Two CPUs making it at once: one binds, as kanary_ho_handshake's would. */
	if (bpf_map_update_elem(&kanary_ho_v4, fwd, &sc->ho, BPF_NOEXIST)) {
		kanary_ho_source_release(fwd->src.w[3]);
		return TC_ACT_SHOT;
	}
	kanary_count(KANARY_CNT_HO_COOKIE);
	return KANARY_HO_PROMOTED;
}

/*
 * The mirror draw of a request on the rule path, once routed: the request
 * that p starts (its exchange saw it, kanary_ho_xchg_in) is drawn for the
 * mirrors of ho->route, the route that took it, and p copied before it is
 * reshaped.  Any other segment passes.  Global, so the verifier walks it
 * once for its callers (every way a segment leaves the rule path's ingress).
 */
__noinline int kanary_ho_mirror_routed(struct __sk_buff *skb, const struct kanary_pkt *p,
				       struct kanary_ho_entry *ho)
{
	if (!p || !ho || !ho->mirror_draw || p->seq != ho->xchg.mirror_seq)
		return 0;
	ho->mirror_draw = 0;
	kanary_mirror_start(skb, p, &ho->xchg, ho->svc_id,
			    ho->route ? ho->route - 1u : KANARY_MIRROR_ROUTE_SPLIT);
	kanary_mirror_await(&ho->xchg, ho->xchg.mirror, p->seq);
	return 0;
}

/*
 * The route the last choice took, as ho->route keeps it (0: the split, so
 * a zeroed entry means it): by_rule says whether rule chose.
 */
static __always_inline __u8 kanary_ho_route(int rule, __u8 by_rule)
{
	return by_rule && rule >= 0 && rule < KANARY_RULES_MAX ? (__u8)(rule + 1) : 0;
}

/* The first data: read it, choose, and open the first leg. */
static __noinline int kanary_ho_bind(struct __sk_buff *skb, const struct kanary_pkt *p,
					  const struct kanary_ct_key *fwd,
					  struct kanary_ho_entry *ho,
					  const struct kanary_svc_ref *ref)
{
	struct kanary_ho_scratch *sc = kanary_ho_scratch_get();
	struct kanary_subset_stats *st;
	const struct kanary_ct_entry *be;
	__u8 by_rule, why;
	int len, rule;

	if (!sc)
		return TC_ACT_SHOT;
	len = kanary_ho_load_payload(skb, p, sc->stash.data);
	if (len < 0)
		return TC_ACT_SHOT;	/* more than the window we gave: not a well-behaved client */
	rule = kanary_ho_match(ref, len);
	if (kanary_ho_choose(ref, p, rule, -1)) {
		__u32 seq = ho->our_isn + 1;

		KANARY_HO_STAT(ref->id, no_backend);
		kanary_ho_forget(fwd, ho);
		return kanary_ho_reset_client(skb, p, seq);
	}

	/* Deterministic in the data, so two CPUs binding at once write the same. */
	be = &sc->be;
	by_rule = sc->by_rule;
	kanary_ho_take_backend(ho, be);
	ho->by_rule = by_rule;
	ho->route = kanary_ho_route(rule, by_rule);
	kanary_ho_mirror_routed(skb, p, ho);
	ho->window = bpf_ntohs(p->window);
	ho->stash_len = len;
	ho->tries = 1;
	ho->legs = 1;
	if (__sync_val_compare_and_swap(&ho->state, KANARY_HO_SYN_RCVD, KANARY_HO_SYN_SENT) !=
	    KANARY_HO_SYN_RCVD)
		return TC_ACT_SHOT;
	why = kanary_ho_frame_request(sc, len, p->seq, ho);
	if (!why && kanary_seq_gt(p->seq + len, ho->req_end))
		why = KANARY_HO_PIN_PIPELINED;	/* more requests follow in the same bytes */
	if (why)
		kanary_ho_pin(ho, why);
	if (why != KANARY_HO_PIN_NOT_HTTP && why != KANARY_HO_PIN_HTTP2)
		kanary_ho_count_request(ho->svc_id, ho->subset, by_rule);
	/* The exchange read these bytes before (kanary_ho_xchg_in), with no subset yet. */
	if (ho->xchg.phase == KANARY_XCHG_OFF)
		kanary_http_count_other(ho->svc_id, ho->subset);

	sc->stash.len = len;
	if (bpf_map_update_elem(&kanary_stash_v1, fwd, &sc->stash, BPF_ANY))
		return TC_ACT_SHOT;
	if (kanary_ho_track_reverse(fwd, ho, BPF_ANY))
		return TC_ACT_SHOT;

	st = kanary_subset_stats(ho->svc_id, ho->subset);
	if (st) {
		st->connections++;
		if (by_rule)
			st->rule_connections++;
	}
	return kanary_ho_syn_to_backend(skb, p, ho, fwd->src.w[3]);
}

/* A leg's request again: the backend has not answered; try again, or give up. */
static __noinline int kanary_ho_retry(struct __sk_buff *skb, const struct kanary_pkt *p,
					   const struct kanary_ct_key *fwd,
					   struct kanary_ho_entry *ho)
{
	struct kanary_ho_scratch *sc = kanary_ho_scratch_get();
	__u32 seq = ho->srv_nxt;

	/* Racing retransmissions may both count: the bound holds, give or take one. */
	if (ho->tries++ >= KANARY_HO_SYN_TRIES) {
		KANARY_HO_STAT(ho->svc_id, backend_silent);
		if (ho->legs > 1)
			KANARY_HO_STAT(ho->svc_id, switch_failed);
		kanary_ho_forget(fwd, ho);
		return kanary_ho_reset_client(skb, p, seq);
	}
	if (!sc || kanary_ho_load_payload(skb, p, sc->stash.data) < 0)
		return TC_ACT_SHOT;
	return kanary_ho_syn_to_backend(skb, p, ho, fwd->src.w[3]);
}

/*
 * FIN bookkeeping: a connection ends once both FINs are acked, so the
 * last ACK still finds its state.  Returns 1 when p is that ACK.
 */
static __always_inline int kanary_ho_closed_in(const struct kanary_pkt *p,
					       struct kanary_ho_entry *ho)
{
	/* The client's FIN only at its end (cli_nxt, followed already): another is spoofed. */
	if (p->fin && !ho->fin_in && kanary_seq_end(p) == ho->cli_nxt) {
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

/*
 * An established leg, client to backend: DNAT, and acks into the backend's
 * space; the hairpin address as source when the backend is the client.
 */
static __noinline int kanary_ho_forward(struct __sk_buff *skb, const struct kanary_pkt *p,
					     const struct kanary_ct_key *fwd,
					     struct kanary_ho_entry *ho)
{
	struct kanary_subset_stats *st = kanary_subset_stats(ho->svc_id, ho->subset);
	/* Only an exact RST ends it (kanary_ho_ingress); an in-window one goes on. */
	int done = (p->rst && p->seq == ho->cli_nxt) || kanary_ho_closed_in(p, ho);

	if (st) {
		st->packets_in += kanary_segs(skb);
		st->bytes_in += skb->len;
	}
	if (!done && (p->payload_len || p->syn || p->fin || p->rst))
		kanary_ho_keep_reverse(fwd, ho);
	if (p->ack && kanary_tcp_set32(skb, p, offsetof(struct tcphdr, ack_seq),
				       bpf_htonl(p->ack_seq), bpf_htonl(p->ack_seq - ho->delta)))
		return TC_ACT_SHOT;
	if (kanary_nat_rewrite(skb, p, KANARY_IP_DADDR_OFF, p->daddr, ho->backend.w[3],
			       KANARY_TCP_DPORT_OFF(p), p->dport, ho->backend_port))
		return TC_ACT_SHOT;
	if (kanary_ho_hairpin(ho, p->saddr) && kanary_hairpin_snat(skb, p))
		return TC_ACT_SHOT;
	if (done)
		kanary_ho_close(fwd, ho);
	return TC_ACT_OK;
}

/*
 * Moves the request rq, the part of p from the request's start (its
 * payload in sc->stash, which the caller filled), to backend sc->be: the
 * old leg is reset, the request stashed and p turned into the new leg's
 * SYN.  The leg then opens as the first did.
 */
static __noinline int kanary_ho_switch(struct __sk_buff *skb, const struct kanary_pkt *p,
				       const struct kanary_ct_key *fwd, struct kanary_ho_entry *ho,
				       const struct kanary_pkt *rq)
{
	struct kanary_ho_scratch *sc = kanary_ho_scratch_get();
	struct kanary_ct_entry *be;

	if (!sc || __sync_val_compare_and_swap(&ho->state, KANARY_HO_ESTABLISHED,
					       KANARY_HO_SYN_SENT) != KANARY_HO_ESTABLISHED)
		return TC_ACT_SHOT;
	be = &sc->be;
	if (bpf_map_update_elem(&kanary_stash_v1, fwd, &sc->stash, BPF_ANY))
		goto fail;
	/*
	 * The reset needs all of p's payload, a previous request's tail too
	 * (the caller saw that the stash holds it).
	 */
	if (rq->seq != p->seq && kanary_ho_load_head(skb, p, 0, sc->stash.data) < 0)
		goto fail;
	if (kanary_ho_reset_leg(skb, p, ho, rq->seq))
		goto fail;
	kanary_ho_rev_key(&sc->key, fwd, ho);
	bpf_map_delete_elem(&kanary_ct_v3, &sc->key);

	kanary_ho_take_backend(ho, be);
	ho->window = bpf_ntohs(p->window);
	ho->leg_isn = rq->seq - 1;
	ho->stash_len = sc->stash.len;
	ho->stash_acked = 0;
	ho->tries = 1;
	if (ho->legs < 255)
		ho->legs++;
	KANARY_HO_STAT(ho->svc_id, switches);
	if (kanary_ho_track_reverse(fwd, ho, BPF_ANY) || kanary_parse_tcp4(skb, &sc->pkt))
		goto fail;
	return kanary_ho_syn_to_backend(skb, &sc->pkt, ho, fwd->src.w[3]);
fail:
	/*
	 * The old leg may be reset already: forget the connection, so that the
	 * client's retransmission of the request meets no state and is reset
	 * (kanary_ho_orphan) rather than left to hang.
	 */
	kanary_ho_forget(fwd, ho);
	return TC_ACT_SHOT;
}

/*
 * A segment that holds a request's start at ho->req_end: route the request
 * (see request.h for when it may move and what pins).  The segment may lead
 * with the previous request's tail, which the old backend never acked and
 * the client sent again with this request (Linux collapses
 * retransmissions): that exchange is over, so the tail goes with the old
 * leg, and the request is seen from its own start (rq).
 */
static __noinline int kanary_ho_request(struct __sk_buff *skb, const struct kanary_pkt *p,
					const struct kanary_ct_key *fwd, struct kanary_ho_entry *ho,
					const struct kanary_svc_ref *ref)
{
	struct kanary_ho_scratch *sc = kanary_ho_scratch_get();
	struct kanary_pkt *rq;
	struct kanary_ct_entry *be;
	__u32 tail;
	__u8 why;
	int len, stay, rule = KANARY_RULE_NONE;

	if (!sc)
		return TC_ACT_SHOT;
	/* A request that pins stays where the connection is: its route is the last one's. */
	if (!kanary_ho_exchange_done(p, ho)) {
		kanary_ho_pin(ho, KANARY_HO_PIN_PIPELINED);
		kanary_ho_mirror_routed(skb, p, ho);
		return kanary_ho_forward(skb, p, fwd, ho);
	}
	tail = ho->req_end - p->seq;	/* < p->payload_len: the caller saw it cross */
	rq = &sc->req;
	*rq = *p;
	rq->seq = ho->req_end;
	rq->payload_len -= tail;
	len = kanary_ho_load_head(skb, rq, tail, sc->stash.data);
	if (len < 0)
		return TC_ACT_SHOT;
	why = kanary_ho_frame_request(sc, len, rq->seq, ho);
	if (why) {
		kanary_ho_pin(ho, why);
		kanary_ho_mirror_routed(skb, p, ho);
		return kanary_ho_forward(skb, p, fwd, ho);
	}
	be = &sc->be;
	/*
	 * While its service is gone (ref NULL), each request stays where it
	 * is.  by_rule is counted below whatever the choice did, and a choice
	 * that fails early (or none) leaves it as the last request set it.
	 */
	sc->by_rule = 0;
	if (ref)
		rule = kanary_ho_match(ref, len);
	stay = ref ? kanary_ho_choose(ref, rq, rule, ho->subset) : 1;
	if (stay < 0) {
		KANARY_HO_STAT(ho->svc_id, no_backend);
		stay = 1;
	}
	if (!stay && be->addr.w[3] == ho->backend.w[3] && be->port == ho->backend_port)
		stay = 1;
	/*
	 * Only a request the stash holds whole can wait for a leg to open, and
	 * the old leg's reset takes all of p's payload out of its checksum.
	 */
	if (!stay && (p->payload_len > KANARY_HTTP_STASH ||
		      kanary_seq_gt(ho->req_end, rq->seq + KANARY_HTTP_STASH))) {
		kanary_ho_count_pin(ho->svc_id, KANARY_HO_PIN_LARGE);
		stay = 1;
	}
	kanary_ho_count_request(ho->svc_id, stay ? ho->subset : be->subset, sc->by_rule);
	/* Mirrored as its route says, like its count, even when too large to move. */
	ho->route = kanary_ho_route(rule, sc->by_rule);
	kanary_ho_mirror_routed(skb, p, ho);
	/* Requests after this one in the same segment go with it, and pin. */
	if (kanary_seq_gt(p->seq + p->payload_len, ho->req_end))
		kanary_ho_pin(ho, KANARY_HO_PIN_PIPELINED);
	if (stay)
		return kanary_ho_forward(skb, p, fwd, ho);
	sc->stash.len = len;
	ho->by_rule = sc->by_rule;
	return kanary_ho_switch(skb, p, fwd, ho, rq);
}

/*
 * Ingress, an established leg: a segment that holds a request's start is
 * routed, whether it starts there or is a retransmission that leads with
 * the previous request's unacked tail.  One that starts after a request's
 * end came before the segment that starts the next request, lost or late:
 * it waits (dropped) for that one, which the client sends again, and then
 * again itself, as it would after any loss without SACK.
 */
static __always_inline int kanary_ho_established(struct __sk_buff *skb, const struct kanary_pkt *p,
						 const struct kanary_ct_key *fwd,
						 struct kanary_ho_entry *ho,
						 const struct kanary_svc_ref *ref)
{
	/* A request that ends the client's side (FIN) goes where the connection is. */
	if (!ho->pinned && p->payload_len && !p->rst && !p->fin) {
		if (kanary_seg_holds(p, ho->req_end))
			return kanary_ho_request(skb, p, fwd, ho, ref);
		if (kanary_seq_gt(p->seq, ho->req_end) &&
		    !kanary_seq_gt(p->seq, ho->req_end + KANARY_HO_WINDOW_MAX))
			return TC_ACT_SHOT;
	}
	/* A request start not routed on its own (pinned) goes where its connection is, by its route. */
	kanary_ho_mirror_routed(skb, p, ho);
	return kanary_ho_forward(skb, p, fwd, ho);
}

/*
 * The client's side of the HTTP exchange, read before the segment is
 * routed or reshaped; both sides live in ho.  A connection whose first
 * data is not HTTP is counted once bound, when its subset is known.
 */
static __noinline void kanary_ho_xchg_in(struct __sk_buff *skb, const struct kanary_pkt *p,
					  struct kanary_ho_entry *ho)
{
	int ev = kanary_xchg_client(skb, p, &ho->xchg);

	if (ev == KANARY_XCHG_EV_REQUEST) {
		kanary_xchg_stamp(&ho->xchg);
		/* Not drawn yet: the route decides its mirrors (kanary_ho_mirror_routed). */
		ho->xchg.mirror = 0;
		kanary_mirror_await(&ho->xchg, 0, p->seq);
		ho->mirror_draw = 1;
		return;
	}
	kanary_mirror_follow(skb, p, &ho->xchg, ho->svc_id);
	if (ev == KANARY_XCHG_EV_ABORT)
		kanary_xchg_ended(&ho->xchg, ho->svc_id, ho->subset);
}

/* Ingress: a packet of a connection on the rule path; ref NULL when its service is gone. */
static __always_inline int kanary_ho_ingress(struct __sk_buff *skb, const struct kanary_pkt *p,
					     const struct kanary_ct_key *fwd,
					     struct kanary_ho_entry *ho,
					     const struct kanary_svc_ref *ref)
{
	__u64 state = ho->state;
	int fit;

	/*
	 * The handshake and a FIN before any data are kanary_ho_handshake's:
	 * an entry is here only once the client has sent data, after which it
	 * sends its SYN no more.
	 */
	if (p->syn) {
		if (p->ack || p->seq == ho->client_isn)
			return TC_ACT_SHOT;
		/*
		 * A new ISN on a live connection (RFC 5961 4.2) changes nothing:
		 * a challenge ACK answers it, from the backend's stack once a
		 * leg is established, else from here.
		 */
		kanary_count(KANARY_CNT_SYN_ON_LIVE);
		if (state == KANARY_HO_ESTABLISHED)
			return kanary_ho_forward(skb, p, fwd, ho);
		return kanary_ho_challenge_ack(skb, p, ho);
	}
	/*
	 * RFC 5961: a RST ends the connection only at the client's next
	 * sequence.  In the window but not exact, it goes on to an established
	 * leg's backend, whose stack sends the challenge ACK; before that kanary
	 * is the client's peer and drops it, as the client's RST can then only
	 * be at cli_nxt (it has sent nothing it could be unsure of).
	 */
	if (p->rst) {
		fit = kanary_rst_fit(p->seq, ho->cli_nxt, KANARY_HO_WINDOW_MAX);
		if (kanary_rst_outside(fit))
			return TC_ACT_SHOT;
		if (fit != KANARY_RST_EXACT)
			return state == KANARY_HO_ESTABLISHED ? kanary_ho_forward(skb, p, fwd, ho) :
								TC_ACT_SHOT;
	} else {
		kanary_seq_follow(&ho->cli_nxt, p);
	}
	if (p->payload_len || p->rst)
		kanary_ho_xchg_in(skb, p, ho);
	if (state == KANARY_HO_ESTABLISHED)
		return kanary_ho_established(skb, p, fwd, ho, ref);
	if (p->rst) {
		kanary_ho_close(fwd, ho);
		return TC_ACT_SHOT;
	}
	if (p->payload_len && p->seq == ho->leg_isn + 1) {
		/* With its service gone there is nothing to bind to: the client sends again. */
		if (state == KANARY_HO_SYN_RCVD)
			return ref ? kanary_ho_bind(skb, p, fwd, ho, ref) : TC_ACT_SHOT;
		if (state == KANARY_HO_SYN_SENT)
			return kanary_ho_retry(skb, p, fwd, ho);
		return TC_ACT_SHOT;
	}
	/*
	 * A later leg's request sent again from further back: bytes of the
	 * previous request the old backend never acked, then the request
	 * (Linux collapses them into one retransmission).  Only the SYN goes.
	 */
	if (state == KANARY_HO_SYN_SENT && ho->legs > 1 && p->seq != ho->leg_isn + 1 &&
	    kanary_seg_holds(p, ho->leg_isn + 1))
		return kanary_ho_retry(skb, p, fwd, ho);
	if (p->payload_len && state == KANARY_HO_SYN_SENT)
		return kanary_ho_stash_append(skb, p, fwd, ho);
	/* Acks or a FIN sent before the backend answers. */
	return TC_ACT_SHOT;
}


/*
 * Ingress: a connection in kanary_hosyn_v1, our SYN-ACK sent and no data
 * yet.  Its first data moves it to kanary_ho_v4 (KANARY_HO_PROMOTED: the
 * caller binds it there); a SYN, RST or FIN is answered here as
 * kanary_ho_ingress would in SYN_RCVD, and the ACK of our SYN-ACK
 * dropped, so that a flood of SYNs or idle handshakes never leaves the
 * handshakes' table to evict a bound connection.
 */
static __always_inline int kanary_ho_handshake(struct __sk_buff *skb, const struct kanary_pkt *p,
					       const struct kanary_ct_key *fwd,
					       struct kanary_ho_entry *syn)
{
	__u32 seq = syn->our_isn + 1;

	if (p->syn) {
		if (p->ack)
			return TC_ACT_SHOT;
		if (p->seq == syn->client_isn)
			return kanary_ho_synack(skb, p, syn);
		kanary_count(KANARY_CNT_SYN_ON_LIVE);
		return kanary_ho_challenge_ack(skb, p, syn);
	}
	/* RFC 5961: only at the client's next sequence; before a leg, nothing else. */
	if (p->rst) {
		if (p->seq == syn->cli_nxt)
			kanary_ho_forget(fwd, syn);
		return TC_ACT_SHOT;
	}
	if (p->payload_len && p->seq == syn->leg_isn + 1) {
		if (kanary_ho_source_claim(fwd->src.w[3])) {
			bpf_map_delete_elem(&kanary_hosyn_v1, fwd);
			return KANARY_HO_OVER_BOUND;
		}
		/* A CPU binding it too fails here, as its compare-and-swap would. */
		if (bpf_map_update_elem(&kanary_ho_v4, fwd, syn, BPF_NOEXIST)) {
			kanary_ho_source_release(fwd->src.w[3]);
			return TC_ACT_SHOT;
		}
		bpf_map_delete_elem(&kanary_hosyn_v1, fwd);
		return KANARY_HO_PROMOTED;
	}
	/* A FIN before any data: nothing to route on. */
	if (p->fin) {
		kanary_ho_forget(fwd, syn);
		return kanary_ho_reset_client(skb, p, seq);
	}
	/* The ACK of our SYN-ACK: the client may be waiting for the server to speak. */
	if (p->ack && !p->payload_len && p->seq == syn->client_isn + 1 && p->ack_seq == seq)
		kanary_ho_detect_queue(skb, p, fwd, syn);
	return TC_ACT_SHOT;	/* that ACK, or data out of order */
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
 * Ingress: first data whose client address holds its bound: the client is
 * reset at the sequence it expects (its ack), as a full accept queue's
 * RST would, and nothing of it is kept.
 */
static __always_inline int kanary_ho_over_bound(struct __sk_buff *skb, const struct kanary_pkt *p)
{
	return kanary_ho_reset_client(skb, p, p->ack_seq);
}

/* The backend's SYN-ACK: bind, or a retransmission that needs the stash again. */
static __always_inline int kanary_ho_backend_synack(struct __sk_buff *skb,
						    const struct kanary_pkt *p,
						    const struct kanary_ct_key *fwd,
						    struct kanary_ho_entry *ho)
{
	const struct kanary_stash *stash = NULL;

	if (p->ack_seq != ho->leg_isn + 1)
		return TC_ACT_SHOT;
	if (ho->state == KANARY_HO_ESTABLISHED) {
		if (p->seq != ho->backend_isn || ho->stash_acked)
			return TC_ACT_SHOT;
	} else if (__sync_val_compare_and_swap(&ho->state, KANARY_HO_SYN_SENT,
					       KANARY_HO_BINDING) == KANARY_HO_SYN_SENT) {
		ho->backend_isn = p->seq;
		/* The backend's first byte is the one the client expects next. */
		ho->delta = ho->srv_nxt - (p->seq + 1);
		ho->state = KANARY_HO_ESTABLISHED;
	} else {
		return TC_ACT_SHOT;
	}
	/* A silent client's leg (handoff_detect.h) opens with no request. */
	if (ho->stash_len)
		stash = bpf_map_lookup_elem(&kanary_stash_v1, fwd);
	if (!stash && ho->stash_len) {
		KANARY_HO_STAT(ho->svc_id, stash_lost);
		kanary_ho_forget(fwd, ho);
		return TC_ACT_SHOT;
	}
	return kanary_ho_deliver_stash(skb, p, ho, stash);
}

/* The backend refused a leg: the client sees a RST at the sequence it expects. */
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
	if (ho->legs > 1)
		KANARY_HO_STAT(ho->svc_id, switch_failed);
	m.seq = bpf_htonl(ho->srv_nxt);
	m.ack_seq = bpf_htonl(ho->leg_isn + 1 + ho->stash_len);
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

/* The backend's side of the HTTP exchange: a response begins, or the connection ends. */
static __always_inline void kanary_ho_xchg_out(struct __sk_buff *skb, const struct kanary_pkt *p,
					       __u32 seq, struct kanary_ho_entry *ho)
{
	int phase = kanary_xchg_backend(skb, p, seq, &ho->xchg, ho->svc_id, ho->subset, 1);

	if (phase >= 0)
		ho->xchg.phase = phase;
}

/* An established leg, backend to client: SNAT, and seq into the client's view. */
static __noinline int kanary_ho_reply(struct __sk_buff *skb, const struct kanary_pkt *p,
					   const struct kanary_ct_key *fwd,
					   struct kanary_ho_entry *ho)
{
	__be32 vip = fwd->dst.w[3];
	__be16 vport = fwd->dport;
	struct kanary_subset_stats *st = kanary_subset_stats(ho->svc_id, ho->subset);
	__u32 seq = p->seq + ho->delta;
	__be32 old = bpf_htonl(p->seq), new = bpf_htonl(seq);
	int done, fit = KANARY_RST_IN_WINDOW;

	/* RFC 5961 as for the client's RSTs, at the backend's next sequence. */
	if (p->rst) {
		fit = kanary_rst_fit(seq, ho->fin_out ? ho->fin_out_ack : ho->srv_nxt,
				     KANARY_HO_WINDOW_MAX);
		if (kanary_rst_outside(fit))
			return TC_ACT_SHOT;
	}
	/*
	 * A late segment of an earlier leg to the same backend (a connection
	 * that came back to a pod reuses the tuple) is not this leg's: before
	 * its first byte, or further ahead of the client than an unscaled
	 * window lets a sender be.
	 */
	if (!kanary_seq_geq(p->seq, ho->backend_isn + 1) ||
	    kanary_seq_gt(seq + p->payload_len, ho->srv_nxt + KANARY_HO_WINDOW_MAX))
		return TC_ACT_SHOT;
	done = (p->rst && fit == KANARY_RST_EXACT) || kanary_ho_closed_out(p, seq, ho);

	if (st) {
		st->packets_out += kanary_segs(skb);
		st->bytes_out += skb->len;
	}
	if (!ho->stash_acked && p->ack &&
	    kanary_seq_geq(p->ack_seq, ho->leg_isn + 1 + ho->stash_len)) {
		ho->stash_acked = 1;
		bpf_map_delete_elem(&kanary_stash_v1, fwd);
	}
	kanary_ho_track_response(skb, p, seq, ho);
	if (kanary_tcp_set32(skb, p, offsetof(struct tcphdr, seq), old, new) ||
	    kanary_nat_rewrite(skb, p, KANARY_IP_SADDR_OFF, p->saddr, vip,
			       KANARY_TCP_SPORT_OFF(p), p->sport, vport))
		return TC_ACT_SHOT;
	/* Last, with little else live: a mirrored request's LIVE event makes a deep call. */
	kanary_ho_xchg_out(skb, p, seq, ho);
	if (done)
		kanary_ho_close(fwd, ho);
	return TC_ACT_OK;
}

/*
 * Ingress: a SYN from the client to a pod address.  A new direct connection
 * may reuse the tuple of an earlier service connection to that pod, whose
 * reverse entry would rewrite its replies: that entry goes, once that
 * connection has ended.  While it lives (its forward entry not closing, or
 * its handoff state there) the SYN is not the client's new connection but
 * spoofed or stray, the pod answers it with a challenge ACK, and the entry
 * stays.  So does it for the SYN kanary_ho_clear_timewait re-injected for a
 * handoff still opening, whose entry it is.
 */
static __noinline void kanary_ct_forget_stale_reverse(const struct kanary_pkt *p)
{
	const struct kanary_ct_entry *rev, *ct;
	const struct kanary_ho_entry *ho;
	struct kanary_ct_key rk, k;

	kanary_ct_key_v4(&rk, p->daddr, p->saddr, p->dport, p->sport, KANARY_CT_REVERSE);
	rev = bpf_map_lookup_elem(&kanary_ct_v3, &rk);
	if (!rev)
		rev = bpf_map_lookup_elem(&kanary_ctnew_v1, &rk);
	if (!rev)
		return;
	kanary_ct_key_v4(&k, p->saddr, rev->addr.w[3], p->sport, rev->port, KANARY_CT_FORWARD);
	if (rev->flags & KANARY_CT_F_HANDOFF) {
		ho = bpf_map_lookup_elem(&kanary_ho_v4, &k);
		if (ho && ho->state == KANARY_HO_SYN_SENT && ho->leg_isn == p->seq)
			return;
		if (ho) {
			kanary_count(KANARY_CNT_SYN_ON_LIVE);
			return;
		}
	} else {
		ct = kanary_ct_lookup_by(rev, &k);
		if (ct && !(ct->flags & KANARY_CT_F_CLOSING)) {
			kanary_count(KANARY_CNT_SYN_ON_LIVE);
			return;
		}
	}
	if (rev->flags & KANARY_CT_F_NEW)
		bpf_map_delete_elem(&kanary_ctnew_v1, &rk);
	else
		bpf_map_delete_elem(&kanary_ct_v3, &rk);
}

/*
 * Egress: a packet from the backend of a rule-path connection (rev is its
 * reverse entry).  Also at ingress for a hairpin leg's (kanary_ingress_hairpin),
 * its destination the client's own address again.
 */
static __noinline int kanary_ho_egress(struct __sk_buff *skb, const struct kanary_pkt *p,
					    const struct kanary_ct_key *rkey,
					    const struct kanary_ct_entry *rev)
{
	__be32 vip = rev->addr.w[3];
	__be16 vport = rev->port;
	struct kanary_ho_entry *ho;
	struct kanary_ct_key fwd;

	kanary_ct_key_v4(&fwd, p->daddr, vip, p->dport, vport, KANARY_CT_FORWARD);
	ho = bpf_map_lookup_elem(&kanary_ho_v4, &fwd);
	if (!ho || ho->backend.w[3] != p->saddr || ho->backend_port != p->sport) {
		/* The connection is gone: its replies mean nothing to the client. */
		bpf_map_delete_elem(&kanary_ct_v3, rkey);
		return TC_ACT_SHOT;
	}
	if (p->syn)
		return p->ack ? kanary_ho_backend_synack(skb, p, &fwd, ho) : TC_ACT_SHOT;
	if (ho->state == KANARY_HO_ESTABLISHED)
		return kanary_ho_reply(skb, p, &fwd, ho);
	if (ho->state == KANARY_HO_SYN_SENT) {
		/* A refusal acks our SYN (RFC 793, SYN-SENT): any other RST is not the pod's answer. */
		if (p->rst && p->ack && p->ack_seq == ho->leg_isn + 1)
			return kanary_ho_refused(skb, p, &fwd, ho);
		if (p->rst) {
			kanary_count(KANARY_CNT_RST_OUTSIDE);
			return TC_ACT_SHOT;
		}
		if (p->ack)
			return kanary_ho_clear_timewait(skb, p, ho);
	}
	return TC_ACT_SHOT;
}

#endif /* KANARY_BPF_HANDOFF_H */
