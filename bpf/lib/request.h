/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Per-request routing on the rule path.  Every HTTP/1.x request of a
 * connection is matched against the service's rules and, unmatched, takes
 * the weighted split on its own; one that belongs elsewhere moves the
 * connection to a new leg (handoff.h opens it as it opened the first).
 *
 * The rule that keeps two backends' bytes from ever interleaving: a
 * request is moved only when it starts at the end of the previous one
 * (framed by its Content-Length) and, as its first segment passes,
 *   - the previous response is complete by its own framing (length, last
 *     chunk, or no body), seen leaving the backend;
 *   - the client acks every byte the backend sent (ack == srv_nxt): none
 *     is in flight, so none can arrive after the new leg's;
 *   - neither side has sent a FIN.
 * The old backend need not have acked all of the previous request: a
 * server may answer before it reads a body (nginx's `return` does), and
 * the client sends its next request on the answer, before the server's
 * delayed ACK of the body.  Nothing it owes the client is left, and the
 * new leg's acks cover those bytes for the client.  Then the old backend
 * is reset at the request's seq (if it has not received all before, its
 * challenge ACK reaches the client un-NATed, whose stack answers with the
 * exact RST) and the new one gets a SYN whose ISN is the request's seq - 1: the client's sequence
 * numbers need no offset on any leg, and the backend's are rebased so its
 * first byte is the one the client expects next.
 *
 * What cannot be followed pins the connection to the backend it has, for
 * good, counted by reason: a request before the previous exchange is
 * complete (pipelining), a head not within one segment, a chunked body,
 * the HTTP/2 preface, what is not HTTP/1.x or upgrades, and responses
 * framed only by the close.  A request too large for the stash (2 KiB,
 * head and body) stays where it is without pinning.
 */
#ifndef KANARY_BPF_REQUEST_H
#define KANARY_BPF_REQUEST_H

#include "handoff_craft.h"
#include "select.h"
#include "kanary/http_match.h"
#include "kanary/http_frame.h"

/* Bodies framed beyond this do not fit the sequence arithmetic: unframed. */
#define KANARY_HO_BODY_MAX	(1u << 30)

/* Counts a request that could not be routed on its own, by why. */
static __always_inline void kanary_ho_count_pin(__u32 svc_id, __u8 why)
{
	__u32 k = svc_id;
	struct kanary_ho_stats *s = bpf_map_lookup_elem(&kanary_hostat_v2, &k);

	if (s)
		s->pinned[why & 7]++;
}

/* Pins the connection to its backend for good. */
static __always_inline void kanary_ho_pin(struct kanary_ho_entry *ho, __u8 why)
{
	if (ho->pinned)
		return;
	ho->pinned = why;
	kanary_ho_count_pin(ho->svc_id, why);
}

/* One request routed: per subset, and by rule or by weight. */
static __always_inline void kanary_ho_count_request(__u32 svc_id, __u8 subset, __u8 by_rule)
{
	struct kanary_subset_stats *st = kanary_subset_stats(svc_id, subset);

	if (st) {
		st->requests++;
		st->rule_requests += by_rule;
	}
}

/*
 * The subset a matched rule sends this request to: a weighted pick among
 * its destinations.  One without backends leaves the choice to the
 * weighted default (returns -1).
 */
static __always_inline int kanary_ho_rule_subset(const struct kanary_svc_config *cfg,
						 const struct kanary_rule *rule, __u32 h)
{
	__u32 point = ((__u64)h * KANARY_WEIGHT_SCALE) >> 32;
	__u32 n = rule->n_dests;

#pragma unroll
	for (int i = 0; i < KANARY_RULE_DESTS_MAX; i++) {
		__u32 sub;

		if (i >= n)
			break;
		if (point >= rule->dest_cum_parts[i])
			continue;
		sub = rule->dest_subset[i];
		if (sub >= cfg->n_subsets || !cfg->subsets[sub & (KANARY_MAX_SUBSETS - 1)].n_backends)
			return -1;
		return sub;
	}
	return -1;
}

/*
 * The first of the service's rules that the request in the scratch's
 * stash (len bytes) matches, or KANARY_RULE_NONE.  Apart from
 * kanary_ho_choose, so that the matcher's loops do not stack on it.
 */
static __noinline int kanary_ho_match(const struct kanary_svc_ref *ref, __u32 len)
{
	struct kanary_ho_scratch *sc = kanary_ho_scratch_get();
	const struct kanary_rules *rules = bpf_map_lookup_elem(&kanary_rules_v1, &ref->id);
	int rule;

	if (!sc || !rules)
		return KANARY_RULE_NONE;
	rule = kanary_http_match(&sc->st, rules, sc->stash.data, len);
	if (rule == KANARY_RULE_NONE && (sc->st.head == KANARY_HTTP_PARTIAL_LINE ||
					 sc->st.head == KANARY_HTTP_PARTIAL_HEAD))
		KANARY_HO_STAT(ref->id, beyond_first_flight);
	return rule;
}

/*
 * Chooses where the request starting at p->seq goes: rule (from
 * kanary_ho_match) if it names a subset with backends, else the weights,
 * drawn per request from the flow and the request's sequence number (so a
 * retransmission draws the same).  Returns 1 when that is cur_subset (the
 * request stays where it is), 0 with the backend in sc->be and sc->by_rule
 * set when a rule chose, or -1 when no subset can take it.  Within a
 * subset the backend is the flow's, so a connection that comes back to a
 * subset comes back to its pod.
 */
static __noinline int kanary_ho_choose(const struct kanary_svc_ref *ref, const struct kanary_pkt *p,
				       int rule, int cur_subset)
{
	struct kanary_ho_scratch *sc = kanary_ho_scratch_get();
	const struct kanary_svc_config *cfg = kanary_live_config(ref);
	__u32 seed = kanary_hash_seed(), draw_seed = seed ^ p->seq;
	const struct kanary_rules *rules;
	int subset = -1;

	if (!sc || !cfg)
		return -1;
	sc->by_rule = 0;
	rules = bpf_map_lookup_elem(&kanary_rules_v1, &ref->id);
	if (rules && rule >= 0 && rule < KANARY_RULES_MAX)
		subset = kanary_ho_rule_subset(cfg, &rules->rules[rule & (KANARY_RULES_MAX - 1)],
					       kanary_flow_hash(p, draw_seed ^ KANARY_HASH_RULE));
	if (subset >= 0)
		sc->by_rule = 1;
	else
		subset = kanary_pick_subset(cfg, kanary_flow_hash(p, draw_seed));
	if (subset < 0)
		return -1;
	if (subset == cur_subset)
		return 1;
	return kanary_pick_backend(ref, cfg, subset, p, seed, &sc->be);
}

/*
 * Frames the request in sc->stash.data (len bytes at seq): where it ends,
 * and that its response is awaited from srv_nxt on.  Returns 0, or why it
 * cannot be followed (enum kanary_ho_pin).
 */
static __always_inline __u8 kanary_ho_frame_request(struct kanary_ho_scratch *sc, __u32 len,
						    __u32 seq, struct kanary_ho_entry *ho)
{
	struct kanary_http_frame *f = &sc->frame;
	__u32 body = 0;

	kanary_http_frame_request(f, sc->stash.data, len);
	if (f->flags & KANARY_FRAME_F_HTTP2)
		return KANARY_HO_PIN_HTTP2;
	if (f->result == KANARY_FRAME_PARTIAL)
		return KANARY_HO_PIN_HEAD_SPLIT;
	/* An upgrade or a CONNECT turns the connection into something else. */
	if (f->result != KANARY_FRAME_COMPLETE ||
	    (f->flags & (KANARY_FRAME_F_UPGRADE | KANARY_FRAME_F_CONNECT_METHOD)))
		return KANARY_HO_PIN_NOT_HTTP;
	if (f->body == KANARY_BODY_LENGTH) {
		if (f->body_len > KANARY_HO_BODY_MAX)
			return KANARY_HO_PIN_CHUNKED;
		body = (__u32)f->body_len;
	} else if (f->body != KANARY_BODY_NONE) {
		return KANARY_HO_PIN_CHUNKED;
	}
	ho->req_end = seq + f->head_len + body;
	ho->head_req = !!(f->flags & KANARY_FRAME_F_HEAD_METHOD);
	ho->resp_start = ho->srv_nxt;
	ho->resp = KANARY_HO_RESP_WAIT;
	return 0;
}

/* The previous exchange is over, as the rule at the top of this file says. */
static __always_inline int kanary_ho_exchange_done(const struct kanary_pkt *p,
						   const struct kanary_ho_entry *ho)
{
	return ho->resp == KANARY_HO_RESP_DONE && p->ack && p->ack_seq == ho->srv_nxt &&
	       !ho->fin_in && !ho->fin_out;
}

/* ---- responses, seen leaving the backend (egress) ---- */

/*
 * A chunked body's last chunk (a zero size and no trailers) ends p: its
 * last bytes are "\r\n0\r\n\r\n", or it is "0\r\n\r\n" alone, as servers
 * that write the last chunk on its own send it.
 */
static __always_inline int kanary_ho_last_chunk(struct __sk_buff *skb, const struct kanary_pkt *p)
{
	const __u32 end4 = '\r' | '\n' << 8 | '\r' << 16 | (__u32)'\n' << 24;
	__u32 end = p->l4_off + p->tcp_hlen + p->payload_len, lo, hi;
	__u8 t[8];

	if (p->payload_len == 5) {
		if (bpf_skb_load_bytes(skb, end - 5, t, 5))
			return 0;
		hi = t[1] | t[2] << 8 | t[3] << 16 | (__u32)t[4] << 24;
		return t[0] == '0' && hi == end4;
	}
	if (p->payload_len < 8 || bpf_skb_load_bytes(skb, end - 8, t, sizeof(t)))
		return 0;
	lo = t[0] | t[1] << 8 | t[2] << 16 | (__u32)t[3] << 24;
	hi = t[4] | t[5] << 8 | t[6] << 16 | (__u32)t[7] << 24;
	return (lo & 0xffffff00u) == ('\r' << 8 | '\n' << 16 | (__u32)'0' << 24) && hi == end4;
}

/*
 * The first segment of a response, at cseq in the client's space: its
 * framing.  An interim response (1xx but 101) moves the start past it.
 */
static __noinline void kanary_ho_frame_response(struct __sk_buff *skb, const struct kanary_pkt *p,
						__u32 cseq, struct kanary_ho_entry *ho)
{
	struct kanary_ho_scratch *sc = kanary_ho_scratch_get();
	__u32 n = p->payload_len;
	struct kanary_http_frame *f;

	if (!sc)
		return;
	f = &sc->frame;
	if (n > KANARY_HTTP_STASH)
		n = KANARY_HTTP_STASH;
	if (n < 1 || bpf_skb_load_bytes(skb, p->l4_off + p->tcp_hlen, sc->stash.data, n)) {
		kanary_ho_pin(ho, KANARY_HO_PIN_UNFRAMED);
		return;
	}
	kanary_http_frame_response(f, sc->stash.data, n, ho->head_req);
	if (f->result != KANARY_FRAME_COMPLETE) {
		kanary_ho_pin(ho, f->result == KANARY_FRAME_PARTIAL ? KANARY_HO_PIN_UNFRAMED :
								      KANARY_HO_PIN_NOT_HTTP);
		return;
	}
	if (f->status == 101 || (f->flags & KANARY_FRAME_F_UPGRADE)) {
		kanary_ho_pin(ho, KANARY_HO_PIN_NOT_HTTP);
		return;
	}
	if (f->status >= 100 && f->status < 200) {
		ho->resp_start = cseq + f->head_len;
		return;
	}
	if (f->body == KANARY_BODY_NONE) {
		ho->resp = KANARY_HO_RESP_DONE;
	} else if (f->body == KANARY_BODY_LENGTH && f->body_len <= KANARY_HO_BODY_MAX) {
		ho->resp_end = cseq + f->head_len + (__u32)f->body_len;
		ho->resp = kanary_seq_geq(ho->srv_nxt, ho->resp_end) ? KANARY_HO_RESP_DONE :
							       KANARY_HO_RESP_LENGTH;
	} else if (f->body == KANARY_BODY_CHUNKED) {
		ho->resp = ho->nxt_last_chunk ? KANARY_HO_RESP_DONE :
							 KANARY_HO_RESP_CHUNKED;
	} else {
		kanary_ho_pin(ho, KANARY_HO_PIN_UNFRAMED);
	}
}

/*
 * Every segment from the backend of an established leg, cseq its sequence
 * as the client sees it: what the backend sent and acked, and where the
 * response is.
 */
static __always_inline void kanary_ho_track_response(struct __sk_buff *skb,
						     const struct kanary_pkt *p, __u32 cseq,
						     struct kanary_ho_entry *ho)
{
	__u32 end = cseq + p->payload_len;

	if (!p->payload_len)
		return;
	/*
	 * The furthest byte sent, and whether the segment that reached it
	 * ended a chunked body: a response's first segment may come last
	 * (lost, then sent again), after the others have gone by.
	 */
	if (kanary_seq_gt(end, ho->srv_nxt)) {
		ho->srv_nxt = end;
		ho->nxt_last_chunk = !ho->pinned && kanary_ho_last_chunk(skb, p);
	}
	if (ho->pinned)
		return;
	if (ho->resp == KANARY_HO_RESP_WAIT && cseq == ho->resp_start)
		kanary_ho_frame_response(skb, p, cseq, ho);
	else if (ho->resp == KANARY_HO_RESP_LENGTH && kanary_seq_geq(ho->srv_nxt, ho->resp_end))
		ho->resp = KANARY_HO_RESP_DONE;
	else if (ho->resp == KANARY_HO_RESP_CHUNKED && ho->nxt_last_chunk)
		ho->resp = KANARY_HO_RESP_DONE;
}

#endif /* KANARY_BPF_REQUEST_H */
