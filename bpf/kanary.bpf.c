/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * kanary's canary datapath, at the tc clsact hook of a client pod's
 * host-side veth.  Ingress sees what the pod sends: a connection to a
 * service VIP:port is pinned to a backend chosen by weight and DNATed there.
 * Egress sees what the pod receives: replies from that backend get the VIP
 * back as their source, so the client never sees a pod address.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include "lib/maps.h"
#include "lib/parse.h"
#include "lib/csum.h"
#include "lib/conntrack.h"
#include "lib/select.h"
#include "lib/counters.h"

/*
 * Returns the backend of the flow in *out: the tracked one, or a new
 * choice for a new connection (or for one whose entry was evicted).
 */
static __always_inline int kanary_lookup_or_choose(const struct kanary_pkt *p,
						   const struct kanary_svc_ref *ref,
						   struct kanary_ct_entry *out)
{
	struct kanary_ct_entry *ct;
	struct kanary_ct_key fwd;
	int new_conn = p->syn && !p->ack;

	kanary_ct_key_v4(&fwd, p->saddr, p->daddr, p->sport, p->dport, KANARY_CT_FORWARD);
	ct = bpf_map_lookup_elem(&kanary_ct_v1, &fwd);
	if (ct && !(new_conn && (ct->flags & KANARY_CT_F_CLOSING))) {
		/* Seen once, not again: a FIN retransmission must not rewrite it. */
		if ((p->fin || p->rst) && !(ct->flags & KANARY_CT_F_CLOSING))
			ct->flags |= KANARY_CT_F_CLOSING;
		__builtin_memcpy(out, ct, sizeof(*out));
		return 0;
	}

	if (kanary_select(ref, p->saddr, p->daddr, p->sport, p->dport, out)) {
		kanary_count(KANARY_CNT_NO_BACKEND);
		return -1;
	}
	if (p->fin || p->rst)
		out->flags |= KANARY_CT_F_CLOSING;
	kanary_ct_create(p, &fwd, out);

	if (!new_conn) {
		kanary_count(KANARY_CNT_CT_REDERIVED);
	} else {
		struct kanary_subset_stats *st = kanary_subset_stats(out->svc_id, out->subset);

		kanary_count(ct ? KANARY_CNT_CT_REUSED : KANARY_CNT_CT_NEW);
		if (st)
			st->connections++;
	}
	return 0;
}

SEC("tc")
int kanary_ingress(struct __sk_buff *skb)
{
	struct kanary_svc_key key = {};
	struct kanary_subset_stats *st;
	struct kanary_svc_ref *ref;
	struct kanary_ct_entry be;
	struct kanary_pkt p;

	if (kanary_parse_tcp4(skb, &p))
		return TC_ACT_OK;

	kanary_v4mapped(&key.vip, p.daddr);
	key.port = p.dport;
	key.proto = IPPROTO_TCP;
	ref = bpf_map_lookup_elem(&kanary_svc_v1, &key);
	if (!ref) {
		if (p.syn && !p.ack)
			kanary_ct_forget_reverse(&p);
		return TC_ACT_OK;
	}

	if (kanary_lookup_or_choose(&p, ref, &be))
		return TC_ACT_OK;

	st = kanary_subset_stats(be.svc_id, be.subset);
	if (st) {
		st->packets_in += kanary_segs(skb);
		st->bytes_in += skb->len;
	}

	kanary_nat_rewrite(skb, &p, KANARY_IP_DADDR_OFF, p.daddr, be.addr.w[3],
			   KANARY_TCP_DPORT_OFF(&p), p.dport, be.port);
	return TC_ACT_OK;
}

/* A backend's RST ends the connection too, so a SYN reusing the tuple chooses afresh. */
static __always_inline void kanary_mark_closing(const struct kanary_pkt *p,
						const struct kanary_ct_entry *rev)
{
	struct kanary_ct_entry *ct;
	struct kanary_ct_key fwd;

	kanary_ct_key_v4(&fwd, p->daddr, rev->addr.w[3], p->dport, rev->port, KANARY_CT_FORWARD);
	ct = bpf_map_lookup_elem(&kanary_ct_v1, &fwd);
	if (ct)
		ct->flags |= KANARY_CT_F_CLOSING;
}

SEC("tc")
int kanary_egress(struct __sk_buff *skb)
{
	struct kanary_subset_stats *st;
	struct kanary_ct_entry *rev;
	struct kanary_ct_key key;
	struct kanary_pkt p;
	__be32 vip;
	__be16 vport;

	if (kanary_parse_tcp4(skb, &p))
		return TC_ACT_OK;

	kanary_ct_key_v4(&key, p.saddr, p.daddr, p.sport, p.dport, KANARY_CT_REVERSE);
	rev = bpf_map_lookup_elem(&kanary_ct_v1, &key);
	if (!rev)
		return TC_ACT_OK;
	vip = rev->addr.w[3];
	vport = rev->port;

	st = kanary_subset_stats(rev->svc_id, rev->subset);
	if (st) {
		st->packets_out += kanary_segs(skb);
		st->bytes_out += skb->len;
	}
	if (p.rst)
		kanary_mark_closing(&p, rev);

	kanary_nat_rewrite(skb, &p, KANARY_IP_SADDR_OFF, p.saddr, vip,
			   KANARY_TCP_SPORT_OFF(&p), p.sport, vport);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
