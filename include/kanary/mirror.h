/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Traffic mirroring (docs/mirror.md): the ABI between the datapath's copy
 * path (bpf/lib/mirror.h), the relay (user/mirror) and kanaryctl.
 *
 * The datapath only copies.  On the canary path, where it already frames
 * each HTTP/1.x request's start (bpf/lib/exchange.h), it draws per request
 * whether the request is mirrored; from a drawn request's first segment to
 * the next request's start, every client segment's payload goes to the
 * ring buffer kanary_mirbuf_v1 as events, each with its TCP sequence
 * number.  The relay rebuilds the request from them, sends it whole to a
 * pod of the mirror subset and reads its status line.  Nothing waits: a
 * full ring drops the copy, and the relay drops the request it belonged to.
 *
 * The comparison: when the live response to a mirrored request begins,
 * the datapath writes a LIVE event (its status and latency) to the same
 * ring; the relay pairs it with the mirror's answer to the same request
 * (the connection and the request's first sequence number) and counts
 * agreement and both latencies per mirror subset, and the disagreements
 * in kanary_mirdiff_v1.
 */
#ifndef KANARY_MIRROR_H
#define KANARY_MIRROR_H

#include <linux/types.h>
#include "kanary/abi.h"
#include "kanary/http_stats.h"
#include "kanary/rules.h"

/* Pinned names, under the pin path. */
#define KANARY_MAP_MIRROR	"kanary_mirror_v2"	/* v2: shares per route */
#define KANARY_MAP_MIRROR_BUF	"kanary_mirbuf_v1"
#define KANARY_MAP_MIRROR_COPY	"kanary_mircopy_v1"
#define KANARY_MAP_MIRROR_RELAY	"kanary_mirrelay_v3"	/* v3: connects */
#define KANARY_MAP_MIRROR_DIFF	"kanary_mirdiff_v1"

/* A percentage is kept in parts per million: 100 % is this, 0.001 % is 10. */
#define KANARY_MIRROR_PPM_MAX	1000000
/* Bytes of payload per ring event: a segment of more goes as several. */
#define KANARY_MIRROR_CHUNK	1024
/* Events per segment at most (64 KiB, a GSO segment); a larger one is not copied. */
#define KANARY_MIRROR_CHUNKS	64
/* The ring's size in bytes (a power of 2). */
#define KANARY_MIRROR_RING	(8u << 20)
/*
 * The datapath wakes the relay at most once per this many ms on each CPU:
 * a wakeup costs the live packet an interrupt on its CPU and one to the
 * relay's, so one per request took a tenth of a saturated live CPU.  The
 * relay, while events come, looks at the ring again within this.
 */
#define KANARY_MIRROR_WAKE_MS	1

/*
 * Value of kanary_mirror_v2, keyed by service id (no entry: no mirror):
 * the share of the service's requests each subset gets a copy of, per
 * route, as Istio scopes a route's mirror to the requests that route
 * took.  ppm[i] is subset i's share of the requests the weighted split
 * routes: all of them on the canary path, and on the rule path those no
 * rule routed.  rule_ppm[r][i] is its share of the requests rule r of
 * kanary_rules_v1 routed.  0: subset i is no mirror there.  The draw is
 * made once a request is routed, one per request: a request mirrored at
 * 5 % is also one of those at 10 %.
 */
struct kanary_mirror_cfg {
	__u32	ppm[KANARY_MAX_SUBSETS];
	__u32	rule_ppm[KANARY_RULES_MAX][KANARY_MAX_SUBSETS];
};

/* The route a request took, as the draw reads it: a rule's index, or this. */
#define KANARY_MIRROR_ROUTE_SPLIT	0xff

enum kanary_mirror_ev_flags {
	KANARY_MIRROR_EV_START = 1 << 0,	/* the payload starts a drawn request at seq */
	KANARY_MIRROR_EV_LIVE  = 1 << 1,	/* the live response to the request that started at seq */
};

/*
 * One ring event: a header, then len bytes of client payload.  A LIVE
 * event has len 0 (a relay that does not know it skips it) and is
 * followed by struct kanary_mirror_live; subsets are the request's.
 */
struct kanary_mirror_event {
	union kanary_addr client;	/* the client's address ... */
	__be16	client_port;		/* ... and port: with svc_id, the connection */
	__u8	flags;			/* enum kanary_mirror_ev_flags */
	__u8	subsets;		/* bit i: mirror subset i gets this request */
	__u32	svc_id;
	__u32	seq;			/* the client's sequence number of the first byte */
	__u32	len;			/* payload bytes after this header, 1 .. KANARY_MIRROR_CHUNK */
};

/* After a LIVE event's header: how the live backend answered. */
struct kanary_mirror_live {
	__u32	status;		/* the response's status code, 100-599 (never an interim 1xx) */
	__u32	latency_us;	/* request's first byte to response's first byte, at tc */
};

/* Per-CPU, keyed by service id: what the copy path did. */
struct kanary_mirror_copy_stats {
	__u64	requests;	/* requests drawn and their first segment copied */
	__u64	events;		/* ring events written */
	__u64	bytes;		/* payload bytes copied */
	__u64	ring_full;	/* segments (their request is lost) or LIVE events lost: the ring was full */
	__u64	too_big;	/* segments over KANARY_MIRROR_CHUNKS chunks: their request is lost */
};

/* Why the relay dropped a request (indices into relay_stats.dropped). */
enum kanary_mirror_drop {
	KANARY_MIRROR_DROP_INCOMPLETE,	/* a segment never came (ring full, too big, relay restarted) */
	KANARY_MIRROR_DROP_TOO_LARGE,	/* head or body over the relay's limit */
	KANARY_MIRROR_DROP_UNFRAMED,	/* no Content-Length framing (chunked) or a malformed head */
	KANARY_MIRROR_DROP_NO_BACKEND,	/* the mirror subset has no backend */
	KANARY_MIRROR_DROP_BUSY,	/* the relay's memory or connection limit was reached */
	KANARY_MIRROR_DROP__MAX,
};

/*
 * Keyed by KANARY_STATS_INDEX(svc_id, mirror subset), written only by the
 * relay (read, add, write back), so its counts outlive its restarts.
 */
struct kanary_mirror_relay_stats {
	__u64	sent;		/* requests written whole to a mirror pod */
	__u64	responses[5];	/* mirror answers by class: 1xx .. 5xx */
	__u64	errors;		/* connection refused, reset or timed out, or no status line */
	__u64	dropped[KANARY_MIRROR_DROP__MAX];
	/* The comparison: requests whose live and mirror answers were paired. */
	__u64	agree;		/* both answers in the same class (2xx and 2xx, ...) */
	__u64	differ;		/* different classes, or the mirror failed (errors) */
	__u64	unpaired;	/* sent, but one side never seen in time, or the pair table full */
	__u64	live_latency_sum_us;	/* the sums of the two histograms, for /metrics */
	__u64	mirror_latency_sum_us;
	/* Latency of both sides of each pair the mirror answered (KANARY_HTTP_LATENCY_BOUNDS_US). */
	__u64	live_latency[KANARY_HTTP_BUCKETS];
	__u64	mirror_latency[KANARY_HTTP_BUCKETS];	/* first byte sent to the answer's head read */
	__u64	connects;	/* connections opened to the mirror's pods (kept alive: far fewer than sent) */
};

/* Longest method and path kept for a disagreement; longer ones are cut. */
#define KANARY_MIRROR_DIFF_METHOD	12
#define KANARY_MIRROR_DIFF_PATH		100
#define KANARY_MIRROR_DIFF_ENTRIES	4096

/*
 * Key of kanary_mirdiff_v1 (LRU hash; value: __u64 count), written only by
 * the relay: one kind of disagreement.  Strings NUL-padded; mirror_status
 * 0 is an error (no answer).
 */
struct kanary_mirror_diff_key {
	__u32	svc_id;
	__u8	subset;		/* the mirror subset */
	__u8	pad;
	__u16	live_status;
	__u16	mirror_status;
	__u16	pad2;
	char	method[KANARY_MIRROR_DIFF_METHOD];
	char	path[KANARY_MIRROR_DIFF_PATH];
};

_Static_assert(sizeof(struct kanary_mirror_cfg) == 4 * KANARY_MAX_SUBSETS * (1 + KANARY_RULES_MAX),
	       "mirror cfg layout");
_Static_assert(KANARY_RULES_MAX < KANARY_MIRROR_ROUTE_SPLIT, "a rule's index is no route split");
_Static_assert(sizeof(struct kanary_mirror_event) == 32, "mirror event layout");
_Static_assert(sizeof(struct kanary_mirror_copy_stats) == 5 * 8, "mirror copy stats layout");
_Static_assert(sizeof(struct kanary_mirror_live) == 8, "mirror live layout");
_Static_assert(sizeof(struct kanary_mirror_relay_stats) == (18 + 2 * KANARY_HTTP_BUCKETS) * 8,
	       "mirror relay stats layout");
_Static_assert(sizeof(struct kanary_mirror_diff_key) == 12 + KANARY_MIRROR_DIFF_METHOD +
	       KANARY_MIRROR_DIFF_PATH, "mirror diff key layout");
_Static_assert(KANARY_MAX_SUBSETS <= 8, "a request's mirror subsets fit in a byte");

#endif /* KANARY_MIRROR_H */
