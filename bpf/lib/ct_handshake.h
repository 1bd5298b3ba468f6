/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A plain-path connection's handshake lives in its own LRU table,
 * kanary_ctnew_v1 (both entries flagged KANARY_CT_F_NEW), and moves to
 * kanary_ct_v3 when the client acks the backend's SYN-ACK: a flood of
 * SYNs, answered or not, evicts only other handshakes, never an
 * established connection's entries (docs/conntrack.md).  Established
 * packets look in kanary_ct_v3 only; this table is looked at on a miss.
 */
#ifndef KANARY_BPF_CT_HANDSHAKE_H
#define KANARY_BPF_CT_HANDSHAKE_H

#include "maps.h"
#include "conntrack.h"
#include "counters.h"

/*
 * Whether client segment p completes the handshake whose reverse entry is
 * rev: no SYN or RST, after the backend's SYN-ACK, and an ack within the
 * follow slack of that SYN-ACK's end either way (later data may ack more
 * when the ACK itself was lost; RFC 5961's acceptable ack is a window
 * wide).  A blind spoofer does not know the backend's ISN.
 */
static __always_inline int kanary_ct_completes(const struct kanary_pkt *p,
					       const struct kanary_ct_entry *rev)
{
	return p->ack && !p->syn && !p->rst && rev->nxt_known &&
	       p->ack_seq - rev->nxt + KANARY_SEQ_FOLLOW_SLACK <= 2 * KANARY_SEQ_FOLLOW_SLACK;
}

/*
 * The entry of a client tuple fwd that kanary_ct_v3 does not have: its
 * handshake's, or NULL.  A segment that completes it moves both entries to
 * kanary_ct_v3 (counted: ct_established) and gets the moved forward entry.
 * The reverse one goes first, so that whoever reads either table meanwhile
 * finds a pair; two CPUs moving at once insert once (BPF_NOEXIST) and both
 * go on with the one in kanary_ct_v3.  A closed handshake (a RST at the
 * exact sequence) stays, for its table's LRU to take.
 */
static __noinline struct kanary_ct_entry *kanary_ct_handshake(const struct kanary_pkt *p,
							      const struct kanary_ct_key *fwd)
{
	struct kanary_ct_entry *ct, *rev, *moved;
	struct kanary_ct_key rkey;

	if (!p || !fwd)
		return NULL;
	ct = bpf_map_lookup_elem(&kanary_ctnew_v1, fwd);
	/*
	 * Missed in both tables: another CPU may have moved the entries since
	 * the caller looked in kanary_ct_v3 (the client's ACK and its first
	 * data on two CPUs); taken for evicted, the data would have its
	 * backend chosen again, by the weights of now.
	 */
	if (!ct)
		return p->syn ? NULL : bpf_map_lookup_elem(&kanary_ct_v3, fwd);
	if (!p->ack || p->syn || p->rst || (ct->flags & KANARY_CT_F_CLOSING))
		return ct;
	kanary_ct_key_v4(&rkey, ct->addr.w[3], p->saddr, ct->port, p->sport, KANARY_CT_REVERSE);
	rev = bpf_map_lookup_elem(&kanary_ctnew_v1, &rkey);
	/* The same race, later: ct may be a deleted element, reused at once. */
	if (!rev) {
		moved = bpf_map_lookup_elem(&kanary_ct_v3, fwd);
		return moved ? moved : ct;
	}
	if (!kanary_ct_completes(p, rev))
		return ct;
	rev->flags &= ~KANARY_CT_F_NEW;
	bpf_map_update_elem(&kanary_ct_v3, &rkey, rev, BPF_NOEXIST);
	ct->flags &= ~KANARY_CT_F_NEW;
	if (!bpf_map_update_elem(&kanary_ct_v3, fwd, ct, BPF_NOEXIST))
		kanary_count(KANARY_CNT_CT_ESTABLISHED);
	bpf_map_delete_elem(&kanary_ctnew_v1, fwd);
	bpf_map_delete_elem(&kanary_ctnew_v1, &rkey);
	/* The deleted element may be reused at once: go on with the moved copy. */
	moved = bpf_map_lookup_elem(&kanary_ct_v3, fwd);
	return moved;
}

#endif /* KANARY_BPF_CT_HANDSHAKE_H */
