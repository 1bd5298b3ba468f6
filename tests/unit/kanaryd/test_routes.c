// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* VirtualService routes and DestinationRule subsets into weighted subsets. */
#include <errno.h>
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

/* A tenant's VirtualService and DestinationRule naming another namespace's Service. */
static const char hijack_yaml[] =
	"apiVersion: networking.istio.io/v1\nkind: DestinationRule\n"
	"metadata: {name: g, namespace: evil}\n"
	"spec: {host: g.n.svc.cluster.local, subsets: [{name: mine, labels: {v: b}}]}\n---\n"
	"apiVersion: networking.istio.io/v1beta1\nkind: VirtualService\n"
	"metadata: {name: g, namespace: evil}\nspec:\n  hosts: [g.n.svc.cluster.local]\n"
	"  http:\n  - route:\n    - destination: {host: g}\n";

/* kdt_base_yaml with its Service n/g granting routing-from as given. */
static int load_base_granting(struct kdt_world *w, const char *grant)
{
	char text[4096];
	const char *rest = strstr(kdt_base_yaml, "---\n");

	ck_assert_ptr_nonnull(rest);
	ck_assert_int_lt(snprintf(text, sizeof(text),
				  "apiVersion: v1\nkind: Service\nmetadata:\n  name: g\n  namespace: n\n"
				  "  annotations: {kanary.io/routing-from: '%s'}\n"
				  "spec: {clusterIP: 10.96.0.50, selector: {app: g}, ports: [{name: http, port: 80}, {name: grpc, port: 9090}]}\n%s",
				  grant, rest), (int)sizeof(text));
	return kdt_load_text(w, "base.yaml", text);
}

START_TEST(another_namespace_cannot_route_a_service_that_does_not_grant_it)
{
	struct kdt_world w = { 0 };
	const struct kd_desired_service *s;

	ck_assert_int_eq(kdt_load_text(&w, "base.yaml", kdt_base_yaml), 0);
	ck_assert_int_eq(kdt_load_text(&w, "evil.yaml", hijack_yaml), 0);
	/* evil's own Service g: what "g" would mean if names resolved in evil. */
	ck_assert_int_eq(kdt_load_text(&w, "evil-svc.yaml",
		"apiVersion: v1\nkind: Service\nmetadata: {name: g, namespace: evil}\n"
		"spec: {clusterIP: 10.96.6.66, selector: {app: x}, ports: [{port: 80}]}\n---\n"
		"apiVersion: v1\nkind: Pod\nmetadata: {name: x, namespace: evil, labels: {app: x}}\n"
		"status: {phase: Running, podIP: 10.6.6.6, conditions: [{type: Ready, status: 'True'}]}\n"), 0);
	kdt_build(&w);
	s = kdt_service(&w, "n/g/80");
	ck_assert_ptr_nonnull(strstr(s->route, "no VirtualService"));
	ck_assert_ptr_nonnull(strstr(s->dr, "DestinationRule n/g "));
	ck_assert_uint_eq(kdt_subset(s, "default")->weight_milli, W(100));
	ck_assert(!kdt_has_backend(kdt_subset(s, "default"), "10.6.6.6:80"));
	KDT_ASSERT_DIAG(&w.diags, KD_WARN, "evil.yaml:", "VirtualService evil/g: may not route Service n/g",
			"does not grant it (annotation kanary.io/routing-from)", "ignored");
	KDT_ASSERT_DIAG(&w.diags, KD_WARN, "evil.yaml:", "DestinationRule evil/g: may not route Service n/g");
	kdt_free(&w);
}
END_TEST

START_TEST(a_granted_namespace_routes_and_short_names_resolve_in_the_services_namespace)
{
	static const char *const grants[] = { "evil", "other, evil", "*" };

	for (size_t i = 0; i < sizeof(grants) / sizeof(grants[0]); i++) {
		struct kdt_world w = { 0 };
		const struct kd_desired_service *s;

		ck_assert_int_eq(load_base_granting(&w, grants[i]), 0);
		ck_assert_int_eq(kdt_load_text(&w, "evil.yaml", hijack_yaml), 0);
		ck_assert_int_eq(kdt_load_text(&w, "evil-svc.yaml",
			"apiVersion: v1\nkind: Service\nmetadata: {name: g, namespace: evil}\n"
			"spec: {clusterIP: 10.96.6.66, selector: {app: x}, ports: [{port: 80}]}\n"), 0);
		kdt_build(&w);
		s = kdt_service(&w, "n/g/80");
		ck_assert_msg(strstr(s->route, "VirtualService evil/g "), "grant '%s': %s", grants[i], s->route);
		/* "g" is n/g, the routed Service, not evil/g: all of n/g's pods. */
		ck_assert(kdt_has_backend(kdt_subset(s, "default"), "10.1.0.1:80"));
		ck_assert(kdt_has_backend(kdt_subset(s, "default"), "10.1.0.2:80"));
		/* n's own DestinationRule still wins over the granted one. */
		ck_assert_ptr_nonnull(strstr(s->dr, "DestinationRule n/g "));
		ck_assert(!kdt_diag(&w.diags, KD_WARN, "may not route", NULL));
		kdt_free(&w);
	}
}
END_TEST

START_TEST(a_grant_that_is_not_a_namespace_list_is_an_error)
{
	static const char *const bad[] = { "Evil", "evil,", "ev il", "-evil", "a,*b" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct kdt_world w = { 0 };

		ck_assert_int_eq(load_base_granting(&w, bad[i]), -EINVAL);
		KDT_ASSERT_DIAG(&w.diags, KD_ERROR, "base.yaml:", "kanary.io/routing-from",
				"is not a namespace name");
		kdt_free(&w);
	}
}
END_TEST

START_TEST(own_namespace_wins_over_a_granted_one_and_others_are_refused)
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

	/* Others' objects for the host both before and after the Service's own; other2 granted. */
	ck_assert_int_eq(kdt_load_text(&w, "early.yaml", early), 0);
	ck_assert_int_eq(load_base_granting(&w, "other2"), 0);
	ck_assert_int_eq(kdt_load_text(&w, "own.yaml", own), 0);
	ck_assert_int_eq(kdt_load_text(&w, "late.yaml", late), 0);
	kdt_build(&w);
	s = kdt_service(&w, "n/g/80");
	ck_assert_ptr_nonnull(strstr(s->route, "VirtualService n/g "));
	ck_assert_ptr_nonnull(strstr(s->dr, "DestinationRule n/g "));
	ck_assert_uint_eq(kdt_subset(s, "a")->weight_milli, W(30));
	ck_assert_uint_eq(kdt_subset(s, "b")->weight_milli, W(70));
	KDT_ASSERT_DIAG(&w.diags, KD_WARN, "early.yaml:", "VirtualService other/g-early: may not route Service n/g");
	KDT_ASSERT_DIAG(&w.diags, KD_WARN, "early.yaml:", "DestinationRule other/g-early: may not route Service n/g");
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
	tcase_add_test(tc, another_namespace_cannot_route_a_service_that_does_not_grant_it);
	tcase_add_test(tc, a_granted_namespace_routes_and_short_names_resolve_in_the_services_namespace);
	tcase_add_test(tc, a_grant_that_is_not_a_namespace_list_is_an_error);
	tcase_add_test(tc, own_namespace_wins_over_a_granted_one_and_others_are_refused);
	tcase_add_test(tc, more_than_eight_destinations_hold_the_service);
	suite_add_tcase(s, tc);
	return s;
}
