/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Conntrack keys and entries: one forward and one reverse entry per connection. */
#ifndef KANARY_BPF_CONNTRACK_H
#define KANARY_BPF_CONNTRACK_H

#include "maps.h"
#include "parse.h"
#include "counters.h"
#include "kanary/ct_expiry.h"

/*
 * The idle sweep's clock (kanary_ct_entry.seen), which the sweeper's tick
 * sets (ct_expiry.h): a plain load on the established path, where a helper
 * call cost 10 to 40 ns.  0 until the sweeper first runs after a load.
 */
__u8 kanary_ct_seen_now;

static __always_inline void kanary_v4mapped(union kanary_addr *a, __be32 v4)
{
	a->w[0] = 0;
	a->w[1] = 0;
	a->w[2] = bpf_htonl(0x0000ffff);
	a->w[3] = v4;
}

static __always_inline void kanary_ct_key_v4(struct kanary_ct_key *k, __be32 src, __be32 dst,
					     __be16 sport, __be16 dport, __u8 dir)
{
	__builtin_memset(k, 0, sizeof(*k));
	kanary_v4mapped(&k->src, src);
	kanary_v4mapped(&k->dst, dst);
	k->sport = sport;
	k->dport = dport;
	k->proto = IPPROTO_TCP;
	k->dir = dir;
}

/*
 * Keeps a lookup or update on one map apart from its twin on the other:
 * clang would merge the two calls into one on either map, for which the
 * verifier gives up its inlined lookup and direct call (an indirect call
 * per packet, about 50 ns more for a data segment).
 */
#define kanary_ct_apart(v)	asm volatile("" : "+r"(v))

/*
 * The entry of key k in the table of e, one of its connection's entries:
 * kanary_ctnew_v1 until the handshake completes, then kanary_ct_v3.
 */
static __always_inline struct kanary_ct_entry *kanary_ct_lookup_by(const struct kanary_ct_entry *e,
								   const struct kanary_ct_key *k)
{
	struct kanary_ct_entry *found;

	if (e->flags & KANARY_CT_F_NEW) {
		found = bpf_map_lookup_elem(&kanary_ctnew_v1, k);
		kanary_ct_apart(found);
		return found;
	}
	return bpf_map_lookup_elem(&kanary_ct_v3, k);
}

/* Writes entry v of key k into e's table (kanary_ct_lookup_by). */
static __always_inline long kanary_ct_update_by(const struct kanary_ct_entry *e,
						const struct kanary_ct_key *k,
						const struct kanary_ct_entry *v, __u64 flags)
{
	long err;

	if (e->flags & KANARY_CT_F_NEW) {
		err = bpf_map_update_elem(&kanary_ctnew_v1, k, v, flags);
		kanary_ct_apart(err);
		return err;
	}
	return bpf_map_update_elem(&kanary_ct_v3, k, v, flags);
}

/*
 * The reverse entry of a connection chosen for the client's packet p: its
 * key in rkey, and rev pointing back at the VIP.  The backend's next
 * sequence number is the client's ack, its view of it, when p has one
 * (mid-flow); a connection's SYN has none, and its SYN-ACK tells it.
 */
static __always_inline void kanary_ct_reverse_of(const struct kanary_pkt *p,
						 const struct kanary_ct_entry *chosen,
						 struct kanary_ct_key *rkey,
						 struct kanary_ct_entry *rev)
{
	kanary_ct_key_v4(rkey, chosen->addr.w[3], p->saddr, chosen->port, p->sport,
			 KANARY_CT_REVERSE);
	__builtin_memset(rev, 0, sizeof(*rev));
	kanary_v4mapped(&rev->addr, p->daddr);
	rev->port = p->dport;
	rev->subset = chosen->subset;
	rev->svc_id = chosen->svc_id;
	rev->flags = chosen->flags & (KANARY_CT_F_NEW | KANARY_CT_F_HAIRPIN);
	rev->nxt = p->ack_seq;
	rev->nxt_known = p->ack;
}

/*
 * Tracks a connection chosen for fwd (the client's tuple) both ways, in
 * chosen's table.  A handshake's reverse key may be an ended connection's
 * in kanary_ct_v3: the same client port to the same pod through another
 * VIP (the pod's TIME_WAIT lets it connect).  That entry goes, or egress,
 * which looks there first, would give the replies the old VIP.  A frame of
 * its own: its 96 bytes stay off the stack of the calls below
 * kanary_ingress_conn.
 */
static __noinline int kanary_ct_create(const struct kanary_pkt *p,
				       const struct kanary_ct_key *fwd,
				       const struct kanary_ct_entry *chosen)
{
	struct kanary_ct_entry rev;
	struct kanary_ct_key rkey;

	kanary_ct_reverse_of(p, chosen, &rkey, &rev);
	if (chosen->flags & KANARY_CT_F_NEW)
		bpf_map_delete_elem(&kanary_ct_v3, &rkey);
	kanary_ct_update_by(chosen, fwd, chosen, BPF_ANY);
	kanary_ct_update_by(chosen, &rkey, &rev, BPF_ANY);
	return 0;
}

/*
 * The reverse entry of a tracked connection (fwd_e, p a client packet), made
 * again from the forward one if it was lost: evicted or deleted, it would
 * let the backend's replies leave with its own address.  Two CPUs may both
 * find it missing: only one insert wins (BPF_NOEXIST).
 */
static __always_inline struct kanary_ct_entry *kanary_ct_reverse(const struct kanary_pkt *p,
								 const struct kanary_ct_entry *fwd_e)
{
	struct kanary_ct_entry *e, rev;
	struct kanary_ct_key rkey;

	/* The key alone first: the entry is built only on the rare miss. */
	kanary_ct_key_v4(&rkey, fwd_e->addr.w[3], p->saddr, fwd_e->port, p->sport,
			 KANARY_CT_REVERSE);
	e = kanary_ct_lookup_by(fwd_e, &rkey);
	if (e)
		return e;
	kanary_ct_reverse_of(p, fwd_e, &rkey, &rev);
	if (!kanary_ct_update_by(fwd_e, &rkey, &rev, BPF_NOEXIST))
		kanary_count(KANARY_CNT_CT_REV_REBUILT);
	return kanary_ct_lookup_by(fwd_e, &rkey);
}

/*
 * RFC 5961 against blind teardown.  A RST counts only at the exact sequence
 * its receiver expects next; one in the window but elsewhere keeps the
 * state (the receiver answers it with a challenge ACK); one outside the
 * window is dropped.  kanary's view of "expected" is the sender's next
 * sequence number (nxt): a real sender's RST carries it, and one in reply
 * to a segment carries that segment's ack, the same number once the data
 * arrived.
 */
enum kanary_rst_fit {
	KANARY_RST_EXACT,
	KANARY_RST_IN_WINDOW,
	KANARY_RST_OUTSIDE,
};

/*
 * The plain path reads no window scale option, so its window is the
 * largest one TCP can advertise (65,535 << 14, RFC 7323); the rule path
 * strips scaling and uses 64 KiB (KANARY_HO_WINDOW_MAX).
 */
#define KANARY_CT_WINDOW_MAX	(65535u << 14)

static __always_inline int kanary_rst_fit(__u32 seq, __u32 expected, __u32 window)
{
	__u32 d = seq - expected;

	if (!d)
		return KANARY_RST_EXACT;
	return d < window || -d < window ? KANARY_RST_IN_WINDOW : KANARY_RST_OUTSIDE;
}

/*
 * How far past nxt a segment may start and still move it: segments reach
 * kanary out of order (a veth's packets cross CPUs) or after a gap (one
 * dropped before tc), and in-flight data is at most a 64 KiB window on the
 * rule path.  A segment spoofed at a guessed sequence moves nxt (to where a
 * RST would then be exact) only within this span: a chance of 2^-16.
 */
#define KANARY_SEQ_FOLLOW_SLACK	65535

/*
 * Follows nxt over p, a segment of its direction: a segment that starts at
 * most KANARY_SEQ_FOLLOW_SLACK past nxt and ends after it moves it.
 * Returns 1 when p ends at nxt (after moving it): a FIN there is the
 * sender's last byte.  A pure ACK stores nothing, nor does a SYN: the
 * entry's own came before it, and another starts no connection here.
 */
static __always_inline int kanary_seq_follow(__u32 *nxt, const struct kanary_pkt *p)
{
	__u32 end;

	if (p->rst || p->syn || p->payload_len == KANARY_PAYLOAD_UNKNOWN)
		return 0;
	end = kanary_seq_end(p);
	if (kanary_seq_gt(p->seq, *nxt + KANARY_SEQ_FOLLOW_SLACK) || kanary_seq_gt(*nxt, end))
		return 0;
	if (end != *nxt)
		*nxt = end;
	return 1;
}

/* Counts a RST by fit; returns 1 when it must be dropped. */
static __always_inline int kanary_rst_outside(int fit)
{
	if (fit == KANARY_RST_EXACT)
		return 0;
	kanary_count(fit == KANARY_RST_OUTSIDE ? KANARY_CNT_RST_OUTSIDE : KANARY_CNT_RST_INEXACT);
	return fit == KANARY_RST_OUTSIDE;
}

#endif /* KANARY_BPF_CONNTRACK_H */
