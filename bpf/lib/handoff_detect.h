/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Server-first detection on the rule path (include/kanary/handoff.h says
 * the protocol).  A rule-path client that completes its handshake and then
 * sends nothing cannot be told from one that waits for the server to speak
 * first, and the datapath has no way to wake up on its own (a BPF timer
 * cannot send a packet): so each handshake's ACK is queued, and kanaryd
 * sends it back marked after the detection delay.  Marked and still
 * silent, the connection is bound by the weights with no request.
 */
#ifndef KANARY_BPF_HANDOFF_DETECT_H
#define KANARY_BPF_HANDOFF_DETECT_H

#include "handoff_craft.h"
#include "handoff_source.h"
#include "request.h"

/* Ingress: the client's ACK of our SYN-ACK (syn's), with no data: queued once for kanaryd. */
static __noinline int kanary_ho_detect_queue(struct __sk_buff *skb, const struct kanary_pkt *p,
					     const struct kanary_ct_key *fwd,
					     struct kanary_ho_entry *syn)
{
	struct kanary_ho_scratch *sc = kanary_ho_scratch_get();
	struct kanary_ho_detect *d;

	if (!sc || !fwd || !syn || syn->detect_queued)
		return 0;
	d = &sc->detect;
	__builtin_memset(d, 0, sizeof(*d));
	__builtin_memcpy(&d->key, fwd, sizeof(d->key));
	d->acked_ns = bpf_ktime_get_ns();
	d->ifindex = skb->ifindex;
	d->seq = p->seq;
	d->ack_seq = p->ack_seq;
	d->window = bpf_ntohs(p->window);
	if (bpf_skb_load_bytes(skb, 0, d->dmac, 6) || bpf_skb_load_bytes(skb, 6, d->smac, 6))
		return 0;
	if (bpf_map_push_elem(&kanary_hodet_v1, d, 0))
		kanary_count(KANARY_CNT_HO_DETECT_FULL);
	else
		syn->detect_queued = 1;
	return 0;
}

/*
 * A silent client's connection (ho, just moved to kanary_ho_v4) bound by
 * the weights, p the marked ACK, which becomes the SYN to the backend.
 * With no request, the exchange is complete: what the client sends next
 * is routed as a next request is (request.h), and pins if it is not HTTP.
 */
static __noinline int kanary_ho_bind_silent(struct __sk_buff *skb, const struct kanary_pkt *p,
					    const struct kanary_ct_key *fwd,
					    struct kanary_ho_entry *ho,
					    const struct kanary_svc_ref *ref)
{
	struct kanary_ho_scratch *sc = kanary_ho_scratch_get();
	struct kanary_subset_stats *st;
	const struct kanary_ct_entry *be;

	if (!sc || !p || !fwd || !ho || !ref)
		return TC_ACT_SHOT;
	if (kanary_ho_choose(ref, p, KANARY_RULE_NONE, -1)) {
		KANARY_HO_STAT(ref->id, no_backend);
		kanary_ho_forget(fwd, ho);
		return kanary_ho_reset_client(skb, p, ho->our_isn + 1);
	}
	be = &sc->be;
	kanary_ho_take_backend(ho, be);
	ho->window = bpf_ntohs(p->window);
	ho->tries = 1;
	ho->legs = 1;
	ho->req_end = ho->client_isn + 1;
	ho->resp_start = ho->srv_nxt;
	ho->resp = KANARY_HO_RESP_DONE;
	if (__sync_val_compare_and_swap(&ho->state, KANARY_HO_SYN_RCVD, KANARY_HO_SYN_SENT) !=
	    KANARY_HO_SYN_RCVD)
		return TC_ACT_SHOT;
	if (kanary_ho_track_reverse(fwd, ho, BPF_ANY))
		return TC_ACT_SHOT;
	st = kanary_subset_stats(ho->svc_id, ho->subset);
	if (st)
		st->connections++;
	kanary_count(KANARY_CNT_HO_SERVER_FIRST);
	return kanary_ho_syn_to_backend(skb, p, ho, fwd->src.w[3]);
}

/*
 * Ingress: kanaryd's marked ACK (KANARY_MARK_DETECT).  Bound by the
 * weights if the client is still silent; sent again as the SYN of a
 * silent binding the backend has not answered; else dropped.  The mark is
 * cleared first: the SYN goes on through the node's routing, where marks
 * may mean something else.
 */
static __noinline int kanary_ho_detected(struct __sk_buff *skb, const struct kanary_pkt *p,
					 const struct kanary_ct_key *fwd,
					 const struct kanary_svc_ref *ref)
{
	struct kanary_ho_entry *syn, *ho;

	skb->mark = 0;
	if (!p || !fwd || p->payload_len || p->syn || p->fin || p->rst || !p->ack)
		return TC_ACT_SHOT;
	syn = bpf_map_lookup_elem(&kanary_hosyn_v1, fwd);
	if (!syn) {
		ho = bpf_map_lookup_elem(&kanary_ho_v4, fwd);
		if (!ho || ho->state != KANARY_HO_SYN_SENT || ho->stash_len || ho->legs != 1 ||
		    p->seq != ho->leg_isn + 1)
			return TC_ACT_SHOT;
		if (ho->tries++ >= KANARY_HO_SYN_TRIES) {
			KANARY_HO_STAT(ho->svc_id, backend_silent);
			kanary_ho_forget(fwd, ho);
			return kanary_ho_reset_client(skb, p, ho->srv_nxt);
		}
		return kanary_ho_syn_to_backend(skb, p, ho, fwd->src.w[3]);
	}
	if (!ref || syn->state != KANARY_HO_SYN_RCVD || syn->cli_nxt != syn->client_isn + 1 ||
	    p->seq != syn->client_isn + 1 || p->ack_seq != syn->our_isn + 1)
		return TC_ACT_SHOT;
	/* Over the bound, nothing happens: if the client sends, its first data meets the bound. */
	if (kanary_ho_source_claim(fwd->src.w[3]))
		return TC_ACT_SHOT;
	if (bpf_map_update_elem(&kanary_ho_v4, fwd, syn, BPF_NOEXIST)) {
		kanary_ho_source_release(fwd->src.w[3]);
		return TC_ACT_SHOT;
	}
	bpf_map_delete_elem(&kanary_hosyn_v1, fwd);
	ho = bpf_map_lookup_elem(&kanary_ho_v4, fwd);
	if (!ho)
		return TC_ACT_SHOT;
	return kanary_ho_bind_silent(skb, p, fwd, ho, ref);
}

#endif /* KANARY_BPF_HANDOFF_DETECT_H */
