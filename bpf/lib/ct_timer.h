/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A plain-path connection's lifecycle (docs/conntrack.md): its two
 * conntrack entries go a linger after it ended (both FINs, or a RST at the
 * exact sequence), or when its backend never answered its SYN, so that
 * closed connections do not fill the LRU and evict live ones.  A
 * bpf_timer in kanary_ctt_v1, keyed by the forward key, does it in the
 * kernel: nothing depends on kanaryd running.  An established connection
 * has no timer, and a first SYN arms none (a SYN sent again, unanswered,
 * does): the timers cost memory and about a microsecond per close,
 * nothing per packet nor per answered SYN.
 */
#ifndef KANARY_BPF_CT_TIMER_H
#define KANARY_BPF_CT_TIMER_H

#include "maps.h"
#include "conntrack.h"
#include "counters.h"

#define KANARY_NSEC_PER_MS	1000000ull

/*
 * How long an ended connection's entries stay, so that a retransmitted
 * FIN or the last ACK is still translated (Cilium's 10 s), and how long a
 * SYN waits for its SYN-ACK (Cilium's 60 s; netfilter's SYN_SENT is 120 s).
 * The loader may set both before load (kanary_load_opts, for tests).
 */
const volatile __u64 kanary_ct_linger_ns = 10000 * KANARY_NSEC_PER_MS;
const volatile __u64 kanary_ct_half_open_ns = 60000 * KANARY_NSEC_PER_MS;

#define KANARY_EEXIST	17

#ifndef CLOCK_MONOTONIC
#define CLOCK_MONOTONIC 1
#endif

/*
 * A timer's expiry, key the forward key: an ended connection's entries go,
 * unless a new connection took the tuple since (its forward entry is not
 * closing); a half-open one's go only if its backend has still not
 * answered (the SYN-ACK normally dropped the timer before).  A forward
 * entry that is gone (evicted) leaves nothing to find the reverse one by;
 * the LRU takes it.  The timer's own element goes last.
 */
static int kanary_ct_expire(void *map, struct kanary_ct_key *key, struct kanary_ct_timer *t)
{
	struct kanary_ct_entry *ct = bpf_map_lookup_elem(&kanary_ct_v3, key);
	struct kanary_ct_entry *rev;
	struct kanary_ct_key rkey;

	if (ct) {
		kanary_ct_key_v4(&rkey, ct->addr.w[3], key->src.w[3], ct->port, key->sport,
				 KANARY_CT_REVERSE);
		if (t->ended) {
			if (!(ct->flags & KANARY_CT_F_CLOSING))
				goto out;
			bpf_map_delete_elem(&kanary_ct_v3, key);
			bpf_map_delete_elem(&kanary_ct_v3, &rkey);
			kanary_count(KANARY_CNT_CT_ENDED);
		} else {
			rev = bpf_map_lookup_elem(&kanary_ct_v3, &rkey);
			if (rev && !rev->nxt_known) {
				bpf_map_delete_elem(&kanary_ct_v3, key);
				bpf_map_delete_elem(&kanary_ct_v3, &rkey);
				kanary_count(KANARY_CNT_CT_HALF_OPEN);
			}
		}
	}
out:
	bpf_map_delete_elem(map, key);
	return 0;
}

/*
 * Arms the timer of the connection fwd (its forward key): for the linger
 * when ended, else for the half-open timeout.  An armed one is re-armed
 * (a retransmitted FIN extends the linger; a SYN reusing a lingering
 * tuple starts afresh).  A connection that gets no timer (its table is
 * full) is counted: its entries are left to the LRU, as before timers.
 */
static __noinline int kanary_ct_timer_arm(const struct kanary_ct_key *fwd, __u32 ended)
{
	struct kanary_ct_timer fresh = {};
	struct kanary_ct_timer *t;
	long err;

	if (!fwd)
		return 0;
	t = bpf_map_lookup_elem(&kanary_ctt_v1, fwd);
	if (!t) {
		/* -EEXIST: another CPU's insert won, and that one will do. */
		err = bpf_map_update_elem(&kanary_ctt_v1, fwd, &fresh, BPF_NOEXIST);
		if (err && err != -KANARY_EEXIST) {
			kanary_count(KANARY_CNT_CT_NO_TIMER);
			return 0;
		}
		t = bpf_map_lookup_elem(&kanary_ctt_v1, fwd);
		if (!t)
			return 0;
		/* -EBUSY when another CPU's insert won and set it up: it is the same timer. */
		/*
		 * The kernel allocates the timer here, without locks: under a
		 * burst it can fail (-ENOMEM, about 1 in 60 in the BPF tests on
		 * 6.18).  Then no timer: the entries are left to the LRU.
		 */
		if (bpf_timer_init(&t->timer, &kanary_ctt_v1, CLOCK_MONOTONIC) ||
		    bpf_timer_set_callback(&t->timer, kanary_ct_expire)) {
			bpf_map_delete_elem(&kanary_ctt_v1, fwd);
			kanary_count(KANARY_CNT_CT_NO_TIMER);
			return 0;
		}
	}
	t->ended = ended;
	bpf_timer_start(&t->timer, ended ? kanary_ct_linger_ns : kanary_ct_half_open_ns, 0);
	return 0;
}

/* What a backend segment (p, its reverse entry rev) does to its connection's timer. */
enum kanary_ct_timer_op {
	KANARY_CT_TIMER_DROP,	/* the SYN-ACK: the connection is established */
	KANARY_CT_TIMER_END,	/* the connection ended: linger */
};

static __noinline int kanary_ct_timer_reply(const struct kanary_pkt *p,
					    const struct kanary_ct_entry *rev, int op)
{
	struct kanary_ct_key fwd;

	if (!p || !rev)
		return 0;
	kanary_ct_key_v4(&fwd, p->daddr, rev->addr.w[3], p->dport, rev->port, KANARY_CT_FORWARD);
	if (op == KANARY_CT_TIMER_END)
		return kanary_ct_timer_arm(&fwd, 1);
	bpf_map_delete_elem(&kanary_ctt_v1, &fwd);
	return 0;
}

#endif /* KANARY_BPF_CT_TIMER_H */
