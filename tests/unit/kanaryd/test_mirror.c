// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* VirtualService mirror, mirrorPercentage, mirrorPercent and mirrors[] into desired mirrors. */
#include <stdio.h>
#include <string.h>
#include <jansson.h>
#include "kdt.h"
#include "decode/yamlnode_json.h"

#define W(x) ((x) * KANARY_WEIGHT_MILLI)

/* kdt_base_yaml, and a VirtualService n/g of API version api with spec (its line 1 is vs.yaml:5). */
static int load_vs(struct kdt_world *w, const char *api, const char *spec)
{
	char text[4096];

	ck_assert_int_lt(snprintf(text, sizeof(text), "apiVersion: networking.istio.io/%s\n"
				  "kind: VirtualService\nmetadata: {name: g, namespace: n}\nspec:\n%s",
				  api, spec), (int)sizeof(text));
	ck_assert_int_eq(kdt_load_text(w, "base.yaml", kdt_base_yaml), 0);
	return kdt_load_text(w, "vs.yaml", text);
}

/* load_vs with one route, to subset a, and these lines (at four spaces) after it. */
static int load_split(struct kdt_world *w, const char *api, const char *after_route)
{
	char spec[1024];

	ck_assert_int_lt(snprintf(spec, sizeof(spec), "  hosts: [g]\n  http:\n  - route:\n"
				  "    - destination: {host: g, subset: a}\n%s", after_route),
			 (int)sizeof(spec));
	return load_vs(w, api, spec);
}

/* The mirror share of subset name of service, 0 when it is not a mirror. */
static __u32 mirror_ppm(const struct kd_desired_service *s, const char *name)
{
	int i = kd_desired_subset_index(s, name);

	ck_assert_msg(i >= 0, "%s has no subset %s", s->name, name);
	return s->mirror_ppm[i];
}

/* The mirror share of subset name on rule k's route (from 0), 0 when it is no mirror there. */
static __u32 rule_mirror_ppm(const struct kd_desired_service *s, int k, const char *name)
{
	int i = kd_desired_subset_index(s, name);

	ck_assert_msg(i >= 0, "%s has no subset %s", s->name, name);
	return s->rule_mirror_ppm[k][i];
}

static const char mirror_b_spec[] =
	"  hosts: [g]\n"
	"  http:\n"
	"  - route:\n"
	"    - destination: {host: g, subset: a}\n"
	"    mirror:\n"				/* vs.yaml:9 */
	"      host: g\n"
	"      subset: b\n"
	"    mirrorPercentage:\n"
	"      value: 12.5\n";

START_TEST(each_istio_version_mirrors_to_a_subset_at_weight_0)
{
	static const char *const api[] = { "v1", "v1beta1", "v1alpha3" };
	struct kdt_world w = { 0 };
	const struct kd_route *r;
	const struct kd_desired_service *s;

	ck_assert_int_eq(load_vs(&w, api[_i], mirror_b_spec), 0);
	r = &w.sets[1].vs[0]->routes[0];
	ck_assert_uint_eq(r->nmirrors, 1);
	ck_assert_str_eq(r->mirrors[0].dest.host, "g");
	ck_assert_str_eq(r->mirrors[0].dest.subset, "b");
	ck_assert_int_eq(r->mirrors[0].dest.line, 9);
	ck_assert_uint_eq(r->mirrors[0].ppm, 125000);
	kdt_build(&w);
	ck_assert_uint_eq(kd_diag_count(&w.diags, KD_WARN), 0);
	/* The route has no port match: both ports mirror, each to its own pods. */
	s = kdt_service(&w, "n/g/80");
	ck_assert(!s->hold);
	ck_assert_uint_eq(mirror_ppm(s, "b"), 125000);
	ck_assert_uint_eq(mirror_ppm(s, "a"), 0);
	ck_assert_uint_eq(kdt_subset(s, "a")->weight_milli, W(100));
	ck_assert_uint_eq(kdt_subset(s, "b")->weight_milli, 0);
	ck_assert(kdt_has_backend(kdt_subset(s, "b"), "10.1.0.2:80"));
	s = kdt_service(&w, "n/g/9090");
	ck_assert_uint_eq(mirror_ppm(s, "b"), 125000);
	ck_assert(kdt_has_backend(kdt_subset(s, "b"), "10.1.0.2:9090"));
	kdt_free(&w);
}
END_TEST

START_TEST(a_mirror_port_applies_to_that_port_only)
{
	struct kdt_world w = { 0 };
	const struct kd_desired_service *s;

	ck_assert_int_eq(kdt_load_text(&w, "base.yaml", kdt_base_yaml), 0);
	ck_assert_int_eq(kdt_load_text(&w, "vs.yaml",
		"apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: g, namespace: n}\n"
		"spec:\n  hosts: [g]\n  http:\n  - route:\n    - destination: {host: g, subset: a}\n"
		"    mirror: {host: g, subset: b, port: {number: 80}}\n"), 0);
	kdt_build(&w);
	s = kdt_service(&w, "n/g/80");
	ck_assert_uint_eq(mirror_ppm(s, "b"), 1000000);
	ck_assert_uint_eq(kdt_subset(s, "b")->n, 1);
	/* Port 80 named: port 9090's requests are not mirrored, and that is said. */
	ck_assert_uint_eq(mirror_ppm(kdt_service(&w, "n/g/9090"), "b"), 0);
	KDT_ASSERT_DIAG(&w.diags, KD_WARN, "vs.yaml:9:", "spec.http[0].mirror.port: 80",
			"not applied to port 9090");
	kdt_free(&w);
}
END_TEST

static const struct {
	const char *spec;
	__u32 ppm_b, ppm_a;
	const char *warning;	/* NULL: none */
} percent_cases[] = {
	{ "    mirror: {host: g, subset: b}\n", 1000000, 0, NULL },
	{ "    mirror: {host: g, subset: b}\n    mirrorPercent: 50\n", 500000, 0, NULL },
	{ "    mirror: {host: g, subset: b}\n    mirrorPercentage: {value: 0.0001}\n", 1, 0, NULL },
	{ "    mirror: {host: g, subset: b}\n    mirrorPercentage: {value: 100}\n", 1000000, 0, NULL },
	{ "    mirror: {host: g, subset: b}\n    mirrorPercentage: {value: 0.5}\n    mirrorPercent: 7\n",
	  5000, 0, "spec.http[0].mirrorPercent: deprecated, and mirrorPercentage is given; ignored" },
	/* Istio: an explicit 0, or a percentage without a value, mirrors nothing. */
	{ "    mirror: {host: g, subset: b}\n    mirrorPercentage: {}\n", 0, 0, NULL },
	{ "    mirror: {host: g, subset: b}\n    mirrorPercent: 0\n", 0, 0, NULL },
	{ "    mirror: {host: g, subset: b}\n    mirrorPercentage: {value: 0.00001}\n", 0, 0,
	  "below kanary's resolution" },
	{ "    mirrors:\n    - destination: {host: g, subset: b}\n      percentage: {value: 33.3333}\n"
	  "    - destination: {host: g.n.svc.cluster.local, subset: a}\n", 333333, 1000000, NULL },
	/* Named twice: one draw serves a subset, at the larger share. */
	{ "    mirrors:\n    - destination: {host: g, subset: b}\n      percentage: {value: 5}\n"
	  "    - destination: {host: g, subset: b}\n      percentage: {value: 10}\n", 100000, 0, NULL },
	{ "    mirrorPercent: 5\n", 0, 0, "spec.http[0].mirrorPercent: no mirror beside it; ignored" },
};

START_TEST(percentages_as_istio_reads_them)
{
	struct kdt_world w = { 0 };
	const struct kd_desired_service *s;

	ck_assert_int_eq(load_split(&w, "v1beta1", percent_cases[_i].spec), 0);
	kdt_build(&w);
	s = kdt_service(&w, "n/g/80");
	ck_assert_msg(!s->hold, "held: %s", s->problem);
	ck_assert_uint_eq(mirror_ppm(s, "b"), percent_cases[_i].ppm_b);
	ck_assert_uint_eq(mirror_ppm(s, "a"), percent_cases[_i].ppm_a);
	if (percent_cases[_i].warning)
		KDT_ASSERT_DIAG(&w.diags, KD_WARN, "vs.yaml:", percent_cases[_i].warning);
	else
		ck_assert_uint_eq(kd_diag_count(&w.diags, KD_WARN), 0);
	kdt_free(&w);
}
END_TEST

/* From a kubectl List in files: several mirrors fill several subset slots. */
START_TEST(a_fixture_with_mirrors_fills_their_slots)
{
	struct kdt_world w = { 0 };
	const struct kd_desired_service *s;

	ck_assert_int_eq(kdt_load(&w, "services.yaml"), 0);
	ck_assert_int_eq(kdt_load(&w, "pods-list.json"), 0);
	ck_assert_int_eq(kdt_load(&w, "istio-mirror.yaml"), 0);
	kdt_build(&w);
	s = kdt_service(&w, "shop/greeting");
	ck_assert_uint_eq(mirror_ppm(s, "safe"), 0);
	ck_assert_uint_eq(mirror_ppm(s, "risky"), 25000);
	ck_assert_uint_eq(mirror_ppm(s, "canary2"), 5000);
	ck_assert_uint_eq(kdt_subset(s, "safe")->weight_milli, W(100));
	ck_assert_uint_eq(kdt_subset(s, "risky")->weight_milli, 0);
	ck_assert(kdt_has_backend(kdt_subset(s, "risky"), "10.244.2.11:9090"));
	/* No pod carries canary2: the relay counts its copies as no_backend. */
	ck_assert_uint_eq(kdt_subset(s, "canary2")->n, 0);
	kdt_free(&w);
}
END_TEST

/* Bad input in the VirtualService itself: the file is bad, its last good version stays. */
static const struct {
	const char *spec;
	const char *expect;
} bad_cases[] = {
	{ "    mirror: {host: g, subset: b}\n    mirrorPercentage: {value: 150}\n",
	  "vs.yaml:10: VirtualService n/g: spec.http[0].mirrorPercentage.value: expected a percentage from 0 to 100 (e.g. 10 or 0.5), got '150'" },
	{ "    mirror: {host: g, subset: b}\n    mirrorPercentage: {value: -1}\n",
	  "vs.yaml:10: VirtualService n/g: spec.http[0].mirrorPercentage.value: expected a percentage" },
	{ "    mirror: {host: g, subset: b}\n    mirrorPercentage: {value: 'ten'}\n",
	  "vs.yaml:10: VirtualService n/g: spec.http[0].mirrorPercentage.value: expected a percentage" },
	{ "    mirror: {host: g, subset: b}\n    mirrorPercentage: 10\n",
	  "vs.yaml:10: VirtualService n/g: spec.http[0].mirrorPercentage: expected a mapping" },
	{ "    mirror: {host: g, subset: b}\n    mirrorPercent: 101\n",
	  "vs.yaml:10: VirtualService n/g: spec.http[0].mirrorPercent: expected a whole percentage from 0 to 100, got '101'" },
	{ "    mirror: {subset: b}\n", "vs.yaml:9: VirtualService n/g: spec.http[0].mirror.host: missing" },
	{ "    mirror: [g]\n", "vs.yaml:9: VirtualService n/g: spec.http[0].mirror: expected a mapping" },
	{ "    mirror: {host: g, subset: b}\n    mirrors:\n    - destination: {host: g, subset: b}\n",
	  "vs.yaml:11: VirtualService n/g: spec.http[0]: has both mirror and mirrors" },
	{ "    mirrors:\n    - destination: {host: g, subset: b}\n      percentage: {value: 100.5}\n",
	  "vs.yaml:11: VirtualService n/g: spec.http[0].mirrors[0].percentage.value: expected a percentage" },
	{ "    mirrors:\n    - percentage: {value: 10}\n",
	  "vs.yaml:10: VirtualService n/g: spec.http[0].mirrors[0].destination: missing: expected a destination with a host" },
	{ "    mirrors: {host: g}\n", "vs.yaml:9: VirtualService n/g: spec.http[0].mirrors: expected a list" },
};

START_TEST(bad_mirrors_are_errors_with_their_line)
{
	struct kdt_world w = { 0 };

	ck_assert_int_ne(load_split(&w, "v1alpha3", bad_cases[_i].spec), 0);
	KDT_ASSERT_DIAG(&w.diags, KD_ERROR, bad_cases[_i].expect);
	ck_assert_uint_eq(w.sets[1].nvs, 0);
	kdt_free(&w);
}
END_TEST

/* Good YAML that kanary cannot apply to this Service: the service is held, the maps keep it. */
static const struct {
	const char *mirror;
	const char *expect;
} held_cases[] = {
	{ "    mirror: {host: g.other, subset: b}\n",
	  "vs.yaml:9: VirtualService n/g: spec.http[0].mirror.host: 'g.other' is Service other/g, in another namespace; kanary mirrors only to a subset of the routed Service n/g" },
	{ "    mirror: {host: h, subset: b}\n",
	  "vs.yaml:9: VirtualService n/g: spec.http[0].mirror.host: 'h' (h.n.svc.cluster.local) is not the routed Service n/g" },
	{ "    mirrors:\n    - destination: {host: g, subset: b}\n    - destination: {host: g, subset: c}\n",
	  "vs.yaml:11: VirtualService n/g: spec.http[0].mirrors[1].subset: no DestinationRule for g.n.svc.cluster.local defines subset 'c'" },
	{ "    mirror: {host: g}\n",
	  "vs.yaml:9: VirtualService n/g: spec.http[0].mirror: no subset: kanary mirrors to a DestinationRule subset of Service n/g" },
};

START_TEST(a_mirror_kanary_cannot_apply_holds_the_service)
{
	struct kdt_world w = { 0 };
	const struct kd_desired_service *s;

	ck_assert_int_eq(load_split(&w, "v1", held_cases[_i].mirror), 0);
	ck_assert_int_eq(kdt_load_text(&w, "other.yaml",
		"apiVersion: v1\nkind: Service\nmetadata: {name: g, namespace: other}\n"
		"spec: {clusterIP: 10.96.7.7, selector: {app: g}, ports: [{port: 80}]}\n"), 0);
	kdt_build(&w);
	s = kdt_service(&w, "n/g/80");
	ck_assert(s->hold);
	ck_assert_msg(strstr(s->problem, held_cases[_i].expect), "problem: %s", s->problem);
	kdt_free(&w);
}
END_TEST

START_TEST(a_mirror_on_a_route_kanary_cannot_match_is_warned)
{
	struct kdt_world w = { 0 };
	const struct kd_desired_service *s;

	/* A regex kanary cannot evaluate: no rule, so its requests cannot be told from the split's. */
	ck_assert_int_eq(load_vs(&w, "v1",
		"  hosts: [g]\n  http:\n"
		"  - match: [{uri: {regex: '^/api'}}]\n"
		"    route: [{destination: {host: g, subset: b}}]\n"
		"    mirror: {host: g, subset: b}\n"			/* vs.yaml:9 */
		"  - route: [{destination: {host: g, subset: a}}]\n"
		"    mirror: {host: g, subset: a}\n"
		"    mirrorPercentage: {value: 10}\n"), 0);
	kdt_build(&w);
	s = kdt_service(&w, "n/g/80");
	ck_assert_ptr_null(s->rules);
	ck_assert_uint_eq(mirror_ppm(s, "b"), 0);
	for (int k = 0; k < KANARY_RULES_MAX; k++)
		ck_assert_uint_eq(rule_mirror_ppm(s, k, "b"), 0);
	ck_assert_uint_eq(mirror_ppm(s, "a"), 100000);
	KDT_ASSERT_DIAG(&w.diags, KD_WARN, "vs.yaml:9: VirtualService n/g: spec.http[0].mirror: not "
			"applied to port 80 of Service n/g: this route is no dark-release rule there");
	kdt_free(&w);
}
END_TEST

/*
 * Routes with a match that became rules: each one's mirrors go with its
 * rule, by the rule's index (the second route with a match is rule 1),
 * and the split's route keeps its own.
 */
START_TEST(a_mirror_on_a_rule_route_goes_with_its_rule)
{
	struct kdt_world w = { 0 };
	const struct kd_desired_service *s;

	ck_assert_int_eq(load_vs(&w, "v1",
		"  hosts: [g]\n  http:\n"
		"  - match: [{headers: {x-blue: {exact: 'on'}}}]\n"
		"    route: [{destination: {host: g, subset: a}}]\n"
		"  - match: [{headers: {x-dark: {exact: 'on'}}}]\n"
		"    route: [{destination: {host: g, subset: b}}]\n"
		"    mirrors:\n"
		"    - destination: {host: g, subset: a}\n"
		"      percentage: {value: 30}\n"
		"    - destination: {host: g, subset: b}\n"
		"  - route: [{destination: {host: g, subset: a}}]\n"
		"    mirror: {host: g, subset: b}\n"
		"    mirrorPercentage: {value: 5}\n"), 0);
	kdt_build(&w);
	s = kdt_service(&w, "n/g/80");
	ck_assert(!s->hold);
	ck_assert_uint_eq(s->rules->n_rules, 2);
	ck_assert_uint_eq(rule_mirror_ppm(s, 1, "a"), 300000);
	ck_assert_uint_eq(rule_mirror_ppm(s, 1, "b"), 1000000);
	ck_assert_uint_eq(rule_mirror_ppm(s, 0, "a"), 0);
	ck_assert_uint_eq(rule_mirror_ppm(s, 0, "b"), 0);
	ck_assert_uint_eq(mirror_ppm(s, "a"), 0);
	ck_assert_uint_eq(mirror_ppm(s, "b"), 50000);
	ck_assert(!kdt_diag(&w.diags, KD_WARN, "mirror", NULL));
	kdt_free(&w);
}
END_TEST

/* A rule's mirror is held as the split's is: a bad subset names its route's file and line. */
START_TEST(a_bad_mirror_on_a_rule_route_holds_the_service)
{
	struct kdt_world w = { 0 };
	const struct kd_desired_service *s;

	ck_assert_int_eq(load_vs(&w, "v1",
		"  hosts: [g]\n  http:\n"
		"  - match: [{headers: {x-dark: {exact: 'on'}}}]\n"
		"    route: [{destination: {host: g, subset: b}}]\n"
		"    mirror: {host: g, subset: nosuch}\n"		/* vs.yaml:9 */
		"  - route: [{destination: {host: g, subset: a}}]\n"), 0);
	kdt_build(&w);
	s = kdt_service(&w, "n/g/80");
	ck_assert(s->hold);
	ck_assert_msg(strstr(s->problem, "vs.yaml:9: VirtualService n/g: spec.http[0].mirror.subset: "
			     "no DestinationRule"), "problem: %s", s->problem);
	kdt_free(&w);
}
END_TEST

/* A port match that is not this port's: the route never takes its requests, nothing to refuse. */
START_TEST(a_mirror_on_another_ports_route_is_not_warned_for_this_one)
{
	struct kdt_world w = { 0 };

	ck_assert_int_eq(load_vs(&w, "v1",
		"  hosts: [g]\n  http:\n"
		"  - match: [{port: 9090}]\n"
		"    route: [{destination: {host: g, subset: b}}]\n"
		"    mirror: {host: g, subset: a}\n"
		"  - route: [{destination: {host: g, subset: a}}]\n"), 0);
	kdt_build(&w);
	/* On 9090 the port-only match decides the split, and its mirror applies. */
	ck_assert_uint_eq(mirror_ppm(kdt_service(&w, "n/g/9090"), "a"), 1000000);
	ck_assert_uint_eq(mirror_ppm(kdt_service(&w, "n/g/80"), "a"), 0);
	ck_assert(!kdt_diag(&w.diags, KD_WARN, "mirror", NULL));
	kdt_free(&w);
}
END_TEST

/* With dark-release rules the split's mirror applies: it is drawn for the split's requests only. */
START_TEST(dark_release_rules_and_the_split_mirror)
{
	struct kdt_world w = { 0 };
	const struct kd_desired_service *s;

	ck_assert_int_eq(load_vs(&w, "v1",
		"  hosts: [g]\n  http:\n"
		"  - match: [{headers: {x-dark: {exact: 'on'}}}]\n"
		"    route: [{destination: {host: g, subset: b}}]\n"
		"  - route: [{destination: {host: g, subset: a}}]\n"
		"    mirror: {host: g, subset: b}\n"), 0);
	kdt_build(&w);
	s = kdt_service(&w, "n/g/80");
	ck_assert_uint_eq(s->rules->n_rules, 1);
	ck_assert_uint_eq(mirror_ppm(s, "b"), 1000000);
	ck_assert_uint_eq(rule_mirror_ppm(s, 0, "b"), 0);
	ck_assert(!kdt_diag(&w.diags, KD_WARN, "mirror", NULL));
	kdt_free(&w);
}
END_TEST

/* Per-request routing without rules: every request takes the split, so the mirror applies. */
START_TEST(per_request_routing_mirrors)
{
	static const char svc_meta[] = "metadata: {name: g, namespace: n}\nspec: {clusterIP";
	char base[4096];
	const char *at = strstr(kdt_base_yaml, svc_meta);
	struct kdt_world w = { 0 };
	const struct kd_desired_service *s;

	ck_assert_ptr_nonnull(at);
	ck_assert_int_lt(snprintf(base, sizeof(base), "%.*smetadata: {name: g, namespace: n, "
				  "annotations: {kanary.io/per-request: 'true'}}\nspec: {clusterIP%s",
				  (int)(at - kdt_base_yaml), kdt_base_yaml, at + strlen(svc_meta)),
			 (int)sizeof(base));
	ck_assert_int_eq(kdt_load_text(&w, "base.yaml", base), 0);
	ck_assert_int_eq(kdt_load_text(&w, "vs.yaml",
		"apiVersion: networking.istio.io/v1\nkind: VirtualService\n"
		"metadata: {name: g, namespace: n}\nspec:\n  hosts: [g]\n  http:\n"
		"  - route: [{destination: {host: g, subset: a}}]\n"
		"    mirror: {host: g, subset: b}\n    mirrorPercentage: {value: 25}\n"), 0);
	kdt_build(&w);
	s = kdt_service(&w, "n/g/80");
	ck_assert(s->per_request);
	ck_assert_uint_eq(mirror_ppm(s, "b"), 250000);
	ck_assert(!kdt_diag(&w.diags, KD_WARN, "mirror", NULL));
	kdt_free(&w);
}
END_TEST

/* The shipped fixture with everything: its split's mirror, behind header rules, applies. */
START_TEST(istio_features_split_mirror_applies)
{
	struct kdt_world w = { 0 };

	ck_assert_int_eq(kdt_load(&w, "services.yaml"), 0);
	ck_assert_int_eq(kdt_load(&w, "pods-list.json"), 0);
	ck_assert_int_eq(kdt_load(&w, "istio-features.yaml"), 0);
	kdt_build(&w);
	ck_assert_uint_eq(mirror_ppm(kdt_service(&w, "shop/greeting"), "risky"), 1000000);
	ck_assert(!kdt_diag(&w.diags, KD_WARN, "istio-features.yaml:", "spec.http[2].mirror", NULL));
	kdt_free(&w);
}
END_TEST

START_TEST(removing_or_changing_the_mirror_changes_the_hash)
{
	static const char *const specs[] = {
		"    mirror: {host: g, subset: b}\n    mirrorPercentage: {value: 10}\n",
		"    mirror: {host: g, subset: b}\n    mirrorPercentage: {value: 20}\n",
		"",
	};
	__u64 hash[3], rule_hash[3];

	/* A rule's mirror likewise: on, at another share, gone. */
	for (int i = 0; i < 3; i++) {
		char spec[512];
		struct kdt_world w = { 0 };

		snprintf(spec, sizeof(spec), "  hosts: [g]\n  http:\n"
			 "  - match: [{headers: {x-dark: {exact: 'on'}}}]\n"
			 "    route: [{destination: {host: g, subset: a}}]\n%s"
			 "  - route: [{destination: {host: g, subset: a}}]\n", specs[i]);
		ck_assert_int_eq(load_vs(&w, "v1", spec), 0);
		kdt_build(&w);
		rule_hash[i] = kdt_service(&w, "n/g/80")->hash;
		ck_assert_uint_eq(rule_mirror_ppm(kdt_service(&w, "n/g/80"), 0, "b") != 0, i < 2);
		kdt_free(&w);
	}
	ck_assert_uint_ne(rule_hash[0], rule_hash[1]);
	ck_assert_uint_ne(rule_hash[0], rule_hash[2]);
	ck_assert_uint_ne(rule_hash[1], rule_hash[2]);
	for (int i = 0; i < 3; i++) {
		struct kdt_world w = { 0 };

		ck_assert_int_eq(load_split(&w, "v1", specs[i]), 0);
		kdt_build(&w);
		hash[i] = kdt_service(&w, "n/g/80")->hash;
		ck_assert_uint_eq(mirror_ppm(kdt_service(&w, "n/g/80"), "b") != 0, i < 2);
		kdt_free(&w);
	}
	ck_assert_uint_ne(hash[0], hash[1]);
	ck_assert_uint_ne(hash[0], hash[2]);
	ck_assert_uint_ne(hash[1], hash[2]);
}
END_TEST

/* From the API server: JSON numbers, reals included, through the decoder the files use. */
START_TEST(api_objects_decode_the_same)
{
	struct kd_objects objs = { 0 };
	struct kd_diags d = { 0 };
	struct kanary_err e = { "" };
	json_error_t je;
	struct kd_yaml y;
	json_t *obj = json_loads(
		"{\"apiVersion\": \"networking.istio.io/v1\", \"kind\": \"VirtualService\","
		" \"metadata\": {\"name\": \"g\", \"namespace\": \"n\"},"
		" \"spec\": {\"hosts\": [\"g\"], \"http\": ["
		"  {\"route\": [{\"destination\": {\"host\": \"g\", \"subset\": \"a\"}}],"
		"   \"mirrors\": [{\"destination\": {\"host\": \"g\", \"subset\": \"b\"},"
		"                  \"percentage\": {\"value\": 0.5}},"
		"                 {\"destination\": {\"host\": \"g\", \"subset\": \"a\"},"
		"                  \"percentage\": {\"value\": 12}}]}]}}", 0, &je);
	const struct kd_route *r;

	ck_assert_msg(obj, "%s", je.text);
	ck_assert_msg(kd_yaml_from_json(&y, obj, &e) == 0, "%s", e.msg);
	ck_assert_int_eq(kd_manifest_decode_yaml("api:VirtualService/n/g", &y, &objs, &d), 0);
	ck_assert_uint_eq(objs.nvs, 1);
	r = &objs.vs[0]->routes[0];
	ck_assert_uint_eq(r->nmirrors, 2);
	ck_assert_str_eq(r->mirrors[0].dest.subset, "b");
	ck_assert_uint_eq(r->mirrors[0].ppm, 5000);
	ck_assert_str_eq(r->mirrors[1].field, "mirrors[1]");
	ck_assert_uint_eq(r->mirrors[1].ppm, 120000);
	kd_yaml_free(&y);
	json_decref(obj);
	kd_objects_free(&objs);
	kd_diags_free(&d);
}
END_TEST

Suite *mirror_suite(void)
{
	Suite *s = suite_create("mirror");
	TCase *tc = tcase_create("mirror");

	tcase_add_loop_test(tc, each_istio_version_mirrors_to_a_subset_at_weight_0, 0, 3);
	tcase_add_test(tc, a_mirror_port_applies_to_that_port_only);
	tcase_add_loop_test(tc, percentages_as_istio_reads_them, 0,
			    sizeof(percent_cases) / sizeof(percent_cases[0]));
	tcase_add_test(tc, a_fixture_with_mirrors_fills_their_slots);
	tcase_add_loop_test(tc, bad_mirrors_are_errors_with_their_line, 0,
			    sizeof(bad_cases) / sizeof(bad_cases[0]));
	tcase_add_loop_test(tc, a_mirror_kanary_cannot_apply_holds_the_service, 0,
			    sizeof(held_cases) / sizeof(held_cases[0]));
	tcase_add_test(tc, a_mirror_on_a_route_kanary_cannot_match_is_warned);
	tcase_add_test(tc, a_mirror_on_a_rule_route_goes_with_its_rule);
	tcase_add_test(tc, a_bad_mirror_on_a_rule_route_holds_the_service);
	tcase_add_test(tc, a_mirror_on_another_ports_route_is_not_warned_for_this_one);
	tcase_add_test(tc, dark_release_rules_and_the_split_mirror);
	tcase_add_test(tc, per_request_routing_mirrors);
	tcase_add_test(tc, istio_features_split_mirror_applies);
	tcase_add_test(tc, removing_or_changing_the_mirror_changes_the_hash);
	tcase_add_test(tc, api_objects_decode_the_same);
	suite_add_tcase(s, tc);
	return s;
}
