/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The ABI shared by the BPF programs and userspace: map keys and values,
 * counters and limits.  Defined here once; both sides include this file.
 *
 * Every address is 16 bytes so that IPv6 can follow without a new map
 * layout.  IPv4 is stored v4-mapped (::ffff:a.b.c.d), with the IPv4
 * address in w[3].  Multi-byte fields named __be* are in network order.
 *
 * A change to any struct here changes a pinned map's layout: bump the
 * _v1 suffix of the affected map names so old and new pins can coexist.
 */
#ifndef KANARY_ABI_H
#define KANARY_ABI_H

#include <linux/types.h>

#define KANARY_MAX_SUBSETS		8
#define KANARY_MAX_BACKENDS		256	/* per subset */
#define KANARY_WEIGHT_SCALE		10000	/* shares are parts per 10,000 */
#define KANARY_WEIGHT_MILLI		1000	/* operator weights are kept x1000 */
#define KANARY_WEIGHT_MAX		1000000	/* an operator weight is 0 to this */
#define KANARY_WEIGHT_MAX_MILLI		((__u32)KANARY_WEIGHT_MAX * KANARY_WEIGHT_MILLI)
#define KANARY_NAME_LEN			64
#define KANARY_SUBSET_NAME_LEN		32

#define KANARY_DEFAULT_MAX_SERVICES	4096
#define KANARY_DEFAULT_CT_SIZE		262144
#define KANARY_DEFAULT_MAX_BACKENDS	65536	/* all services, both slots */

/*
 * Plain-path connections before their handshake completes, two entries
 * each, apart from the established ones so that a flood of SYNs evicts
 * only its own kind (docs/conntrack.md): an eighth of the conntrack size
 * (32,768 entries, 16,384 handshakes at the default).  A handshake
 * completes within a round trip, so this holds a legitimate one under a
 * flood of 16,384 SYNs per round trip.
 */
static inline __u32 kanary_ct_new_size(__u32 ct_size)
{
	return ct_size / 8 > 256 ? ct_size / 8 : 256;
}
/*
 * Points of a subset's Maglev table: prime, so that every skip walks the
 * whole table, and the largest prime whose table (4,032 bytes with its
 * padding) and the kernel's 64 bytes per hash element share one 4 KiB
 * allocation.  About 16 points per backend even at 256 backends.
 */
#define KANARY_MAGLEV_SIZE		4027

/* Pinned object names, under the pin path (default /sys/fs/bpf/kanary). */
#define KANARY_MAP_SERVICES	"kanary_svc_v1"
#define KANARY_MAP_CONFIGS	"kanary_cfg_v1"
#define KANARY_MAP_BACKENDS	"kanary_be_v1"
#define KANARY_MAP_MAGLEV	"kanary_mag_v1"
#define KANARY_MAP_CT		"kanary_ct_v3"
#define KANARY_MAP_CT_NEW	"kanary_ctnew_v1"
#define KANARY_MAP_STATS	"kanary_stat_v3"
#define KANARY_MAP_COUNTERS	"kanary_cnt_v4"
#define KANARY_MAP_GLOBALS	"kanary_glob_v1"
#define KANARY_PROG_INGRESS	"prog_ingress"
#define KANARY_PROG_EGRESS	"prog_egress"

/* tc filter identity used for every attachment, so it can be found again. */
#define KANARY_TC_HANDLE	0x4b41	/* "KA" */
#define KANARY_TC_PRIORITY	0x4b41

union kanary_addr {
	__u8	b[16];
	__be32	w[4];
};

/* Key of the service map: what a client dials. */
struct kanary_svc_key {
	union kanary_addr vip;
	__be16	port;
	__u8	proto;		/* IPPROTO_TCP */
	__u8	pad;
};

/*
 * Value of the service map: which of the service's two config slots is live.
 * Userspace writes a whole new configuration into the other slot, then
 * switches by rewriting this one entry, so a packet never sees half a change.
 */
struct kanary_svc_ref {
	__u32	id;		/* service id: index into stats, id*2+slot into configs */
	__u32	slot;		/* 0 or 1 */
};

struct kanary_subset {
	char	name[KANARY_SUBSET_NAME_LEN];
	__u32	weight_milli;	/* the operator's weight x1000, before normalising */
	__u32	n_backends;
};

/* One slot of a service's configuration. */
struct kanary_svc_config {
	char	name[KANARY_NAME_LEN];	/* empty: slot unused */
	struct kanary_svc_key key;
	__u32	n_subsets;
	__u32	generation;		/* bumped on every commit */
	/*
	 * Cumulative effective shares in parts per 10,000.  Subset i owns
	 * [cum_weight[i-1], cum_weight[i]).  A subset without backends has an
	 * empty range (its weight went to the others); cum_weight[n-1] is
	 * 10,000, or 0 when no subset can take a connection.
	 */
	__u32	cum_weight[KANARY_MAX_SUBSETS];
	struct kanary_subset subsets[KANARY_MAX_SUBSETS];
};

struct kanary_backend_key {
	__u32	svc_id;
	__u8	slot;
	__u8	subset;
	__u16	index;		/* 0 .. n_backends-1 */
};

struct kanary_backend {
	union kanary_addr addr;
	__be16	port;
	__u16	pad;
};

/* Key of a subset's Maglev table: the service, config slot and subset of its backends. */
struct kanary_maglev_key {
	__u32	svc_id;
	__u8	slot;
	__u8	subset;
	__u16	pad;
};

/*
 * A subset's Maglev table, built by userspace (user/lib/maglev.c) with its
 * backends: point i holds the index of the backend that owns it.  A flow
 * picks the point its hash lands on, so a backend added or removed moves
 * only about the flows of its share.
 */
struct kanary_maglev {
	__u8	backend[KANARY_MAGLEV_SIZE];	/* kanary_backend_key.index */
	__u8	pad[5];
};

enum kanary_ct_dir {
	KANARY_CT_FORWARD = 0,	/* client -> VIP, as the client sent it */
	KANARY_CT_REVERSE = 1,	/* backend -> client, as the backend sends it */
};

struct kanary_ct_key {
	union kanary_addr src;
	union kanary_addr dst;
	__be16	sport;
	__be16	dport;
	__u8	proto;
	__u8	dir;		/* enum kanary_ct_dir */
	__u16	pad;
};

enum kanary_ct_flags {
	KANARY_CT_F_CLOSING = 1 << 0,	/* client sent FIN or RST, or the backend sent RST */
	KANARY_CT_F_HANDOFF = 1 << 1,	/* reverse entry of a rule-path connection: see handoff.h */
	KANARY_CT_F_FIN = 1 << 2,	/* reverse entry: the backend sent its FIN (at its nxt) */
	KANARY_CT_F_SYN_TIMED = 1 << 3,	/* reverse entry: its SYN, sent again unanswered, is queued to expire */
	KANARY_CT_F_NEW = 1 << 4,	/* in kanary_ctnew_v1: its handshake has not completed */
	KANARY_CT_F_HAIRPIN = 1 << 5,	/* both entries: the client is its own backend (KANARY_HAIRPIN_V4) */
};

/*
 * Hairpin: a pod whose connection to a VIP is steered to itself.  Its SYN
 * would come back with the pod's own address as source, which the pod
 * drops as a martian, so the plain path also rewrites the source to this
 * address (Cilium's IPV4_LOOPBACK, link-local: never a pod's or a node's),
 * and the pod's replies to it, routed back to its host veth, are turned
 * into the VIP's (docs/datapath.md#hairpin).  169.254.42.1, host order.
 */
#define KANARY_HAIRPIN_V4	0xa9fe2a01u

/* Where a connection's HTTP/1.x exchange is (bpf/lib/exchange.h). */
enum kanary_xchg_phase {
	KANARY_XCHG_NEW = 0,	/* no client data yet */
	KANARY_XCHG_IDLE,	/* the client's next data starts a request */
	KANARY_XCHG_REQUEST,	/* a request sent; its response not begun */
	KANARY_XCHG_OFF,	/* not HTTP/1.x, or upgraded: TCP-level counts only */
};

/*
 * A connection's request/response exchange, as far as the datapath follows
 * it: the first bytes of each request and response, nothing in between.
 * On the canary path the client's side lives in the forward conntrack
 * entry and the backend's in the reverse one, so each direction reads only
 * the entry it already holds; the rule path keeps both in its handoff entry.
 */
struct kanary_xchg {
	__u64	req_ns;		/* backend side: the awaited request's first byte at tc; 0: none */
	__u32	cli_nxt;	/* client side: after the furthest byte of client data seen */
	__u32	srv_nxt;	/* backend side: the same for the backend's data */
	__u8	phase;		/* client side: enum kanary_xchg_phase */
	__u8	srv_known;	/* backend side: srv_nxt is set */
	__u8	mirror;		/* client side: the mirror subsets (bits) the current request is copied for */
	__u8	mirror_live;	/* backend side: the mirror subsets of the awaited request; 0: not mirrored */
	__u32	mirror_seq;	/* backend side: the awaited request's first client sequence number */
};

struct kanary_ct_entry {
	union kanary_addr addr;	/* forward: the backend; reverse: the VIP */
	__be16	port;		/* forward: backend port; reverse: service port */
	__u8	subset;
	__u8	flags;		/* enum kanary_ct_flags */
	__u32	svc_id;
	struct kanary_xchg xchg;
	/*
	 * RFC 5961 (bpf/lib/conntrack.h): this direction's sender, its next
	 * sequence number (after its furthest byte; SYN and FIN count one),
	 * written only by the program that sees this direction.
	 */
	__u32	nxt;
	__u8	nxt_known;	/* nxt is set (a reverse entry: by the SYN-ACK, or the client's ack mid-flow) */
	/*
	 * Forward entry: when the client last sent, in steps of 2^KANARY_CT_SEEN_SHIFT ns
	 * of CLOCK_MONOTONIC, mod 256: kanaryd's idle sweep reads it (ct_expiry.h).
	 * Was padding, so old pins read 0.
	 */
	__u8	seen;
	/*
	 * Forward entry: which expiry queued for it may delete it
	 * (bpf/lib/ct_expiry.h); 0: none.  Was padding, so old pins read 0.
	 */
	__u16	expiry_stamp;
};

/* Per-CPU, indexed by svc_id * KANARY_MAX_SUBSETS + subset. */
struct kanary_subset_stats {
	__u64	connections;	/* new connections steered to this subset */
	__u64	rule_connections;	/* of which by a dark-release rule */
	__u64	packets_in;	/* client -> service */
	__u64	packets_out;	/* service -> client */
	__u64	bytes_in;
	__u64	bytes_out;
	__u64	requests;	/* rule path: HTTP requests routed here, each on its own */
	__u64	rule_requests;	/* of which by a dark-release rule */
};

/* Per-CPU datapath counters, one array slot each. */
enum kanary_counter {
	KANARY_CNT_CT_NEW,		/* connections tracked from their SYN */
	KANARY_CNT_CT_REDERIVED,	/* mid-flow packet with no entry (evicted): backend re-derived */
	KANARY_CNT_CT_REUSED,		/* SYN on a closed tuple: backend chosen afresh */
	KANARY_CNT_NO_BACKEND,		/* service flow with no eligible subset: passed through */
	KANARY_CNT_CT_REV_REBUILT,	/* reverse entry lost (evicted, deleted): rebuilt from the forward one */
	KANARY_CNT_RST_INEXACT,		/* RST in the window, not at the expected sequence: state kept */
	KANARY_CNT_RST_OUTSIDE,		/* RST outside the window, or not acceptable: dropped */
	KANARY_CNT_SYN_ON_LIVE,		/* SYN with a new ISN on a live connection's tuple: state kept */
	KANARY_CNT_DRAINING,		/* client packet of a connection whose service is gone: kept on its backend */
	KANARY_CNT_CHALLENGE_LIMITED,	/* challenge ACK not sent: one went to the tuple less than KANARY_HO_CHALLENGE_MS ago */
	KANARY_CNT_CT_ENDED,		/* connection's entries deleted a linger after its close */
	KANARY_CNT_CT_HALF_OPEN,	/* connection's entries deleted, its SYN unanswered for the SYN timeout */
	KANARY_CNT_CT_EXPIRY_FULL,	/* connection not queued to expire (no room made, or the queue's lock busy): left to the LRU */
	KANARY_CNT_CT_SWEEPER_FAIL,	/* the expiry timer could not be set up (tried again at the next close) */
	KANARY_CNT_HO_COOKIE,		/* rule-path handshake whose evicted state its first data's cookie made again */
	KANARY_CNT_CT_ESTABLISHED,	/* handshake completed: its entries moved from kanary_ctnew_v1 to kanary_ct_v3 */
	KANARY_CNT_HO_SOURCE_LIMIT,	/* rule-path connection reset at its first data: its client address held its bound */
	KANARY_CNT_HO_SERVER_FIRST,	/* rule-path connection bound with no data, its client silent past the detection delay */
	KANARY_CNT_HO_DETECT_FULL,	/* rule-path handshake not queued for detection: kanary_hodet_v1 full */
	KANARY_CNT_CT_EXPIRED_EARLY,	/* connection's entries deleted before their linger or SYN timeout: its queue was full */
	KANARY_CNT__MAX,
};

/* Slots of kanary_cnt_v4: room for new counters without a new map. */
#define KANARY_CNT_SLOTS	32
_Static_assert(KANARY_CNT__MAX <= KANARY_CNT_SLOTS, "kanary_cnt_v4 has a slot per counter");

enum kanary_global_flags {
	KANARY_GLOBAL_F_NO_HTTP = 1 << 0,	/* no HTTP accounting (http_stats.h): kanaryctl load http-stats off */
};

struct kanary_globals {
	__u32	hash_seed;	/* per instance, chosen at first load, kept across reloads */
	__u32	flags;		/* enum kanary_global_flags; 0 in pins made before it existed */
};

#define KANARY_STATS_INDEX(svc_id, subset) ((svc_id) * KANARY_MAX_SUBSETS + (subset))

_Static_assert(sizeof(struct kanary_svc_key) == 20, "svc key layout");
_Static_assert(sizeof(struct kanary_svc_ref) == 8, "svc ref layout");
_Static_assert(sizeof(struct kanary_subset) == 40, "subset layout");
_Static_assert(sizeof(struct kanary_svc_config) == 64 + 20 + 8 + 32 + 8 * 40, "config layout");
_Static_assert(sizeof(struct kanary_backend_key) == 8, "backend key layout");
_Static_assert(sizeof(struct kanary_backend) == 20, "backend layout");
_Static_assert(sizeof(struct kanary_maglev_key) == 8, "maglev key layout");
_Static_assert(sizeof(struct kanary_maglev) == 4032, "maglev table layout");
_Static_assert(KANARY_MAX_BACKENDS <= 256, "a Maglev point holds a backend index in one byte");
_Static_assert(KANARY_MAGLEV_SIZE > KANARY_MAX_BACKENDS, "every backend gets a point");
_Static_assert(sizeof(struct kanary_ct_key) == 40, "ct key layout");
_Static_assert(sizeof(struct kanary_xchg) == 24, "exchange layout");
_Static_assert(sizeof(struct kanary_ct_entry) == 56, "ct entry layout");
_Static_assert(sizeof(struct kanary_subset_stats) == 64, "stats layout");
_Static_assert(sizeof(struct kanary_globals) == 8, "globals layout");

#endif /* KANARY_ABI_H */
