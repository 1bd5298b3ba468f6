/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The ABI of the rule path (the dark-release handoff): how a connection to a
 * service with rules is held while the datapath reads each request, and what
 * it counts.  bpf/lib/handoff.h is the state machine; docs/per-request.md
 * draws it.
 *
 * A connection on the rule path has one entry in kanary_ho_v4, keyed by its
 * forward conntrack key (client -> VIP), and once a backend is chosen a
 * reverse entry in kanary_ct_v3 flagged KANARY_CT_F_HANDOFF, so replies
 * find it.  While a backend has not acknowledged the request it was opened
 * for, that request waits in kanary_stash_v1 under the same key.
 *
 * One client connection, one or more backend connections ("legs") over its
 * life, one at a time.  Each leg opens with a SYN whose ISN is the client
 * sequence just before the request it carries, so the client's sequence
 * numbers go to every backend unchanged; only the backend's side moves:
 * backend seq + delta = the seq the client sees, and the client's acks get
 * delta taken off.  Sequence numbers are host order here.  Timestamps, SACK,
 * window scaling, ECN and TFO are stripped at the handshakes on both sides,
 * so nothing else needs changing.
 */
#ifndef KANARY_HANDOFF_H
#define KANARY_HANDOFF_H

#include <linux/types.h>
#include "kanary/abi.h"
#include "kanary/rules.h"

#define KANARY_MAP_HANDOFF	"kanary_ho_v4"
#define KANARY_MAP_HANDSHAKE	"kanary_hosyn_v1"
#define KANARY_MAP_STASH	"kanary_stash_v1"
#define KANARY_MAP_HO_STATS	"kanary_hostat_v2"
#define KANARY_MAP_HO_SOURCES	"kanary_hosrc_v1"
#define KANARY_MAP_HO_SETTINGS	"kanary_hocfg_v1"
#define KANARY_MAP_HO_DETECT	"kanary_hodet_v1"

/*
 * Rule-path connections tracked per node: a quarter of the conntrack size
 * (128 bytes of state each, about 14 MiB at the default with the keys and
 * the map's own overhead), as only services with rules take the handoff.
 */
static inline __u32 kanary_handoff_size(__u32 ct_size)
{
	return ct_size / 4 > 1024 ? ct_size / 4 : 1024;
}

/*
 * Rule-path handshakes not yet followed by data, apart from the bound
 * connections so that a flood of them evicts only its own kind: a
 * client's data follows its handshake within a round trip, so a sixteenth
 * of the conntrack size (16,384 at the default) holds a legitimate one
 * for long under any flood a node can carry.
 */
static inline __u32 kanary_handshake_size(__u32 ct_size)
{
	return ct_size / 16 > 1024 ? ct_size / 16 : 1024;
}

/*
 * Bound rule-path connections one client address may hold on a node, by
 * default: an eighth of the handoff table (8,192 at the default), so that
 * no pod, by holding connections open, can fill the table and have the LRU
 * evict its neighbours' (docs/conntrack.md, "Per-source bound").  A
 * gateway that legitimately holds more (every client behind one SNAT
 * address) needs it raised, or off.
 */
static inline __u32 kanary_ho_per_source_default(__u32 handoff_size)
{
	return handoff_size / 8 > 1 ? handoff_size / 8 : 1;
}
/* kanary_ho_settings.per_source: no bound. */
#define KANARY_HO_PER_SOURCE_OFF	0xffffffffu
/*
 * Client addresses with a count of bound connections: an LRU, so an
 * address that holds none for long gives its slot up; one evicted while it
 * holds some starts again from zero (the bound loosens, never tightens).
 */
#define KANARY_HO_SOURCES		16384

/* Slot 0 of kanary_hocfg_v1: the rule path's settings in force. */
struct kanary_ho_settings {
	__u32	per_source;	/* bound connections per client address; KANARY_HO_PER_SOURCE_OFF: none */
	__u32	reserved;
};

/*
 * Server-first detection (docs/conntrack.md, "Server-first protocols on a
 * rule port").  A client that completes its handshake and sends nothing
 * may be waiting for the server to speak first (MySQL, SMTP): the
 * handshake's ACK is queued here, and kanaryd, the datapath's timer, sends
 * it back KANARY_HO_DETECT_MS later, marked (KANARY_MARK_DETECT) and out
 * of the client's own veth, which reflects it to its ingress.  If the
 * client still has sent nothing, the connection is bound there by the
 * weights, as a connection with no request: the server's greeting reaches
 * the client, and whatever the client sends then is routed as a next
 * request is.  A mark never crosses a network namespace, so no pod can
 * send one.  A SYN to the backend that is not answered is sent again each
 * time kanaryd sends the mark again (KANARY_HO_DETECT_RETRY_MS).
 */
#define KANARY_HO_DETECT_MS		100
#define KANARY_HO_DETECT_RETRY_MS	1000
#define KANARY_MARK_DETECT		0x6b6e7964u	/* "kndy" */

/* A value of kanary_hodet_v1 (a FIFO): a handshake's ACK, as kanaryd sends it back. */
struct kanary_ho_detect {
	struct kanary_ct_key key;	/* the connection (client -> VIP) */
	__u64	acked_ns;		/* when its ACK came (CLOCK_MONOTONIC) */
	__u32	ifindex;		/* the client's host veth */
	__u32	seq;			/* the ACK's: the client's ISN + 1 */
	__u32	ack_seq;		/* our ISN + 1 */
	__u16	window;			/* the client's */
	__u8	smac[6];		/* the ACK's MACs, for the frame sent back */
	__u8	dmac[6];
	__u8	pad[6];
};

/* Handshakes awaiting detection per node: a queue as long as the handshakes' table. */
static inline __u32 kanary_ho_detect_size(__u32 ct_size)
{
	return kanary_handshake_size(ct_size);
}

/* Connections between the first data and the backend's ack of it, per node. */
#define KANARY_DEFAULT_STASH_SLOTS	4096
/*
 * SYNs sent to a backend (one per client retransmission) before giving up:
 * about 12.6 s at the client's 200 ms minimum RTO, as many as Linux's
 * tcp_syn_retries, so that a few lost SYNs or SYN-ACKs (the backend sends
 * those again after 1, 3 and 7 s) do not reset a client on a lossy path.
 */
#define KANARY_HO_SYN_TRIES		6
/*
 * At most one challenge ACK per connection in this time, as Linux's
 * tcp_invalid_ratelimit: a pod spoofing SYNs on a neighbour's handshake
 * cannot turn kanary into a flood of ACKs aimed at that neighbour.
 */
#define KANARY_HO_CHALLENGE_MS		500

enum kanary_ho_state {
	KANARY_HO_SYN_RCVD = 1,	/* our SYN-ACK sent; waiting for the first data */
	KANARY_HO_SYN_SENT,	/* backend chosen; SYN sent to it (a leg opening) */
	KANARY_HO_BINDING,	/* one CPU is turning the backend's SYN-ACK into the stash */
	KANARY_HO_ESTABLISHED,	/* translating both ways */
	KANARY_HO_CLOSED,	/* one CPU won the teardown (compare-and-swap) and forgets it */
};

/* What the datapath knows of the response to the current request. */
enum kanary_ho_resp {
	KANARY_HO_RESP_WAIT = 0,	/* no byte of it yet */
	KANARY_HO_RESP_LENGTH,		/* framed: it ends at resp_end */
	KANARY_HO_RESP_CHUNKED,		/* chunked: it ends with the last chunk */
	KANARY_HO_RESP_DONE,		/* complete */
};

/*
 * Why a connection stays on the backend it has (kanary_ho_entry.pinned);
 * each is counted in struct kanary_ho_stats.  Once pinned, always pinned:
 * the datapath stops following the requests' framing.
 */
enum kanary_ho_pin {
	KANARY_HO_PIN_NONE = 0,
	KANARY_HO_PIN_PIPELINED,	/* a request before the previous exchange was complete */
	KANARY_HO_PIN_HEAD_SPLIT,	/* a request head not within one segment */
	KANARY_HO_PIN_LARGE,		/* a request segment larger than the stash */
	KANARY_HO_PIN_CHUNKED,		/* a chunked (or otherwise unframed) request body */
	KANARY_HO_PIN_HTTP2,		/* the HTTP/2 preface */
	KANARY_HO_PIN_NOT_HTTP,		/* not an HTTP/1.x request, or an upgrade (101) */
	KANARY_HO_PIN_UNFRAMED,		/* a response whose end only the close tells */
};

/*
 * Value of kanary_ho_v4.  Ingress and egress may run at once on two CPUs:
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
	/* Per request; every sequence number here is in the client's space. */
	__u32	leg_isn;	/* the ISN our SYN to the current backend carried */
	__u32	delta;		/* current leg: backend seq + delta = the client's view */
	__u32	req_end;	/* the end of the current request: the next starts here */
	__u32	resp_start;	/* the first byte of the current response */
	__u32	resp_end;	/* its end, when framed by length (KANARY_HO_RESP_LENGTH) */
	__u32	srv_nxt;	/* after the last byte the backend sent */
	__u8	nxt_last_chunk;	/* the segment that ended at srv_nxt ended a chunked body */
	__u8	route;		/* the current request's: 0 the split, else 1 + the rule's index */
	__u8	mirror_draw;	/* the request at xchg.mirror_seq awaits its route for the mirror draw */
	__u8	detect_queued;	/* its handshake's ACK is in kanary_hodet_v1 (server-first detection) */
	__u8	resp;		/* enum kanary_ho_resp */
	__u8	pinned;		/* enum kanary_ho_pin */
	__u8	head_req;	/* the current request is a HEAD: its response has no body */
	__u8	legs;		/* backend connections opened, saturating at 255 */
	struct kanary_xchg xchg;	/* both sides of the HTTP accounting (http_stats.h) */
	__u32	cli_nxt;	/* the client's next sequence number (RFC 5961, conntrack.h) */
	__u32	challenged_ms;	/* when kanary last sent the client a challenge ACK (coarse clock, ms) */
};

/*
 * Value of kanary_stash_v1: the request a leg opens with (the client's
 * first data, with every in-window segment that follows it before the
 * backend answers), resent until acked.
 */
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
	__u64	switches;		/* requests moved to another backend: legs opened after the first */
	__u64	switch_failed;		/* a later leg refused or silent: the client was reset */
	/*
	 * Requests that could not be routed on their own, by enum
	 * kanary_ho_pin (0 unused): for every reason but LARGE the first
	 * such request of a connection, which then stays pinned.
	 */
	__u64	pinned[8];
};

_Static_assert(sizeof(struct kanary_ho_entry) == 128, "handoff entry layout");
_Static_assert(KANARY_HO_PIN_UNFRAMED < 8, "pinned[] holds every reason");
_Static_assert(sizeof(struct kanary_stash) == 8 + KANARY_HTTP_STASH, "stash layout");
_Static_assert(sizeof(struct kanary_ho_stats) == 16 * 8, "handoff stats layout");
_Static_assert(sizeof(struct kanary_ho_settings) == 8, "handoff settings layout");
_Static_assert(sizeof(struct kanary_ho_detect) % 8 == 0, "detect entry layout");

#endif /* KANARY_HANDOFF_H */
