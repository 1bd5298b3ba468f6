// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* VirtualService routes and DestinationRule subsets into weighted subsets. */
#include <stdio.h>
#include <string.h>
#include "kdt.h"

#define W(x) ((x) * KANARY_WEIGHT_MILLI)

static void shop_with(struct kdt_world *w, const char *istio_fixture)
{
	ck_assert_int_eq(kdt_load(w, "services.yaml"), 0);
	ck_assert_int_eq(kdt_load(w, "pods-list.json"), 0);
	ck_assert_int_eq(kdt_load(w, istio_fixture), 0);
	kdt_build(w);
}

START_TEST(each_istio_version_gives_its_weights)
{
	static const char *const files[] = { "istio-v1.yaml", "istio-v1beta1.yaml",
					     "istio-v1alpha3.yaml" };
	static const unsigned safe[] = { 90, 80, 70 };
	struct kdt_world w = { 0 };
	const struct kd_desired_service *s;
	const struct kd_desired_subset *sf, *rk;

	shop_with(&w, files[_i]);
	s = kdt_service(&w, "shop/greeting");
	ck_assert_uint_eq(s->nsub, 2);
	sf = kdt_subset(s, "safe");
	rk = kdt_subset(s, "risky");
	ck_assert_uint_eq(sf->weight_milli, W(safe[_i]));
	ck_assert_uint_eq(rk->weight_milli, W(100 - safe[_i]));
	ck_assert_uint_eq(sf->n, 2);
	ck_assert(kdt_has_backend(sf, "10.244.1.11:8080"));
	ck_assert(kdt_has_backend(sf, "10.244.1.12:8080"));
	ck_assert_uint_eq(rk->n, 1);
	ck_assert(kdt_has_backend(rk, "10.244.2.11:9090"));
	ck_assert_ptr_nonnull(strstr(s->route, "spec.http[0]"));
	ck_assert_ptr_nonnull(strstr(s->dr, "DestinationRule shop/greeting"));
	kdt_free(&w);
}
END_TEST

START_TEST(first_route_without_match_decides_and_other_subsets_get_zero)
{
	struct kdt_world w = { 0 };
	const struct kd_desired_service *s;

	shop_with(&w, "istio-features.yaml");
	s = kdt_service(&w, "shop/greeting");
	ck_assert_ptr_nonnull(strstr(s->route, "spec.http[2]"));
	/* Relative weights, hosts written three ways. */
	ck_assert_uint_eq(kdt_subset(s, "safe")->weight_milli, W(3));
	ck_assert_uint_eq(kdt_subset(s, "risky")->weight_milli, W(1));
	ck_assert_uint_eq(kdt_subset(s, "safe")->n, 2);
	ck_assert_uint_eq(kdt_subset(s, "risky")->n, 1);
	/* The rule's third subset is there for operators, at 0 and with no pods. */
	ck_assert_uint_eq(kdt_subset(s, "canary2")->weight_milli, 0);
	ck_assert_uint_eq(kdt_subset(s, "canary2")->n, 0);
	ck_assert_uint_eq(s->nsub, 3);
	kdt_free(&w);
}
END_TEST

START_TEST(host_level_canary_routes_to_other_services)
{
	struct kdt_world w = { 0 };
	const struct kd_desired_service *s;

	ck_assert_int_eq(kdt_load(&w, "istio-hosts.yaml"), 0);
	kdt_build(&w);
	s = kdt_service(&w, "test/podinfo");
	ck_assert_uint_eq(s->nsub, 2);
	ck_assert_uint_eq(kdt_subset(s, "podinfo-primary")->weight_milli, W(95));
	ck_assert_uint_eq(kdt_subset(s, "podinfo-canary")->weight_milli, W(5));
	ck_assert(kdt_has_backend(kdt_subset(s, "podinfo-primary"), "10.244.5.11:9898"));
	ck_assert(kdt_has_backend(kdt_subset(s, "podinfo-canary"), "10.244.5.21:9898"));
	ck_assert_uint_eq(kdt_subset(s, "podinfo-canary")->n, 1);
	/* The destination Services are services of their own. */
	ck_assert(kdt_has_backend(kdt_subset(kdt_service(&w, "test/podinfo-canary"), "default"),
				  "10.244.5.21:9898"));
	kdt_free(&w);
}
END_TEST

static struct kdt_world *with_vs(struct kdt_world *w, const char *vs_spec)
{
	ck_assert_int_eq(kdt_load_vs(w, vs_spec), 0);
	kdt_build(w);
	return w;
}

START_TEST(lone_destination_without_weight_takes_all)
{
	struct kdt_world w = { 0 };
	const struct kd_desired_service *s;

	with_vs(&w, "  hosts: [g]\n  http:\n  - route:\n    - destination: {host: g, subset: b}\n");
	s = kdt_service(&w, "n/g/80");
	ck_assert_uint_eq(kdt_subset(s, "b")->weight_milli, W(100));
	ck_assert_uint_eq(kdt_subset(s, "a")->weight_milli, 0);	/* from the rule, unrouted */
	ck_assert(kdt_has_backend(kdt_subset(s, "b"), "10.1.0.2:80"));
	kdt_free(&w);
}
END_TEST

START_TEST(missing_weights_among_several_are_zero_and_repeats_add_up)
{
	struct kdt_world w = { 0 };
	const struct kd_desired_service *s;

	with_vs(&w, "  hosts: [g]\n  http:\n  - route:\n"
		"    - destination: {host: g, subset: a}\n      weight: 10\n"
		"    - destination: {host: g, subset: b}\n"
		"    - destination: {host: g, subset: a}\n      weight: 5\n");
	s = kdt_service(&w, "n/g/80");
	ck_assert_uint_eq(kdt_subset(s, "a")->weight_milli, W(15));
	ck_assert_uint_eq(kdt_subset(s, "b")->weight_milli, 0);
	ck_assert_uint_eq(s->nsub, 2);
	kdt_free(&w);
}
END_TEST

START_TEST(port_match_routes_each_port_separately)
{
	struct kdt_world w = { 0 };

	with_vs(&w, "  hosts: [g.n.svc.cluster.local]\n  http:\n"
		"  - match: [{port: 9090}]\n    route:\n    - destination: {host: g, subset: b}\n"
		"  - route:\n    - destination: {host: g, subset: a}\n");
	ck_assert_uint_eq(kdt_subset(kdt_service(&w, "n/g/9090"), "b")->weight_milli, W(100));
	ck_assert_uint_eq(kdt_subset(kdt_service(&w, "n/g/9090"), "a")->weight_milli, 0);
	ck_assert_uint_eq(kdt_subset(kdt_service(&w, "n/g/80"), "a")->weight_milli, W(100));
	ck_assert_uint_eq(kdt_subset(kdt_service(&w, "n/g/80"), "b")->weight_milli, 0);
	ck_assert(kdt_has_backend(kdt_subset(kdt_service(&w, "n/g/9090"), "b"), "10.1.0.2:9090"));
	kdt_free(&w);
}
END_TEST

START_TEST(tcp_routes_apply_when_no_http_route_does)
{
	struct kdt_world w = { 0 };
	const struct kd_desired_service *s;

	with_vs(&w, "  hosts: [g]\n  tcp:\n  - route:\n"
		"    - destination: {host: g, subset: a}\n      weight: 60\n"
		"    - destination: {host: g, subset: b}\n      weight: 40\n");
	s = kdt_service(&w, "n/g/80");
	ck_assert_ptr_nonnull(strstr(s->route, "spec.tcp[0]"));
	ck_assert_uint_eq(kdt_subset(s, "a")->weight_milli, W(60));
	ck_assert_uint_eq(kdt_subset(s, "b")->weight_milli, W(40));
	kdt_free(&w);
}
END_TEST

START_TEST(only_header_routes_leave_all_pods_to_the_split)
{
	struct kdt_world w = { 0 };
	const struct kd_desired_service *s;

	with_vs(&w, "  hosts: [g]\n  http:\n  - match: [{headers: {x: {exact: y}}}]\n"
		"    route:\n    - destination: {host: g, subset: b}\n");
	s = kdt_service(&w, "n/g/80");
	ck_assert_uint_eq(kdt_subset(s, "default")->n, 2);
	ck_assert_uint_eq(kdt_subset(s, "default")->weight_milli, W(100));
	/* The route is a rule; its subset is there, outside the split. */
	ck_assert_uint_eq(kdt_subset(s, "b")->weight_milli, 0);
	ck_assert_uint_eq(s->rules->n_rules, 1);
	KDT_ASSERT_DIAG(&w.diags, KD_WARN, "vs.yaml:", "VirtualService n/g",
			"no route without a match condition applies to port 80");
	kdt_free(&w);
}
END_TEST

START_TEST(unknown_subset_and_unknown_host_are_warned)
{
	struct kdt_world w = { 0 };
	const struct kd_desired_service *s;

	with_vs(&w, "  hosts: [g, '*.example.com', nothere]\n  http:\n  - route:\n"
		"    - destination: {host: g, subset: a}\n      weight: 50\n"
		"    - destination: {host: g, subset: c}\n      weight: 25\n"
		"    - destination: {host: elsewhere.example.com}\n      weight: 25\n");
	s = kdt_service(&w, "n/g/80");
	ck_assert_uint_eq(kdt_subset(s, "c")->n, 0);
	ck_assert_uint_eq(kdt_subset(s, "c")->weight_milli, W(25));
	KDT_ASSERT_DIAG(&w.diags, KD_WARN, "route[1].destination.subset", "subset 'c'", "no pods");
	KDT_ASSERT_DIAG(&w.diags, KD_WARN, "route[2].destination.host", "elsewhere.example.com",
			"not a Service in the manifests");
	KDT_ASSERT_DIAG(&w.diags, KD_WARN, "spec.hosts[1]", "wildcard");
	KDT_ASSERT_DIAG(&w.diags, KD_WARN, "spec.hosts[2]", "nothere.n.svc.cluster.local", "not a Service");
	kdt_free(&w);
}
END_TEST

START_TEST(gateway_only_virtual_service_leaves_the_default)
{
	struct kdt_world w = { 0 };
	const struct kd_desired_service *s;

	with_vs(&w, "  hosts: [g]\n  gateways: [public]\n  http:\n  - route:\n"
		"    - destination: {host: g, subset: b}\n");
	s = kdt_service(&w, "n/g/80");
	ck_assert_uint_eq(s->nsub, 1);
	ck_assert_uint_eq(kdt_subset(s, "default")->weight_milli, W(100));
	kdt_free(&w);
}
END_TEST

START_TEST(virtual_service_in_another_namespace_by_fqdn)
{
	struct kdt_world w = { 0 };

	ck_assert_int_eq(kdt_load_text(&w, "base.yaml", kdt_base_yaml), 0);
	ck_assert_int_eq(kdt_load_text(&w, "vs.yaml",
		"apiVersion: networking.istio.io/v1beta1\nkind: VirtualService\n"
		"metadata: {name: g, namespace: istio-config}\nspec:\n  hosts: [g.n.svc.cluster.local]\n"
		"  http:\n  - route:\n    - destination: {host: g.n.svc.cluster.local, subset: a}\n      weight: 1\n"
		"    - destination: {host: g.n, subset: b}\n      weight: 3\n"), 0);
	kdt_build(&w);
	ck_assert_uint_eq(kdt_subset(kdt_service(&w, "n/g/80"), "b")->weight_milli, W(3));
	ck_assert_uint_eq(kdt_subset(kdt_service(&w, "n/g/80"), "b")->n, 1);
	kdt_free(&w);
}
END_TEST

START_TEST(own_namespace_wins_among_rules_and_virtual_services_for_a_host)
{
	static const char *const early =
		"apiVersion: networking.istio.io/v1\nkind: DestinationRule\n"
		"metadata: {name: g-early, namespace: other}\n"
		"spec: {host: g.n.svc.cluster.local, subsets: [{name: a, labels: {v: a}}]}\n---\n"
		"apiVersion: networking.istio.io/v1\nkind: VirtualService\n"
		"metadata: {name: g-early, namespace: other}\nspec:\n  hosts: [g.n.svc.cluster.local]\n"
		"  http:\n  - route:\n    - destination: {host: g.n.svc.cluster.local, subset: a}\n";
	static const char *const own =
		"apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: g, namespace: n}\n"
		"spec:\n  hosts: [g, g.n.svc.cluster.local]\n  http:\n  - route:\n"
		"    - destination: {host: g, subset: a}\n      weight: 30\n"
		"    - destination: {host: g, subset: b}\n      weight: 70\n";
	static const char *const late =
		"apiVersion: networking.istio.io/v1\nkind: DestinationRule\n"
		"metadata: {name: g-late, namespace: other2}\n"
		"spec: {host: g.n, subsets: [{name: b, labels: {v: b}}]}\n---\n"
		"apiVersion: networking.istio.io/v1\nkind: VirtualService\n"
		"metadata: {name: g-late, namespace: other2}\nspec:\n  hosts: [g.n]\n"
		"  http:\n  - route:\n    - destination: {host: g.n, subset: b}\n";
	struct kdt_world w = { 0 };
	const struct kd_desired_service *s;

	/* Others' objects for the host both before and after the Service's own. */
	ck_assert_int_eq(kdt_load_text(&w, "early.yaml", early), 0);
	ck_assert_int_eq(kdt_load_text(&w, "base.yaml", kdt_base_yaml), 0);
	ck_assert_int_eq(kdt_load_text(&w, "own.yaml", own), 0);
	ck_assert_int_eq(kdt_load_text(&w, "late.yaml", late), 0);
	kdt_build(&w);
	s = kdt_service(&w, "n/g/80");
	ck_assert_ptr_nonnull(strstr(s->route, "VirtualService n/g "));
	ck_assert_ptr_nonnull(strstr(s->dr, "DestinationRule n/g "));
	ck_assert_uint_eq(kdt_subset(s, "a")->weight_milli, W(30));
	ck_assert_uint_eq(kdt_subset(s, "b")->weight_milli, W(70));
	KDT_ASSERT_DIAG(&w.diags, KD_WARN, "late.yaml:", "VirtualService other2/g-late: spec.hosts",
			"already has VirtualService n/g", "ignored");
	KDT_ASSERT_DIAG(&w.diags, KD_WARN, "late.yaml:", "DestinationRule other2/g-late: spec.host",
			"already has DestinationRule n/g", "ignored");
	/* Naming its host twice does not make a VirtualService compete with itself. */
	ck_assert(!kdt_diag(&w.diags, KD_WARN, "VirtualService n/g:", NULL));
	kdt_free(&w);
}
END_TEST

START_TEST(more_than_eight_destinations_hold_the_service)
{
	struct kdt_world w = { 0 };
	char spec[2048] = "  hosts: [g]\n  http:\n  - route:\n";

	for (int i = 0; i < 9; i++)
		snprintf(spec + strlen(spec), sizeof(spec) - strlen(spec),
			 "    - destination: {host: g, subset: s%d}\n      weight: 1\n", i);
	with_vs(&w, spec);
	ck_assert(kdt_service(&w, "n/g/80")->hold);
	ck_assert_ptr_nonnull(strstr(kdt_service(&w, "n/g/80")->problem, "at most 8 subsets"));
	kdt_free(&w);
}
END_TEST

Suite *routes_suite(void)
{
	Suite *s = suite_create("routes");
	TCase *tc = tcase_create("routes");

	tcase_add_loop_test(tc, each_istio_version_gives_its_weights, 0, 3);
	tcase_add_test(tc, first_route_without_match_decides_and_other_subsets_get_zero);
	tcase_add_test(tc, host_level_canary_routes_to_other_services);
	tcase_add_test(tc, lone_destination_without_weight_takes_all);
	tcase_add_test(tc, missing_weights_among_several_are_zero_and_repeats_add_up);
	tcase_add_test(tc, port_match_routes_each_port_separately);
	tcase_add_test(tc, tcp_routes_apply_when_no_http_route_does);
	tcase_add_test(tc, only_header_routes_leave_all_pods_to_the_split);
	tcase_add_test(tc, unknown_subset_and_unknown_host_are_warned);
	tcase_add_test(tc, gateway_only_virtual_service_leaves_the_default);
	tcase_add_test(tc, virtual_service_in_another_namespace_by_fqdn);
	tcase_add_test(tc, own_namespace_wins_among_rules_and_virtual_services_for_a_host);
	tcase_add_test(tc, more_than_eight_destinations_hold_the_service);
	suite_add_tcase(s, tc);
	return s;
}
