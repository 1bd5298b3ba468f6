// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The copy path of traffic mirroring (bpf/lib/mirror.h) on crafted
 * segments, read back from the ring as the relay reads it: a drawn
 * request's segments whole, in chunks, with their sequence numbers and a
 * START on the first; retransmissions copied again but never as a START;
 * nothing without a mirror; the draw's share; the IP length, not the
 * frame's, bounding a copy; a full ring that loses the copy, counted,
 * while every live segment still goes through untouched but for the NAT;
 * and the copies of one CPU waking a reader at most once per
 * KANARY_MIRROR_WAKE_MS, the others left in the ring for its next look.
 * The comparison's live side (bpf/lib/mirror_live.h): one LIVE event per
 * mirrored request, when its final response begins, with the request's
 * first sequence number, the status and the latency; none for a request
 * not mirrored, an interim response, or a connection ended unanswered.
 */
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "fixture.h"
#include "canary_conv.h"
#include "handoff_conn.h"
#include "suites.h"

#define MAX_EVENTS	64

struct seen {
	int n;
	struct kanary_mirror_event ev[MAX_EVENTS];
	__u8 data[MAX_EVENTS][KANARY_MIRROR_CHUNK];
	size_t size[MAX_EVENTS];
};

static __u32 svc_id;
static int shadow;	/* the mirror subset's index */

/* The test service: s0 takes every connection, s1 (weight 0) is the mirror. */
static void mirror_service(void)
{
	static const __u32 w[] = { 100000, 0 };
	static const int nb[] = { 1, 1 };

	svc_id = kt_service_create(KT_SVC, KT_VIP, KT_VPORT, 2, w, nb);
	shadow = kt_subset_idx(KT_SVC, 1);
}

static void mirror_set(const char *percent)
{
	struct kanary_err e = { 0 };
	__u32 ppm;

	ck_assert_msg(kanary_parse_percent(percent, &ppm, &e) == 0, "%s", e.msg);
	ck_assert_msg(kanary_mirror_set(&kt.maps, KT_SVC, "s1", KANARY_MIRROR_SPLIT, ppm, &e) == 0,
		      "%s", e.msg);
}

/* The service mirrored at percent, and connection 0 to it. */
static struct conv mirrored_conn(const char *percent)
{
	mirror_service();
	mirror_set(percent);
	return conv_connect(0);
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct seen *s = ctx;

	ck_assert_int_ge(size, sizeof(struct kanary_mirror_event));
	ck_assert_int_lt(s->n, MAX_EVENTS);
	memcpy(&s->ev[s->n], data, sizeof(s->ev[0]));
	ck_assert_uint_le(size - sizeof(s->ev[0]), KANARY_MIRROR_CHUNK);
	memcpy(s->data[s->n], (__u8 *)data + sizeof(s->ev[0]), size - sizeof(s->ev[0]));
	s->size[s->n++] = size;
	return 0;
}

/* Every event the ring holds now, in order. */
static void drain(struct seen *s)
{
	struct ring_buffer *rb = ring_buffer__new(kt.maps.mirror_buf, on_event, s, NULL);

	memset(s, 0, sizeof(*s));
	ck_assert_ptr_nonnull(rb);
	ck_assert_int_ge(ring_buffer__consume(rb), 0);
	ring_buffer__free(rb);
}

static struct kanary_mirror_copy_stats copy_stats(void)
{
	struct kanary_mirror_copy_stats st;
	struct kanary_err e = { 0 };

	ck_assert_msg(kanary_mirror_copy_stats_read(&kt.maps, svc_id, &st, &e) == 0, "%s", e.msg);
	return st;
}

/* Event i is len bytes of data at seq of connection f, with flags. */
static void expect_event(const struct seen *s, int i, const struct kt_flow *f, __u32 seq,
			 __u8 flags, const void *data, __u32 len)
{
	const struct kanary_mirror_event *ev = &s->ev[i];

	ck_assert_int_gt(s->n, i);
	ck_assert_uint_eq(ev->svc_id, svc_id);
	ck_assert_uint_eq(ev->client.w[3], htonl(f->client));
	ck_assert_uint_eq(ev->client.w[2], htonl(0xffff));
	ck_assert_uint_eq(ntohs(ev->client_port), f->cport);
	ck_assert_uint_eq(ev->subsets, 1u << shadow);
	ck_assert_uint_eq(ev->flags, flags);
	ck_assert_uint_eq(ev->seq, seq);
	ck_assert_uint_eq(ev->len, len);
	ck_assert_uint_eq(s->size[i], sizeof(*ev) + len);
	ck_assert_int_eq(memcmp(s->data[i], data, len), 0);
}

static const char post_head[] =
	"POST /p HTTP/1.1\r\nHost: web\r\nContent-Length: 1500\r\n\r\n";
static const char get_a[] = "GET /a HTTP/1.1\r\nHost: web\r\n\r\n";
static const char ok_200[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

START_TEST(drawn_request_copied_whole_in_chunks)
{
	__u8 body[1500];
	struct kanary_mirror_copy_stats st;
	struct seen s;
	struct conv c;
	__u32 start;

	c = mirrored_conn("100");
	for (size_t i = 0; i < sizeof(body); i++)
		body[i] = (__u8)(i * 7 + 3);
	start = c.cnxt;
	client(&c, post_head);
	client_at(&c, c.cnxt, TF_PSH, body, sizeof(body));
	drain(&s);
	ck_assert_int_eq(s.n, 3);
	expect_event(&s, 0, &c.f, start, KANARY_MIRROR_EV_START, post_head, strlen(post_head));
	expect_event(&s, 1, &c.f, start + strlen(post_head), 0, body, KANARY_MIRROR_CHUNK);
	expect_event(&s, 2, &c.f, start + strlen(post_head) + KANARY_MIRROR_CHUNK, 0,
		     body + KANARY_MIRROR_CHUNK, sizeof(body) - KANARY_MIRROR_CHUNK);
	st = copy_stats();
	ck_assert_uint_eq(st.requests, 1);
	ck_assert_uint_eq(st.events, 3);
	ck_assert_uint_eq(st.bytes, strlen(post_head) + sizeof(body));
	ck_assert_uint_eq(st.ring_full + st.too_big, 0);

	/* The next request on the connection is drawn on its own: a START again. */
	backend(&c, ok_200);
	start = c.cnxt;
	client(&c, get_a);
	drain(&s);
	ck_assert_int_eq(s.n, 2);
	ck_assert_uint_eq(s.ev[0].flags, KANARY_MIRROR_EV_LIVE);	/* the POST's answer */
	expect_event(&s, 1, &c.f, start, KANARY_MIRROR_EV_START, get_a, strlen(get_a));
	ck_assert_uint_eq(copy_stats().requests, 2);
}
END_TEST

START_TEST(retransmission_copied_again_but_never_a_start)
{
	struct seen s;
	struct conv c;
	__u32 start;

	c = mirrored_conn("100");
	start = c.cnxt;
	client(&c, post_head);
	client_at(&c, start, TF_PSH, post_head, strlen(post_head));
	drain(&s);
	ck_assert_int_eq(s.n, 2);
	expect_event(&s, 0, &c.f, start, KANARY_MIRROR_EV_START, post_head, strlen(post_head));
	expect_event(&s, 1, &c.f, start, 0, post_head, strlen(post_head));
	ck_assert_uint_eq(copy_stats().requests, 1);
}
END_TEST

START_TEST(no_mirror_nothing_copied)
{
	struct kanary_err e = { 0 };
	struct seen s;
	struct conv c;

	mirror_service();
	c = conv_connect(0);
	client(&c, get_a);
	backend(&c, ok_200);
	mirror_set("100");
	ck_assert_msg(kanary_mirror_del(&kt.maps, KT_SVC, NULL, KANARY_MIRROR_EVERY_ROUTE, &e) == 0,
		      "%s", e.msg);
	client(&c, get_a);
	drain(&s);
	ck_assert_int_eq(s.n, 0);
	ck_assert_uint_eq(copy_stats().requests, 0);
}
END_TEST

START_TEST(draw_takes_the_share)
{
	const int n = 600;
	int starts = 0;
	struct seen s;

	mirror_service();
	mirror_set("30");
	for (int i = 0; i < n; i++) {
		struct conv c = conv_connect(i);

		client(&c, get_a);
		drain(&s);
		for (int k = 0; k < s.n; k++)
			starts += !!(s.ev[k].flags & KANARY_MIRROR_EV_START);
	}
	/* Binomial(600, 0.3): mean 180, sd 11.2; +-30 is 2.7 sd. */
	ck_assert_int_ge(starts, 150);
	ck_assert_int_le(starts, 210);
	ck_assert_uint_eq(copy_stats().requests, (__u64)starts);
}
END_TEST

START_TEST(padding_after_the_ip_payload_not_copied)
{
	struct tcp4_spec sp;
	struct pkt in, out;
	struct seen s;
	struct conv c;

	c = mirrored_conn("100");
	sp = (struct tcp4_spec){ .saddr = c.f.client, .daddr = c.f.vip, .sport = c.f.cport,
				 .dport = c.f.vport, .flags = TF_ACK | TF_PSH, .seq = c.cnxt,
				 .ack = c.snxt, .payload = get_a, .payload_len = strlen(get_a) };
	pkt_tcp4(&in, &sp);
	memset(in.data + in.len, 'X', 16);	/* a frame longer than its IP packet */
	in.len += 16;
	kt_run(kt.prog_in, &in, &out);
	drain(&s);
	ck_assert_int_eq(s.n, 1);
	expect_event(&s, 0, &c.f, c.cnxt, KANARY_MIRROR_EV_START, get_a, strlen(get_a));
}
END_TEST

static __u64 mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);	/* bpf_ktime_get_ns's clock */
	return (__u64)ts.tv_sec * 1000000 + (__u64)ts.tv_nsec / 1000;
}

static int count_event(void *ctx, void *data, size_t size)
{
	(void)data, (void)size;
	(*(int *)ctx)++;
	return 0;
}

/*
 * Two copies less than KANARY_MIRROR_WAKE_MS apart on one CPU: the first
 * wakes a reader waiting on the ring (epoll, as the relay waits), the
 * second does not but is in the ring; a third after the window wakes
 * again.  The two must be timed within the window: tried again when this
 * machine was too slow, and a failure if it never was.
 */
START_TEST(copies_wake_the_relay_at_most_once_per_window)
{
	const __u64 window_us = KANARY_MIRROR_WAKE_MS * 1000;
	struct ring_buffer *rb;
	__u64 t0 = 0, t1 = 0;
	struct conv c;
	__u32 start;
	int n = 0, tries;

	c = mirrored_conn("100");
	start = c.cnxt;
	client(&c, get_a);
	/* The limit is per CPU: every run on one (the test runs in a fork of its own). */
	ck_assert_int_eq(kt_pin_to_cpu(0), 0);
	rb = ring_buffer__new(kt.maps.mirror_buf, count_event, &n, NULL);
	ck_assert_ptr_nonnull(rb);
	for (tries = 0; tries < 20; tries++) {
		ck_assert_int_ge(ring_buffer__consume(rb), 0);
		ck_assert_int_eq(ring_buffer__poll(rb, 0), 0);	/* nothing left ready */
		usleep(2 * window_us);				/* this CPU's window over */
		t0 = mono_us();
		client_at(&c, start, TF_PSH, get_a, strlen(get_a));
		ck_assert_msg(ring_buffer__poll(rb, 100) == 1, "the first copy after the window woke no reader");
		ck_assert_int_eq(ring_buffer__poll(rb, 0), 0);
		client_at(&c, start, TF_PSH, get_a, strlen(get_a));
		t1 = mono_us();
		if (t1 - t0 < window_us)
			break;
	}
	ck_assert_msg(t1 - t0 < window_us, "two copies never ran within %llu us of each other here",
		      (unsigned long long)window_us);
	ck_assert_msg(ring_buffer__poll(rb, 5) == 0, "a second copy %llu us after a wake woke the reader",
		      (unsigned long long)(t1 - t0));
	ck_assert_int_eq(ring_buffer__consume(rb), 1);
	usleep(2 * window_us);
	client_at(&c, start, TF_PSH, get_a, strlen(get_a));
	ck_assert_msg(ring_buffer__poll(rb, 100) == 1, "a copy after the window woke no reader");
	ring_buffer__free(rb);
}
END_TEST

START_TEST(full_ring_loses_the_copy_not_the_segment)
{
	static const char head[] =
		"POST /big HTTP/1.1\r\nHost: web\r\nContent-Length: 100000000\r\n\r\n";
	const int segs = KANARY_MIRROR_RING / 1400 + 100;	/* more than the ring holds */
	struct kanary_mirror_copy_stats st;
	__u8 body[1400];
	struct conv c;

	c = mirrored_conn("100");
	memset(body, 'b', sizeof(body));
	client(&c, head);
	/* client_at checks each segment leaves DNATed and whole. */
	for (int i = 0; i < segs; i++)
		client_at(&c, c.cnxt, 0, body, sizeof(body));
	st = copy_stats();
	/* Once lost, the request is no longer copied: one loss, not one per segment after. */
	ck_assert_uint_eq(st.ring_full, 1);
	ck_assert_uint_eq(st.requests, 1);
	ck_assert_uint_lt(st.bytes, (__u64)segs * sizeof(body));
	ck_assert_uint_gt(st.bytes, KANARY_MIRROR_RING / 2);
}
END_TEST

/* Event i is the LIVE answer to f's request that started at seq. */
static const struct kanary_mirror_live *expect_live(const struct seen *s, int i,
						    const struct kt_flow *f, __u32 seq)
{
	const struct kanary_mirror_event *ev = &s->ev[i];

	ck_assert_int_gt(s->n, i);
	ck_assert_uint_eq(ev->flags, KANARY_MIRROR_EV_LIVE);
	ck_assert_uint_eq(ev->len, 0);
	ck_assert_uint_eq(s->size[i], sizeof(*ev) + sizeof(struct kanary_mirror_live));
	ck_assert_uint_eq(ev->svc_id, svc_id);
	ck_assert_uint_eq(ev->client.w[3], htonl(f->client));
	ck_assert_uint_eq(ev->client.w[2], htonl(0xffff));
	ck_assert_uint_eq(ntohs(ev->client_port), f->cport);
	ck_assert_uint_eq(ev->subsets, 1u << shadow);
	ck_assert_uint_eq(ev->seq, seq);
	return (const struct kanary_mirror_live *)s->data[i];
}

static const char unavailable_503[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n";

START_TEST(live_answer_to_a_mirrored_request)
{
	const struct kanary_mirror_live *live;
	__u64 t0, t1;
	struct seen s;
	struct conv c;
	__u32 start;

	c = mirrored_conn("100");
	start = c.cnxt;
	t0 = mono_us();
	client(&c, post_head);
	drain(&s);
	ck_assert_int_eq(s.n, 1);	/* the copy; no answer yet */
	usleep(20000);
	backend(&c, unavailable_503);
	t1 = mono_us();
	/* More of the same response: no second answer. */
	backend(&c, "more body bytes");
	drain(&s);
	ck_assert_int_eq(s.n, 1);
	live = expect_live(&s, 0, &c.f, start);
	ck_assert_uint_eq(live->status, 503);
	ck_assert_uint_ge(live->latency_us, 20000);
	ck_assert_uint_le(live->latency_us, t1 - t0);
	ck_assert_uint_eq(copy_stats().ring_full, 0);
}
END_TEST

START_TEST(live_answer_after_interim_only)
{
	struct seen s;
	struct conv c;
	__u32 start;

	c = mirrored_conn("100");
	start = c.cnxt;
	client(&c, post_head);
	backend(&c, "HTTP/1.1 100 Continue\r\n\r\n");
	drain(&s);
	ck_assert_int_eq(s.n, 1);
	ck_assert_uint_eq(s.ev[0].flags, KANARY_MIRROR_EV_START);
	backend(&c, ok_200);
	drain(&s);
	ck_assert_int_eq(s.n, 1);
	ck_assert_uint_eq(expect_live(&s, 0, &c.f, start)->status, 200);
}
END_TEST

START_TEST(no_live_answer_unmirrored_or_unanswered)
{
	struct kanary_err e = { 0 };
	struct seen s;
	struct conv c, d;

	/* Mirrored, but the backend closes without an answer. */
	c = mirrored_conn("100");
	client(&c, get_a);
	backend_at(&c, c.snxt, TF_FIN, NULL, 0);
	drain(&s);
	ck_assert_int_eq(s.n, 1);
	ck_assert_uint_eq(s.ev[0].flags, KANARY_MIRROR_EV_START);

	/* Not mirrored: answered, no event. */
	ck_assert_msg(kanary_mirror_del(&kt.maps, KT_SVC, NULL, KANARY_MIRROR_EVERY_ROUTE, &e) == 0,
		      "%s", e.msg);
	d = conv_connect(1);
	client(&d, get_a);
	backend(&d, ok_200);
	drain(&s);
	ck_assert_int_eq(s.n, 0);
}
END_TEST

/*
 * The rule path (bpf/lib/handoff.h): two requests on one keep-alive
 * connection of a service whose rule 1 sends x-my-header: dark to s1, s0
 * taking the split and s2 the mirror: first get_a (no rule: the split,
 * answered 200), then dark (rule 1, moved to s1, answered 503).  What the
 * ring holds after each request and after each answer.
 */
static const char dark[] = "GET /d HTTP/1.1\r\nHost: web\r\nx-my-header: dark\r\n\r\n";

struct two_requests {
	struct hc_conn c;
	__u32 seq[2];		/* each request's first sequence number */
	struct seen req[2], ans[2];
};

/* The service of two_requests, its mirror subset s2 not set yet. */
static void rule_service(void)
{
	static const __u32 w[] = { 100000, 0, 0 };
	static const int nb[] = { 1, 1, 1 };

	svc_id = hc_service(3, w, nb);
	kt_rule_add(KT_SVC, "header", "x-my-header=dark", 1);
	shadow = kt_subset_idx(KT_SVC, 2);
}

/* Mirrors percent of route's requests (a rule's index or KANARY_MIRROR_SPLIT) to s2. */
static void rule_mirror_set(int route, const char *percent)
{
	struct kanary_err e = { 0 };
	__u32 ppm;

	ck_assert_msg(kanary_parse_percent(percent, &ppm, &e) == 0, "%s", e.msg);
	ck_assert_msg(kanary_mirror_set(&kt.maps, KT_SVC, "s2", route, ppm, &e) == 0, "%s",
		      e.msg);
}

static void two_requests_run(struct two_requests *t)
{
	struct hc_conn *c = &t->c;
	struct tcp4_spec seg;
	struct pkt out;

	*c = hc_conn_http(0, get_a);
	hc_establish(c, 0);
	t->seq[0] = c->cisn + 1;
	drain(&t->req[0]);
	seg = hc_from_backend(c, TF_ACK | TF_PSH, c->bisn + 1, t->seq[0] + strlen(get_a), ok_200,
			      strlen(ok_200));
	ck_verdict(hc_egress(&seg, &out), TC_ACT_OK, "the response");
	drain(&t->ans[0]);

	/* The client acks the response; its next request takes rule 1 to another pod. */
	t->seq[1] = t->seq[0] + strlen(get_a);
	seg = hc_from_client(c, TF_ACK, t->seq[1], c->our_isn + 1 + strlen(ok_200), NULL, 0);
	ck_verdict(hc_ingress(&seg, &out), TC_ACT_OK, "the client's ack");
	seg = hc_from_client(c, TF_ACK | TF_PSH, t->seq[1], c->our_isn + 1 + strlen(ok_200), dark,
			     strlen(dark));
	ck_verdict(hc_ingress(&seg, &out), TC_ACT_OK, "the request that moves");
	c->be = hc_backend_of(&out, 1);
	c->bisn = 0x51000000;
	hc_backend_synack_leg(c, t->seq[1] - 1, dark, strlen(dark), &out);
	drain(&t->req[1]);
	seg = hc_from_backend(c, TF_ACK | TF_PSH, c->bisn + 1, t->seq[1] + strlen(dark),
			      unavailable_503, strlen(unavailable_503));
	ck_verdict(hc_egress(&seg, &out), TC_ACT_OK, "the second response");
	drain(&t->ans[1]);
}

/*
 * The split's mirror on the rule path copies the requests no rule routed,
 * from the client's own segments before they become a leg's SYN, with
 * their live answer; the request rule 1 routed is neither copied nor
 * answered to the relay, though the mirror takes 100 %.
 */
START_TEST(rule_path_split_mirror_copies_unmatched_only)
{
	struct two_requests t;

	rule_service();
	rule_mirror_set(KANARY_MIRROR_SPLIT, "100");
	two_requests_run(&t);
	ck_assert_int_eq(t.req[0].n, 1);
	expect_event(&t.req[0], 0, &t.c.f, t.seq[0], KANARY_MIRROR_EV_START, get_a, strlen(get_a));
	ck_assert_int_eq(t.ans[0].n, 1);
	ck_assert_uint_eq(expect_live(&t.ans[0], 0, &t.c.f, t.seq[0])->status, 200);
	ck_assert_int_eq(t.req[1].n, 0);
	ck_assert_int_eq(t.ans[1].n, 0);
	ck_assert_uint_eq(copy_stats().requests, 1);
}
END_TEST

/*
 * A mirror scoped to rule 1 copies only the requests rule 1 routed, on
 * the leg that rule opened, and reports their live answer; the split's
 * request passes uncopied.
 */
START_TEST(rule_path_rule_mirror_copies_its_requests_only)
{
	struct two_requests t;

	rule_service();
	rule_mirror_set(0, "100");
	two_requests_run(&t);
	ck_assert_int_eq(t.req[0].n, 0);
	ck_assert_int_eq(t.ans[0].n, 0);
	ck_assert_int_eq(t.req[1].n, 1);
	expect_event(&t.req[1], 0, &t.c.f, t.seq[1], KANARY_MIRROR_EV_START, dark, strlen(dark));
	ck_assert_int_eq(t.ans[1].n, 1);
	ck_assert_uint_eq(expect_live(&t.ans[1], 0, &t.c.f, t.seq[1])->status, 503);
	ck_assert_uint_eq(copy_stats().requests, 1);
}
END_TEST

/* A mirror on a rule that routes none of these requests copies none of them. */
START_TEST(rule_path_other_rule_mirror_copies_nothing)
{
	struct two_requests t;

	rule_service();
	kt_rule_add(KT_SVC, "header", "x-my-header=blue", 1);
	rule_mirror_set(1, "100");
	two_requests_run(&t);
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(t.req[i].n, 0);
		ck_assert_int_eq(t.ans[i].n, 0);
	}
	ck_assert_uint_eq(copy_stats().requests, 0);
}
END_TEST

/*
 * A pinned connection's requests are not matched one by one: each goes
 * where the connection is, and is drawn for the route of the last request
 * routed on it.  Rule 1 routes the first (dark); the second, which no rule
 * would match, pins the connection (a chunked body) and is copied for
 * rule 1's mirror, its live answer reported.
 */
START_TEST(rule_path_pinned_request_drawn_for_the_connections_route)
{
	static const char chunked[] = "POST /k HTTP/1.1\r\nHost: web\r\n"
				      "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
	struct kanary_ho_entry ho;
	struct kanary_ct_key key;
	struct tcp4_spec seg;
	struct hc_conn c;
	struct seen s;
	struct pkt out;
	__u32 first, second, bnxt;

	rule_service();
	rule_mirror_set(0, "100");
	c = hc_conn_http(0, dark);
	hc_establish(&c, 1);
	first = c.cisn + 1;
	drain(&s);
	ck_assert_int_eq(s.n, 1);
	expect_event(&s, 0, &c.f, first, KANARY_MIRROR_EV_START, dark, strlen(dark));
	bnxt = c.bisn + 1;
	seg = hc_from_backend(&c, TF_ACK | TF_PSH, bnxt, first + strlen(dark), ok_200,
			      strlen(ok_200));
	ck_verdict(hc_egress(&seg, &out), TC_ACT_OK, "the response");
	drain(&s);
	ck_assert_int_eq(s.n, 1);

	second = first + strlen(dark);
	seg = hc_from_client(&c, TF_ACK | TF_PSH, second, c.our_isn + 1 + strlen(ok_200), chunked,
			     strlen(chunked));
	ck_verdict(hc_ingress(&seg, &out), TC_ACT_OK, "the request that pins");
	key = kt_ct_fwd_key(&c.f);
	ck_assert_int_eq(bpf_map_lookup_elem(kt.maps.handoff, &key, &ho), 0);
	ck_assert_uint_eq(ho.pinned, KANARY_HO_PIN_CHUNKED);
	drain(&s);
	ck_assert_int_eq(s.n, 1);
	expect_event(&s, 0, &c.f, second, KANARY_MIRROR_EV_START, chunked, strlen(chunked));
	seg = hc_from_backend(&c, TF_ACK | TF_PSH, bnxt + strlen(ok_200), second + strlen(chunked),
			      unavailable_503, strlen(unavailable_503));
	ck_verdict(hc_egress(&seg, &out), TC_ACT_OK, "the second response");
	drain(&s);
	ck_assert_int_eq(s.n, 1);
	ck_assert_uint_eq(expect_live(&s, 0, &c.f, second)->status, 503);
	ck_assert_uint_eq(copy_stats().requests, 2);
}
END_TEST

Suite *mirror_suite(void)
{
	Suite *s = suite_create("mirror");
	TCase *tc = kt_tcase("mirror", 60);

	tcase_add_checked_fixture(tc, kt_loopback_up, NULL);
	tcase_add_test(tc, drawn_request_copied_whole_in_chunks);
	tcase_add_test(tc, retransmission_copied_again_but_never_a_start);
	tcase_add_test(tc, no_mirror_nothing_copied);
	tcase_add_test(tc, draw_takes_the_share);
	tcase_add_test(tc, padding_after_the_ip_payload_not_copied);
	tcase_add_test(tc, full_ring_loses_the_copy_not_the_segment);
	tcase_add_test(tc, copies_wake_the_relay_at_most_once_per_window);
	tcase_add_test(tc, live_answer_to_a_mirrored_request);
	tcase_add_test(tc, live_answer_after_interim_only);
	tcase_add_test(tc, no_live_answer_unmirrored_or_unanswered);
	tcase_add_test(tc, rule_path_split_mirror_copies_unmatched_only);
	tcase_add_test(tc, rule_path_rule_mirror_copies_its_requests_only);
	tcase_add_test(tc, rule_path_other_rule_mirror_copies_nothing);
	tcase_add_test(tc, rule_path_pinned_request_drawn_for_the_connections_route);
	suite_add_tcase(s, tc);
	return s;
}
