// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <check.h>
#include "fixture.h"
#include "fixture_shared.h"
#include "prog_run.h"
#include "rule_set.h"
#include "wire.h"

struct kt_env kt = { .prog_in = -1, .prog_out = -1 };

/* Opens the maps of the kanary in kt.dir and takes its programs. */
static void take(void)
{
	struct kanary_err e = { 0 };
	char path[PATH_MAX + 32];
	int rc;

	rc = kanary_maps_open(&kt.maps, kt.dir, &e);
	ck_assert_msg(rc == 0, "kanary_maps_open(%s): %s", kt.dir, e.msg);
	kt.maps_open = true;

	snprintf(path, sizeof(path), "%s/%s", kt.dir, KANARY_PROG_INGRESS);
	kt.prog_in = bpf_obj_get(path);
	ck_assert_msg(kt.prog_in >= 0, "no program pinned at %s: %s", path, strerror(errno));
	snprintf(path, sizeof(path), "%s/%s", kt.dir, KANARY_PROG_EGRESS);
	kt.prog_out = bpf_obj_get(path);
	ck_assert_msg(kt.prog_out >= 0, "no program pinned at %s: %s", path, strerror(errno));
}

/* Loads kanary into kt.dir, opens its maps and takes its programs. */
static void load(const struct kanary_load_opts *lo)
{
	struct kanary_err e = { 0 };
	int rc = kanary_load(kt.dir, lo, &e);

	ck_assert_msg(rc == 0, "kanary_load(%s): %s", kt.dir, e.msg);
	take();
}

/* Lets go of the programs and maps (and so of the instance lock). */
static void release(void)
{
	close(kt.prog_in);
	close(kt.prog_out);
	kt.prog_in = kt.prog_out = -1;
	kanary_maps_close(&kt.maps);
	kt.maps_open = false;
}

void kt_reload(const struct kanary_load_opts *lo)
{
	struct kanary_err e = { 0 };
	int rc;

	release();
	rc = kanary_unload(kt.dir, &e);
	ck_assert_msg(rc == 0, "kanary_unload(%s): %s", kt.dir, e.msg);
	load(lo);
}

void kt_load_again(const struct kanary_load_opts *lo)
{
	release();
	load(lo);
}

void kt_setup(void)
{
	const char *base = getenv(KT_BASE_ENV);
	struct kanary_load_opts lo = { 0 };

	memset(&kt, 0, sizeof(kt));
	kt.prog_in = kt.prog_out = -1;
	/*
	 * In a mount namespace of its own, the bpffs goes away with this
	 * process even when a failed assertion exits it before teardown; the
	 * net namespace keeps kanary_load's interface scan off the host.
	 */
	ck_assert_msg(unshare(CLONE_NEWNS | CLONE_NEWNET) == 0,
		      "unshare(mount+net namespaces): %s (the unit tests need root)", strerror(errno));
	ck_assert_msg(mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) == 0,
		      "making / a slave mount: %s", strerror(errno));
	if (kt_shared_dir()) {
		/* The binary's one kanary, as loaded: kt_main loaded it (fixture_shared.c). */
		snprintf(kt.dir, sizeof(kt.dir), "%s", kt_shared_dir());
		kt_shared_restore();
		take();
	} else {
		snprintf(kt.dir, sizeof(kt.dir), "%s/bpffs.XXXXXX", base ? base : "/tmp");
		ck_assert_msg(mkdtemp(kt.dir), "mkdtemp %s: %s", kt.dir, strerror(errno));
		ck_assert_msg(mount("bpf", kt.dir, "bpf", 0, NULL) == 0,
			      "mount -t bpf at %s: %s", kt.dir, strerror(errno));
		kt.mounted = true;
		load(&lo);
	}
	kt.ncpus = libbpf_num_possible_cpus();
	ck_assert_msg(kt.ncpus > 0, "libbpf_num_possible_cpus: %d", kt.ncpus);
}

void kt_teardown(void)
{
	kt_wire_reset();
	if (kt.prog_in >= 0)
		close(kt.prog_in);
	if (kt.prog_out >= 0)
		close(kt.prog_out);
	if (kt.maps_open)
		kanary_maps_close(&kt.maps);
	if (kt.mounted && umount2(kt.dir, MNT_DETACH) != 0)
		fprintf(stderr, "kt_teardown: umount %s: %s\n", kt.dir, strerror(errno));
	if (kt.mounted)
		rmdir(kt.dir);
	kt.mounted = kt.maps_open = false;
}

int kt_pin_to_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void *race_second_cpu(void *race)
{
	struct kt_race *r = race;
	struct kt_prog_run run;
	struct pkt out;

	if (kt_pin_to_cpu(1))
		atomic_store(&r->failed, 1);
	for (unsigned n = 1; n <= r->rounds; n++) {
		while (atomic_load(&r->round) < n)
			;
		if (kt_prog_run_skb(r->prog, r->pkt.data, r->pkt.len, out.data, sizeof(out.data), 1,
				    NULL, &run))
			atomic_store(&r->failed, 1);
		atomic_store(&r->done, n);
	}
	return NULL;
}

void kt_race_start(struct kt_race *r, int prog, unsigned rounds)
{
	ck_assert_msg(libbpf_num_possible_cpus() >= 2, "this test needs two CPUs, the machine has %d",
		      libbpf_num_possible_cpus());
	memset(r, 0, sizeof(*r));
	r->prog = prog;
	r->rounds = rounds;
	ck_assert_int_eq(kt_pin_to_cpu(0), 0);
	ck_assert_int_eq(pthread_create(&r->thread, NULL, race_second_cpu, r), 0);
}

void kt_race_round(struct kt_race *r, unsigned n, const struct pkt *mine)
{
	struct kt_prog_run run;
	struct pkt out;

	atomic_store(&r->round, n);
	ck_assert_int_eq(kt_prog_run_skb(r->prog, mine->data, mine->len, out.data, sizeof(out.data), 1,
					 NULL, &run), 0);
	while (atomic_load(&r->done) < n)
		;
}

void kt_race_join(struct kt_race *r)
{
	pthread_join(r->thread, NULL);
	ck_assert_int_eq(atomic_load(&r->failed), 0);
}

struct kt_flow kt_flow_nth(unsigned i)
{
	/* 1,000 client addresses, each with a run of source ports. */
	struct kt_flow f = {
		.client = 0x0a000002 + i % 1000,
		.cport = 10000 + i / 1000,
		.vip = KT_VIP,
		.vport = KT_VPORT,
	};
	return f;
}

__u32 kt_be_addr(int subset, int index) { return 0x0af40000 | subset << 8 | (index + 1); }
__u16 kt_be_port(int subset) { return 8080 + subset; }

static void v4_mapped(union kanary_addr *a, __u32 host_order)
{
	memset(a, 0, sizeof(*a));
	a->b[10] = a->b[11] = 0xff;
	a->w[3] = htonl(host_order);
}

static const char *subset_name(int s)
{
	static char names[KANARY_MAX_SUBSETS][8];

	snprintf(names[s], sizeof(names[s]), "s%d", s);
	return names[s];
}

static struct kanary_service *service_get(const char *name)
{
	struct kanary_service *s = calloc(1, sizeof(*s));
	struct kanary_err e = { 0 };
	int rc;

	ck_assert(s);
	rc = kanary_service_get(&kt.maps, name, s, &e);
	ck_assert_msg(rc == 0, "kanary_service_get(%s): %s", name, e.msg);
	return s;
}

static int subset_idx(struct kanary_service *s, int subset, bool create)
{
	struct kanary_err e = { 0 };
	int idx = kanary_subset_find(s, subset_name(subset), create, &e);

	ck_assert_msg(idx >= 0 && idx < KANARY_MAX_SUBSETS, "kanary_subset_find(%s): %d %s",
		      subset_name(subset), idx, e.msg);
	return idx;
}

static void service_commit(struct kanary_service *s)
{
	struct kanary_err e = { 0 };
	int rc = kanary_service_commit(&kt.maps, s, &e);

	ck_assert_msg(rc == 0, "kanary_service_commit(%s): %s", s->cfg.name, e.msg);
	free(s);
}

__u32 kt_service_create(const char *name, __u32 vip, __u16 port, int n,
			const __u32 weight_milli[], const int n_backends[])
{
	struct kanary_svc_key key = { .port = htons(port), .proto = IPPROTO_TCP };
	struct kanary_err e = { 0 };
	struct kanary_service *s;
	int i, j, idx, rc;
	__u32 id;

	v4_mapped(&key.vip, vip);
	rc = kanary_service_add(&kt.maps, name, &key, &e);
	ck_assert_msg(rc == 0, "kanary_service_add(%s): %s", name, e.msg);
	s = service_get(name);
	for (i = 0; i < n; i++) {
		idx = subset_idx(s, i, true);
		s->cfg.subsets[idx].weight_milli = weight_milli[i];
		s->cfg.subsets[idx].n_backends = n_backends[i];
		for (j = 0; j < n_backends[i]; j++) {
			v4_mapped(&s->backends[idx][j].addr, kt_be_addr(i, j));
			s->backends[idx][j].port = htons(kt_be_port(i));
		}
	}
	service_commit(s);
	s = service_get(name);
	ck_assert_msg(s->exists, "service %s not found after commit", name);
	id = s->id;
	free(s);
	return id;
}

int kt_subset_idx(const char *name, int subset)
{
	struct kanary_service *s = service_get(name);
	int idx = subset_idx(s, subset, false);

	free(s);
	return idx;
}

void kt_service_set_weights(const char *name, int n, const __u32 weight_milli[])
{
	struct kanary_service *s = service_get(name);
	int i;

	for (i = 0; i < n; i++)
		s->cfg.subsets[subset_idx(s, i, false)].weight_milli = weight_milli[i];
	service_commit(s);
}

void kt_service_set_backends(const char *name, int subset, int n, const int index[])
{
	struct kanary_service *s = service_get(name);
	int idx = subset_idx(s, subset, false), j;

	ck_assert_msg(n >= 0 && n <= KANARY_MAX_BACKENDS, "%d backends", n);
	for (j = 0; j < n; j++) {
		v4_mapped(&s->backends[idx][j].addr, kt_be_addr(subset, index[j]));
		s->backends[idx][j].port = htons(kt_be_port(subset));
	}
	s->cfg.subsets[idx].n_backends = (__u32)n;
	service_commit(s);
}

void kt_service_remove_backend(const char *name, int subset, int index)
{
	struct kanary_service *s = service_get(name);
	int idx = subset_idx(s, subset, false), j;
	struct kanary_subset *sub = &s->cfg.subsets[idx];
	union kanary_addr want;

	v4_mapped(&want, kt_be_addr(subset, index));
	for (j = 0; j < (int)sub->n_backends; j++)
		if (!memcmp(&s->backends[idx][j].addr, &want, sizeof(want)))
			break;
	ck_assert_msg(j < (int)sub->n_backends, "backend %d of subset %d not in the service",
		      index, subset);
	memmove(&s->backends[idx][j], &s->backends[idx][j + 1],
		(sub->n_backends - j - 1) * sizeof(s->backends[idx][0]));
	sub->n_backends--;
	service_commit(s);
}

void kt_service_delete(const char *name)
{
	struct kanary_err e = { 0 };
	int rc = kanary_service_del(&kt.maps, name, &e);

	ck_assert_msg(rc == 0, "kanary_service_del(%s): %s", name, e.msg);
}

void kt_rule_add(const char *name, const char *kind, const char *arg, int subset)
{
	struct kanary_service *s = service_get(name);
	struct kanary_rules *rs = calloc(1, sizeof(*rs));
	struct kanary_rule_spec spec = { .n_matches = 1, .n_conds = { 1 }, .n_dests = 1 };
	struct kanary_err e = { 0 };
	int rc;

	ck_assert(rs);
	rc = kanary_cond_parse(kind, arg, &spec.conds[0][0], &e);
	ck_assert_msg(rc == 0, "condition '%s %s': %s", kind, arg, e.msg);
	spec.dest_subset[0] = (__u8)subset_idx(s, subset, false);
	spec.dest_weight_milli[0] = 100 * KANARY_WEIGHT_MILLI;
	rc = kanary_rules_read(&kt.maps, s, rs, NULL, &e);
	ck_assert_msg(rc == 0, "kanary_rules_read(%s): %s", name, e.msg);
	rc = kanary_rules_insert(rs, rs->n_rules, &spec, &e);
	ck_assert_msg(rc == 0, "kanary_rules_insert(%s): %s", name, e.msg);
	rc = kanary_rules_write(&kt.maps, s, rs, &e);
	ck_assert_msg(rc == 0, "kanary_rules_write(%s): %s", name, e.msg);
	free(rs);
	free(s);
}

static char payload_byte(size_t i) { return (char)('a' + i % 26); }

static void fill_payload(__u8 *buf, const void *payload, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = payload ? ((const __u8 *)payload)[i] : payload_byte(i);
}

void kt_pkt_fwd_seq(struct pkt *p, const struct kt_flow *f, __u8 flags, __u32 seq,
		    const void *payload, size_t len)
{
	static __u8 buf[PKT_MAX];
	struct tcp4_spec s = {
		.saddr = f->client, .daddr = f->vip, .sport = f->cport, .dport = f->vport,
		.flags = flags, .seq = seq, .ack = flags & TF_ACK ? KT_BACKEND_ISN : 0,
		.payload = buf, .payload_len = len,
	};

	fill_payload(buf, payload, len);
	pkt_tcp4(p, &s);
}

void kt_pkt_fwd(struct pkt *p, const struct kt_flow *f, __u8 flags,
		const void *payload, size_t len)
{
	kt_pkt_fwd_seq(p, f, flags, KT_CLIENT_ISN, payload, len);
}

void kt_pkt_rev_seq(struct pkt *p, const struct kt_flow *f, const struct kt_be *be,
		    __u8 flags, __u32 seq, const void *payload, size_t len)
{
	static __u8 buf[PKT_MAX];
	struct tcp4_spec s = {
		.saddr = kt_be_addr(be->subset, be->index), .daddr = f->client,
		.sport = kt_be_port(be->subset), .dport = f->cport,
		.flags = flags, .seq = seq, .ack = KT_CLIENT_ISN + 1,
		.payload = buf, .payload_len = len,
	};

	fill_payload(buf, payload, len);
	pkt_tcp4(p, &s);
}

void kt_pkt_rev(struct pkt *p, const struct kt_flow *f, const struct kt_be *be,
		__u8 flags, const void *payload, size_t len)
{
	kt_pkt_rev_seq(p, f, be, flags, KT_BACKEND_ISN, payload, len);
}

__u32 kt_run_verdict(int prog_fd, const struct pkt *in, struct pkt *out)
{
	return kt_run_verdict_mark(prog_fd, in, NULL, out);
}

__u32 kt_run_verdict_mark(int prog_fd, const struct pkt *in, __u32 *mark, struct pkt *out)
{
	struct __sk_buff skb = { .mark = mark ? *mark : 0 };
	struct kt_prog_run r;
	int rc;

	memset(out->data, 0, sizeof(out->data));
	rc = kt_prog_run_skb(prog_fd, in->data, in->len, out->data, sizeof(out->data), 1,
			     mark ? &skb : NULL, &r);
	if (mark)
		*mark = skb.mark;
	ck_assert_msg(rc == 0, "BPF_PROG_TEST_RUN: %s", strerror(-rc));
	out->len = r.out_len;
	return r.retval;
}

void kt_run(int prog_fd, const struct pkt *in, struct pkt *out)
{
	__u32 verdict = kt_run_verdict(prog_fd, in, out);

	ck_assert_msg(verdict == TC_ACT_OK, "program returned %u, want TC_ACT_OK (0)", verdict);
	ck_assert_msg(out->len == in->len, "output is %u bytes, input %u", out->len, in->len);
}

static const char *ip4_str(__u32 a, char *buf)
{
	sprintf(buf, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
	return buf;
}

struct kt_be kt_expect_dnat(const struct pkt *in, const struct pkt *out)
{
	unsigned l4 = pkt_l4_off(in);
	const unsigned skip[][2] = {
		{ ETH_LEN + 10, 2 }, { ETH_LEN + 16, 4 }, { l4 + 2, 2 }, { l4 + 16, 2 },
	};
	__u32 daddr = pkt_ip4_daddr(out);
	__u16 dport = pkt_l4_dport(out);
	struct kt_be be = { .subset = (daddr >> 8) & 0xff, .index = (int)(daddr & 0xff) - 1 };
	long diff = pkt_diff(in, out, skip, 4);
	char a[16], b[16];

	ck_assert_msg(diff < 0, "byte %ld changed outside daddr, dport and checksums", diff);
	ck_assert_msg((daddr & 0xffff0000) == 0x0af40000 && be.index >= 0 &&
		      be.subset < KANARY_MAX_SUBSETS && dport == kt_be_port(be.subset),
		      "%s:%u -> %s:%u went out as -> %s:%u, which is no backend",
		      ip4_str(pkt_ip4_saddr(in), a), pkt_l4_sport(in),
		      ip4_str(pkt_ip4_daddr(in), b), pkt_l4_dport(in), ip4_str(daddr, a), dport);
	ck_assert_msg(pkt_ip4_csum_ok(out), "IPv4 header checksum wrong after DNAT");
	ck_assert_msg(pkt_tcp4_csum_ok(out), "TCP checksum wrong after DNAT (%u bytes)", out->len);
	return be;
}

void kt_expect_snat(const struct pkt *in, const struct pkt *out, __u32 vip, __u16 vport)
{
	unsigned l4 = pkt_l4_off(in);
	const unsigned skip[][2] = {
		{ ETH_LEN + 10, 2 }, { ETH_LEN + 12, 4 }, { l4, 2 }, { l4 + 16, 2 },
	};
	long diff = pkt_diff(in, out, skip, 4);
	char a[16], b[16];

	ck_assert_msg(diff < 0, "byte %ld changed outside saddr, sport and checksums", diff);
	ck_assert_msg(pkt_ip4_saddr(out) == vip && pkt_l4_sport(out) == vport,
		      "reply from %s:%u went out from %s:%u, want the VIP",
		      ip4_str(pkt_ip4_saddr(in), a), pkt_l4_sport(in),
		      ip4_str(pkt_ip4_saddr(out), b), pkt_l4_sport(out));
	ck_assert_msg(pkt_ip4_csum_ok(out), "IPv4 header checksum wrong after reverse NAT");
	ck_assert_msg(pkt_tcp4_csum_ok(out), "TCP checksum wrong after reverse NAT");
}

void kt_expect_untouched(const struct pkt *in, const struct pkt *out)
{
	long diff = pkt_diff(in, out, NULL, 0);

	ck_assert_msg(diff < 0, "packet changed at byte %ld, want it untouched", diff);
}

void kt_expect_nat(const struct pkt *in, const struct pkt *out, __u32 saddr, __u16 sport,
		   __u32 daddr, __u16 dport)
{
	unsigned l4 = pkt_l4_off(in);
	const unsigned skip[][2] = {
		{ ETH_LEN + 10, 2 }, { ETH_LEN + 12, 8 }, { l4, 4 }, { l4 + 16, 2 },
	};
	long diff = pkt_diff(in, out, skip, 4);
	char a[16], b[16], c[16], d[16];

	ck_assert_msg(diff < 0, "byte %ld changed outside addresses, ports and checksums", diff);
	ck_assert_msg(pkt_ip4_saddr(out) == saddr && pkt_l4_sport(out) == sport &&
		      pkt_ip4_daddr(out) == daddr && pkt_l4_dport(out) == dport,
		      "went out as %s:%u -> %s:%u, want %s:%u -> %s:%u",
		      ip4_str(pkt_ip4_saddr(out), a), pkt_l4_sport(out),
		      ip4_str(pkt_ip4_daddr(out), b), pkt_l4_dport(out),
		      ip4_str(saddr, c), sport, ip4_str(daddr, d), dport);
	ck_assert_msg(pkt_ip4_csum_ok(out), "IPv4 header checksum wrong after NAT");
	ck_assert_msg(pkt_tcp4_csum_ok(out), "TCP checksum wrong after NAT (%u bytes)", out->len);
}

struct kt_be kt_send(const struct kt_flow *f, __u8 flags)
{
	struct pkt in, out;

	kt_pkt_fwd(&in, f, flags, NULL, 0);
	kt_run(kt.prog_in, &in, &out);
	return kt_expect_dnat(&in, &out);
}

struct kt_be kt_send_fwd_seq(const struct kt_flow *f, __u8 flags, __u32 seq)
{
	struct pkt in, out;

	kt_pkt_fwd_seq(&in, f, flags, seq, NULL, 0);
	kt_run(kt.prog_in, &in, &out);
	return kt_expect_dnat(&in, &out);
}

void kt_send_rev_seq(const struct kt_flow *f, const struct kt_be *be, __u8 flags, __u32 seq)
{
	struct pkt in, out;

	kt_pkt_rev_seq(&in, f, be, flags, seq, NULL, 0);
	kt_run(kt.prog_out, &in, &out);
	kt_expect_snat(&in, &out, KT_VIP, KT_VPORT);
}

struct kt_be kt_establish(const struct kt_flow *f)
{
	struct kt_be be = kt_send(f, TF_SYN);

	kt_send_rev_seq(f, &be, TF_SYN | TF_ACK, KT_BACKEND_ISN);
	kt_send_fwd_seq(f, TF_ACK, KT_CLIENT_ISN + 1);
	return be;
}

void kt_stats(__u32 svc_id, __u32 subset, struct kanary_subset_stats *sum)
{
	struct kanary_subset_stats v[kt.ncpus];
	__u32 key = KANARY_STATS_INDEX(svc_id, subset);
	int i;

	memset(sum, 0, sizeof(*sum));
	ck_assert_msg(bpf_map_lookup_elem(kt.maps.stats, &key, v) == 0,
		      "lookup %s[%u]: %s", KANARY_MAP_STATS, key, strerror(errno));
	for (i = 0; i < kt.ncpus; i++) {
		sum->connections += v[i].connections;
		sum->rule_connections += v[i].rule_connections;
		sum->packets_in += v[i].packets_in;
		sum->packets_out += v[i].packets_out;
		sum->bytes_in += v[i].bytes_in;
		sum->bytes_out += v[i].bytes_out;
		sum->requests += v[i].requests;
		sum->rule_requests += v[i].rule_requests;
	}
}

void kt_counters(__u64 out[KANARY_CNT__MAX])
{
	__u64 v[kt.ncpus];
	__u32 key;
	int i;

	for (key = 0; key < KANARY_CNT__MAX; key++) {
		ck_assert_msg(bpf_map_lookup_elem(kt.maps.counters, &key, v) == 0,
			      "lookup %s[%u]: %s", KANARY_MAP_COUNTERS, key, strerror(errno));
		out[key] = 0;
		for (i = 0; i < kt.ncpus; i++)
			out[key] += v[i];
	}
}

void kt_ho_stats(__u32 svc_id, struct kanary_ho_stats *sum)
{
	struct kanary_ho_stats v[kt.ncpus];
	int i, j;

	memset(sum, 0, sizeof(*sum));
	ck_assert_msg(bpf_map_lookup_elem(kt.maps.ho_stats, &svc_id, v) == 0,
		      "lookup %s[%u]: %s", KANARY_MAP_HO_STATS, svc_id, strerror(errno));
	for (i = 0; i < kt.ncpus; i++) {
		sum->backend_refused += v[i].backend_refused;
		sum->backend_silent += v[i].backend_silent;
		sum->beyond_first_flight += v[i].beyond_first_flight;
		sum->stash_lost += v[i].stash_lost;
		sum->no_backend += v[i].no_backend;
		sum->state_lost += v[i].state_lost;
		sum->switches += v[i].switches;
		sum->switch_failed += v[i].switch_failed;
		for (j = 0; j < 8; j++)
			sum->pinned[j] += v[i].pinned[j];
	}
}

struct kanary_ct_key kt_ct_fwd_key(const struct kt_flow *f)
{
	struct kanary_ct_key k;

	memset(&k, 0, sizeof(k));
	v4_mapped(&k.src, f->client);
	v4_mapped(&k.dst, f->vip);
	k.sport = htons(f->cport);
	k.dport = htons(f->vport);
	k.proto = IPPROTO_TCP;
	k.dir = KANARY_CT_FORWARD;
	return k;
}

struct kanary_ct_key kt_ct_rev_key(const struct kt_flow *f, const struct kt_be *be)
{
	struct kanary_ct_key k;

	memset(&k, 0, sizeof(k));
	v4_mapped(&k.src, kt_be_addr(be->subset, be->index));
	v4_mapped(&k.dst, f->client);
	k.sport = htons(kt_be_port(be->subset));
	k.dport = htons(f->cport);
	k.proto = IPPROTO_TCP;
	k.dir = KANARY_CT_REVERSE;
	return k;
}

/*
 * Brings up the test netns's loopback, the device BPF_PROG_TEST_RUN gives
 * the skb: the RST a switch clones to the old backend is redirected to
 * its ingress, which fails (and the switch with it) while it is down.
 */
void kt_loopback_up(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	ck_assert_msg(fd >= 0, "socket");
	ck_assert_msg(ioctl(fd, SIOCGIFFLAGS, &ifr) == 0, "SIOCGIFFLAGS lo");
	ifr.ifr_flags |= IFF_UP;
	ck_assert_msg(ioctl(fd, SIOCSIFFLAGS, &ifr) == 0, "SIOCSIFFLAGS lo up");
	close(fd);
}
