// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * VirtualService http[].match into dark-release rules: conditions,
 * alternatives, destinations, what kanary cannot evaluate, and its limits.
 * The world is kdt_base_yaml: Service n/g on ports 80 and 9090, subsets a
 * and b of one pod each.
 */
#include <stdio.h>
#include <string.h>
#include "kdt.h"
#include "apply/reconcile.h"
#include "report/desired_json.h"
#include "rule_set.h"

#define W(x) ((x) * KANARY_WEIGHT_MILLI)

/* The default split every test ends with: a 80, b 20. */
#define SPLIT	"  - route:\n"							\
		"    - destination: {host: g, subset: a}\n      weight: 80\n"	\
		"    - destination: {host: g, subset: b}\n      weight: 20\n"

static const struct kd_desired_service *build(struct kdt_world *w, const char *vs_spec,
					       const char *name)
{
	ck_assert_int_eq(kdt_load_vs(w, vs_spec), 0);
	kdt_build(w);
	return kdt_service(w, name);
}

static __u32 nrules(const struct kd_desired_service *s)
{
	return s->rules ? s->rules->n_rules : 0;
}

static struct kanary_rule_spec spec_of(const struct kd_desired_service *s, __u32 rule)
{
	struct kanary_rule_spec sp;
	struct kanary_err e = { "" };

	ck_assert_uint_gt(nrules(s), rule);
	ck_assert_msg(kanary_rules_spec(s->rules, rule, &sp, &e) == 0, "spec: %s", e.msg);
	return sp;
}

/* "header x=y", "path ^/api": a condition as kanaryctl route list words it. */
static const char *cond_words(const struct kanary_rule_spec *sp, __u32 m, __u32 k)
{
	static char buf[256];

	ck_assert_uint_lt(m, sp->n_matches);
	ck_assert_uint_lt(k, sp->n_conds[m]);
	kanary_cond_format(&sp->conds[m][k], buf, sizeof(buf));
	return buf;
}

static const char *dest_name(const struct kd_desired_service *s, const struct kanary_rule_spec *sp,
			     __u32 d)
{
	ck_assert_uint_lt(d, sp->n_dests);
	ck_assert_uint_lt(sp->dest_subset[d], s->nsub);
	return s->sub[sp->dest_subset[d]].name;
}

START_TEST(header_exact_becomes_a_rule_ahead_of_the_split)
{
	struct kdt_world w = { 0 };
	const struct kd_desired_service *s;
	struct kanary_rule_spec sp;
	char summary[256];
	json_t *j, *rule;

	s = build(&w, "  hosts: [g]\n  http:\n  - match:\n    - headers:\n        x-my-header:\n"
		  "          exact: dark\n    route:\n    - destination: {host: g, subset: b}\n" SPLIT,
		  "n/g/80");
	ck_assert_uint_eq(kdt_subset(s, "a")->weight_milli, W(80));
	ck_assert_uint_eq(kdt_subset(s, "b")->weight_milli, W(20));
	ck_assert_ptr_nonnull(strstr(s->route, "spec.http[1]"));
	ck_assert_uint_eq(nrules(s), 1);
	sp = spec_of(s, 0);
	ck_assert_uint_eq(sp.n_matches, 1);
	ck_assert_uint_eq(sp.n_conds[0], 1);
	ck_assert_str_eq(cond_words(&sp, 0, 0), "header x-my-header=dark");
	ck_assert_uint_eq(sp.n_dests, 1);
	ck_assert_str_eq(dest_name(s, &sp, 0), "b");
	ck_assert_uint_eq(sp.dest_weight_milli[0], W(100));
	ck_assert_str_eq(s->rule_route[0], "spec.http[0]");
	ck_assert_uint_eq(kd_diag_count(&w.diags, KD_WARN), 0);
	/* The status says so: a count for people, the rules for programs. */
	kd_desired_service_summary(s, summary, sizeof(summary));
	ck_assert_ptr_nonnull(strstr(summary, "; 1 rule"));
	j = kd_desired_service_json(s);
	ck_assert_uint_eq(json_array_size(json_object_get(j, "rules")), 1);
	rule = json_array_get(json_object_get(j, "rules"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(rule, "route")), "spec.http[0]");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(rule, "to"), 0),
							  "subset")), "b");
	json_decref(j);
	/* The other port has the same rule: the match names no port. */
	ck_assert_uint_eq(nrules(kdt_service(&w, "n/g/9090")), 1);
	kdt_free(&w);
}
END_TEST

START_TEST(conditions_of_one_element_are_anded)
{
	struct kdt_world w = { 0 };
	const struct kd_desired_service *s;
	struct kanary_rule_spec sp;

	s = build(&w, "  hosts: [g]\n  http:\n  - match:\n    - uri: {exact: /api/v2}\n"
		  "      headers:\n        x-a: {prefix: be}\n        x-b: {}\n        X-Mixed: {exact: v}\n"
		  "    route:\n    - destination: {host: g, subset: b}\n"
		  "  - match:\n    - uri: {prefix: /static/}\n    route:\n    - destination: {host: g, subset: a}\n"
		  SPLIT, "n/g/80");
	ck_assert_uint_eq(nrules(s), 2);
	sp = spec_of(s, 0);
	ck_assert_uint_eq(sp.n_matches, 1);
	ck_assert_uint_eq(sp.n_conds[0], 4);
	/* Conditions come out in bit order: as written, the URI first. */
	ck_assert_str_eq(cond_words(&sp, 0, 0), "path =/api/v2");
	ck_assert_str_eq(cond_words(&sp, 0, 1), "header x-a^=be");
	ck_assert_str_eq(cond_words(&sp, 0, 2), "header x-b");
	ck_assert_str_eq(cond_words(&sp, 0, 3), "header x-mixed=v");	/* names are case-insensitive */
	sp = spec_of(s, 1);
	ck_assert_str_eq(cond_words(&sp, 0, 0), "path ^/static/");
	ck_assert_str_eq(dest_name(s, &sp, 0), "a");
	ck_assert_str_eq(s->rule_route[1], "spec.http[1]");
	kdt_free(&w);
}
END_TEST

START_TEST(elements_of_a_match_list_are_ored)
{
	struct kdt_world w = { 0 };
	const struct kd_desired_service *s;
	struct kanary_rule_spec sp;

	s = build(&w, "  hosts: [g]\n  http:\n  - match:\n    - headers: {x-my-header: {exact: dark}}\n"
		  "    - headers: {x-my-header: {exact: darker}, x-user: {exact: ann}}\n"
		  "    - uri: {prefix: /beta}\n"
		  "    route:\n    - destination: {host: g, subset: b}\n" SPLIT, "n/g/80");
	ck_assert_uint_eq(nrules(s), 1);
	sp = spec_of(s, 0);
	ck_assert_uint_eq(sp.n_matches, 3);
	ck_assert_uint_eq(sp.n_conds[0], 1);
	ck_assert_uint_eq(sp.n_conds[1], 2);
	ck_assert_str_eq(cond_words(&sp, 1, 1), "header x-user=ann");
	ck_assert_str_eq(cond_words(&sp, 2, 0), "path ^/beta");
	ck_assert_uint_eq(s->rules->n_conds, 4);
	kdt_free(&w);
}
END_TEST

START_TEST(a_rule_splits_by_weight_and_repeats_add_up)
{
	struct kdt_world w = { 0 };
	const struct kd_desired_service *s;
	struct kanary_rule_spec sp;

	s = build(&w, "  hosts: [g]\n  http:\n  - match: [{headers: {x-beta: {exact: '1'}}}]\n    route:\n"
		  "    - destination: {host: g, subset: a}\n      weight: 20\n"
		  "    - destination: {host: g, subset: b}\n      weight: 50\n"
		  "    - destination: {host: g, subset: a}\n      weight: 10\n" SPLIT, "n/g/80");
	sp = spec_of(s, 0);
	ck_assert_uint_eq(sp.n_dests, 2);
	ck_assert_str_eq(dest_name(s, &sp, 0), "a");
	ck_assert_uint_eq(sp.dest_weight_milli[0], W(30));
	ck_assert_str_eq(dest_name(s, &sp, 1), "b");
	ck_assert_uint_eq(sp.dest_weight_milli[1], W(50));
	/* The datapath's shares: 3/8 and 5/8 of 10,000. */
	ck_assert_uint_eq(s->rules->rules[0].dest_cum_parts[0], 3750);
	ck_assert_uint_eq(s->rules->rules[0].dest_cum_parts[1], KANARY_WEIGHT_SCALE);
	/* The split is untouched by the rule's weights. */
	ck_assert_uint_eq(kdt_subset(s, "a")->weight_milli, W(80));
	kdt_free(&w);
}
END_TEST

START_TEST(a_rule_to_a_subset_outside_the_split_adds_it_at_weight_zero)
{
	struct kdt_world w = { 0 };
	const struct kd_desired_service *s;

	s = build(&w, "  hosts: [g]\n  http:\n  - match: [{headers: {x-my-header: {exact: dark}}}]\n"
		  "    route:\n    - destination: {host: g, subset: b}\n"
		  "  - route:\n    - destination: {host: g, subset: a}\n", "n/g/80");
	ck_assert_uint_eq(kdt_subset(s, "a")->weight_milli, W(100));
	ck_assert_uint_eq(kdt_subset(s, "b")->weight_milli, 0);
	ck_assert(kdt_has_backend(kdt_subset(s, "b"), "10.1.0.2:80"));
	ck_assert_str_eq(s->sub[spec_of(s, 0).dest_subset[0]].name, "b");
	kdt_free(&w);
}
END_TEST

/* Each makes its element unevaluable: the route is no rule, and no later one is either. */
static const struct {
	const char *element;	/* one match element, as a YAML flow mapping */
	const char *why;	/* in the warning */
} unsupported_cases[] = {
	{ "{uri: {regex: '^/api/v[0-9]+'}}", "uri.regex: regex matches are not supported" },
	{ "{headers: {cookie: {regex: '.*user=jason.*'}}}", "headers.cookie.regex" },
	{ "{method: {exact: POST}}", "method: matching on the method" },
	{ "{authority: {exact: greeting}}", "authority" },
	{ "{scheme: {exact: https}}", "scheme" },
	{ "{queryParams: {v: {exact: '2'}}}", "query parameter matches" },
	{ "{withoutHeaders: {x-internal: {}}}", "absence" },
	{ "{uri: {prefix: /A}, ignoreUriCase: true}", "case-insensitive" },
	{ "{sourceLabels: {app: message}}", "matching on the client" },
	{ "{sourceNamespace: shop}", "matching on the client" },
	{ "{headers: {x-a: {suffix: b}}}", "headers.x-a.suffix" },
	{ "{headers: {method: {exact: GET}}}", "headers.method" },
	{ "{frobnicate: 1}", "unknown match field" },
	/* Conditions the matcher would read differently from Envoy. */
	{ "{uri: {exact: '/a?b=1'}}", "exact path excludes the query" },
	{ "{uri: {exact: /a/../b}}", "dot segment" },
	{ "{headers: {':authority': {exact: g}}}", "not a lowercase token" },
	{ "{headers: {x-a: {prefix: ''}}}", "empty prefix" },
};

START_TEST(what_kanary_cannot_evaluate_ends_the_rules)
{
	struct kdt_world w = { 0 };
	const struct kd_desired_service *s;
	struct kanary_rule_spec sp;
	char spec[1024];

	snprintf(spec, sizeof(spec), "  hosts: [g]\n  http:\n"
		 "  - match: [{headers: {x-first: {exact: '1'}}}]\n    route:\n    - destination: {host: g, subset: b}\n"
		 "  - match: [{headers: {x-my-header: {exact: dark}}}, %s]\n    route:\n    - destination: {host: g, subset: b}\n"
		 "  - match: [{headers: {x-later: {exact: '1'}}}]\n    route:\n    - destination: {host: g, subset: b}\n"
		 SPLIT, unsupported_cases[_i].element);
	s = build(&w, spec, "n/g/80");
	/* The route before it is a rule; it and the one after are not; the split is as written. */
	ck_assert_uint_eq(nrules(s), 1);
	sp = spec_of(s, 0);
	ck_assert_str_eq(cond_words(&sp, 0, 0), "header x-first=1");
	ck_assert_str_eq(s->rule_route[0], "spec.http[0]");
	ck_assert(!s->hold);
	ck_assert_uint_eq(kdt_subset(s, "a")->weight_milli, W(80));
	ck_assert_ptr_nonnull(strstr(s->route, "spec.http[3]"));
	KDT_ASSERT_DIAG(&w.diags, KD_WARN, "vs.yaml:", "VirtualService n/g", "spec.http[1] is not applied to port 80",
			unsupported_cases[_i].why, "nor is the 1 route with a match after it");
	kdt_free(&w);
}
END_TEST

START_TEST(empty_or_false_fields_change_nothing)
{
	struct kdt_world w = { 0 };
	const struct kd_desired_service *s;
	struct kanary_rule_spec sp;

	s = build(&w, "  hosts: [g]\n  http:\n  - match:\n    - headers: {x-my-header: {exact: dark}}\n"
		  "      ignoreUriCase: false\n      queryParams: {}\n      withoutHeaders: {}\n"
		  "      name: dark\n      sourceLabels: {}\n"
		  "    route:\n    - destination: {host: g, subset: b}\n" SPLIT, "n/g/80");
	ck_assert_uint_eq(nrules(s), 1);
	sp = spec_of(s, 0);
	ck_assert_uint_eq(sp.n_conds[0], 1);
	ck_assert_uint_eq(kd_diag_count(&w.diags, KD_WARN), 0);
	kdt_free(&w);
}
END_TEST

START_TEST(what_every_request_passes_is_no_condition)
{
	struct kdt_world w = { 0 };
	const struct kd_desired_service *s;
	struct kanary_rule_spec sp;

	/* Istio reads a header regex of ".*" or "*" as presence; an empty URI prefix matches all. */
	s = build(&w, "  hosts: [g]\n  http:\n"
		  "  - match: [{headers: {x-a: {regex: '.*'}, x-b: {regex: '*'}}, uri: {prefix: ''}}]\n"
		  "    route:\n    - destination: {host: g, subset: b}\n"
		  "  - match: [{uri: {prefix: ''}}]\n    route:\n    - destination: {host: g, subset: a}\n"
		  SPLIT, "n/g/80");
	ck_assert_uint_eq(nrules(s), 1);
	sp = spec_of(s, 0);
	ck_assert_uint_eq(sp.n_conds[0], 2);
	ck_assert_str_eq(cond_words(&sp, 0, 0), "header x-a");
	ck_assert_str_eq(cond_words(&sp, 0, 1), "header x-b");
	/* The second route takes every request: it is the split, and the last route is unreachable. */
	ck_assert_ptr_nonnull(strstr(s->route, "spec.http[1]"));
	ck_assert_uint_eq(kdt_subset(s, "a")->weight_milli, W(100));
	kdt_free(&w);
}
END_TEST

START_TEST(elements_for_other_ports_or_gateways_are_left_out)
{
	struct kdt_world w = { 0 };
	const struct kd_desired_service *s80, *s9090;
	struct kanary_rule_spec sp;

	s80 = build(&w, "  hosts: [g]\n  http:\n"
		    "  - match:\n    - {port: 9090, headers: {x-grpc: {exact: '1'}}}\n"
		    "    - {gateways: [public], headers: {x-edge: {exact: '1'}}}\n"
		    "    - {port: 9090, method: {exact: POST}}\n"
		    "    route:\n    - destination: {host: g, subset: b}\n"
		    "  - match: [{headers: {x-my-header: {exact: dark}}}]\n    route:\n    - destination: {host: g, subset: b}\n"
		    SPLIT, "n/g/80");
	/* On 80 no element of spec.http[0] applies, not even the one kanary cannot evaluate. */
	ck_assert_uint_eq(nrules(s80), 1);
	ck_assert_str_eq(s80->rule_route[0], "spec.http[1]");
	/* On 9090 the unevaluable element ends the rules. */
	s9090 = kdt_service(&w, "n/g/9090");
	ck_assert_uint_eq(nrules(s9090), 0);
	KDT_ASSERT_DIAG(&w.diags, KD_WARN, "spec.http[0] is not applied to port 9090", "match[2].method");
	KDT_ASSERT_DIAG(&w.diags, KD_WARN, "spec.http[0].match[1].gateways", "gateways only");
	kdt_free(&w);

	memset(&w, 0, sizeof(w));
	s9090 = build(&w, "  hosts: [g]\n  http:\n"
		      "  - match: [{port: 9090, headers: {x-grpc: {exact: '1'}}}]\n"
		      "    route:\n    - destination: {host: g, subset: b}\n" SPLIT, "n/g/9090");
	sp = spec_of(s9090, 0);
	ck_assert_str_eq(cond_words(&sp, 0, 0), "header x-grpc=1");
	ck_assert_uint_eq(nrules(kdt_service(&w, "n/g/80")), 0);
	kdt_free(&w);
}
END_TEST

START_TEST(routes_kanary_cannot_send_anywhere_end_the_rules)
{
	static const char *const routes[] = {
		"    redirect: {uri: /v2}\n",
		"    route:\n    - destination: {host: elsewhere.example.com}\n",
		"    route:\n    - destination: {host: g, subset: a}\n      weight: 0\n"
		"    - destination: {host: g, subset: b}\n      weight: 0\n",
	};
	static const char *const why[] = { "no destination kanary routes to",
					   "none of its destinations is a Service",
					   "every destination has weight 0" };
	struct kdt_world w = { 0 };
	const struct kd_desired_service *s;
	char spec[1024];

	snprintf(spec, sizeof(spec), "  hosts: [g]\n  http:\n  - match: [{headers: {x-a: {exact: '1'}}}]\n%s"
		 "  - match: [{headers: {x-b: {exact: '1'}}}]\n    route:\n    - destination: {host: g, subset: b}\n"
		 SPLIT, routes[_i]);
	s = build(&w, spec, "n/g/80");
	ck_assert_uint_eq(nrules(s), 0);
	KDT_ASSERT_DIAG(&w.diags, KD_WARN, "spec.http[0] is not applied to port 80", why[_i]);
	kdt_free(&w);
}
END_TEST

START_TEST(malformed_string_matches_make_the_file_bad)
{
	static const char *const elements[] = {
		"{headers: {x-a: dark}}",
		"{headers: {x-a: }}",
		"{headers: {x-a: {exact: a, prefix: b}}}",
		"{headers: [x-a]}",
		"{uri: /a}",
		"{headers: {x-a: {exact: {v: 1}}}}",
	};
	static const char *const expect[] = {
		"headers.x-a: expected {exact: VALUE}", "headers.x-a: expected", "only one of exact",
		"headers: expected a mapping", "uri: expected {exact: VALUE}", "x-a.exact: expected a string",
	};
	struct kdt_world w = { 0 };
	char spec[512];

	snprintf(spec, sizeof(spec), "  hosts: [g]\n  http:\n  - match: [%s]\n    route:\n"
		 "    - destination: {host: g, subset: b}\n", elements[_i]);
	ck_assert_int_ne(kdt_load_vs(&w, spec), 0);
	KDT_ASSERT_DIAG(&w.diags, KD_ERROR, "vs.yaml:", "spec.http[0].match[0].", expect[_i]);
	kdt_free(&w);
}
END_TEST

/* Over a limit: the service is held (the maps keep their last good state), with the reason. */
START_TEST(limits_hold_the_service)
{
	struct kdt_world w = { 0 };
	const struct kd_desired_service *s;
	char spec[8000] = "  hosts: [g]\n  http:\n", value[80];

	switch (_i) {
	case 0:	/* 5 alternatives */
		strcat(spec, "  - match: [{headers: {x: {exact: '1'}}}, {headers: {x: {exact: '2'}}}, "
		       "{headers: {x: {exact: '3'}}}, {headers: {x: {exact: '4'}}}, {headers: {x: {exact: '5'}}}]\n"
		       "    route:\n    - destination: {host: g, subset: b}\n");
		break;
	case 1:	/* 5 conditions */
		strcat(spec, "  - match: [{uri: {prefix: /x}, headers: {a: {}, b: {}, c: {}, d: {}}}]\n"
		       "    route:\n    - destination: {host: g, subset: b}\n");
		break;
	case 2:	/* a 65-byte value */
		memset(value, 'v', 65);
		value[65] = '\0';
		snprintf(spec + strlen(spec), sizeof(spec) - strlen(spec),
			 "  - match: [{headers: {x: {exact: %s}}}]\n    route:\n"
			 "    - destination: {host: g, subset: b}\n", value);
		break;
	case 3:	/* 9 rules */
		for (int i = 0; i < 9; i++)
			snprintf(spec + strlen(spec), sizeof(spec) - strlen(spec),
				 "  - match: [{headers: {x: {exact: '%d'}}}]\n    route:\n"
				 "    - destination: {host: g, subset: b}\n", i);
		break;
	case 4:	/* 33 distinct conditions in 3 rules */
		for (int r = 0; r < 3; r++) {
			strcat(spec, "  - match:\n");
			for (int m = 0; m < 4; m++)
				snprintf(spec + strlen(spec), sizeof(spec) - strlen(spec),
					 "    - headers: {x%d: {exact: '%d'}, y%d: {exact: '%d'}, z%d: {exact: '%d'}}\n",
					 r, m, r, m, r, m);
			strcat(spec, "    route:\n    - destination: {host: g, subset: b}\n");
		}
		break;
	}
	strcat(spec, SPLIT);
	s = build(&w, spec, "n/g/80");
	ck_assert(s->hold);
	ck_assert_ptr_nonnull(strstr(s->problem, "vs.yaml:"));
	ck_assert_ptr_nonnull(strstr(s->problem, (const char *[]){
		"at most 4 alternatives", "at most 4 per element", "values of at most 64",
		"at most 8 rules", "at most 32 distinct conditions" }[_i]));
	kdt_free(&w);
}
END_TEST

START_TEST(a_manifest_with_the_forms_kanary_applies_and_one_it_cannot)
{
	struct kdt_world w = { 0 };
	const struct kd_desired_service *s;
	struct kanary_rule_spec sp;
	char where[64];

	ck_assert_int_eq(kdt_load(&w, "istio-rules.yaml"), 0);
	kdt_build(&w);
	s = kdt_service(&w, "dark/shop");
	ck_assert_uint_eq(kdt_subset(s, "v1")->weight_milli, W(90));
	ck_assert(kdt_has_backend(kdt_subset(s, "v2"), "10.244.7.2:8080"));
	ck_assert_uint_eq(nrules(s), 2);
	sp = spec_of(s, 0);
	ck_assert_uint_eq(sp.n_matches, 2);
	ck_assert_str_eq(cond_words(&sp, 0, 0), "header x-my-header=dark");
	ck_assert_str_eq(cond_words(&sp, 1, 0), "path ^/api/");
	ck_assert_str_eq(cond_words(&sp, 1, 1), "header x-tester");
	ck_assert_str_eq(dest_name(s, &sp, 0), "v2");
	sp = spec_of(s, 1);
	ck_assert_str_eq(cond_words(&sp, 0, 0), "header cookie^=beta=");
	ck_assert_uint_eq(sp.n_dests, 2);
	ck_assert_uint_eq(s->rules->rules[1].dest_cum_parts[0], 5000);
	/* The regex route and the one after it are not rules, and the warnings say where. */
	snprintf(where, sizeof(where), "istio-rules.yaml:%d:", kdt_marker_line("istio-rules.yaml", "- name: jason"));
	KDT_ASSERT_DIAG(&w.diags, KD_WARN, where, "spec.http[2] is not applied to port 80",
			"end-user.regex", "nor is the 1 route with a match after it");
	snprintf(where, sizeof(where), "istio-rules.yaml:%d:", kdt_marker_line("istio-rules.yaml", "regex: \"jason"));
	KDT_ASSERT_DIAG(&w.diags, KD_WARN, where, "spec.http[2].match[0].headers.end-user.regex",
			"regex matches are not supported");
	ck_assert_uint_eq(kd_diag_count(&w.diags, KD_WARN), 2);
	kdt_free(&w);
}
END_TEST

START_TEST(rules_are_part_of_the_hash)
{
	static const char dark[] = "  hosts: [g]\n  http:\n  - match: [{headers: {x-my-header: {exact: dark}}}]\n"
				   "    route:\n    - destination: {host: g, subset: b}\n" SPLIT;
	static const char darker[] = "  hosts: [g]\n  http:\n  - match: [{headers: {x-my-header: {exact: darker}}}]\n"
				     "    route:\n    - destination: {host: g, subset: b}\n" SPLIT;
	static const char none[] = "  hosts: [g]\n  http:\n" SPLIT;
	const char *const specs[] = { dark, dark, darker, none };
	__u64 h[4];

	for (int i = 0; i < 4; i++) {
		struct kdt_world w = { 0 };

		h[i] = build(&w, specs[i], "n/g/80")->hash;
		kdt_free(&w);
	}
	ck_assert(h[0] == h[1]);
	ck_assert(h[0] != h[2]);
	ck_assert(h[0] != h[3]);
}
END_TEST

/* The log line says a weight as the operator wrote it: never rounded (was "%.3g": 124, 1e+03). */
START_TEST(the_summary_prints_weights_exactly)
{
	struct kd_desired_service s = { .nsub = 3 };
	char summary[256];

	snprintf(s.sub[0].name, sizeof(s.sub[0].name), "a");
	s.sub[0].weight_milli = 123500;
	s.sub[0].n = 1;
	snprintf(s.sub[1].name, sizeof(s.sub[1].name), "b");
	s.sub[1].weight_milli = 1000500;
	s.sub[1].n = 2;
	snprintf(s.sub[2].name, sizeof(s.sub[2].name), "c");
	s.sub[2].weight_milli = W(1000000);
	kd_desired_service_summary(&s, summary, sizeof(summary));
	ck_assert_str_eq(summary, "a 123.5 [1 pod], b 1000.5 [2 pods], c 1000000 [0 pods]");
}
END_TEST

/* A header rule waits for a request: only ports that speak HTTP get one, so a server-first protocol never hangs. */
START_TEST(rules_apply_only_to_ports_declared_http)
{
	struct kdt_world w = { 0 };

	ck_assert_int_eq(kdt_load_text(&w, "svc.yaml",
		"apiVersion: v1\nkind: Service\nmetadata: {name: g, namespace: n}\n"
		"spec: {clusterIP: 10.96.0.50, selector: {app: g}, ports: [{name: http, port: 80}, "
		"{name: mysql, port: 3306}, {port: 8080}, {name: web, port: 8081, appProtocol: http}]}\n---\n"
		"apiVersion: v1\nkind: Pod\nmetadata: {name: p1, namespace: n, labels: {app: g, v: a}}\n"
		"status: {phase: Running, podIP: 10.1.0.1, conditions: [{type: Ready, status: 'True'}]}\n---\n"
		"apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: g, namespace: n}\n"
		"spec: {host: g, subsets: [{name: a, labels: {v: a}}]}\n---\n"
		"apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: g, namespace: n}\n"
		"spec:\n  hosts: [g]\n  http:\n  - match: [{headers: {x-my-header: {exact: dark}}}]\n"
		"    route: [{destination: {host: g, subset: a}}]\n"
		"  - route: [{destination: {host: g, subset: a}}]\n"), 0);
	kdt_build(&w);
	ck_assert_uint_eq(nrules(kdt_service(&w, "n/g/80")), 1);
	ck_assert_uint_eq(nrules(kdt_service(&w, "n/g/8081")), 1);
	ck_assert_uint_eq(nrules(kdt_service(&w, "n/g/3306")), 0);
	ck_assert_uint_eq(nrules(kdt_service(&w, "n/g/8080")), 0);
	KDT_ASSERT_DIAG(&w.diags, KD_WARN, "svc.yaml:", "VirtualService n/g: its 1 route with a match is not "
			"applied to port 3306 of Service n/g", "its appProtocol or name says another protocol",
			"kanary.io/http-ports");
	KDT_ASSERT_DIAG(&w.diags, KD_WARN, "port 8080 of Service n/g",
			"neither appProtocol nor its name says which protocol");
	ck_assert(!kdt_diag(&w.diags, KD_WARN, "port 80 of", NULL));
	kdt_free(&w);
}
END_TEST

Suite *rules_suite(void)
{
	Suite *s = suite_create("rules");
	TCase *tc = tcase_create("rules");

	tcase_add_test(tc, header_exact_becomes_a_rule_ahead_of_the_split);
	tcase_add_test(tc, conditions_of_one_element_are_anded);
	tcase_add_test(tc, elements_of_a_match_list_are_ored);
	tcase_add_test(tc, a_rule_splits_by_weight_and_repeats_add_up);
	tcase_add_test(tc, a_rule_to_a_subset_outside_the_split_adds_it_at_weight_zero);
	tcase_add_loop_test(tc, what_kanary_cannot_evaluate_ends_the_rules, 0,
			    (int)(sizeof(unsupported_cases) / sizeof(unsupported_cases[0])));
	tcase_add_test(tc, empty_or_false_fields_change_nothing);
	tcase_add_test(tc, what_every_request_passes_is_no_condition);
	tcase_add_test(tc, elements_for_other_ports_or_gateways_are_left_out);
	tcase_add_loop_test(tc, routes_kanary_cannot_send_anywhere_end_the_rules, 0, 3);
	tcase_add_loop_test(tc, malformed_string_matches_make_the_file_bad, 0, 6);
	tcase_add_loop_test(tc, limits_hold_the_service, 0, 5);
	tcase_add_test(tc, a_manifest_with_the_forms_kanary_applies_and_one_it_cannot);
	tcase_add_test(tc, rules_are_part_of_the_hash);
	tcase_add_test(tc, the_summary_prints_weights_exactly);
	tcase_add_test(tc, rules_apply_only_to_ports_declared_http);
	suite_add_tcase(s, tc);
	return s;
}
