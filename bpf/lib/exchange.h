/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * HTTP/1.x accounting, on both paths: an exchange is a request (client data
 * that starts with a method, when the connection is idle) and the response
 * that follows it (backend data that starts with a status line).  Only the
 * first bytes of each are read; what lies between passes untouched.  The
 * state is struct kanary_xchg (abi.h); the counts go to kanary_http_v1.
 *
 * Sequence numbers keep retransmissions from counting twice: an event is
 * taken only from data at or after the furthest byte seen of its direction
 * (nxt), and nxt moves on only over contiguous data, or to the end of a
 * segment that starts an event, so a segment that fills a hole (the lost
 * start of a request or response) is still seen when it comes again.
 * Pipelined requests (a request before the previous response) count as one.
 */
#ifndef KANARY_BPF_EXCHANGE_H
#define KANARY_BPF_EXCHANGE_H

#include "maps.h"
#include "parse.h"
#include "mirror_live.h"
#include "kanary/http_stats.h"

/* What a client segment means to the exchange. */
enum kanary_xchg_event {
	KANARY_XCHG_EV_NONE = 0,
	KANARY_XCHG_EV_REQUEST,	/* it starts a request: stamp the backend side */
	KANARY_XCHG_EV_OTHER,	/* the connection's first data is not HTTP/1.x */
	KANARY_XCHG_EV_ABORT,	/* the client reset while a request awaited its response */
};

/* The longest method token taken (OPTIONS, CONNECT, PROPFIND, ...). */
#define KANARY_HTTP_METHOD_MAX	10

/* Off (kanaryctl load http-stats off), no request starts, so nothing is counted. */
static __always_inline int kanary_http_on(void)
{
	const struct kanary_globals *g = kanary_globals();

	return !g || !(g->flags & KANARY_GLOBAL_F_NO_HTTP);
}

static __always_inline struct kanary_http_stats *kanary_http_stats(__u32 svc_id, __u8 subset)
{
	__u32 key = KANARY_STATS_INDEX(svc_id, subset);

	return bpf_map_lookup_elem(&kanary_http_v1, &key);
}

static __always_inline __u32 kanary_http_slot(__u32 code)
{
	switch (code) {
#define KANARY_HTTP_SLOT_CASE(c) case c: return KANARY_HTTP_SLOT_##c;
	KANARY_HTTP_CODES(KANARY_HTTP_SLOT_CASE)
#undef KANARY_HTTP_SLOT_CASE
	}
	return KANARY_HTTP_SLOT_1XX + code / 100 - 1;	/* code is 100..599 */
}

static __always_inline __u32 kanary_http_bucket(__u64 us)
{
	__u32 i = 0;

#define KANARY_HTTP_BUCKET_TEST(b) if (us <= (b)) return i; i++;
	KANARY_HTTP_LATENCY_BOUNDS_US(KANARY_HTTP_BUCKET_TEST)
#undef KANARY_HTTP_BUCKET_TEST
	return i;
}

/* A response began: one exchange, its code and its latency. */
static __always_inline void kanary_http_count_response(__u32 svc_id, __u8 subset, __u32 code,
						       __u64 req_ns)
{
	struct kanary_http_stats *st = kanary_http_stats(svc_id, subset);
	__u64 us = (bpf_ktime_get_ns() - req_ns) / 1000;
	__u32 b = kanary_http_bucket(us);

	if (!st)
		return;
	/* Bounds the verifier can see (KANARY_HTTP_BUCKETS is no power of two: no mask). */
	if (b >= KANARY_HTTP_BUCKETS)
		b = KANARY_HTTP_BUCKETS - 1;
	__sync_fetch_and_add(&st->requests, 1);
	__sync_fetch_and_add(&st->codes[kanary_http_slot(code) & (KANARY_HTTP_SLOTS - 1)], 1);
	__sync_fetch_and_add(&st->latency[b], 1);
	__sync_fetch_and_add(&st->latency_sum_us, us);
}

/* The connection ended while a request awaited its response. */
static __always_inline void kanary_http_count_lost(__u32 svc_id, __u8 subset)
{
	struct kanary_http_stats *st = kanary_http_stats(svc_id, subset);

	if (st) {
		__sync_fetch_and_add(&st->requests, 1);
		__sync_fetch_and_add(&st->no_response, 1);
	}
}

static __always_inline void kanary_http_count_other(__u32 svc_id, __u8 subset)
{
	struct kanary_http_stats *st = kanary_http_stats(svc_id, subset);

	if (st)
		__sync_fetch_and_add(&st->other_conns, 1);
}

static __always_inline __u32 kanary_payload_off(const struct kanary_pkt *p)
{
	return p->l4_off + p->tcp_hlen;
}

/*
 * p starts an HTTP/1.x request: an upper-case method token and a space.
 * "PRI " is the HTTP/2 preface, not a request.
 */
static __always_inline int kanary_http_request_start(struct __sk_buff *skb,
						     const struct kanary_pkt *p)
{
	__u8 b[KANARY_HTTP_METHOD_MAX + 2];

	if (p->payload_len < sizeof(b) ||
	    bpf_skb_load_bytes(skb, kanary_payload_off(p), b, sizeof(b)))
		return 0;
	if (b[0] == 'P' && b[1] == 'R' && b[2] == 'I' && b[3] == ' ')
		return 0;
	for (int i = 0; i < (int)sizeof(b); i++) {
		if (b[i] == ' ')
			return i > 0;
		if (b[i] < 'A' || b[i] > 'Z')
			return 0;
	}
	return 0;
}

/* p starts a response: "HTTP/1.x NNN".  Returns NNN (100-599), or 0. */
static __always_inline __u32 kanary_http_status(struct __sk_buff *skb, const struct kanary_pkt *p)
{
	__u8 b[12];
	__u32 code;

	if (p->payload_len < sizeof(b) ||
	    bpf_skb_load_bytes(skb, kanary_payload_off(p), b, sizeof(b)))
		return 0;
	if (b[0] != 'H' || b[1] != 'T' || b[2] != 'T' || b[3] != 'P' || b[4] != '/' ||
	    b[5] != '1' || b[6] != '.' || b[7] < '0' || b[7] > '9' || b[8] != ' ')
		return 0;
	if (b[9] < '1' || b[9] > '5' || b[10] < '0' || b[10] > '9' || b[11] < '0' || b[11] > '9')
		return 0;
	code = (b[9] - '0') * 100 + (b[10] - '0') * 10 + (b[11] - '0');
	return code;
}

/*
 * nxt after a segment [seq, end) of its direction: on over contiguous data,
 * or to end when the segment started an event.
 */
static __always_inline void kanary_xchg_advance(__u32 *nxt, __u32 seq, __u32 end, int started)
{
	if (started || (kanary_seq_geq(*nxt, seq) && kanary_seq_gt(end, *nxt)))
		*nxt = end;
}

/*
 * A client segment, seq in the client's space.  Returns what it means
 * (enum kanary_xchg_event); the caller stamps and counts.
 */
static __always_inline int kanary_xchg_client(struct __sk_buff *skb, const struct kanary_pkt *p,
					      struct kanary_xchg *x)
{
	__u8 phase = x->phase;
	int start = 0, on;

	if (p->rst)
		return phase == KANARY_XCHG_REQUEST ? KANARY_XCHG_EV_ABORT : KANARY_XCHG_EV_NONE;
	if (!p->payload_len || p->payload_len == KANARY_PAYLOAD_UNKNOWN ||
	    phase == KANARY_XCHG_OFF)
		return KANARY_XCHG_EV_NONE;
	/* The first data is the byte after the SYN: none other tells what the connection speaks. */
	if (phase == KANARY_XCHG_NEW && p->seq != x->cli_nxt)
		return KANARY_XCHG_EV_NONE;
	/*
	 * Off, the stream is still followed, so that turned on, the next
	 * request counts.  Asked only where a request may start: a request's
	 * body segments pay nothing for the switch.
	 */
	on = phase != KANARY_XCHG_REQUEST && kanary_seq_geq(p->seq, x->cli_nxt) && kanary_http_on();
	if (on)
		start = kanary_http_request_start(skb, p);
	kanary_xchg_advance(&x->cli_nxt, p->seq, p->seq + p->payload_len, start);
	if (start) {
		x->phase = KANARY_XCHG_REQUEST;
		return KANARY_XCHG_EV_REQUEST;
	}
	if (phase == KANARY_XCHG_NEW) {
		x->phase = on ? KANARY_XCHG_OFF : KANARY_XCHG_IDLE;
		return on ? KANARY_XCHG_EV_OTHER : KANARY_XCHG_EV_NONE;
	}
	return KANARY_XCHG_EV_NONE;
}

/* The backend side's stamp: when the request's first byte went by. */
static __always_inline void kanary_xchg_stamp(struct kanary_xchg *x)
{
	x->req_ns = bpf_ktime_get_ns() | 1;	/* never 0, which means none */
}

/* The backend's SYN-ACK: its data starts at seq + 1. */
static __always_inline void kanary_xchg_server_isn(struct kanary_xchg *x, __u32 isn)
{
	x->srv_nxt = isn + 1;
	x->srv_known = 1;
}

/*
 * A backend segment, seq in the client's space.  Returns the status code
 * when it starts the response awaited, else 0.  An interim response (1xx
 * but 101) is returned too and leaves the request awaited.
 */
static __always_inline __u32 kanary_xchg_server(struct __sk_buff *skb, const struct kanary_pkt *p,
						__u32 seq, struct kanary_xchg *x)
{
	__u32 code = 0;

	if (!p->payload_len || p->payload_len == KANARY_PAYLOAD_UNKNOWN)
		return 0;
	if (x->req_ns && (!x->srv_known || kanary_seq_geq(seq, x->srv_nxt)))
		code = kanary_http_status(skb, p);
	if (!x->srv_known) {
		x->srv_nxt = seq;
		x->srv_known = 1;
	}
	kanary_xchg_advance(&x->srv_nxt, seq, seq + p->payload_len, code != 0);
	return code;
}

/* An interim response: the final one is still to come. */
static __always_inline int kanary_http_interim(__u32 code)
{
	return code < 200 && code != 101;
}

/*
 * The response awaited by x began with code (not interim): count it under
 * the subset that answered and end the exchange.  Returns the client
 * side's next phase: after a 101 the connection speaks something else.
 */
static __always_inline __u8 kanary_xchg_answered(struct kanary_xchg *x, __u32 svc_id, __u8 subset,
						 __u32 code)
{
	kanary_http_count_response(svc_id, subset, code, x->req_ns);
	x->req_ns = 0;
	return code == 101 ? KANARY_XCHG_OFF : KANARY_XCHG_IDLE;
}

/* The connection ends: a request still awaited never got its response. */
static __always_inline void kanary_xchg_ended(struct kanary_xchg *x, __u32 svc_id, __u8 subset)
{
	x->mirror_live = 0;
	if (x->req_ns) {
		x->req_ns = 0;
		kanary_http_count_lost(svc_id, subset);
	}
}

/*
 * A backend segment at seq (client space), on both paths: counts the
 * response it starts, or the request its FIN or RST leaves unanswered.
 * Returns the client side's next phase when a response began, else -1;
 * where that side lives is the caller's.  With mirrors (a constant: the
 * canary path, the only one that mirrors), the response to a mirrored
 * request goes to the relay too (mirror_live.h); the rule path passes 0,
 * which keeps the call, and its stack, out of its deeper chain.
 */
static __always_inline int kanary_xchg_backend(struct __sk_buff *skb, const struct kanary_pkt *p,
					       __u32 seq, struct kanary_xchg *x, __u32 svc_id,
					       __u8 subset, int mirrors)
{
	__u32 code = kanary_xchg_server(skb, p, seq, x);
	int phase = -1;

	if (code && !kanary_http_interim(code)) {
		if (mirrors && x->mirror_live)
			kanary_mirror_live(p, x, svc_id, code);
		phase = kanary_xchg_answered(x, svc_id, subset, code);
	}
	if (p->fin || p->rst)
		kanary_xchg_ended(x, svc_id, subset);
	return phase;
}

#endif /* KANARY_BPF_EXCHANGE_H */
