/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A plain-path connection's lifecycle (docs/conntrack.md): its two
 * conntrack entries go a linger after it ended (both FINs, or a RST at the
 * exact sequence), and after the SYN timeout when its SYN, sent again, is
 * still unanswered, so that closed connections do not fill the LRU and
 * evict live ones.
 *
 * A close pushes its forward key and due time on a preallocated FIFO
 * (BPF_MAP_TYPE_QUEUE; one timeout per queue, so the head is the next
 * due) and stamps its forward entry.  One bpf_timer, set up once per load
 * and re-arming itself, pops what is due, at most KANARY_CT_SWEEP_BUDGET
 * per queue and tick, and deletes both entries if the stamp still matches
 * (a tuple reused since has none, or another).  Nothing is allocated per
 * connection (a timer per close was: the kernel refused most under a
 * burst), established packets do nothing, and it runs without kanaryd.
 */
#ifndef KANARY_BPF_CT_EXPIRY_H
#define KANARY_BPF_CT_EXPIRY_H

#include "maps.h"
#include "conntrack.h"
#include "counters.h"

#define KANARY_NSEC_PER_MS	1000000ull
#define KANARY_EBUSY		16
#define KANARY_E2BIG		7
/* Room made, then pushed: tries, against other CPUs filling it in between. */
#define KANARY_CT_PUSH_TRIES	4

#ifndef CLOCK_MONOTONIC
#define CLOCK_MONOTONIC 1
#endif

/* Differs per load (the loader sets it): the sweeper's callback is moved to the newest program. */
const volatile __u64 kanary_load_id = 1;

/* The linger, or the SYN timeout when half_open, in force (kanary_ctcfg_v1), in ns. */
static __always_inline __u64 kanary_ct_timeout_ns(int half_open)
{
	const struct kanary_ct_settings *s;
	__u32 zero = 0, ms = 0;

	s = bpf_map_lookup_elem(&kanary_ctcfg_v1, &zero);
	if (s)
		ms = half_open ? s->syn_timeout_ms : s->linger_ms;
	if (!ms)
		ms = half_open ? KANARY_CT_SYN_TIMEOUT_MS : KANARY_CT_LINGER_MS;
	return ms * KANARY_NSEC_PER_MS;
}

/* The sweep period: KANARY_CT_SWEEP_MS, or a quarter of a shorter timeout, at least 1 ms. */
static __always_inline __u64 kanary_ct_sweep_ns(void)
{
	__u64 p = KANARY_CT_SWEEP_MS * KANARY_NSEC_PER_MS, q;

	q = kanary_ct_timeout_ns(0) / 4;
	if (q < p)
		p = q;
	q = kanary_ct_timeout_ns(1) / 4;
	if (q < p)
		p = q;
	return p > KANARY_NSEC_PER_MS ? p : KANARY_NSEC_PER_MS;
}

/* An expiry's mark in its forward entry: any bits of its due time, never 0 (none). */
static __always_inline __u16 kanary_ct_expiry_stamp(__u64 due_ns)
{
	__u16 s = due_ns >> 10;

	return s ? s : 1;
}

/*
 * A due expiry x: its connection's entries go if the forward entry still
 * has x's stamp and, for a half-open one, the backend has still not
 * answered.  The reverse key comes from the forward entry (its backend).
 * A half-open connection is in the handshakes' table (ct_handshake.h),
 * unless its SYN reused an established tuple.  1 when they went.
 */
static __always_inline int kanary_ct_expire(const struct kanary_ct_expiry *x, int half_open)
{
	struct kanary_ct_entry *ct = bpf_map_lookup_elem(&kanary_ct_v3, &x->fwd), *rev;
	struct kanary_ct_key rkey;

	if (!ct && half_open)
		ct = bpf_map_lookup_elem(&kanary_ctnew_v1, &x->fwd);
	if (!ct || ct->expiry_stamp != kanary_ct_expiry_stamp(x->due_ns))
		return 0;
	kanary_ct_key_v4(&rkey, ct->addr.w[3], x->fwd.src.w[3], ct->port, x->fwd.sport,
			 KANARY_CT_REVERSE);
	if (half_open) {
		rev = kanary_ct_lookup_by(ct, &rkey);
		if (rev && rev->nxt_known)
			return 0;
	} else if (!(ct->flags & KANARY_CT_F_CLOSING)) {
		return 0;
	}
	if (ct->flags & KANARY_CT_F_NEW) {
		bpf_map_delete_elem(&kanary_ctnew_v1, &x->fwd);
		bpf_map_delete_elem(&kanary_ctnew_v1, &rkey);
	} else {
		bpf_map_delete_elem(&kanary_ct_v3, &x->fwd);
		bpf_map_delete_elem(&kanary_ct_v3, &rkey);
	}
	kanary_count(half_open ? KANARY_CNT_CT_HALF_OPEN : KANARY_CNT_CT_ENDED);
	return 1;
}

struct kanary_ct_sweep_ctx {
	__u64	now;
	int	half_open;	/* which queue */
	int	drained;	/* its head is not due (or it is empty) */
};

/* bpf_loop's step: the queue's head, if due, expires.  1 stops the loop. */
static long kanary_ct_sweep_one(__u32 i, struct kanary_ct_sweep_ctx *c)
{
	struct kanary_ct_expiry x;
	long err;

	err = c->half_open ? bpf_map_peek_elem(&kanary_ctsyn_v1, &x) :
			     bpf_map_peek_elem(&kanary_ctend_v1, &x);
	if (err || x.due_ns > c->now) {
		c->drained = 1;
		return 1;
	}
	/*
	 * The head is x unless a close on a full queue popped it first
	 * (kanary_ct_make_room): then this is the next oldest, which goes a
	 * little early, as that close's would have.
	 */
	err = c->half_open ? bpf_map_pop_elem(&kanary_ctsyn_v1, &x) :
			     bpf_map_pop_elem(&kanary_ctend_v1, &x);
	if (!err)
		kanary_ct_expire(&x, c->half_open);
	return 0;
}

/* The sweeper's tick: both queues, then again at the period, or in 1 ms if one was not drained. */
static int kanary_ct_sweep(void *map, __u32 *key, struct kanary_ct_sweeper *sw)
{
	struct kanary_ct_sweep_ctx c = { .now = bpf_ktime_get_ns() };
	int more;
	__u64 took;

	bpf_loop(KANARY_CT_SWEEP_BUDGET, kanary_ct_sweep_one, &c, 0);
	more = !c.drained;
	c.half_open = 1;
	c.drained = 0;
	bpf_loop(KANARY_CT_SWEEP_BUDGET, kanary_ct_sweep_one, &c, 0);
	more |= !c.drained;
	took = bpf_ktime_get_ns() - c.now;
	if (took > sw->max_tick_ns)
		sw->max_tick_ns = took;
	sw->ticks++;
	kanary_ct_seen_now = kanary_ct_seen_of(c.now);
	bpf_timer_start(&sw->timer, more ? KANARY_NSEC_PER_MS : kanary_ct_sweep_ns(), 0);
	return 0;
}

/*
 * Sets the sweeper up, once per load: bpf_timer_init allocates, once (on
 * -ENOMEM, counted, the next close tries again); a timer that a previous
 * load set up (-EBUSY) gets this program's callback.
 */
static __always_inline void kanary_ct_sweeper_start(void)
{
	struct kanary_ct_sweeper *sw;
	__u32 zero = 0;
	long err;

	sw = bpf_map_lookup_elem(&kanary_ctsw_v1, &zero);
	if (!sw || sw->load_id == kanary_load_id)
		return;
	err = bpf_timer_init(&sw->timer, &kanary_ctsw_v1, CLOCK_MONOTONIC);
	if ((err && err != -KANARY_EBUSY) || bpf_timer_set_callback(&sw->timer, kanary_ct_sweep) ||
	    bpf_timer_start(&sw->timer, kanary_ct_sweep_ns(), 0)) {
		kanary_count(KANARY_CNT_CT_SWEEPER_FAIL);
		return;
	}
	sw->load_id = kanary_load_id;
}

/* x onto its queue: the half-open one, or the ended one. */
static __always_inline long kanary_ct_push(struct kanary_ct_expiry *x, int half_open)
{
	return half_open ? bpf_map_push_elem(&kanary_ctsyn_v1, x, 0) :
			   bpf_map_push_elem(&kanary_ctend_v1, x, 0);
}

/*
 * A full queue (closes faster than it holds for a linger): its oldest
 * expiry is done now, so that the newest close still gets its own.  Under
 * that churn the linger shrinks to what the queue holds, instead of closed
 * entries being left to the LRU, where they would evict live ones.  A
 * stale expiry (its tuple reused since) frees its slot at no cost.  0 when
 * one was popped.
 */
static __noinline int kanary_ct_make_room(int half_open)
{
	struct kanary_ho_scratch *sc = kanary_ho_scratch_get();
	long err;

	if (!sc)
		return -1;
	err = half_open ? bpf_map_pop_elem(&kanary_ctsyn_v1, &sc->oldest) :
			  bpf_map_pop_elem(&kanary_ctend_v1, &sc->oldest);
	if (err)
		return -1;
	if (kanary_ct_expire(&sc->oldest, half_open))
		kanary_count(KANARY_CNT_CT_EXPIRED_EARLY);
	return 0;
}

/*
 * Queues the connection of forward entry ct (its key in x->fwd) to expire:
 * after the linger, or the SYN timeout when half_open.  A full queue makes
 * room (kanary_ct_make_room), up to KANARY_CT_PUSH_TRIES times, as another
 * CPU's close may take the room first (a CI run left 908 of 351,840 closes
 * to the LRU with one try); a push that still fails (or the queue's lock
 * was busy) is counted, and the entries are left to the LRU, as before
 * lifecycles.
 * A handshake that ends before it completes (a SYN flood's, reset by its
 * client) is left to its table's LRU, where it can evict no established
 * connection, and fills no queue.
 */
static __always_inline void kanary_ct_enqueue(struct kanary_ct_expiry *x,
					      struct kanary_ct_entry *ct, int half_open)
{
	long err;

	if (!half_open && (ct->flags & KANARY_CT_F_NEW))
		return;
	x->due_ns = bpf_ktime_get_ns() + kanary_ct_timeout_ns(half_open);
	ct->expiry_stamp = kanary_ct_expiry_stamp(x->due_ns);
	err = kanary_ct_push(x, half_open);
	/* The other CPU's close may take the room made for this one: again, a few times. */
	for (int i = 0; i < KANARY_CT_PUSH_TRIES && err == -KANARY_E2BIG; i++) {
		if (kanary_ct_make_room(half_open))
			break;
		err = kanary_ct_push(x, half_open);
	}
	if (err) {
		kanary_count(KANARY_CNT_CT_EXPIRY_FULL);
		return;
	}
	kanary_ct_sweeper_start();
}

/* The expiry being queued, in this CPU's scratch: 48 bytes the callers' stacks cannot spare. */
static __always_inline struct kanary_ct_expiry *kanary_ct_expiry_scratch(void)
{
	struct kanary_ho_scratch *sc = kanary_ho_scratch_get();

	return sc ? &sc->expiry : NULL;
}

/* A client segment ended the connection (fwd, ct: its forward key and entry), or it is half-open. */
static __noinline int kanary_ct_queue(const struct kanary_ct_key *fwd, struct kanary_ct_entry *ct,
				      int half_open)
{
	struct kanary_ct_expiry *x = kanary_ct_expiry_scratch();

	if (!x || !fwd || !ct)
		return 0;
	__builtin_memcpy(&x->fwd, fwd, sizeof(x->fwd));
	kanary_ct_enqueue(x, ct, half_open);
	return 0;
}

/*
 * A backend segment p (its reverse entry rev) ended the connection if the
 * client's side is closing too (its FIN, or a RST): queued to expire.  ct
 * is the forward entry when the caller has looked it up, else NULL.
 */
static __noinline int kanary_ct_queue_reply(const struct kanary_pkt *p,
					    const struct kanary_ct_entry *rev,
					    struct kanary_ct_entry *ct)
{
	struct kanary_ct_expiry *x = kanary_ct_expiry_scratch();

	if (!x || !p || !rev)
		return 0;
	kanary_ct_key_v4(&x->fwd, p->daddr, rev->addr.w[3], p->dport, rev->port, KANARY_CT_FORWARD);
	if (!ct)
		ct = kanary_ct_lookup_by(rev, &x->fwd);
	if (ct && (ct->flags & KANARY_CT_F_CLOSING))
		kanary_ct_enqueue(x, ct, 0);
	return 0;
}

#endif /* KANARY_BPF_CT_EXPIRY_H */
