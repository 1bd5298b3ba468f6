/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A plain-path connection's lifecycle (docs/conntrack.md, bpf/lib/ct_expiry.h):
 * the ABI of its expiry queues and of the timer that sweeps them.
 */
#ifndef KANARY_CT_EXPIRY_H
#define KANARY_CT_EXPIRY_H

#include <linux/types.h>
#include <linux/bpf.h>	/* struct bpf_timer */
#include "kanary/abi.h"

#define KANARY_MAP_CT_ENDQ	"kanary_ctend_v1"
#define KANARY_MAP_CT_SYNQ	"kanary_ctsyn_v1"
#define KANARY_MAP_CT_SWEEPER	"kanary_ctsw_v1"
#define KANARY_MAP_CT_SETTINGS	"kanary_ctcfg_v1"

/*
 * How long an ended connection's entries stay, so that a retransmitted
 * FIN or the last ACK is still translated (Cilium's close timeout), and
 * how long a SYN sent again waits for its SYN-ACK (Cilium's SYN timeout;
 * netfilter's SYN_SENT is 120 s).  An operator may set others
 * (kanary_ct_settings), from 1 ms to an hour: longer is the LRU's job.
 */
#define KANARY_CT_LINGER_MS		10000
#define KANARY_CT_SYN_TIMEOUT_MS	60000
#define KANARY_CT_TIMEOUT_MAX_MS	3600000
/*
 * Idle connections (Cilium's TCP lifetime, 6 h; netfilter's established
 * timeout is 5 days): kanaryd deletes a plain-path connection whose
 * client has sent nothing for this long (user/lib/ct_idle.c).  A client
 * that comes back finds its backend again (re-derived, the same pod while
 * the configuration holds).  The clock is a byte of the forward entry in
 * steps of 2^38 ns (about 4.6 min), so the longest timeout is 200 steps
 * (about 15 h), well short of the byte's wrap.
 */
#define KANARY_CT_IDLE_TIMEOUT_S	21600
#define KANARY_CT_SEEN_SHIFT		38
#define KANARY_CT_IDLE_MAX_STEPS	200

/* The step of monotonic time ns, 1..255: 0 means never seen, which no sweep deletes. */
static inline __u8 kanary_ct_seen_of(__u64 ns)
{
	return (__u8)((ns >> KANARY_CT_SEEN_SHIFT) % 255 + 1);
}
/* The sweeper's period; shorter when a timeout is (a quarter of it). */
#define KANARY_CT_SWEEP_MS		250
/* Expiries handled per queue and tick: bounds the softirq's work; more: the next tick in 1 ms. */
#define KANARY_CT_SWEEP_BUDGET		512

/*
 * One connection queued to expire, FIFO: with one timeout per queue the
 * head is always the next due.  fwd is its forward key; the forward entry's
 * expiry_stamp must still be this one's (kanary_ct_expiry_stamp) for it to
 * go: a tuple reused, or closed again, since has another.
 */
struct kanary_ct_expiry {
	struct kanary_ct_key fwd;
	__u64	due_ns;		/* bpf_ktime_get_ns() at which it may go */
};

/* The one sweeper, slot 0 of kanary_ctsw_v1: a timer set up once, that re-arms itself. */
struct kanary_ct_sweeper {
	struct bpf_timer timer;
	__u64	load_id;	/* the load whose program the callback is: a reload sets its own */
	__u64	ticks;		/* callbacks run */
	__u64	max_tick_ns;	/* the longest callback, for docs/conntrack.md's figures */
};

/*
 * Slot 0 of kanary_ctcfg_v1: the timeouts in force, 0 for the default.  A
 * map, not load-time constants, so that a reload that names none keeps
 * what an operator set, and a change applies without one.  A connection
 * already queued keeps the due time it got.
 */
struct kanary_ct_settings {
	__u32	linger_ms;
	__u32	syn_timeout_ms;
};

/*
 * Queue sizes.  Ended connections: half the conntrack size, one per
 * connection the table holds, so the queue is full only when lingering
 * entries alone would fill the table (13,107 closes/s at the defaults).
 * Half-open: an eighth (546 unanswered SYNs a second at 60 s).
 */
static inline __u32 kanary_ct_endq_size(__u32 ct_size)
{
	return ct_size / 2 > 64 ? ct_size / 2 : 64;
}

static inline __u32 kanary_ct_synq_size(__u32 ct_size)
{
	return ct_size / 8 > 64 ? ct_size / 8 : 64;
}

_Static_assert(sizeof(struct kanary_ct_expiry) == 48, "ct expiry layout");
_Static_assert(sizeof(struct kanary_ct_sweeper) == 40, "ct sweeper layout");
_Static_assert(sizeof(struct kanary_ct_settings) == 8, "ct settings layout");

#endif /* KANARY_CT_EXPIRY_H */
