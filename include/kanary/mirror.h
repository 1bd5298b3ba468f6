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
 * pod of the mirror subset and throws the answer away.  Nothing waits: a
 * full ring drops the copy, and the relay drops the request it belonged to.
 */
#ifndef KANARY_MIRROR_H
#define KANARY_MIRROR_H

#include <linux/types.h>
#include "kanary/abi.h"

/* Pinned names, under the pin path. */
#define KANARY_MAP_MIRROR	"kanary_mirror_v1"
#define KANARY_MAP_MIRROR_BUF	"kanary_mirbuf_v1"
#define KANARY_MAP_MIRROR_COPY	"kanary_mircopy_v1"
#define KANARY_MAP_MIRROR_RELAY	"kanary_mirrelay_v1"

/* A percentage is kept in parts per million: 100 % is this, 0.001 % is 10. */
#define KANARY_MIRROR_PPM_MAX	1000000
/* Bytes of payload per ring event: a segment of more goes as several. */
#define KANARY_MIRROR_CHUNK	1024
/* Events per segment at most (64 KiB, a GSO segment); a larger one is not copied. */
#define KANARY_MIRROR_CHUNKS	64
/* The ring's size in bytes (a power of 2). */
#define KANARY_MIRROR_RING	(8u << 20)

/*
 * Value of kanary_mirror_v1, keyed by service id (no entry: no mirror):
 * the share of the service's requests each subset gets a copy of.
 * ppm[i] is subset i's; 0: subset i is no mirror.  One draw per request
 * serves all, so a request mirrored at 5 % is also one of those at 10 %.
 */
struct kanary_mirror_cfg {
	__u32	ppm[KANARY_MAX_SUBSETS];
};

enum kanary_mirror_ev_flags {
	KANARY_MIRROR_EV_START = 1 << 0,	/* the payload starts a drawn request at seq */
};

/* One ring event: a header, then len bytes of client payload. */
struct kanary_mirror_event {
	union kanary_addr client;	/* the client's address ... */
	__be16	client_port;		/* ... and port: with svc_id, the connection */
	__u8	flags;			/* enum kanary_mirror_ev_flags */
	__u8	subsets;		/* bit i: mirror subset i gets this request */
	__u32	svc_id;
	__u32	seq;			/* the client's sequence number of the first byte */
	__u32	len;			/* payload bytes after this header, 1 .. KANARY_MIRROR_CHUNK */
};

/* Per-CPU, keyed by service id: what the copy path did. */
struct kanary_mirror_copy_stats {
	__u64	requests;	/* requests drawn and their first segment copied */
	__u64	events;		/* ring events written */
	__u64	bytes;		/* payload bytes copied */
	__u64	ring_full;	/* segments lost because the ring was full: their request is lost */
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
	__u64	pad[4];	/* room for the comparison with the live answers (issue 11) */
};

_Static_assert(sizeof(struct kanary_mirror_cfg) == 4 * KANARY_MAX_SUBSETS, "mirror cfg layout");
_Static_assert(sizeof(struct kanary_mirror_event) == 32, "mirror event layout");
_Static_assert(sizeof(struct kanary_mirror_copy_stats) == 5 * 8, "mirror copy stats layout");
_Static_assert(sizeof(struct kanary_mirror_relay_stats) == 16 * 8, "mirror relay stats layout");
_Static_assert(KANARY_MAX_SUBSETS <= 8, "a request's mirror subsets fit in a byte");

#endif /* KANARY_MIRROR_H */
