/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * kanary's canary datapath, at the tc clsact hook of a client pod's
 * host-side veth.  Ingress sees what the pod sends: a connection to a
 * service VIP:port is pinned to a backend chosen by weight and DNATed there.
 * Egress sees what the pod receives: replies from that backend get the VIP
 * back as their source, so the client never sees a pod address.
 * A service with dark-release rules takes the handoff instead (lib/handoff.h).
 * A sockops program on the cgroup v2 root counts the clients' TCP health
 * per subset (lib/tcp_health.h).  Requests drawn for a mirror are copied
 * to userspace on the way (lib/mirror.h).
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include "lib/maps.h"
#include "lib/parse.h"
#include "lib/csum.h"
#include "lib/conntrack.h"
#include "lib/ct_expiry.h"
#include "lib/ct_handshake.h"
#include "lib/select.h"
#include "lib/counters.h"
#include "lib/handoff.h"
#include "lib/exchange.h"
#include "lib/mirror.h"
#include "lib/tcp_health.h"
#include "lib/hairpin.h"

/*
 * The backend of a flow on the canary path: the tracked one (ct, when not
 * NULL), or a new choice for a new connection (or for one whose entry was
 * evicted), made in this CPU's scratch, off the program's stack.  NULL: no
 * subset can take the flow.
 */
static __always_inline const struct kanary_ct_entry *
kanary_lookup_or_choose(const struct kanary_pkt *p, const struct kanary_svc_ref *ref,
			const struct kanary_ct_key *fwd, struct kanary_ct_entry *ct)
{
	const struct kanary_svc_config *cfg;
	struct kanary_ho_scratch *sc;
	struct kanary_ct_entry *out;
	int new_conn = p->syn && !p->ack;

	if (ct && !(new_conn && (ct->flags & KANARY_CT_F_CLOSING)))
		return ct;

	sc = kanary_ho_scratch_get();
	if (!sc)
		return NULL;
	out = &sc->be;
	cfg = kanary_live_config(ref);
	if (!cfg || kanary_select(ref, cfg, p, kanary_hash_seed(), out)) {
		kanary_count(KANARY_CNT_NO_BACKEND);
		return NULL;
	}
	if (p->fin || p->rst)
		out->flags |= KANARY_CT_F_CLOSING;
	if (out->addr.w[3] == p->saddr)
		out->flags |= KANARY_CT_F_HAIRPIN;
	/* A SYN waits for its handshake apart, unless it reuses an established tuple. */
	if (new_conn && (!ct || (ct->flags & KANARY_CT_F_NEW)))
		out->flags |= KANARY_CT_F_NEW;
	/* From its SYN the exchange waits for the first data; mid-flow, for a request. */
	__builtin_memset(&out->xchg, 0, sizeof(out->xchg));
	out->xchg.cli_nxt = new_conn ? p->seq + 1 : p->seq;
	out->xchg.phase = new_conn ? KANARY_XCHG_NEW : KANARY_XCHG_IDLE;
	out->nxt = kanary_seq_end(p);
	out->nxt_known = 1;
	out->seen = kanary_ct_seen_now;
	out->expiry_stamp = 0;
	kanary_ct_create(p, fwd, out);

	if (!new_conn) {
		kanary_count(KANARY_CNT_CT_REDERIVED);
	} else {
		struct kanary_subset_stats *st = kanary_subset_stats(out->svc_id, out->subset);

		kanary_count(ct ? KANARY_CNT_CT_REUSED : KANARY_CNT_CT_NEW);
		if (st)
			st->connections++;
	}
	return out;
}

/*
 * A flow the canary path does not know, or a SYN on a closed tuple: is it
 * the rule path's?  Returns a tc verdict, or -1 for the canary path.  Only
 * here, off the established fast path, do services pay for rules.  With
 * ref NULL (no service), a rule-path connection whose service is gone
 * goes on with the backend it has, as kanary_ingress_draining says.
 */
static __always_inline int kanary_rule_path(struct __sk_buff *skb, const struct kanary_pkt *p,
					    const struct kanary_svc_ref *ref,
					    const struct kanary_ct_key *fwd,
					    const struct kanary_ct_entry *ct)
{
	struct kanary_ho_entry *ho;
	int new_conn = p->syn && !p->ack, closed_in;

	/* kanaryd's, never a pod's: a mark does not cross into the node's namespace. */
	if (skb->mark == KANARY_MARK_DETECT)
		return kanary_ho_detected(skb, p, fwd, ref);
	if (ct && !(new_conn && (ct->flags & KANARY_CT_F_CLOSING)))
		return -1;
	/* Which table the closed connection is in, as a number: ct itself is dead from here. */
	closed_in = ct ? 1 + !!(ct->flags & KANARY_CT_F_NEW) : 0;
	ho = bpf_map_lookup_elem(&kanary_ho_v4, fwd);
	/*
	 * A handshake of a deleted service is not looked for (a packet to no
	 * service pays no third lookup): its packets pass until the service is
	 * back, and then bind.
	 */
	if (!ho && ref) {
		struct kanary_ho_entry *syn = bpf_map_lookup_elem(&kanary_hosyn_v1, fwd);
		int verdict = KANARY_HO_NO_COOKIE;

		if (syn)
			verdict = kanary_ho_handshake(skb, p, fwd, syn);
		else if (!new_conn)
			verdict = kanary_ho_from_cookie(p, fwd, ref->id);
		if (verdict == KANARY_HO_OVER_BOUND)
			return kanary_ho_over_bound(skb, p);
		if (verdict == KANARY_HO_PROMOTED) {
			ho = bpf_map_lookup_elem(&kanary_ho_v4, fwd);
			if (!ho)
				return TC_ACT_SHOT;
		} else if (verdict != KANARY_HO_NO_COOKIE) {
			return verdict;
		}
	}
	if (ho) {
		if (!ref)
			kanary_count(KANARY_CNT_DRAINING);
		return kanary_ho_ingress(skb, p, fwd, ho, ref);
	}
	if (!ref || !bpf_map_lookup_elem(&kanary_rules_v1, &ref->id))
		return -1;
	if (!new_conn)
		return kanary_ho_orphan(skb, p, ref->id);
	/* The closed canary connection on this tuple must not catch the new one's packets. */
	if (closed_in == 2)
		bpf_map_delete_elem(&kanary_ctnew_v1, fwd);
	else if (closed_in)
		bpf_map_delete_elem(&kanary_ct_v3, fwd);
	return kanary_ho_accept(skb, p, fwd, ref);
}

/*
 * Whether the backend of a tracked connection (its forward entry ct, p a
 * client packet) has not yet answered its SYN: the client is in SYN-SENT.
 */
static __noinline int kanary_ct_syn_sent(const struct kanary_pkt *p,
					 const struct kanary_ct_entry *ct)
{
	const struct kanary_ct_entry *rev;
	struct kanary_ct_key rkey;

	kanary_ct_key_v4(&rkey, ct->addr.w[3], p->saddr, ct->port, p->sport, KANARY_CT_REVERSE);
	rev = kanary_ct_lookup_by(ct, &rkey);
	return rev && !rev->nxt_known;
}

/*
 * A client segment of a tracked connection (RFC 5961, lib/conntrack.h): its
 * FIN or RST ends the connection only at the client's own next sequence; a
 * SYN with a new ISN changes nothing and goes on to the pod, whose stack
 * answers it with a challenge ACK, as it does an in-window RST that is not
 * exact.  In SYN-SENT a client resets only a segment that is not its
 * connection's (RFC 793), at that segment's ack: the pod's TIME_WAIT of an
 * earlier connection on the tuple answered the SYN (kanary_ct_backend_seg).
 * That RST must reach the pod, whose stack judges it and which otherwise
 * answers every SYN sent again the same way; unless exact, it leaves the
 * state as it is.  A RST at the exact sequence ends the connection: its
 * entries linger, then go (lib/ct_expiry.h; a FIN after the backend's, in
 * kanary_ct_client_lifecycle).
 * Returns 1 to drop the segment: a RST outside the window.
 */
static __always_inline int kanary_ct_client_seg(const struct kanary_pkt *p,
						const struct kanary_ct_key *fwd,
						struct kanary_ct_entry *ct)
{
	int at_end = kanary_seq_follow(&ct->nxt, p), fit;

	if (p->syn) {
		/* Not a retransmission of the connection's own SYN. */
		if (kanary_seq_end(p) != ct->nxt)
			kanary_count(KANARY_CNT_SYN_ON_LIVE);
		return 0;
	}
	if (p->fin && at_end)
		ct->flags |= KANARY_CT_F_CLOSING;
	if (!p->rst)
		return 0;
	fit = kanary_rst_fit(p->seq, ct->nxt, KANARY_CT_WINDOW_MAX);
	if (fit == KANARY_RST_EXACT) {
		ct->flags |= KANARY_CT_F_CLOSING;
		kanary_ct_queue(fwd, ct, 0);
	} else if (kanary_ct_syn_sent(p, ct)) {
		return 0;
	}
	return kanary_rst_outside(fit);
}

/*
 * A client SYN or FIN of a tracked connection (forward entry ct, reverse
 * rev): a SYN sent again that the backend has not answered is queued for
 * the SYN timeout, once (SYN_TIMED); a FIN after the backend's ends the
 * connection (lib/ct_expiry.h).
 */
static __always_inline void kanary_ct_client_lifecycle(const struct kanary_pkt *p,
						       const struct kanary_ct_key *fwd,
						       struct kanary_ct_entry *ct,
						       struct kanary_ct_entry *rev)
{
	if (p->syn && !rev->nxt_known && !(rev->flags & KANARY_CT_F_SYN_TIMED)) {
		rev->flags |= KANARY_CT_F_SYN_TIMED;
		kanary_ct_queue(fwd, ct, 1);
	} else if (p->fin && (ct->flags & KANARY_CT_F_CLOSING) && (rev->flags & KANARY_CT_F_FIN)) {
		kanary_ct_queue(fwd, ct, 0);
	}
}

/*
 * A client packet of a tracked connection (its forward entry ct, or looked
 * up when just made, in the table of be, its choice) that may draw a reply with content: data, SYN, FIN,
 * RST.  Its reverse entry must be there, rebuilt if it was lost; a pure ACK
 * skips this, its connection's replies keep the entry fresh.  Then the
 * client's side of the HTTP exchange (lib/exchange.h): a request's start
 * stamps the reverse entry, which egress reads when the response comes.
 * A SYN or FIN may move the lifecycle on (kanary_ct_client_lifecycle).
 */
__noinline int kanary_ingress_tracked(struct __sk_buff *skb, const struct kanary_pkt *p,
					      const struct kanary_ct_key *fwd,
					      struct kanary_ct_entry *ct,
					      const struct kanary_ct_entry *be)
{
	struct kanary_ct_entry *rev;
	int ev, tracked = ct != NULL;

	if (!p || !fwd || (!p->payload_len && !p->rst && !p->syn && !p->fin))
		return 0;
	if (!ct && be)
		ct = kanary_ct_lookup_by(be, fwd);
	if (!ct)
		return 0;
	rev = kanary_ct_reverse(p, ct);
	/* One test on a data segment: neither flag. */
	if (tracked && (p->syn | p->fin) && rev)
		kanary_ct_client_lifecycle(p, fwd, ct, rev);
	ev = kanary_xchg_client(skb, p, &ct->xchg);
	kanary_mirror_client(skb, p, &ct->xchg, ct->svc_id, ev == KANARY_XCHG_EV_REQUEST);
	if (ev == KANARY_XCHG_EV_NONE)
		return 0;
	if (ev == KANARY_XCHG_EV_OTHER) {
		kanary_http_count_other(ct->svc_id, ct->subset);
		return 0;
	}
	if (!rev)
		return 0;
	if (ev == KANARY_XCHG_EV_REQUEST) {
		kanary_xchg_stamp(&rev->xchg);
		kanary_mirror_await(&rev->xchg, ct->xchg.mirror, p->seq);
	} else {
		kanary_xchg_ended(&rev->xchg, ct->svc_id, ct->subset);
	}
	return 0;
}

/*
 * A client packet on the canary path, be its backend (its tracked entry ct,
 * or a new choice with ct NULL): checked, counted and DNATed; SNATed too
 * when the client is its own backend (lib/hairpin.h).
 */
static __always_inline int kanary_ingress_forward(struct __sk_buff *skb, const struct kanary_pkt *p,
						  const struct kanary_ct_key *fwd,
						  const struct kanary_ct_entry *be,
						  struct kanary_ct_entry *ct)
{
	struct kanary_subset_stats *st;

	if (ct && kanary_ct_client_seg(p, fwd, ct))
		return TC_ACT_SHOT;
	/* Written only when its step has passed: once in minutes per connection. */
	if (ct) {
		__u8 now = kanary_ct_seen_now;

		if (ct->seen != now && now)
			ct->seen = now;
	}
	st = kanary_subset_stats(be->svc_id, be->subset);
	if (st) {
		st->packets_in += kanary_segs(skb);
		st->bytes_in += skb->len;
	}
	kanary_ingress_tracked(skb, p, fwd, ct, be);
	kanary_nat_rewrite(skb, p, KANARY_IP_DADDR_OFF, p->daddr, be->addr.w[3],
			   KANARY_TCP_DPORT_OFF(p), p->dport, be->port);
	if (be->flags & KANARY_CT_F_HAIRPIN)
		kanary_hairpin_snat(skb, p);
	return TC_ACT_OK;
}

/*
 * A packet to no service (ref NULL), ct its tracked entry: most are not
 * kanary's at all, but a connection whose service was deleted (or is
 * being re-created) goes on to the backend it has until it ends, as
 * netfilter keeps NAT for established flows; the rule path's do the same
 * in kanary_rule_path.  No connection is made: a SYN passes untouched.
 */
static __always_inline int kanary_ingress_draining(struct __sk_buff *skb, const struct kanary_pkt *p,
						   const struct kanary_ct_key *fwd,
						   struct kanary_ct_entry *ct)
{
	if (!ct || (p->syn && !p->ack && (ct->flags & KANARY_CT_F_CLOSING))) {
		if (p->syn && !p->ack)
			kanary_ct_forget_stale_reverse(p);
		return TC_ACT_OK;
	}
	kanary_count(KANARY_CNT_DRAINING);
	return kanary_ingress_forward(skb, p, fwd, ct, ct);
}

/*
 * A client packet p to ref's service (NULL: none), ct its connection's
 * forward entry (NULL: none), in either table.  A global function: the
 * verifier checks it once for any ct, instead of once for each table's.
 */
__noinline int kanary_ingress_conn(struct __sk_buff *skb, const struct kanary_pkt *p,
				   const struct kanary_svc_ref *ref, const struct kanary_ct_key *fwd,
				   struct kanary_ct_entry *ct)
{
	const struct kanary_ct_entry *be;
	int verdict;

	if (!p || !fwd)
		return TC_ACT_OK;
	verdict = kanary_rule_path(skb, p, ref, fwd, ct);
	if (verdict >= 0)
		return verdict;
	if (!ref)
		return kanary_ingress_draining(skb, p, fwd, ct);
	be = kanary_lookup_or_choose(p, ref, fwd, ct);
	if (!be)
		return TC_ACT_OK;
	return kanary_ingress_forward(skb, p, fwd, be, be == ct ? ct : NULL);
}

static __always_inline struct kanary_ct_entry *kanary_ct_forward_of(const struct kanary_pkt *p,
								     const struct kanary_ct_entry *rev)
{
	struct kanary_ct_key fwd;

	kanary_ct_key_v4(&fwd, p->daddr, rev->addr.w[3], p->dport, rev->port, KANARY_CT_FORWARD);
	return kanary_ct_lookup_by(rev, &fwd);
}

/*
 * A backend segment of a tracked connection: RFC 5961 as for the client's
 * (kanary_ct_client_seg), against the backend's next sequence.  A backend's
 * RST ends the connection too, so a SYN reusing the tuple chooses afresh.
 * Until the backend's SYN-ACK the client is in SYN-SENT, where a RST counts
 * only if it acks the SYN (RFC 793): a refusal.  Another segment then is an
 * earlier connection's on the tuple, the ACK of the pod's TIME_WAIT to the
 * new SYN: it goes on, for the client to reset it, and tells nothing of the
 * new connection's sequence.  The backend's FIN after the client's, or its
 * RST at the exact sequence, ends the connection (lib/ct_expiry.h).
 * Returns 1 to drop the segment.
 */
static __always_inline int kanary_ct_backend_seg(const struct kanary_pkt *p,
						 struct kanary_ct_entry *rev)
{
	struct kanary_ct_entry *ct = NULL;
	int fit;

	if (!rev->nxt_known) {
		if (!p->rst) {
			if (p->syn) {
				rev->nxt = kanary_seq_end(p);
				rev->nxt_known = 1;
			}
			return 0;
		}
		ct = kanary_ct_forward_of(p, rev);
		fit = ct && p->ack && p->ack_seq == ct->nxt ? KANARY_RST_EXACT : KANARY_RST_OUTSIDE;
	} else {
		if (kanary_seq_follow(&rev->nxt, p) && p->fin) {
			rev->flags |= KANARY_CT_F_FIN;
			kanary_ct_queue_reply(p, rev, NULL);
		}
		if (!p->rst)
			return 0;
		fit = kanary_rst_fit(p->seq, rev->nxt, KANARY_CT_WINDOW_MAX);
		if (fit == KANARY_RST_EXACT)
			ct = kanary_ct_forward_of(p, rev);
	}
	if (fit == KANARY_RST_EXACT && ct) {
		ct->flags |= KANARY_CT_F_CLOSING;
		kanary_ct_queue_reply(p, rev, ct);
	}
	return kanary_rst_outside(fit);
}

/*
 * The backend's side of the exchange, in its reverse entry rev: the
 * response to the awaited request begins (the client side in the forward
 * entry turns idle for the next), or the connection ends without one.
 */
static __always_inline void kanary_xchg_egress(struct __sk_buff *skb, const struct kanary_pkt *p,
					       struct kanary_ct_entry *rev)
{
	struct kanary_ct_entry *ct;
	int phase;

	if (p->syn) {
		kanary_xchg_server_isn(&rev->xchg, p->seq);
		return;
	}
	phase = kanary_xchg_backend(skb, p, p->seq, &rev->xchg, rev->svc_id, rev->subset, 1);
	if (phase >= 0) {
		ct = kanary_ct_forward_of(p, rev);
		if (ct)
			ct->xchg.phase = phase;
	}
}

/*
 * A backend's reply p of a plain-path connection (its reverse entry rev):
 * checked (RFC 5961), counted, its exchange followed, and its source made
 * the VIP again.  At egress, and at ingress for a hairpin reply
 * (kanary_ingress_hairpin), whose destination is by then the client's again.
 */
static __always_inline int kanary_reply(struct __sk_buff *skb, const struct kanary_pkt *p,
					struct kanary_ct_entry *rev)
{
	struct kanary_subset_stats *st;
	__be32 vip;
	__be16 vport;

	if (kanary_ct_backend_seg(p, rev))
		return TC_ACT_SHOT;
	vip = rev->addr.w[3];
	vport = rev->port;

	st = kanary_subset_stats(rev->svc_id, rev->subset);
	if (st) {
		st->packets_out += kanary_segs(skb);
		st->bytes_out += skb->len;
	}
	if (p->syn || p->payload_len || p->fin || p->rst)
		kanary_xchg_egress(skb, p, rev);

	kanary_nat_rewrite(skb, p, KANARY_IP_SADDR_OFF, p->saddr, vip,
			   KANARY_TCP_SPORT_OFF(p), p->sport, vport);
	return TC_ACT_OK;
}

/* kanary_ingress_hairpin's answer for a rule-path leg's packet: kanary_ho_ingress_hairpin's. */
#define KANARY_HAIRPIN_RULE_PATH	(-2)

/*
 * A packet p from the pod to the hairpin address (lib/hairpin.h): if it
 * answers a hairpin connection of the pod's, it goes back to the pod from
 * the VIP, as its reply would at egress.  A global function: verified
 * once, its frame off kanary_ingress's, which is at the stack limit, and
 * egress keeps kanary_reply inlined.
 */
__noinline int kanary_ingress_hairpin(struct __sk_buff *skb, struct kanary_pkt *p)
{
	struct kanary_ct_entry *rev;
	struct kanary_ct_key key;

	if (!p)
		return TC_ACT_OK;
	rev = kanary_hairpin_reply_of(p, &key);
	if (rev && (rev->flags & KANARY_CT_F_HANDOFF))
		return KANARY_HAIRPIN_RULE_PATH;
	if (!rev || kanary_hairpin_undo(skb, p))
		return TC_ACT_OK;
	return kanary_reply(skb, p, rev);
}

/*
 * A packet p from the pod to the hairpin address that answers a rule-path
 * leg to the pod itself: what egress does with a backend's packet
 * (kanary_ho_egress), its destination the pod's own address again.  Its
 * own global function, not a call from kanary_ingress_hairpin: nested
 * there, the rule path's deepest calls would pass the 512-byte stack.
 */
__noinline int kanary_ho_ingress_hairpin(struct __sk_buff *skb, struct kanary_pkt *p)
{
	struct kanary_ct_entry *rev;
	struct kanary_ct_key key;

	if (!p)
		return TC_ACT_OK;
	rev = kanary_hairpin_reply_of(p, &key);
	if (!rev || !(rev->flags & KANARY_CT_F_HANDOFF) || kanary_hairpin_undo(skb, p))
		return TC_ACT_OK;
	return kanary_ho_egress(skb, p, &key, rev);
}

SEC("tc")
int kanary_ingress(struct __sk_buff *skb)
{
	struct kanary_svc_ref *ref;
	struct kanary_ct_entry *ct;
	struct kanary_ct_key fwd;
	struct kanary_pkt p;

	if (kanary_parse_tcp4(skb, &p))
		return TC_ACT_OK;

	/* The service key's stack is the forward key's: 24 bytes the deepest calls need. */
	{
		struct kanary_svc_key key = {};

		kanary_v4mapped(&key.vip, p.daddr);
		key.port = p.dport;
		key.proto = IPPROTO_TCP;
		ref = bpf_map_lookup_elem(&kanary_svc_v1, &key);
	}
	kanary_ct_key_v4(&fwd, p.saddr, p.daddr, p.sport, p.dport, KANARY_CT_FORWARD);
	ct = bpf_map_lookup_elem(&kanary_ct_v3, &fwd);
	/* An established connection's packet: the fast path, without a call. */
	if (ct && ref && !(ct->flags & KANARY_CT_F_CLOSING))
		return kanary_ingress_forward(skb, &p, &fwd, ct, ct);
	/* A pod's reply to its own connection through a VIP (lib/hairpin.h). */
	if (p.daddr == KANARY_HAIRPIN_BE) {
		int verdict = kanary_ingress_hairpin(skb, &p);

		return verdict == KANARY_HAIRPIN_RULE_PATH ? kanary_ho_ingress_hairpin(skb, &p) :
							     verdict;
	}
	/*
	 * As for the rule path's handshakes, a packet to no service pays no
	 * look into the handshakes' table: a handshake whose service was
	 * deleted before it completed is not drained.
	 */
	if (!ct && ref)
		ct = kanary_ct_handshake(&p, &fwd);
	return kanary_ingress_conn(skb, &p, ref, &fwd, ct);
}

SEC("tc")
int kanary_egress(struct __sk_buff *skb)
{
	struct kanary_ct_entry *rev;
	struct kanary_ct_key key;
	struct kanary_pkt p;

	/* kanaryd's marked ACK (lib/handoff_detect.h): back to this veth's ingress, as the client's. */
	if (skb->mark == KANARY_MARK_DETECT)
		return bpf_redirect(skb->ifindex, BPF_F_INGRESS);
	if (kanary_parse_tcp4(skb, &p))
		return TC_ACT_OK;

	kanary_ct_key_v4(&key, p.saddr, p.daddr, p.sport, p.dport, KANARY_CT_REVERSE);
	rev = bpf_map_lookup_elem(&kanary_ct_v3, &key);
	if (!rev)
		rev = bpf_map_lookup_elem(&kanary_ctnew_v1, &key);
	if (!rev)
		return TC_ACT_OK;
	if (rev->flags & KANARY_CT_F_HANDOFF)
		return kanary_ho_egress(skb, &p, &key, rev);
	return kanary_reply(skb, &p, rev);
}

/* Every TCP socket of the node, at the events it asked for; returns 1 (nothing refused). */
SEC("sockops")
int kanary_sockops(struct bpf_sock_ops *skops)
{
	switch (skops->op) {
	case BPF_SOCK_OPS_TCP_CONNECT_CB:
		kanary_tcp_watch(skops);
		break;
	case BPF_SOCK_OPS_STATE_CB:
		kanary_tcp_state(skops, skops->args[0], skops->args[1]);
		break;
	case BPF_SOCK_OPS_RETRANS_CB:
		kanary_tcp_retrans(skops);
		break;
	}
	return 1;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
