/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The ABI of the dark-release handoff: how a connection to a service with
 * rules is held while the datapath reads its first request, and what it
 * counts.  bpf/lib/handoff.h is the state machine; README.md draws it.
 *
 * A connection on the rule path has one entry in kanary_ho_v1, keyed by its
 * forward conntrack key (client -> VIP), and once its backend is chosen a
 * reverse entry in kanary_ct_v1 flagged KANARY_CT_F_HANDOFF, so replies
 * find it.  While the backend has not acknowledged the client's first data,
 * that data waits in kanary_stash_v1 under the same key.
 *
 * Sequence numbers are host order here.  The client keeps its own ISN end
 * to end; the datapath answered the SYN with our_isn, the backend with
 * backend_isn, so replies get seq += our_isn - backend_isn and the client's
 * acks get the opposite.  Timestamps, SACK, window scaling, ECN and TFO are
 * stripped at the handshake on both sides, so nothing else needs changing.
 */
#ifndef KANARY_HANDOFF_H
#define KANARY_HANDOFF_H

#include <linux/types.h>
#include "kanary/abi.h"
#include "kanary/rules.h"

#define KANARY_MAP_HANDOFF	"kanary_ho_v1"
#define KANARY_MAP_STASH	"kanary_stash_v1"
#define KANARY_MAP_HO_STATS	"kanary_hostat_v1"

/*
 * Rule-path connections tracked per node: a quarter of the conntrack size
 * (64 bytes of state each, 11 MiB at the default), as only services with
 * rules take the handoff.
 */
static inline __u32 kanary_handoff_size(__u32 ct_size)
{
	return ct_size / 4 > 1024 ? ct_size / 4 : 1024;
}

/* Connections between the first data and the backend's ack of it, per node. */
#define KANARY_DEFAULT_STASH_SLOTS	4096
/* SYNs sent to a backend (one per client retransmission) before giving up. */
#define KANARY_HO_SYN_TRIES		3

enum kanary_ho_state {
	KANARY_HO_SYN_RCVD = 1,	/* our SYN-ACK sent; waiting for the first data */
	KANARY_HO_SYN_SENT,	/* backend chosen; SYN sent with the client's ISN */
	KANARY_HO_BINDING,	/* one CPU is turning the backend's SYN-ACK into the stash */
	KANARY_HO_ESTABLISHED,	/* translating both ways */
};

/*
 * Value of kanary_ho_v1.  Ingress and egress may run at once on two CPUs:
 * the state moves by compare-and-swap, and every event flag is a byte of
 * its own, set once, so no read-modify-write of one side loses the other's.
 */
struct kanary_ho_entry {
	__u64	state;		/* enum kanary_ho_state; 64 bits for BPF's compare-and-swap */
	__u32	client_isn;
	__u32	our_isn;
	__u32	backend_isn;
	__u32	svc_id;
	union kanary_addr backend;
	__be16	backend_port;
	__u16	mss;		/* the client's, passed on to the backend */
	__u16	window;		/* the client's, from its first data */
	__u16	stash_len;
	__u32	fin_in_ack;	/* the ack that covers the client's FIN (client space) */
	__u32	fin_out_ack;	/* the ack that covers the backend's FIN (as the client sees it) */
	__u8	subset;
	__u8	tries;		/* SYNs sent to the backend */
	__u8	by_rule;	/* a rule chose the subset (else the weights) */
	__u8	stash_acked;	/* the backend has acked the first data */
	__u8	fin_in;		/* the client sent FIN ... */
	__u8	fin_out;	/* the backend sent FIN ... */
	__u8	fin_in_acked;	/* ... and the backend acked it */
	__u8	fin_out_acked;	/* ... and the client acked it */
};

/* Value of kanary_stash_v1: the client's first data, resent until acked. */
struct kanary_stash {
	__u32	len;
	__u32	pad;
	__u8	data[KANARY_HTTP_STASH];
};

/* Per-CPU, indexed by service id: why handoffs failed or fell back. */
struct kanary_ho_stats {
	__u64	backend_refused;	/* the backend answered the SYN with RST */
	__u64	backend_silent;		/* no SYN-ACK after KANARY_HO_SYN_TRIES SYNs */
	__u64	beyond_first_flight;	/* request head not complete in the first data: default route */
	__u64	stash_lost;		/* first data evicted before the backend took it */
	__u64	no_backend;		/* no subset could take the connection */
	__u64	state_lost;		/* packet of a rule-path connection with no state: reset */
};

_Static_assert(sizeof(struct kanary_ho_entry) == 64, "handoff entry layout");
_Static_assert(sizeof(struct kanary_stash) == 8 + KANARY_HTTP_STASH, "stash layout");
_Static_assert(sizeof(struct kanary_ho_stats) == 6 * 8, "handoff stats layout");

#endif /* KANARY_HANDOFF_H */
