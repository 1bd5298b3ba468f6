// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Reconcile against real pinned maps: each test loads kanary on its own
 * bpffs (under $KDT_BASE, which main removes) and drives it through
 * libkanary, the way kanaryd and kanaryctl do.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <bpf/bpf.h>
#include "kdt.h"
#include "apply/reconcile.h"
#include "rule_set.h"

#define W(x) ((x) * KANARY_WEIGHT_MILLI)

static char pin[256];
static struct kanary_maps maps;
static struct kd_applied applied;
static struct kd_results res;

static void setup(void)
{
	struct kanary_load_opts lo = { .ct_size = 1024, .max_services = 64, .max_backends = 4096,
				       .cgroup = KANARY_CGROUP_NONE, .maps_only = true };
	struct kanary_err e = { "" };
	const char *base = getenv(KDT_BASE_ENV);

	ck_assert_msg(geteuid() == 0, "reconcile tests need root (BPF maps on a private bpffs)");
	ck_assert_msg(base && *base, "%s is not set: run bin/kanaryd_unit, which creates it",
		      KDT_BASE_ENV);
	snprintf(pin, sizeof(pin), "%s/pin.XXXXXX", base);
	ck_assert_ptr_nonnull(mkdtemp(pin));
	ck_assert_msg(mount("bpf", pin, "bpf", 0, "mode=0700") == 0, "cannot mount bpffs on %s", pin);
	ck_assert_msg(kanary_load(pin, &lo, &e) == 0, "kanary_load: %s", e.msg);
	ck_assert_msg(kanary_maps_open(&maps, pin, &e) == 0, "maps: %s", e.msg);
	memset(&applied, 0, sizeof(applied));
	memset(&res, 0, sizeof(res));
}

static void teardown(void)
{
	kanary_maps_close(&maps);
	kd_applied_free(&applied);
	kd_results_free(&res);
	umount2(pin, MNT_DETACH);
	rmdir(pin);
}

/* A desired subset: "name weight ip:port ip:port ...". */
struct sub_spec {
	const char *name;
	unsigned weight;
	const char *backends[4];
};

static void dservice(struct kd_desired *d, const char *name, const char *vip, int port,
		     const struct sub_spec *subs, size_t nsubs)
{
	struct kd_desired_service s;

	ck_assert_msg(!d->n || strcmp(d->v[d->n - 1].name, name) < 0,
		      "%s after %s: a desired state is sorted by name", name, d->v[d->n - 1].name);
	memset(&s, 0, sizeof(s));
	snprintf(s.name, sizeof(s.name), "%s", name);
	kanary_addr_from_v4(&s.key.vip, inet_addr(vip));
	s.key.port = htons((__u16)port);
	s.key.proto = IPPROTO_TCP;
	for (size_t i = 0; i < nsubs; i++) {
		struct kd_desired_subset *sub = &s.sub[s.nsub++];

		snprintf(sub->name, sizeof(sub->name), "%s", subs[i].name);
		sub->weight_milli = W(subs[i].weight);
		for (size_t k = 0; k < 4 && subs[i].backends[k]; k++)
			sub->n++;
		sub->be = sub->n ? calloc(sub->n, sizeof(*sub->be)) : NULL;
		for (__u32 k = 0; k < sub->n; k++)
			ck_assert_int_eq(kanary_parse_ipport(subs[i].backends[k], &sub->be[k].addr,
							     &sub->be[k].port, NULL), 0);
	}
	s.hash = kd_desired_service_hash(&s);
	KD_PUSH(d->v, d->n, d->cap, s);
}

/* Appends to service i of d a rule "header ARG to SUBSET", as kanaryd builds them. */
static void add_rule(struct kd_desired *d, size_t i, const char *header_arg, const char *subset)
{
	struct kd_desired_service *s = &d->v[i];
	struct kanary_rule_spec sp;
	struct kanary_err e = { "" };
	__u32 k;

	memset(&sp, 0, sizeof(sp));
	sp.n_matches = 1;
	sp.n_conds[0] = 1;
	ck_assert_msg(kanary_cond_parse("header", header_arg, &sp.conds[0][0], &e) == 0, "%s", e.msg);
	for (k = 0; k < s->nsub && strcmp(s->sub[k].name, subset); k++)
		;
	ck_assert_uint_lt(k, s->nsub);
	sp.n_dests = 1;
	sp.dest_subset[0] = (__u8)k;
	sp.dest_weight_milli[0] = W(100);
	if (!s->rules)
		s->rules = calloc(1, sizeof(*s->rules));
	ck_assert_msg(kanary_rules_insert(s->rules, s->rules->n_rules, &sp, &e) == 0, "%s", e.msg);
	snprintf(s->rule_route[s->rules->n_rules - 1], sizeof(s->rule_route[0]), "spec.http[%u]",
		 s->rules->n_rules - 1);
	s->hash = kd_desired_service_hash(s);
}

static enum kd_outcome pass(const struct kd_desired *d)
{
	struct kanary_err e = { "" };

	kd_results_free(&res);
	ck_assert_msg(kd_reconcile(&maps, d, &applied, &res, &e) == 0, "reconcile: %s", e.msg);
	ck_assert_uint_ge(res.n, 1);
	return res.v[res.n - 1].outcome;
}

static const struct kd_result *outcome(const char *name)
{
	const struct kd_result *r = kd_results_find(&res, name);

	ck_assert_msg(r != NULL, "no result for %s", name);
	return r;
}

static struct kanary_service *get(const char *name)
{
	static struct kanary_service s;
	struct kanary_err e = { "" };

	ck_assert_msg(kanary_service_get(&maps, name, &s, &e) == 0, "get %s: %s", name, e.msg);
	return &s;
}

/* What the rules map holds for a service (an empty set when nothing). */
static struct kanary_rules *rules_of(const char *name)
{
	static struct kanary_rules rs;
	struct kanary_err e = { "" };
	bool stale = true;

	ck_assert_msg(kanary_rules_read(&maps, get(name), &rs, &stale, &e) == 0, "rules: %s", e.msg);
	ck_assert(!stale);
	return &rs;
}

/* "header x-my-header=dark": condition k of match 0 of rule r in the maps. */
static const char *map_cond(const struct kanary_rules *rs, __u32 r, __u32 k)
{
	static char buf[256];
	struct kanary_rule_spec sp;

	ck_assert_int_eq(kanary_rules_spec(rs, r, &sp, NULL), 0);
	ck_assert_uint_lt(k, sp.n_conds[0]);
	kanary_cond_format(&sp.conds[0][k], buf, sizeof(buf));
	return buf;
}

static int subset_index(const struct kanary_service *s, const char *name)
{
	for (__u32 i = 0; i < s->cfg.n_subsets; i++)
		if (strcmp(s->cfg.subsets[i].name, name) == 0)
			return (int)i;
	return -1;
}

static const struct sub_spec v1[] = {
	{ "safe", 80, { "10.244.1.11:8080", "10.244.1.12:8080" } },
	{ "risky", 20, { "10.244.2.11:9090" } },
};
static const struct sub_spec v2[] = {
	{ "safe", 50, { "10.244.1.11:8080", "10.244.1.12:8080" } },
	{ "risky", 50, { "10.244.2.11:9090" } },
};

START_TEST(creates_then_leaves_alone)
{
	struct kd_desired d = { 0 };
	struct kanary_service *s;
	__u32 gen;

	dservice(&d, "shop/greeting", "10.96.1.10", 80, v1, 2);
	ck_assert_int_eq(pass(&d), KD_OUT_CREATED);
	ck_assert_uint_eq(res.writes, 1);
	s = get("shop/greeting");
	ck_assert_uint_eq(s->cfg.n_subsets, 2);
	ck_assert_uint_eq(s->cfg.subsets[subset_index(s, "safe")].weight_milli, W(80));
	ck_assert_uint_eq(s->cfg.subsets[subset_index(s, "safe")].n_backends, 2);
	ck_assert_uint_eq(s->cfg.subsets[subset_index(s, "risky")].n_backends, 1);
	ck_assert_uint_eq(ntohs(s->backends[subset_index(s, "risky")][0].port), 9090);
	gen = s->cfg.generation;
	ck_assert(applied.dirty);

	ck_assert_int_eq(pass(&d), KD_OUT_UNCHANGED);
	ck_assert_uint_eq(res.writes, 0);
	ck_assert_uint_eq(get("shop/greeting")->cfg.generation, gen);
	kd_desired_free(&d);
}
END_TEST

START_TEST(operator_override_stays_until_the_manifests_change)
{
	struct kd_desired d1 = { 0 }, d2 = { 0 };
	struct kanary_err e = { "" };
	struct kanary_service *s;

	dservice(&d1, "shop/greeting", "10.96.1.10", 80, v1, 2);
	dservice(&d2, "shop/greeting", "10.96.1.10", 80, v2, 2);
	ck_assert_int_eq(pass(&d1), KD_OUT_CREATED);

	/* What `kanaryctl weight set shop/greeting safe 0 risky 100` does. */
	s = get("shop/greeting");
	s->cfg.subsets[subset_index(s, "safe")].weight_milli = 0;
	s->cfg.subsets[subset_index(s, "risky")].weight_milli = W(100);
	ck_assert_msg(kanary_service_commit(&maps, s, &e) == 0, "commit: %s", e.msg);

	ck_assert_int_eq(pass(&d1), KD_OUT_OVERRIDDEN);
	ck_assert_uint_eq(res.writes, 0);
	s = get("shop/greeting");
	ck_assert_uint_eq(s->cfg.subsets[subset_index(s, "risky")].weight_milli, W(100));

	/* The VirtualService changed: the manifests win again. */
	ck_assert_int_eq(pass(&d2), KD_OUT_UPDATED);
	s = get("shop/greeting");
	ck_assert_uint_eq(s->cfg.subsets[subset_index(s, "safe")].weight_milli, W(50));
	ck_assert_uint_eq(s->cfg.subsets[subset_index(s, "risky")].weight_milli, W(50));
	kd_desired_free(&d1);
	kd_desired_free(&d2);
}
END_TEST

START_TEST(without_a_record_a_different_service_is_rewritten)
{
	struct kd_desired d1 = { 0 }, d2 = { 0 };

	dservice(&d1, "shop/greeting", "10.96.1.10", 80, v1, 2);
	dservice(&d2, "shop/greeting", "10.96.1.10", 80, v2, 2);
	ck_assert_int_eq(pass(&d1), KD_OUT_CREATED);
	kd_applied_free(&applied);	/* the record file was lost */
	ck_assert_int_eq(pass(&d2), KD_OUT_UPDATED);
	ck_assert_uint_eq(get("shop/greeting")->cfg.subsets[0].weight_milli, W(50));
	kd_desired_free(&d1);
	kd_desired_free(&d2);
}
END_TEST

START_TEST(removed_service_is_deleted_and_others_untouched)
{
	struct kd_desired d1 = { 0 }, d2 = { 0 };
	struct kanary_svc_key key = { .port = htons(8080), .proto = IPPROTO_TCP };
	struct kanary_err e = { "" };
	__u64 h;

	kanary_addr_from_v4(&key.vip, inet_addr("10.96.9.9"));
	ck_assert_msg(kanary_service_add(&maps, "handmade", &key, &e) == 0, "add: %s", e.msg);
	dservice(&d1, "shop/cart", "10.96.1.20", 80, v1, 1);
	dservice(&d1, "shop/greeting", "10.96.1.10", 80, v1, 2);
	dservice(&d2, "shop/cart", "10.96.1.20", 80, v1, 1);
	pass(&d1);
	ck_assert_int_eq(outcome("shop/greeting")->outcome, KD_OUT_CREATED);
	pass(&d2);
	ck_assert_int_eq(outcome("shop/greeting")->outcome, KD_OUT_DELETED);
	ck_assert_int_eq(outcome("shop/cart")->outcome, KD_OUT_UNCHANGED);
	ck_assert_uint_eq(ntohs(get("handmade")->cfg.key.port), 8080);
	ck_assert_int_eq(kanary_service_get(&maps, "shop/greeting", get("handmade"), NULL), -ENOENT);
	ck_assert(!kd_applied_get(&applied, "shop/greeting", &h));
	ck_assert_ptr_null(kd_results_find(&res, "handmade"));
	kd_desired_free(&d1);
	kd_desired_free(&d2);
}
END_TEST

/* Services n/s-000 to n/s-<n-1>, but for every skip-th one (none when 0). */
static void many(struct kd_desired *d, int n, int skip)
{
	char name[32], vip[32];

	for (int k = 0; k < n; k++) {
		if (skip && k % skip == 0)
			continue;
		snprintf(name, sizeof(name), "n/s-%03d", k);
		snprintf(vip, sizeof(vip), "10.96.2.%d", k + 1);
		dservice(d, name, vip, 80, v1, 2);
	}
}

START_TEST(many_services_are_each_found_by_name)
{
	enum { N = 60 };	/* the instance takes 64 */
	struct kd_desired all = { 0 }, fewer = { 0 };
	char name[32];
	__u64 h;

	many(&all, N, 0);
	many(&fewer, N, 3);
	pass(&all);
	ck_assert_uint_eq(res.n, N);
	ck_assert_uint_eq(res.writes, N);
	for (int k = 0; k < N; k++) {
		snprintf(name, sizeof(name), "n/s-%03d", k);
		ck_assert_int_eq(outcome(name)->outcome, KD_OUT_CREATED);
		ck_assert_msg(kd_applied_get(&applied, name, &h), "no record of %s", name);
	}
	pass(&all);
	ck_assert_uint_eq(res.writes, 0);
	for (int k = 0; k < N; k++) {
		snprintf(name, sizeof(name), "n/s-%03d", k);
		ck_assert_int_eq(outcome(name)->outcome, KD_OUT_UNCHANGED);
	}
	pass(&fewer);
	ck_assert_uint_eq(res.n, N);
	for (int k = 0; k < N; k++) {
		snprintf(name, sizeof(name), "n/s-%03d", k);
		ck_assert_int_eq(outcome(name)->outcome, k % 3 ? KD_OUT_UNCHANGED : KD_OUT_DELETED);
		ck_assert(kd_applied_get(&applied, name, &h) == (k % 3 != 0));
	}
	ck_assert_ptr_null(kd_results_find(&res, "n/s-060"));
	ck_assert_ptr_null(kd_results_find(&res, "n/s-"));
	kd_desired_free(&all);
	kd_desired_free(&fewer);
}
END_TEST

START_TEST(address_taken_by_a_hand_made_service_fails_clearly)
{
	struct kd_desired d = { 0 };
	struct kanary_svc_key key = { .port = htons(80), .proto = IPPROTO_TCP };
	struct kanary_err e = { "" };

	kanary_addr_from_v4(&key.vip, inet_addr("10.96.1.10"));
	ck_assert_msg(kanary_service_add(&maps, "greeting", &key, &e) == 0, "add: %s", e.msg);
	dservice(&d, "shop/cart", "10.96.1.20", 80, v1, 1);
	dservice(&d, "shop/greeting", "10.96.1.10", 80, v1, 2);
	pass(&d);
	ck_assert_int_eq(outcome("shop/greeting")->outcome, KD_OUT_FAILED);
	ck_assert_ptr_nonnull(strstr(outcome("shop/greeting")->msg, "greeting"));
	ck_assert_ptr_nonnull(strstr(outcome("shop/greeting")->msg, "10.96.1.10:80"));
	ck_assert_int_eq(outcome("shop/cart")->outcome, KD_OUT_CREATED);
	ck_assert_uint_eq(get("greeting")->cfg.n_subsets, 0);	/* the operator's stays as it was */
	kd_desired_free(&d);
}
END_TEST

START_TEST(removed_subset_is_retired_in_place)
{
	static const struct sub_spec abc[] = {
		{ "a", 50, { "10.1.0.1:80" } }, { "b", 30, { "10.1.0.2:80" } }, { "c", 20, { "10.1.0.3:80" } },
	};
	static const struct sub_spec ac[] = { { "a", 50, { "10.1.0.1:80" } }, { "c", 50, { "10.1.0.3:80" } } };
	static const struct sub_spec acd[] = {
		{ "a", 50, { "10.1.0.1:80" } }, { "c", 50, { "10.1.0.3:80" } }, { "d", 1, { "10.1.0.4:80" } },
	};
	struct kd_desired d1 = { 0 }, d2 = { 0 }, d3 = { 0 };
	struct kanary_service *s;

	dservice(&d1, "n/s", "10.96.0.1", 80, abc, 3);
	dservice(&d2, "n/s", "10.96.0.1", 80, ac, 2);
	dservice(&d3, "n/s", "10.96.0.1", 80, acd, 3);
	pass(&d1);
	ck_assert_int_eq(pass(&d2), KD_OUT_UPDATED);
	s = get("n/s");
	/* c keeps index 2 (its counters are kept by index); b stays, empty. */
	ck_assert_uint_eq(s->cfg.n_subsets, 3);
	ck_assert_int_eq(subset_index(s, "c"), 2);
	ck_assert_int_eq(subset_index(s, "b"), 1);
	ck_assert_uint_eq(s->cfg.subsets[1].weight_milli, 0);
	ck_assert_uint_eq(s->cfg.subsets[1].n_backends, 0);
	ck_assert_uint_eq(s->cfg.subsets[2].weight_milli, W(50));
	ck_assert_int_eq(pass(&d2), KD_OUT_UNCHANGED);	/* a retired subset is not a difference */
	ck_assert_int_eq(pass(&d3), KD_OUT_UPDATED);
	s = get("n/s");
	ck_assert_int_eq(subset_index(s, "d"), 3);
	ck_assert_int_eq(subset_index(s, "c"), 2);
	kd_desired_free(&d1);
	kd_desired_free(&d2);
	kd_desired_free(&d3);
}
END_TEST

START_TEST(new_address_recreates_the_service)
{
	struct kd_desired d1 = { 0 }, d2 = { 0 };
	struct kanary_svc_ref ref;
	struct kanary_svc_key key;

	dservice(&d1, "n/s", "10.96.0.1", 80, v1, 2);
	dservice(&d2, "n/s", "10.96.0.1", 8080, v1, 2);
	pass(&d1);
	ck_assert_int_eq(pass(&d2), KD_OUT_UPDATED);
	ck_assert_uint_eq(ntohs(get("n/s")->cfg.key.port), 8080);
	key = d1.v[0].key;
	ck_assert_int_ne(bpf_map_lookup_elem(maps.svc, &key, &ref), 0);
	kd_desired_free(&d1);
	kd_desired_free(&d2);
}
END_TEST

START_TEST(held_service_is_left_as_it_is)
{
	struct kd_desired d1 = { 0 }, d2 = { 0 };

	dservice(&d1, "n/s", "10.96.0.1", 80, v1, 2);
	dservice(&d2, "n/s", "10.96.0.1", 80, v2, 2);
	d2.v[0].hold = true;
	d2.v[0].problem = strdup("too many pods");
	pass(&d1);
	ck_assert_int_eq(pass(&d2), KD_OUT_HELD);
	ck_assert_str_eq(outcome("n/s")->msg, "too many pods");
	ck_assert_uint_eq(get("n/s")->cfg.subsets[0].weight_milli, W(80));
	kd_desired_free(&d1);
	kd_desired_free(&d2);
}
END_TEST

START_TEST(rules_follow_the_manifests)
{
	struct kd_desired with = { 0 }, without = { 0 };
	struct kanary_rules *rs;
	__u32 gen;

	dservice(&with, "shop/greeting", "10.96.1.10", 80, v1, 2);
	add_rule(&with, 0, "x-my-header=dark", "risky");
	dservice(&without, "shop/greeting", "10.96.1.10", 80, v1, 2);
	ck_assert_int_eq(pass(&with), KD_OUT_CREATED);
	ck_assert_ptr_nonnull(strstr(outcome("shop/greeting")->msg, "; 1 rule"));
	rs = rules_of("shop/greeting");
	ck_assert_uint_eq(rs->n_rules, 1);
	ck_assert_str_eq(map_cond(rs, 0, 0), "header x-my-header=dark");
	ck_assert_int_eq(rs->rules[0].dest_subset[0], subset_index(get("shop/greeting"), "risky"));
	ck_assert_int_eq(pass(&with), KD_OUT_UNCHANGED);

	/* The VirtualService lost its match route: the rules go, the config is not rewritten. */
	gen = get("shop/greeting")->cfg.generation;
	ck_assert_int_eq(pass(&without), KD_OUT_UPDATED);
	ck_assert_uint_eq(rules_of("shop/greeting")->n_rules, 0);
	ck_assert_uint_eq(get("shop/greeting")->cfg.generation, gen);
	ck_assert_int_eq(pass(&without), KD_OUT_UNCHANGED);
	/* And back. */
	ck_assert_int_eq(pass(&with), KD_OUT_UPDATED);
	ck_assert_uint_eq(rules_of("shop/greeting")->n_rules, 1);
	kd_desired_free(&with);
	kd_desired_free(&without);
}
END_TEST

START_TEST(rules_name_the_committed_subset_indexes)
{
	static const struct sub_spec risky_first[] = {
		{ "risky", 20, { "10.244.2.11:9090" } },
		{ "safe", 80, { "10.244.1.11:8080", "10.244.1.12:8080" } },
	};
	struct kd_desired d1 = { 0 }, d2 = { 0 };
	struct kanary_service *s;

	dservice(&d1, "shop/greeting", "10.96.1.10", 80, risky_first, 2);
	dservice(&d2, "shop/greeting", "10.96.1.10", 80, v2, 2);
	add_rule(&d2, 0, "x-my-header=dark", "risky");
	add_rule(&d2, 0, "x-stable", "safe");
	ck_assert_int_eq(pass(&d1), KD_OUT_CREATED);
	ck_assert_int_eq(pass(&d2), KD_OUT_UPDATED);
	s = get("shop/greeting");
	/* risky kept index 0 although the desired service lists it second. */
	ck_assert_int_eq(subset_index(s, "risky"), 0);
	ck_assert_uint_eq(rules_of("shop/greeting")->rules[0].dest_subset[0], 0);
	ck_assert_uint_eq(rules_of("shop/greeting")->rules[1].dest_subset[0], 1);
	ck_assert_str_eq(map_cond(rules_of("shop/greeting"), 1, 0), "header x-stable");
	ck_assert_int_eq(pass(&d2), KD_OUT_UNCHANGED);
	kd_desired_free(&d1);
	kd_desired_free(&d2);
}
END_TEST

START_TEST(an_operators_rules_stay_until_the_manifests_change)
{
	struct kd_desired d1 = { 0 }, d2 = { 0 };
	struct kanary_err e = { "" };
	struct kanary_rules rs;

	dservice(&d1, "shop/greeting", "10.96.1.10", 80, v1, 2);
	add_rule(&d1, 0, "x-my-header=dark", "risky");
	dservice(&d2, "shop/greeting", "10.96.1.10", 80, v1, 2);
	add_rule(&d2, 0, "x-my-header=darker", "risky");
	ck_assert_int_eq(pass(&d1), KD_OUT_CREATED);

	/* What `kanaryctl route del shop/greeting 1` does. */
	rs = *rules_of("shop/greeting");
	ck_assert_int_eq(kanary_rules_remove(&rs, 0, &e), 0);
	ck_assert_msg(kanary_rules_write(&maps, get("shop/greeting"), &rs, &e) == 0, "%s", e.msg);
	ck_assert_int_eq(pass(&d1), KD_OUT_OVERRIDDEN);
	ck_assert_uint_eq(rules_of("shop/greeting")->n_rules, 0);

	ck_assert_int_eq(pass(&d2), KD_OUT_UPDATED);
	ck_assert_str_eq(map_cond(rules_of("shop/greeting"), 0, 0), "header x-my-header=darker");
	kd_desired_free(&d1);
	kd_desired_free(&d2);
}
END_TEST

START_TEST(a_held_service_keeps_its_rules)
{
	struct kd_desired d1 = { 0 }, d2 = { 0 };

	dservice(&d1, "n/s", "10.96.0.1", 80, v1, 2);
	add_rule(&d1, 0, "x-my-header=dark", "risky");
	dservice(&d2, "n/s", "10.96.0.1", 80, v1, 2);
	d2.v[0].hold = true;
	d2.v[0].problem = strdup("vs.yaml:7: 9 rules");
	ck_assert_int_eq(pass(&d1), KD_OUT_CREATED);
	ck_assert_int_eq(pass(&d2), KD_OUT_HELD);
	ck_assert_uint_eq(rules_of("n/s")->n_rules, 1);
	kd_desired_free(&d1);
	kd_desired_free(&d2);
}
END_TEST

/* Sets service i of d to mirror ppm of its requests to subset, as kanaryd builds it. */
static void add_mirror(struct kd_desired *d, size_t i, const char *subset, __u32 ppm)
{
	struct kd_desired_service *s = &d->v[i];
	int k = kd_desired_subset_index(s, subset);

	ck_assert_int_ge(k, 0);
	s->mirror_ppm[k] = ppm;
	s->hash = kd_desired_service_hash(s);
}

/* The same for the requests rule (from 0) routes. */
static void add_rule_mirror(struct kd_desired *d, size_t i, int rule, const char *subset,
			    __u32 ppm)
{
	struct kd_desired_service *s = &d->v[i];
	int k = kd_desired_subset_index(s, subset);

	ck_assert_int_ge(k, 0);
	s->rule_mirror_ppm[rule][k] = ppm;
	s->hash = kd_desired_service_hash(s);
}

/* What the mirror map holds for a service; *found: it has an entry at all. */
static struct kanary_mirror_cfg mirror_of(const char *name, bool *found)
{
	struct kanary_mirror_cfg cfg;
	__u32 id = get(name)->id;

	memset(&cfg, 0, sizeof(cfg));
	*found = bpf_map_lookup_elem(maps.mirror, &id, &cfg) == 0;
	ck_assert(*found || errno == ENOENT);
	return cfg;
}

START_TEST(mirrors_follow_the_manifests)
{
	struct kd_desired with = { 0 }, without = { 0 };
	struct kanary_mirror_cfg cfg;
	bool found;
	__u32 gen;

	dservice(&with, "shop/greeting", "10.96.1.10", 80, v1, 2);
	add_mirror(&with, 0, "risky", 125000);
	dservice(&without, "shop/greeting", "10.96.1.10", 80, v1, 2);
	ck_assert_int_eq(pass(&with), KD_OUT_CREATED);
	ck_assert_ptr_nonnull(strstr(outcome("shop/greeting")->msg, "; mirror 12.5% to risky"));
	cfg = mirror_of("shop/greeting", &found);
	ck_assert(found);
	ck_assert_uint_eq(cfg.ppm[subset_index(get("shop/greeting"), "risky")], 125000);
	ck_assert_uint_eq(cfg.ppm[subset_index(get("shop/greeting"), "safe")], 0);
	ck_assert_int_eq(pass(&with), KD_OUT_UNCHANGED);

	/* The mirror left the VirtualService: the entry goes, the config is not rewritten. */
	gen = get("shop/greeting")->cfg.generation;
	ck_assert_int_eq(pass(&without), KD_OUT_UPDATED);
	mirror_of("shop/greeting", &found);
	ck_assert(!found);
	ck_assert_uint_eq(get("shop/greeting")->cfg.generation, gen);
	ck_assert_int_eq(pass(&without), KD_OUT_UNCHANGED);
	ck_assert_int_eq(pass(&with), KD_OUT_UPDATED);
	mirror_of("shop/greeting", &found);
	ck_assert(found);
	kd_desired_free(&with);
	kd_desired_free(&without);
}
END_TEST

START_TEST(mirrors_name_the_committed_subset_indexes)
{
	static const struct sub_spec risky_first[] = {
		{ "risky", 20, { "10.244.2.11:9090" } },
		{ "safe", 80, { "10.244.1.11:8080", "10.244.1.12:8080" } },
	};
	struct kd_desired d1 = { 0 }, d2 = { 0 };
	struct kanary_mirror_cfg cfg;
	bool found;

	dservice(&d1, "shop/greeting", "10.96.1.10", 80, risky_first, 2);
	dservice(&d2, "shop/greeting", "10.96.1.10", 80, v2, 2);
	add_mirror(&d2, 0, "safe", 1);
	ck_assert_int_eq(pass(&d1), KD_OUT_CREATED);
	ck_assert_int_eq(pass(&d2), KD_OUT_UPDATED);
	/* safe is first in the desired service, second in the maps. */
	ck_assert_int_eq(subset_index(get("shop/greeting"), "safe"), 1);
	cfg = mirror_of("shop/greeting", &found);
	ck_assert_uint_eq(cfg.ppm[1], 1);
	ck_assert_uint_eq(cfg.ppm[0], 0);
	ck_assert_int_eq(pass(&d2), KD_OUT_UNCHANGED);
	kd_desired_free(&d1);
	kd_desired_free(&d2);
}
END_TEST

/*
 * A rule's mirror alone makes the entry, at that rule's index and the
 * committed subset's; a change to its share alone is an update.
 */
START_TEST(rule_mirrors_name_the_rule_and_the_committed_subset)
{
	static const struct sub_spec risky_first[] = {
		{ "risky", 20, { "10.244.2.11:9090" } },
		{ "safe", 80, { "10.244.1.11:8080", "10.244.1.12:8080" } },
	};
	struct kd_desired d1 = { 0 }, d2 = { 0 }, d3 = { 0 };
	struct kanary_mirror_cfg cfg;
	bool found;

	dservice(&d1, "shop/greeting", "10.96.1.10", 80, risky_first, 2);
	dservice(&d2, "shop/greeting", "10.96.1.10", 80, v2, 2);
	add_rule_mirror(&d2, 0, 3, "safe", 250000);
	dservice(&d3, "shop/greeting", "10.96.1.10", 80, v2, 2);
	add_rule_mirror(&d3, 0, 3, "safe", 500000);
	ck_assert_int_eq(pass(&d1), KD_OUT_CREATED);
	ck_assert_int_eq(pass(&d2), KD_OUT_UPDATED);
	ck_assert_ptr_nonnull(strstr(outcome("shop/greeting")->msg, "; mirror rule 4's 25% to safe"));
	cfg = mirror_of("shop/greeting", &found);
	ck_assert(found);
	ck_assert_int_eq(subset_index(get("shop/greeting"), "safe"), 1);
	ck_assert_uint_eq(cfg.rule_ppm[3][1], 250000);
	ck_assert_uint_eq(cfg.rule_ppm[3][0], 0);
	ck_assert_uint_eq(cfg.ppm[1], 0);
	ck_assert_int_eq(pass(&d2), KD_OUT_UNCHANGED);
	ck_assert_int_eq(pass(&d3), KD_OUT_UPDATED);
	ck_assert_uint_eq(mirror_of("shop/greeting", &found).rule_ppm[3][1], 500000);
	kd_desired_free(&d1);
	kd_desired_free(&d2);
	kd_desired_free(&d3);
}
END_TEST

START_TEST(a_held_service_keeps_its_mirror)
{
	struct kd_desired d1 = { 0 }, d2 = { 0 };
	bool found;

	dservice(&d1, "n/s", "10.96.0.1", 80, v1, 2);
	add_mirror(&d1, 0, "risky", 1000000);
	dservice(&d2, "n/s", "10.96.0.1", 80, v1, 2);
	d2.v[0].hold = true;
	d2.v[0].problem = strdup("vs.yaml:9: spec.http[0].mirror.subset: no DestinationRule");
	ck_assert_int_eq(pass(&d1), KD_OUT_CREATED);
	ck_assert_int_eq(pass(&d2), KD_OUT_HELD);
	ck_assert_uint_eq(mirror_of("n/s", &found).ppm[subset_index(get("n/s"), "risky")], 1000000);
	kd_desired_free(&d1);
	kd_desired_free(&d2);
}
END_TEST

START_TEST(an_operators_mirror_stays_until_the_manifests_change)
{
	struct kd_desired d1 = { 0 }, d2 = { 0 };
	struct kanary_err e = { "" };
	bool found;

	dservice(&d1, "shop/greeting", "10.96.1.10", 80, v1, 2);
	dservice(&d2, "shop/greeting", "10.96.1.10", 80, v2, 2);
	ck_assert_int_eq(pass(&d1), KD_OUT_CREATED);
	ck_assert_msg(kanary_mirror_set(&maps, "shop/greeting", "risky", KANARY_MIRROR_SPLIT, 30000,
				       &e) == 0, "%s", e.msg);
	ck_assert_int_eq(pass(&d1), KD_OUT_OVERRIDDEN);
	ck_assert_uint_eq(mirror_of("shop/greeting", &found).ppm[subset_index(get("shop/greeting"), "risky")],
			  30000);
	/* The manifests changed: kanaryd's state again, without the operator's mirror. */
	ck_assert_int_eq(pass(&d2), KD_OUT_UPDATED);
	mirror_of("shop/greeting", &found);
	ck_assert(!found);
	kd_desired_free(&d1);
	kd_desired_free(&d2);
}
END_TEST

/* The shipped examples, parsed and applied: the seed scenario's 80/20 and its dark release. */
START_TEST(examples_apply)
{
	static const char *const files[] = { "services.yaml", "pods.yaml", "destinationrule.yaml",
					     "virtualservice.yaml" };
	const char *dir = getenv("KD_EXAMPLES") ? getenv("KD_EXAMPLES") : "examples";
	struct kdt_world w = { 0 };
	struct kanary_service *s;
	char path[512];

	for (size_t i = 0; i < 4; i++) {
		size_t len;
		char *buf;

		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		ck_assert_msg(access(path, R_OK) == 0, "%s not found: run from the repository root", path);
		buf = kdt_read(path, &len);
		ck_assert_int_lt(w.n, KDT_MAX_SETS);
		w.ptr[w.n] = &w.sets[w.n];
		ck_assert_int_eq(kd_manifest_decode(path, buf, len, w.ptr[w.n++], &w.diags), 0);
		free(buf);
	}
	kdt_build(&w);
	ck_assert_uint_eq(kd_diag_count(&w.diags, KD_WARN) + kd_diag_count(&w.diags, KD_ERROR), 0);
	pass(&w.desired);
	ck_assert_int_eq(outcome("default/greeting")->outcome, KD_OUT_CREATED);
	ck_assert_int_eq(outcome("default/message")->outcome, KD_OUT_CREATED);
	s = get("default/greeting");
	ck_assert_uint_eq(s->cfg.subsets[subset_index(s, "safe")].weight_milli, W(80));
	ck_assert_uint_eq(s->cfg.subsets[subset_index(s, "safe")].n_backends, 2);
	ck_assert_uint_eq(s->cfg.subsets[subset_index(s, "risky")].weight_milli, W(20));
	ck_assert_uint_eq(s->cfg.subsets[subset_index(s, "risky")].n_backends, 1);
	/* The datapath's shares: 80 % and 20 % of 10,000. */
	ck_assert_uint_eq(s->cfg.cum_weight[s->cfg.n_subsets - 1], KANARY_WEIGHT_SCALE);
	/* x-my-header: dark goes to risky, ahead of the split. */
	ck_assert_uint_eq(rules_of("default/greeting")->n_rules, 1);
	ck_assert_str_eq(map_cond(rules_of("default/greeting"), 0, 0), "header x-my-header=dark");
	ck_assert_int_eq(rules_of("default/greeting")->rules[0].dest_subset[0],
			 subset_index(get("default/greeting"), "risky"));
	ck_assert_uint_eq(rules_of("default/message")->n_rules, 0);
	kdt_free(&w);
}
END_TEST

Suite *reconcile_suite(void)
{
	Suite *s = suite_create("reconcile");
	TCase *tc = tcase_create("maps");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, creates_then_leaves_alone);
	tcase_add_test(tc, operator_override_stays_until_the_manifests_change);
	tcase_add_test(tc, without_a_record_a_different_service_is_rewritten);
	tcase_add_test(tc, removed_service_is_deleted_and_others_untouched);
	tcase_add_test(tc, many_services_are_each_found_by_name);
	tcase_add_test(tc, address_taken_by_a_hand_made_service_fails_clearly);
	tcase_add_test(tc, removed_subset_is_retired_in_place);
	tcase_add_test(tc, new_address_recreates_the_service);
	tcase_add_test(tc, held_service_is_left_as_it_is);
	tcase_add_test(tc, rules_follow_the_manifests);
	tcase_add_test(tc, rules_name_the_committed_subset_indexes);
	tcase_add_test(tc, an_operators_rules_stay_until_the_manifests_change);
	tcase_add_test(tc, a_held_service_keeps_its_rules);
	tcase_add_test(tc, mirrors_follow_the_manifests);
	tcase_add_test(tc, mirrors_name_the_committed_subset_indexes);
	tcase_add_test(tc, rule_mirrors_name_the_rule_and_the_committed_subset);
	tcase_add_test(tc, a_held_service_keeps_its_mirror);
	tcase_add_test(tc, an_operators_mirror_stays_until_the_manifests_change);
	tcase_add_test(tc, examples_apply);
	suite_add_tcase(s, tc);
	return s;
}
