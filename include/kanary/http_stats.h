/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Per-subset HTTP/1.x figures, counted in the datapath on both paths: each
 * exchange once its response begins (or once the connection ends without
 * one), by status code, with the time from the request's first byte to the
 * response's first byte, both as seen at tc.  bpf/lib/exchange.h counts;
 * user/lib/http_stats.c reads.
 */
#ifndef KANARY_HTTP_STATS_H
#define KANARY_HTTP_STATS_H

#include <linux/types.h>

#define KANARY_MAP_HTTP_STATS	"kanary_http_v1"

/*
 * Status codes kept exactly; any other folds into its class, so that a
 * backend answering odd codes cannot grow the metrics' label set.
 */
#define KANARY_HTTP_CODES(X)						\
	X(200) X(201) X(202) X(204) X(206)				\
	X(301) X(302) X(304) X(307) X(308)				\
	X(400) X(401) X(403) X(404) X(405) X(408) X(409) X(410)		\
	X(413) X(422) X(429)						\
	X(500) X(501) X(502) X(503) X(504)

enum kanary_http_slot {
#define KANARY_HTTP_SLOT_ENUM(c) KANARY_HTTP_SLOT_##c,
	KANARY_HTTP_CODES(KANARY_HTTP_SLOT_ENUM)
#undef KANARY_HTTP_SLOT_ENUM
	KANARY_HTTP_SLOT_1XX,	/* then the classes, 1xx to 5xx, of the other codes */
	KANARY_HTTP_SLOT_CLASSES_END = KANARY_HTTP_SLOT_1XX + 5,
	KANARY_HTTP_SLOTS = 32,
};

/*
 * Latency histogram: the upper bounds of its buckets in microseconds,
 * 1-1.5-2-3-5-7 in each decade from 50 us to 60 s (each bucket at most
 * 1.67x the one before), then one for anything slower.
 */
#define KANARY_HTTP_LATENCY_BOUNDS_US(X)				\
	X(50) X(70)							\
	X(100) X(150) X(200) X(300) X(500) X(700)			\
	X(1000) X(1500) X(2000) X(3000) X(5000) X(7000)			\
	X(10000) X(15000) X(20000) X(30000) X(50000) X(70000)		\
	X(100000) X(150000) X(200000) X(300000) X(500000) X(700000)	\
	X(1000000) X(1500000) X(2000000) X(3000000) X(5000000) X(7000000) \
	X(10000000) X(15000000) X(20000000) X(30000000) X(50000000)	\
	X(60000000)

#define KANARY_HTTP_ONE(b) + 1
#define KANARY_HTTP_BOUNDS	(0 KANARY_HTTP_LATENCY_BOUNDS_US(KANARY_HTTP_ONE))
#define KANARY_HTTP_BUCKETS	40	/* KANARY_HTTP_BOUNDS, +Inf, one spare */

/* Value of kanary_http_v1, indexed by KANARY_STATS_INDEX(svc_id, subset); atomic adds. */
struct kanary_http_stats {
	__u64	requests;	/* exchanges ended: responses (every slot) + no_response */
	__u64	no_response;	/* the connection ended while a request awaited its response */
	__u64	other_conns;	/* connections whose first data was not an HTTP/1.x request */
	__u64	latency_sum_us;	/* of every response counted in latency[] */
	__u64	codes[KANARY_HTTP_SLOTS];	/* responses by enum kanary_http_slot */
	__u64	latency[KANARY_HTTP_BUCKETS];	/* responses by latency bucket */
};

_Static_assert(KANARY_HTTP_SLOT_CLASSES_END <= KANARY_HTTP_SLOTS, "codes[] holds every slot");
_Static_assert(KANARY_HTTP_BOUNDS + 1 <= KANARY_HTTP_BUCKETS, "latency[] holds every bucket");
_Static_assert(sizeof(struct kanary_http_stats) == (4 + 32 + 40) * 8, "http stats layout");

#endif /* KANARY_HTTP_STATS_H */
