// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * kanary_bpf_cost: nanoseconds per packet of kanary's tc programs, measured
 * with BPF_PROG_TEST_RUN, at growing numbers of services over a conntrack
 * table holding FLOWS tracked connections.  Prints one JSON object.
 *
 *   kanary_bpf_cost [--services 1,100,1000,10000] [--flows 100000]
 *                   [--samples 2000] [--new 2000] [--repeat 1000000]
 *
 * Runs in a private mount and network namespace with its own bpffs, so it
 * touches no pinned instance and no interface.  Every packet is timed as
 * its own single run against an empty program (bpf_cost_timer.h says why
 * and how), in 5 rounds of SAMPLES packets per service count (NEW / 5 for
 * the packets that make a connection):
 *   non_service       an ACK to a pod address: parse, one service lookup,
 *                     the conntrack lookup for a draining connection, pass
 *   established       an ACK of a tracked flow: service + conntrack lookup,
 *                     counters, DNAT
 *   established_data  a 100-byte segment of a request's body on a tracked
 *                     flow: the same, plus the reverse entry's check and the
 *                     HTTP exchange's client side
 *   unknown_reply     an ACK at egress from a pod to a client port that no
 *                     entry knows (pod-to-pod traffic that is not kanary's):
 *                     both conntrack tables looked up, pass
 *   reply             the backend's ACK at egress: conntrack lookup, the
 *                     backend's sequence, counters, reverse NAT
 *   new_flow          the SYN of a flow never seen: selection (the subset,
 *                     then its Maglev table and the backend), two conntrack
 *                     inserts, counters
 *   rule_syn          a SYN to the rule service (bpf_cost_rule.h), which the
 *                     datapath answers itself
 *   rule_first_data   a rule-path connection's first data, after its
 *                     handshake (untimed): matched against the rule,
 *                     stashed, and turned into the SYN to the backend
 * Each packet's verdict and the frame the program left are checked, and so
 * are the counters over each case: every timed run must have taken the
 * path its name says.  The *_loop figures are warm ones, from the kernel's
 * own repeat loop (REPEAT runs in 5 batches, the median batch, less the
 * empty program's loop), for the packets it is right for, those the
 * program leaves as they were: the non-service packet, and the ACK and
 * reply of the loop service, whose one backend is its own VIP (see
 * service_loop).  Each prints "NAME_ns" and the rounds' "NAME_spread_ns".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mount.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "kanary.h"
#include "bpf_cost_exchange.h"
#include "bpf_cost_frame.h"
#include "bpf_cost_rule.h"
#include "bpf_cost_timer.h"

#define MAX_COUNTS	16
#define DATA_LEN	100
#define SVC_BASE	0x0a640000	/* service k at 10.100.0.0 + k */
#define SAFE_BE		0x0af40202	/* 10.244.2.2 */
#define RISKY_BE	0x0af40402	/* 10.244.4.2 */
#define LOOP_VIP	0x0a670001	/* 10.103.0.1, the loop service: its own backend */
#define LOOP_CLIENT	0x0a030001	/* 10.3.0.1 */
#define EXTRA_SERVICES	2		/* the rule and loop services, besides the counted ones */
#define CLIENT_ISN	1000
#define BACKEND_ISN	5000
/* The tracked flows the steady cases use: one for ACKs and replies, one for data, one for exchanges. */
#define ACK_FLOW	0
#define DATA_FLOW	1
#define EXCHANGE_FLOW	2

struct opts {
	int counts[MAX_COUNTS], n_counts;
	int flows, samples, new_flows, repeat;
};

struct env {
	char dir[64];
	struct kanary_maps maps;
	int prog_in, prog_out;
	struct kanary_service *scratch;
	struct kanary_service *copy;	/* service_copy's buffer */
	double create_ms;		/* time spent creating services so far */
	struct br_ctx rule;
	__u32 loop_id;			/* the loop service's */
	struct bx_ctx exchange;		/* EXCHANGE_FLOW's */
};

#define die bt_die

static void v4(union kanary_addr *a, __u32 host_order)
{
	kanary_addr_from_v4(a, htonl(host_order));
}

/*
 * Service 0: safe (one backend) 80, risky (one backend) 20, as the cluster's,
 * made through libkanary like kanaryctl makes it.
 */
static void service_first(struct env *env)
{
	struct kanary_svc_key key = { .port = htons(80), .proto = IPPROTO_TCP };
	struct kanary_service *s = env->scratch;
	struct kanary_err e = { 0 };
	int safe, risky;

	v4(&key.vip, SVC_BASE);
	if (kanary_service_add(&env->maps, "bench/svc0", &key, &e) ||
	    kanary_service_get(&env->maps, "bench/svc0", s, &e))
		die("adding a service", e.msg);
	safe = kanary_subset_find(s, "safe", true, &e);
	risky = kanary_subset_find(s, "risky", true, &e);
	if (safe < 0 || risky < 0)
		die("adding subsets", e.msg);
	s->cfg.subsets[safe].weight_milli = 80000;
	s->cfg.subsets[safe].n_backends = 1;
	v4(&s->backends[safe][0].addr, SAFE_BE);
	s->backends[safe][0].port = htons(80);
	s->cfg.subsets[risky].weight_milli = 20000;
	s->cfg.subsets[risky].n_backends = 1;
	v4(&s->backends[risky][0].addr, RISKY_BE);
	s->backends[risky][0].port = htons(80);
	if (kanary_service_commit(&env->maps, s, &e) ||
	    kanary_service_get(&env->maps, "bench/svc0", s, &e))
		die("committing a service", e.msg);
	if (!s->exists || s->id != 0)
		die("service 0", "not found with id 0 after its commit");
}

/*
 * The loop service: one backend, at the service's own VIP and port.  Its
 * DNAT and reverse NAT write what was there, through the same code as any
 * other service's (kanary_nat_rewrite skips nothing when the values are
 * equal), so a packet of its flow is the same packet again after each run:
 * the one kind of established packet the kernel's repeat loop can time.
 */
static void service_loop(struct env *env)
{
	struct kanary_svc_key key = { .port = htons(80), .proto = IPPROTO_TCP };
	struct kanary_service *s = env->scratch;
	struct kanary_err e = { 0 };
	int only;

	v4(&key.vip, LOOP_VIP);
	if (kanary_service_add(&env->maps, "bench/loop", &key, &e) ||
	    kanary_service_get(&env->maps, "bench/loop", s, &e))
		die("adding the loop service", e.msg);
	only = kanary_subset_find(s, "only", true, &e);
	if (only < 0)
		die("adding the loop service's subset", e.msg);
	s->cfg.subsets[only].weight_milli = 100 * KANARY_WEIGHT_MILLI;
	s->cfg.subsets[only].n_backends = 1;
	v4(&s->backends[only][0].addr, LOOP_VIP);
	s->backends[only][0].port = htons(80);
	if (kanary_service_commit(&env->maps, s, &e))
		die("committing the loop service", e.msg);
	env->loop_id = s->id;
}

/* The loop flow's client ACK or SYN, or the backend's (the VIP's) ACK or SYN-ACK. */
static struct bf_seg loop_seg(bool from_backend, __u8 flags)
{
	struct bf_seg s = { .saddr = LOOP_CLIENT, .daddr = LOOP_VIP, .sport = 1024, .dport = 80,
			    .flags = flags, .seq = CLIENT_ISN + !(flags & BF_SYN),
			    .ack = BACKEND_ISN };

	if (from_backend) {
		s = (struct bf_seg){ .saddr = LOOP_VIP, .daddr = LOOP_CLIENT, .sport = 80,
				     .dport = 1024, .flags = flags,
				     .seq = BACKEND_ISN - !!(flags & BF_SYN), .ack = CLIENT_ISN + 1 };
	}
	return s;
}

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/*
 * Service k > 0: a copy of service 0 at its own VIP, created in one commit
 * through libkanary as kanaryctl and kanaryd create services.  (Before
 * libkanary had its name index, 10,000 of them took 9 minutes this way.)
 */
static void service_copy(struct env *env, int k)
{
	struct kanary_service *s = env->copy;
	struct kanary_err e = { 0 };
	double t0 = now_ms();

	if (k == 1)
		*s = *env->scratch;
	s->exists = false;
	snprintf(s->cfg.name, sizeof(s->cfg.name), "bench/svc%d", k);
	v4(&s->cfg.key.vip, SVC_BASE + k);
	if (kanary_service_commit(&env->maps, s, &e))
		die("adding a service", e.msg);
	/* Ids 0 to EXTRA_SERVICES are service 0's, the rule service's and the loop service's. */
	if (s->id != (__u32)k + EXTRA_SERVICES)
		die("adding a service", "it did not get the next id");
	env->create_ms += now_ms() - t0;
}

static void setup(struct env *env, int max_services, int ct_size)
{
	struct kanary_load_opts lo = { .max_services = max_services, .ct_size = ct_size,
				       .max_backends = 4 * max_services + 64 };
	struct kanary_err e = { 0 };
	char path[128];

	/* Private namespaces: the bpffs goes with this process, however it ends. */
	if (unshare(CLONE_NEWNS | CLONE_NEWNET))
		die("unshare(mount+net) (needs root)", strerror(errno));
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL))
		die("making / a slave mount", strerror(errno));
	snprintf(env->dir, sizeof(env->dir), "/tmp/kanary-bpf-cost.XXXXXX");
	if (!mkdtemp(env->dir))
		die("mkdtemp", strerror(errno));
	if (mount("bpf", env->dir, "bpf", 0, NULL))
		die("mount -t bpf", strerror(errno));
	if (kanary_load(env->dir, &lo, &e) || kanary_maps_open(&env->maps, env->dir, &e))
		die("loading kanary", e.msg);
	snprintf(path, sizeof(path), "%s/%s", env->dir, KANARY_PROG_INGRESS);
	env->prog_in = bpf_obj_get(path);
	snprintf(path, sizeof(path), "%s/%s", env->dir, KANARY_PROG_EGRESS);
	env->prog_out = bpf_obj_get(path);
	if (env->prog_in < 0 || env->prog_out < 0)
		die("opening the pinned programs", strerror(errno));
	env->scratch = calloc(1, sizeof(*env->scratch));
	env->copy = calloc(1, sizeof(*env->copy));
	if (!env->scratch || !env->copy)
		die("calloc", strerror(ENOMEM));
	bt_init();
}

static void teardown(struct env *env)
{
	kanary_maps_close(&env->maps);
	close(env->prog_in);
	close(env->prog_out);
	umount2(env->dir, MNT_DETACH);
	rmdir(env->dir);
}

static int parse_counts(struct opts *o, const char *arg)
{
	char s[256], *tok, *end;
	long v;

	if (snprintf(s, sizeof(s), "%s", arg) >= (int)sizeof(s))
		return -1;
	o->n_counts = 0;
	for (tok = strtok(s, ","); tok; tok = strtok(NULL, ",")) {
		v = strtol(tok, &end, 10);
		if (*end || v < 1 || v > 1000000 || o->n_counts == MAX_COUNTS ||
		    (o->n_counts && v <= o->counts[o->n_counts - 1]))
			return -1;
		o->counts[o->n_counts++] = (int)v;
	}
	return o->n_counts ? 0 : -1;
}

static int parse_pos(const char *s, int *out)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*end || v < 1 || v > 100000000)
		return -1;
	*out = (int)v;
	return 0;
}


/* Flow i of the measured service's clients (distinct for distinct i), from the client. */
static struct bf_seg flow_seg(int i, __u8 flags, __u32 seq, __u32 ack)
{
	struct bf_seg s = { .saddr = 0x0a010000 + i / 50000, .daddr = SVC_BASE,
			    .sport = (__u16)(1024 + i % 50000), .dport = 80,
			    .flags = flags, .seq = seq, .ack = ack };
	return s;
}

/* A tracked flow: its backend, from its conntrack entry (established, or still in its handshake). */
struct flow {
	int i;
	__u32 be;
	__u16 be_port;
	__u32 cli_nxt;		/* the client's next sequence (the data case's) */
};

static void flow_entry(struct env *env, int i, struct kanary_ct_entry *v)
{
	struct bf_seg s = flow_seg(i, 0, 0, 0);
	struct kanary_ct_key k = { .sport = htons(s.sport), .dport = htons(80),
				   .proto = IPPROTO_TCP, .dir = KANARY_CT_FORWARD };

	v4(&k.src, s.saddr);
	v4(&k.dst, SVC_BASE);
	if (bpf_map_lookup_elem(env->maps.ct, &k, v) && bpf_map_lookup_elem(env->maps.ct_new, &k, v))
		die("a flow is not tracked after its SYN", strerror(errno));
}

/* The backend's segment of flow f, as the backend sends it. */
static struct bf_seg backend_seg(const struct flow *f, __u8 flags, __u32 seq, __u32 ack)
{
	struct bf_seg c = flow_seg(f->i, 0, 0, 0);
	struct bf_seg s = { .saddr = f->be, .daddr = c.saddr, .sport = f->be_port,
			    .dport = c.sport, .flags = flags, .seq = seq, .ack = ack };
	return s;
}

/* ---- the cases: each builds its packet and checks what the program left ---- */

struct steady {
	struct env *env;
	struct flow *f;
	__u8 in[BF_MAX_LEN];	/* the frame last built */
	__u32 in_len;
};

static __u32 make_non_service(void *ctx, unsigned i, __u8 *buf)
{
	struct steady *c = ctx;
	struct bf_seg s = flow_seg(0, BF_ACK, CLIENT_ISN + 1, BACKEND_ISN);

	(void)i;
	s.daddr = SAFE_BE;	/* a pod, not a service */
	c->in_len = bf_build(buf, &s);
	memcpy(c->in, buf, c->in_len);
	return c->in_len;
}

static const char *check_untouched(void *ctx, unsigned i, __u32 verdict, const __u8 *out)
{
	struct steady *c = ctx;

	(void)i;
	if (verdict != TC_ACT_OK)
		return "verdict not TC_ACT_OK";
	return memcmp(out, c->in, c->in_len) ? "the program changed it" : NULL;
}

static __u32 make_established(void *ctx, unsigned i, __u8 *buf)
{
	struct steady *c = ctx;
	struct bf_seg s = flow_seg(c->f->i, BF_ACK, CLIENT_ISN + 1, BACKEND_ISN);

	(void)i;
	return bf_build(buf, &s);
}

/* DNATed to the flow's backend. */
static const char *check_dnat(void *ctx, unsigned i, __u32 verdict, const __u8 *out)
{
	struct steady *c = ctx;

	(void)i;
	if (verdict != TC_ACT_OK)
		return "verdict not TC_ACT_OK";
	if (bf_daddr(out) != c->f->be || bf_dport(out) != c->f->be_port)
		return "not DNATed to its flow's backend";
	return NULL;
}

/* The next DATA_LEN bytes of the request's body, in sequence. */
static __u32 make_data(void *ctx, unsigned i, __u8 *buf)
{
	struct steady *c = ctx;
	struct bf_seg s = flow_seg(c->f->i, BF_ACK | BF_PSH, c->f->cli_nxt, BACKEND_ISN);

	(void)i;
	s.len = DATA_LEN;
	c->f->cli_nxt += DATA_LEN;
	return bf_build(buf, &s);
}

/* A client port above every flow's (flow_seg's are below 51,024). */
#define UNKNOWN_PORT	60000

static __u32 make_unknown_reply(void *ctx, unsigned i, __u8 *buf)
{
	struct steady *c = ctx;
	struct bf_seg s = backend_seg(c->f, BF_ACK, BACKEND_ISN, CLIENT_ISN + 1);

	(void)i;
	s.dport = UNKNOWN_PORT;
	c->in_len = bf_build(buf, &s);
	memcpy(c->in, buf, c->in_len);
	return c->in_len;
}

static __u32 make_reply(void *ctx, unsigned i, __u8 *buf)
{
	struct steady *c = ctx;
	struct bf_seg s = backend_seg(c->f, BF_ACK, BACKEND_ISN, CLIENT_ISN + 1);

	(void)i;
	return bf_build(buf, &s);
}

/* From the VIP again. */
static const char *check_reverse_nat(void *ctx, unsigned i, __u32 verdict, const __u8 *out)
{
	(void)ctx;
	(void)i;
	if (verdict != TC_ACT_OK)
		return "verdict not TC_ACT_OK";
	if (bf_saddr(out) != SVC_BASE || bf_sport(out) != 80)
		return "its source is not the VIP again";
	return NULL;
}

static __u32 make_new_flow(void *ctx, unsigned i, __u8 *buf)
{
	struct bf_seg s = flow_seg((int)i, BF_SYN, CLIENT_ISN, 0);

	(void)ctx;
	return bf_build(buf, &s);
}

/* DNATed to one of the service's backends. */
static const char *check_new_flow(void *ctx, unsigned i, __u32 verdict, const __u8 *out)
{
	(void)ctx;
	(void)i;
	if (verdict != TC_ACT_OK)
		return "verdict not TC_ACT_OK";
	if ((bf_daddr(out) != SAFE_BE && bf_daddr(out) != RISKY_BE) || bf_dport(out) != 80)
		return "not DNATed to a backend of the service";
	return NULL;
}

/* ---- the counters over a case: what every timed run must have added ---- */

struct tally {
	struct kanary_subset_stats svc0, rule, loop;
	__u64 cnt[KANARY_CNT__MAX];
};

static void stats_sum(struct env *env, __u32 svc_id, struct kanary_subset_stats *sum)
{
	struct kanary_subset_stats one;
	struct kanary_err e = { 0 };
	__u32 k;

	memset(sum, 0, sizeof(*sum));
	for (k = 0; k < KANARY_MAX_SUBSETS; k++) {
		if (kanary_subset_stats_read(&env->maps, svc_id, k, &one, &e))
			die("reading the stats", e.msg);
		sum->connections += one.connections;
		sum->rule_connections += one.rule_connections;
		sum->packets_in += one.packets_in;
		sum->packets_out += one.packets_out;
	}
}

static void tally(struct env *env, struct tally *t)
{
	struct kanary_err e = { 0 };

	stats_sum(env, 0, &t->svc0);
	stats_sum(env, env->rule.svc_id, &t->rule);
	stats_sum(env, env->loop_id, &t->loop);
	if (kanary_counters_read(&env->maps, t->cnt, &e))
		die("reading the counters", e.msg);
}

static void expect_delta(const char *name, const char *what, __u64 before, __u64 after, __u64 want)
{
	char msg[200];

	if (after - before == want)
		return;
	snprintf(msg, sizeof(msg), "%s rose by %llu over %llu timed runs, want %llu: the timed "
		 "packets did not all take the path the case is named after", what,
		 (unsigned long long)(after - before), (unsigned long long)want,
		 (unsigned long long)want);
	die(name, msg);
}

/* The figure of one case, printed as "NAME_ns":N,"NAME_spread_ns":[MIN,MAX], */
static void print_figure(const char *key, const struct bt_figure *f)
{
	printf("\"%s_ns\":%.1f,\"%s_spread_ns\":[%.1f,%.1f],", key, f->ns, key, f->min, f->max);
}


static void tracked_flow(struct env *env, int i, struct flow *f)
{
	struct kanary_ct_entry v;

	flow_entry(env, i, &v);
	f->i = i;
	f->be = ntohl(v.addr.w[3]);
	f->be_port = ntohs(v.port);
	f->cli_nxt = v.xchg.cli_nxt;
}

/*
 * Flow i's handshake completed (the backend's SYN-ACK, the client's ACK),
 * so that its entries are in kanary_ct_v3, where established packets look.
 */
static void flow_handshake(struct env *env, int i)
{
	__u8 buf[BF_MAX_LEN], out[BF_OUT_CAP];
	struct flow f;
	struct bf_seg s;

	tracked_flow(env, i, &f);
	s = backend_seg(&f, BF_SYN | BF_ACK, BACKEND_ISN - 1, CLIENT_ISN + 1);
	if (bt_run(env->prog_out, buf, bf_build(buf, &s), out, NULL) != TC_ACT_OK)
		die("a flow's SYN-ACK", "verdict not TC_ACT_OK");
	s = flow_seg(i, BF_ACK, CLIENT_ISN + 1, BACKEND_ISN);
	if (bt_run(env->prog_in, buf, bf_build(buf, &s), out, NULL) != TC_ACT_OK)
		die("a flow's ACK of its SYN-ACK", "verdict not TC_ACT_OK");
}

/*
 * The steady cases' flows as they would be mid-connection: the backend's
 * SYN-ACK seen at egress (its sequence known), and on the data flow a
 * request's head sent, so that its timed segments are the request's body.
 */
static void flows_established(struct env *env)
{
	static const char head[] = "POST /upload HTTP/1.1\r\nHost: web\r\n"
				   "Content-Length: 1000000000\r\n\r\n";
	__u8 buf[BF_MAX_LEN], out[BF_OUT_CAP];
	struct kanary_ct_entry v;
	struct flow f;
	struct bf_seg s;
	int i;

	for (i = ACK_FLOW; i <= DATA_FLOW; i++) {
		tracked_flow(env, i, &f);
		s = backend_seg(&f, BF_SYN | BF_ACK, BACKEND_ISN - 1, CLIENT_ISN + 1);
		if (bt_run(env->prog_out, buf, bf_build(buf, &s), out, NULL) != TC_ACT_OK ||
		    bf_saddr(out) != SVC_BASE)
			die("the backend's SYN-ACK", "not reverse-NATed");
	}
	s = loop_seg(false, BF_SYN);
	if (bt_run(env->prog_in, buf, bf_build(buf, &s), out, NULL) != TC_ACT_OK)
		die("the loop flow's SYN", "verdict not TC_ACT_OK");
	s = loop_seg(true, BF_SYN | BF_ACK);
	if (bt_run(env->prog_out, buf, bf_build(buf, &s), out, NULL) != TC_ACT_OK)
		die("the loop flow's SYN-ACK", "verdict not TC_ACT_OK");
	s = loop_seg(false, BF_ACK);
	if (bt_run(env->prog_in, buf, bf_build(buf, &s), out, NULL) != TC_ACT_OK)
		die("the loop flow's ACK of its SYN-ACK", "verdict not TC_ACT_OK");
	s = flow_seg(DATA_FLOW, BF_ACK | BF_PSH, CLIENT_ISN + 1, BACKEND_ISN);
	s.data = head;
	s.len = sizeof(head) - 1;
	if (bt_run(env->prog_in, buf, bf_build(buf, &s), out, NULL) != TC_ACT_OK)
		die("the data flow's request head", "verdict not TC_ACT_OK");
	flow_entry(env, DATA_FLOW, &v);
	if (v.xchg.phase != KANARY_XCHG_REQUEST || v.xchg.cli_nxt != CLIENT_ISN + 1 + s.len)
		die("the data flow's request head", "its exchange is not awaiting a response");
}

/*
 * The data case's runs segments, from the exchange's next sequence start,
 * were all the request's body, each in sequence after the one before.
 */
static void expect_in_request(struct env *env, const struct flow *f, __u32 start, unsigned runs)
{
	struct kanary_ct_entry v;

	flow_entry(env, f->i, &v);
	if (v.xchg.phase != KANARY_XCHG_REQUEST || v.xchg.cli_nxt != start + runs * DATA_LEN)
		die("established data", "its segments were not the request's body, in sequence");
}

/* EXCHANGE_FLOW, its handshake done (flow_handshake): between exchanges. */
static void exchange_flow(struct env *env)
{
	struct bx_ctx *x = &env->exchange;
	struct bf_seg c = flow_seg(EXCHANGE_FLOW, 0, 0, 0);
	struct flow f;

	tracked_flow(env, EXCHANGE_FLOW, &f);
	*x = (struct bx_ctx){ .prog_in = env->prog_in, .prog_out = env->prog_out,
			      .maps = &env->maps, .svc_id = 0, .client = c.saddr, .vip = SVC_BASE,
			      .backend = f.be, .cport = c.sport, .vport = 80, .bport = f.be_port,
			      .cli_nxt = CLIENT_ISN + 1, .srv_nxt = BACKEND_ISN };
}

/*
 * An exchange's two heads, with the accounting (on) or without: each
 * timed response must have ended one exchange in the HTTP figures, or none.
 */
static void measure_exchange(struct env *env, unsigned n, bool on)
{
	const struct bt_case req = bx_request_case(&env->exchange),
			     resp = bx_response_case(&env->exchange);
	const char *suffix = on ? "" : "_noacct";
	unsigned unused = 0;
	struct bt_figure f;
	char key[40];
	__u64 before;

	bx_accounting(&env->maps, on);
	f = bt_measure(&req, n, &unused);
	snprintf(key, sizeof(key), "request_head%s", suffix);
	print_figure(key, &f);
	before = bx_exchanges(&env->exchange);
	f = bt_measure(&resp, n, &unused);
	expect_delta(resp.name, "the HTTP figures' exchanges", before, bx_exchanges(&env->exchange),
		     on ? f.runs : 0);
	snprintf(key, sizeof(key), "response_head%s", suffix);
	print_figure(key, &f);
	bx_accounting(&env->maps, true);
}

/* Runs of loop_figure, all batches. */
#define LOOP_RUNS(repeat)	(BT_ROUNDS * ((unsigned)(repeat) / BT_ROUNDS + 1))

/* The median of 5 batches of repeat / 5 + 1 runs in the kernel's loop. */
static double loop_figure(int prog, const __u8 *buf, __u32 len, int repeat)
{
	__u32 d[BT_ROUNDS], t;
	int i, j;

	for (i = 0; i < BT_ROUNDS; i++) {
		d[i] = bt_run_loop(prog, buf, len, LOOP_RUNS(repeat) / BT_ROUNDS);
		for (j = i; j > 0 && d[j - 1] > d[j]; j--) {
			t = d[j];
			d[j] = d[j - 1];
			d[j - 1] = t;
		}
	}
	return d[BT_ROUNDS / 2];
}

static void measure(struct env *env, const struct opts *o, int services, unsigned *next_flow,
		    unsigned *next_rule_conn, bool first)
{
	unsigned per_round = (unsigned)(o->new_flows / BT_ROUNDS > 0 ? o->new_flows / BT_ROUNDS : 1);
	unsigned n = (unsigned)o->samples, unused = 0, k;
	struct flow ack, data;
	struct steady s_ack = { .env = env, .f = &ack }, s_data = { .env = env, .f = &data };
	const struct bt_case non_service = { "non-service", env->prog_in, make_non_service,
					     check_untouched, &s_ack };
	const struct bt_case established = { "established", env->prog_in, make_established,
					     check_dnat, &s_ack };
	const struct bt_case established_data = { "established data", env->prog_in, make_data,
						  check_dnat, &s_data };
	const struct bt_case reply = { "reply", env->prog_out, make_reply, check_reverse_nat,
				       &s_ack };
	const struct bt_case unknown_reply = { "unknown reply", env->prog_out, make_unknown_reply,
					       check_untouched, &s_ack };
	const struct bt_case new_flow = { "new-flow", env->prog_in, make_new_flow, check_new_flow,
					  NULL };
	struct bt_case rule_syn = br_syn_case(&env->rule), rule_data = br_first_data_case(&env->rule);
	struct bt_figure f;
	struct tally t0, t1;
	__u8 buf[BF_MAX_LEN];
	double empty_loop;
	struct bf_seg seg;
	__u32 len, data_start;

	tracked_flow(env, ACK_FLOW, &ack);
	tracked_flow(env, DATA_FLOW, &data);
	printf("%s{\"services\":%d,\"created_ms\":%.1f,", first ? "" : ",", services, env->create_ms);

	tally(env, &t0);
	f = bt_measure(&non_service, n, &unused);
	tally(env, &t1);
	expect_delta("non-service", "service 0's packets in", t0.svc0.packets_in, t1.svc0.packets_in, 0);
	expect_delta("non-service", "the draining counter", t0.cnt[KANARY_CNT_DRAINING],
		     t1.cnt[KANARY_CNT_DRAINING], 0);
	printf("\"empty_run_ns\":%.1f,", f.empty_ns);
	print_figure("non_service", &f);
	/*
	 * The old method, right for this packet only (the program leaves it as
	 * it was), less the empty program's loop: beside non_service, what the
	 * single runs add to a program's cost (cold caches and predictors).
	 */
	len = make_non_service(&s_ack, 0, buf);
	empty_loop = loop_figure(-1, buf, len, o->repeat);
	printf("\"empty_loop_ns\":%.1f,\"non_service_loop_ns\":%.1f,", empty_loop,
	       loop_figure(env->prog_in, buf, len, o->repeat) - empty_loop);

	f = bt_measure(&established, n, &unused);
	tally(env, &t0);
	expect_delta("established", "service 0's packets in", t1.svc0.packets_in, t0.svc0.packets_in,
		     f.runs);
	print_figure("established", &f);

	data_start = data.cli_nxt;
	f = bt_measure(&established_data, n, &unused);
	tally(env, &t1);
	expect_delta("established data", "service 0's packets in", t0.svc0.packets_in,
		     t1.svc0.packets_in, f.runs);
	expect_in_request(env, &data, data_start, f.runs);
	print_figure("established_data", &f);

	f = bt_measure(&reply, n, &unused);
	tally(env, &t0);
	expect_delta("reply", "service 0's packets out", t1.svc0.packets_out, t0.svc0.packets_out,
		     f.runs);
	print_figure("reply", &f);

	f = bt_measure(&unknown_reply, n, &unused);
	tally(env, &t1);
	expect_delta("unknown reply", "service 0's packets out", t0.svc0.packets_out,
		     t1.svc0.packets_out, 0);
	print_figure("unknown_reply", &f);

	measure_exchange(env, n, true);
	measure_exchange(env, n, false);
	tally(env, &t0);

	/*
	 * The same two packets on the loop service's flow, in the kernel's
	 * loop, less the empty program's: warm caches, a lower bound.  Its
	 * counters must have counted every run, or the loop timed another packet.
	 */
	seg = loop_seg(false, BF_ACK);
	len = bf_build(buf, &seg);
	tally(env, &t0);
	printf("\"established_loop_ns\":%.1f,", loop_figure(env->prog_in, buf, len, o->repeat) -
						   loop_figure(-1, buf, len, o->repeat));
	tally(env, &t1);
	expect_delta("established (loop)", "the loop service's packets in", t0.loop.packets_in,
		     t1.loop.packets_in, LOOP_RUNS(o->repeat));
	seg = loop_seg(true, BF_ACK);
	len = bf_build(buf, &seg);
	printf("\"reply_loop_ns\":%.1f,", loop_figure(env->prog_out, buf, len, o->repeat) -
					     loop_figure(-1, buf, len, o->repeat));
	tally(env, &t0);
	expect_delta("reply (loop)", "the loop service's packets out", t1.loop.packets_out,
		     t0.loop.packets_out, LOOP_RUNS(o->repeat));

	f = bt_measure(&new_flow, per_round, next_flow);
	tally(env, &t1);
	expect_delta("new-flow", "connections tracked from their SYN", t0.cnt[KANARY_CNT_CT_NEW],
		     t1.cnt[KANARY_CNT_CT_NEW], f.runs);
	expect_delta("new-flow", "service 0's connections", t0.svc0.connections,
		     t1.svc0.connections, f.runs);
	print_figure("new_flow", &f);

	k = *next_rule_conn;
	f = bt_measure(&rule_syn, per_round, next_rule_conn);
	print_figure("rule_syn", &f);
	tally(env, &t0);
	f = bt_measure(&rule_data, per_round, next_rule_conn);
	tally(env, &t1);
	expect_delta("rule-path first data", "the rule service's connections by rule",
		     t0.rule.rule_connections, t1.rule.rule_connections, f.runs);
	if (*next_rule_conn - k != 2 * f.runs)
		die("rule path", "connections were shared between its cases");
	print_figure("rule_first_data", &f);
	printf("\"new_per_round\":%u}", per_round);
	fflush(stdout);
}


static void usage(FILE *f)
{
	fprintf(f, "Usage: kanary_bpf_cost [--services N,N,...] [--flows N] [--samples N] [--new N]\n"
		   "                       [--repeat N]\n"
		   "  --services  increasing service counts to measure at (default 1,100,1000,10000)\n"
		   "  --flows     connections tracked before measuring (default 100000)\n"
		   "  --samples   packets timed per round of a steady case (default 2000)\n"
		   "  --new       packets timed per case that makes a connection (default 2000)\n"
		   "  --repeat    runs of the kernel-loop figure of the non-service packet\n"
		   "              (default 1000000)\n");
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "services", required_argument, NULL, 's' }, { "flows", required_argument, NULL, 'f' },
		{ "samples", required_argument, NULL, 'm' }, { "new", required_argument, NULL, 'n' },
		{ "repeat", required_argument, NULL, 'r' }, { "help", no_argument, NULL, 'h' }, { 0 },
	};
	struct opts o = { .flows = 100000, .samples = 2000, .new_flows = 2000, .repeat = 1000000 };
	struct env env = { 0 };
	__u8 buf[BF_MAX_LEN], out[BF_OUT_CAP];
	unsigned next_flow, next_rule_conn = 0;
	int c, i, k = 0, ct_size;

	parse_counts(&o, "1,100,1000,10000");
	while ((c = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
		int bad = 0;

		switch (c) {
		case 's': bad = parse_counts(&o, optarg); break;
		case 'f': bad = parse_pos(optarg, &o.flows); break;
		case 'm': bad = parse_pos(optarg, &o.samples); break;
		case 'n': bad = parse_pos(optarg, &o.new_flows); break;
		case 'r': bad = parse_pos(optarg, &o.repeat); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
		if (bad) {
			const char *name = c == 's' ? "services" : c == 'f' ? "flows" :
					   c == 'm' ? "samples" : c == 'n' ? "new" : "repeat";

			fprintf(stderr, "kanary_bpf_cost: bad value '%s' for --%s (expected %s)\n", optarg,
				name, c == 's' ? "increasing positive integers separated by commas"
					       : "a positive integer");
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "kanary_bpf_cost: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (o.flows < EXCHANGE_FLOW + 1) {
		fprintf(stderr, "kanary_bpf_cost: --flows must be at least %d\n", EXCHANGE_FLOW + 1);
		return 2;
	}

	/* Room for every flow in both directions, with none evicted while measuring. */
	ct_size = 2 * (o.flows + o.n_counts * o.new_flows) + 1024;
	setup(&env, o.counts[o.n_counts - 1] + 16, ct_size);
	service_first(&env);
	env.rule.prog_in = env.prog_in;
	br_service(&env.maps, env.scratch, &env.rule);
	service_loop(&env);
	if (kanary_service_get(&env.maps, "bench/svc0", env.scratch, &(struct kanary_err){ 0 }))
		die("service 0", "gone after the rule service was made");
	k = 1;
	for (i = 0; i < o.flows; i++) {
		struct bf_seg s = flow_seg(i, BF_SYN, CLIENT_ISN, 0);

		if (bt_run(env.prog_in, buf, bf_build(buf, &s), out, NULL) != TC_ACT_OK)
			die("tracking the flows", "a SYN's verdict is not TC_ACT_OK");
		flow_handshake(&env, i);
	}
	flows_established(&env);
	exchange_flow(&env);
	next_flow = (unsigned)o.flows;
	printf("{\"method\":\"single runs, each minus an empty program's single run\","
	       "\"rounds\":%d,\"tracked_flows\":%d,\"ct_size\":%d,\"samples\":%d,\"new\":%d,"
	       "\"repeat\":%d,\"extra_services\":%d,\"ncpus\":%d,\"results\":[",
	       BT_ROUNDS, o.flows, ct_size, o.samples, o.new_flows, o.repeat, EXTRA_SERVICES,
	       libbpf_num_possible_cpus());
	for (i = 0; i < o.n_counts; i++) {
		while (k < o.counts[i])
			service_copy(&env, k++);
		measure(&env, &o, k, &next_flow, &next_rule_conn, i == 0);
	}
	printf("]}\n");
	teardown(&env);
	return 0;
}
