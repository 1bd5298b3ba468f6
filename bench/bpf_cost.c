// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * kanary_bpf_cost: nanoseconds per packet of kanary's tc programs, measured
 * with BPF_PROG_TEST_RUN, at growing numbers of services over a conntrack
 * table holding FLOWS tracked connections.  Prints one JSON object.
 *
 *   kanary_bpf_cost [--services 1,100,1000,10000] [--flows 100000]
 *                   [--repeat 1000000] [--new 2000]
 *
 * Runs in a private mount and network namespace with its own bpffs, so it
 * touches no pinned instance and no interface.  Per service count:
 *   non_service  an ACK to a pod address: parse, one service lookup, pass
 *   established  an ACK of a tracked flow: service + conntrack lookup, DNAT
 *   established_data  the same with DATA_LEN bytes of data: what a segment
 *     that may draw a reply adds (the reverse entry's check, the HTTP
 *     exchange's client side)
 *   reply        the backend's answer at egress: conntrack lookup, reverse NAT
 *     (each: one packet run REPEAT times in 5 batches, the median of the
 *     batches' kernel means per run)
 *   new_flow     SYNs of NEW flows never seen: selection (the subset, then
 *     its Maglev table and the backend), two conntrack inserts, counters.  Each is a distinct packet, so each is its own
 *     run with repeat 1, whose timing includes the timer's own reads; the
 *     same single-run figure of an established packet is printed beside it
 *     (single_run_established) so the difference is the new flow's cost.
 *   syn_ack, client_fin, backend_fin  the same new flows' SYN-ACK at egress
 *     (drops their half-open timer), then their close: the client's FIN,
 *     and the backend's FIN after it, which arms the linger timer
 *     (docs/conntrack.md); single runs, medians.
 * The tracked flows are established (their SYN-ACK seen), as a node's are.
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
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "kanary.h"
#include "prog_run.h"

#define MAX_COUNTS	16
#define FRAME_LEN	(ETH_HLEN + sizeof(struct iphdr) + sizeof(struct tcphdr))
#define DATA_LEN	100
#define FRAME_MAX	(FRAME_LEN + DATA_LEN)
#define SVC_BASE	0x0a640000	/* service k at 10.100.0.0 + k */
#define SAFE_BE		0x0af40202	/* 10.244.2.2 */
#define RISKY_BE	0x0af40402	/* 10.244.4.2 */

enum { F_SYN = 1, F_ACK = 2, F_DATA = 4, F_FIN = 8 };

struct opts {
	int counts[MAX_COUNTS], n_counts;
	int flows, repeat, new_flows;
};

struct env {
	char dir[64];
	struct kanary_maps maps;
	int prog_in, prog_out;
	struct kanary_service *scratch;
	struct kanary_service *copy;	/* service_copy's buffer */
	double create_ms;		/* time spent creating services so far */
};

static void die(const char *what, const char *why)
{
	fprintf(stderr, "kanary_bpf_cost: %s: %s\n", what, why);
	exit(1);
}

static __u16 ip_csum(const void *hdr, size_t len)
{
	const __u16 *w = hdr;
	__u32 sum = 0;

	for (; len > 1; len -= 2)
		sum += *w++;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/* An Ethernet + IPv4 + TCP frame, with DATA_LEN bytes of zeros for F_DATA; host-order addresses. */
static void frame(__u8 *buf, __u32 saddr, __u32 daddr, __u16 sport, __u16 dport, int flags)
{
	struct ethhdr *eth = (void *)buf;
	struct iphdr *ip = (void *)(eth + 1);
	struct tcphdr *tcp = (void *)(ip + 1);

	memset(buf, 0, FRAME_MAX);
	memcpy(eth->h_dest, "\x02\0\0\0\0\x01", ETH_ALEN);
	memcpy(eth->h_source, "\x02\0\0\0\0\x02", ETH_ALEN);
	eth->h_proto = htons(ETH_P_IP);
	ip->version = 4;
	ip->ihl = 5;
	ip->ttl = 64;
	ip->protocol = IPPROTO_TCP;
	ip->tot_len = htons(sizeof(*ip) + sizeof(*tcp) + (flags & F_DATA ? DATA_LEN : 0));
	ip->saddr = htonl(saddr);
	ip->daddr = htonl(daddr);
	ip->check = ip_csum(ip, sizeof(*ip));
	tcp->source = htons(sport);
	tcp->dest = htons(dport);
	tcp->seq = htonl(flags & F_FIN ? 1001 : 1000);
	tcp->doff = 5;
	tcp->window = htons(65535);
	tcp->syn = !!(flags & F_SYN);
	tcp->ack = !!(flags & F_ACK);
	tcp->psh = !!(flags & F_DATA);
	tcp->fin = !!(flags & F_FIN);
	if (tcp->ack)
		tcp->ack_seq = htonl(5000);
}

/* Flow i of the measured service's clients: distinct for distinct i. */
static void flow_frame(__u8 *buf, int i, int flags)
{
	frame(buf, 0x0a010000 + i / 50000, SVC_BASE, 1024 + i % 50000, 80, flags);
}

static __u8 last_out[FRAME_MAX + 64];

/* Mean nanoseconds per run of prog over one frame, run repeat times. */
static __u32 run(int prog, __u8 *buf, int repeat)
{
	struct kt_prog_run r;
	__u32 len = ETH_HLEN + ntohs(((struct iphdr *)(buf + ETH_HLEN))->tot_len);
	int err = kt_prog_run(prog, buf, len, last_out, sizeof(last_out), (__u32)repeat, &r);

	if (err)
		die("BPF_PROG_TEST_RUN", strerror(-err));
	if (r.retval != 0)
		die("BPF_PROG_TEST_RUN", "the program did not return TC_ACT_OK");
	return r.duration;
}

/*
 * Median of 5 batches of repeat / 5 runs: one batch that another process
 * interrupted does not move the figure.
 */
static __u32 run_steady(int prog, __u8 *buf, int repeat)
{
	__u32 d[5], t;
	int i, j;

	for (i = 0; i < 5; i++) {
		d[i] = run(prog, buf, repeat / 5 > 0 ? repeat / 5 : 1);
		for (j = i; j > 0 && d[j - 1] > d[j]; j--) {
			t = d[j];
			d[j] = d[j - 1];
			d[j - 1] = t;
		}
	}
	return d[2];
}

/*
 * The timed packet took the path it is named after: a figure for a packet
 * that the program passed untouched would measure nothing.
 */
static void expect_rewritten(const char *what, size_t off, __u32 want_not, bool changed)
{
	__u32 got;

	memcpy(&got, last_out + off, sizeof(got));
	if ((got != htonl(want_not)) != changed) {
		fprintf(stderr, "kanary_bpf_cost: the %s packet was %s by the program\n", what,
			changed ? "not rewritten" : "rewritten");
		exit(1);
	}
}
#define OFF_SADDR	(ETH_HLEN + 12)
#define OFF_DADDR	(ETH_HLEN + 16)

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
	if (s->id != (__u32)k)
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
}

static void teardown(struct env *env)
{
	kanary_maps_close(&env->maps);
	close(env->prog_in);
	close(env->prog_out);
	umount2(env->dir, MNT_DETACH);
	rmdir(env->dir);
}

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

/* The backend flow i was given, from its conntrack entry. */
static void flow_backend(struct env *env, int i, __u32 *addr, __u16 *port)
{
	struct kanary_ct_key k = { .sport = htons(1024 + i % 50000), .dport = htons(80),
				   .proto = IPPROTO_TCP, .dir = KANARY_CT_FORWARD };
	struct kanary_ct_entry v;

	v4(&k.src, 0x0a010000 + i / 50000);
	v4(&k.dst, SVC_BASE);
	if (bpf_map_lookup_elem(env->maps.ct, &k, &v))
		die("flow 0 is not tracked after its SYN", strerror(errno));
	*addr = ntohl(v.addr.w[3]);
	*port = ntohs(v.port);
}

/* The backend's frame of flow i (its SYN-ACK, FIN...) at egress; returns its run's ns. */
static __u32 backend_run(struct env *env, int i, int flags)
{
	__u8 buf[FRAME_MAX];
	__u32 be, ns;
	__u16 be_port;

	flow_backend(env, i, &be, &be_port);
	frame(buf, be, 0x0a010000 + i / 50000, be_port, 1024 + i % 50000, flags);
	ns = run(env->prog_out, buf, 1);
	expect_rewritten("backend", OFF_SADDR, be, true);
	return ns;
}

/* Median of n single runs timed by one(env, first + k). */
static __u32 median_of(struct env *env, int first, int n, __u32 *d,
		       __u32 (*one)(struct env *, int))
{
	for (int k = 0; k < n; k++)
		d[k] = one(env, first + k);
	qsort(d, n, sizeof(*d), cmp_u32);
	return d[n / 2];
}

static __u32 syn_ack(struct env *env, int i) { return backend_run(env, i, F_SYN | F_ACK); }
static __u32 backend_fin(struct env *env, int i) { return backend_run(env, i, F_FIN | F_ACK); }

static __u32 client_fin(struct env *env, int i)
{
	__u8 buf[FRAME_MAX];
	__u32 ns;

	flow_frame(buf, i, F_FIN | F_ACK);
	ns = run(env->prog_in, buf, 1);
	expect_rewritten("client FIN", OFF_DADDR, SVC_BASE, true);
	return ns;
}

static void measure(struct env *env, const struct opts *o, int services, int *next_flow,
		    bool first)
{
	__u32 *d = calloc(o->new_flows, sizeof(*d)), be, single;
	__u8 buf[FRAME_MAX];
	double sum = 0;
	__u16 be_port;
	int i, first_new = *next_flow;

	if (!d)
		die("calloc", strerror(ENOMEM));
	frame(buf, 0x0a010000, SAFE_BE, 40000, 80, F_ACK);
	printf("%s{\"services\":%d,\"created_ms\":%.1f,\"non_service_ns\":%u,", first ? "" : ",",
	       services, env->create_ms, run_steady(env->prog_in, buf, o->repeat));
	expect_rewritten("non-service", OFF_DADDR, SAFE_BE, false);
	flow_frame(buf, 0, F_ACK);
	printf("\"established_ns\":%u,", run_steady(env->prog_in, buf, o->repeat));
	expect_rewritten("established", OFF_DADDR, SVC_BASE, true);
	flow_frame(buf, 0, F_ACK | F_DATA);
	printf("\"established_data_ns\":%u,", run_steady(env->prog_in, buf, o->repeat));
	expect_rewritten("established data", OFF_DADDR, SVC_BASE, true);
	flow_backend(env, 0, &be, &be_port);
	frame(buf, be, 0x0a010000, be_port, 1024, F_ACK);
	printf("\"reply_ns\":%u,", run_steady(env->prog_out, buf, o->repeat));
	expect_rewritten("reply", OFF_SADDR, be, true);

	for (i = 0; i < o->new_flows; i++) {
		flow_frame(buf, (*next_flow)++, F_SYN);
		d[i] = run(env->prog_in, buf, 1);
		expect_rewritten("new-flow", OFF_DADDR, SVC_BASE, true);
		sum += d[i];
	}
	qsort(d, o->new_flows, sizeof(*d), cmp_u32);
	/* The same single-run timing for a packet that creates nothing. */
	flow_frame(buf, 0, F_ACK);
	{
		__u32 s[101];
		for (i = 0; i < 101; i++)
			s[i] = run(env->prog_in, buf, 1);
		qsort(s, 101, sizeof(s[0]), cmp_u32);
		single = s[50];
	}
	printf("\"new_flow_ns\":{\"median\":%u,\"mean\":%.1f,\"p99\":%u,\"count\":%d},"
	       "\"single_run_established_ns\":%u,",
	       d[o->new_flows / 2], sum / o->new_flows, d[o->new_flows * 99 / 100], o->new_flows,
	       single);
	printf("\"syn_ack_ns\":%u,", median_of(env, first_new, o->new_flows, d, syn_ack));
	printf("\"client_fin_ns\":%u,", median_of(env, first_new, o->new_flows, d, client_fin));
	printf("\"backend_fin_ns\":%u}", median_of(env, first_new, o->new_flows, d, backend_fin));
	fflush(stdout);
	free(d);
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

static void usage(FILE *f)
{
	fprintf(f, "Usage: kanary_bpf_cost [--services N,N,...] [--flows N] [--repeat N] [--new N]\n"
		   "  --services  increasing service counts to measure at (default 1,100,1000,10000)\n"
		   "  --flows     connections tracked before measuring (default 100000)\n"
		   "  --repeat    runs per steady-state packet (default 1000000)\n"
		   "  --new       new flows timed per service count (default 2000)\n");
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "services", required_argument, NULL, 's' }, { "flows", required_argument, NULL, 'f' },
		{ "repeat", required_argument, NULL, 'r' }, { "new", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' }, { 0 },
	};
	struct opts o = { .flows = 100000, .repeat = 1000000, .new_flows = 2000 };
	struct env env = { 0 };
	__u8 buf[FRAME_MAX];
	int c, i, k = 0, next_flow, ct_size;

	parse_counts(&o, "1,100,1000,10000");
	while ((c = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
		int bad = 0;

		switch (c) {
		case 's': bad = parse_counts(&o, optarg); break;
		case 'f': bad = parse_pos(optarg, &o.flows); break;
		case 'r': bad = parse_pos(optarg, &o.repeat); break;
		case 'n': bad = parse_pos(optarg, &o.new_flows); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
		if (bad) {
			fprintf(stderr, "kanary_bpf_cost: bad value '%s' for --%s (expected %s)\n", optarg,
				c == 's' ? "services" : c == 'f' ? "flows" : c == 'r' ? "repeat" : "new",
				c == 's' ? "increasing positive integers separated by commas"
					 : "a positive integer");
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "kanary_bpf_cost: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}

	/* Room for every flow in both directions, with none evicted while measuring. */
	ct_size = 2 * (o.flows + o.n_counts * o.new_flows) + 1024;
	setup(&env, o.counts[o.n_counts - 1] + 16, ct_size);
	service_first(&env);
	k = 1;
	for (i = 0; i < o.flows; i++) {
		flow_frame(buf, i, F_SYN);
		run(env.prog_in, buf, 1);
		backend_run(&env, i, F_SYN | F_ACK);
	}
	next_flow = o.flows;
	printf("{\"tracked_flows\":%d,\"ct_size\":%d,\"repeat\":%d,\"ncpus\":%d,\"results\":[",
	       o.flows, ct_size, o.repeat, libbpf_num_possible_cpus());
	for (i = 0; i < o.n_counts; i++) {
		while (k < o.counts[i])
			service_copy(&env, k++);
		measure(&env, &o, k, &next_flow, i == 0);
	}
	printf("]}\n");
	teardown(&env);
	return 0;
}
