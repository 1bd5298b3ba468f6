// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Desired services from Services and Pods: names, addresses, backends. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include "kdt.h"
#include "desired/hostname.h"

static void shop(struct kdt_world *w)
{
	ck_assert_int_eq(kdt_load(w, "services.yaml"), 0);
	ck_assert_int_eq(kdt_load(w, "pods-list.json"), 0);
	kdt_build(w);
}

START_TEST(no_virtual_service_means_one_default_subset_of_ready_pods)
{
	struct kdt_world w = { 0 };
	const struct kd_desired_service *s;
	const struct kd_desired_subset *d;
	char vip[64];

	shop(&w);
	s = kdt_service(&w, "shop/greeting");
	kanary_format_ipport(vip, sizeof(vip), &s->key.vip, s->key.port);
	ck_assert_str_eq(vip, "10.96.1.10:80");
	ck_assert_uint_eq(s->nsub, 1);
	d = kdt_subset(s, "default");
	ck_assert_uint_eq(d->weight_milli, 100 * KANARY_WEIGHT_MILLI);
	/* Two ready safe pods and one ready risky pod; the named port differs per pod. */
	ck_assert_uint_eq(d->n, 3);
	ck_assert(kdt_has_backend(d, "10.244.1.11:8080"));
	ck_assert(kdt_has_backend(d, "10.244.1.12:8080"));
	ck_assert(kdt_has_backend(d, "10.244.2.11:9090"));
	ck_assert(!s->hold);
	kdt_free(&w);
}
END_TEST

START_TEST(terminating_unready_pending_and_foreign_pods_are_not_backends)
{
	static const char *const excluded[] = {
		"10.244.1.13",	/* terminating */
		"10.244.2.12",	/* not Ready */
		"10.244.3.11",	/* same labels, other namespace */
	};
	struct kdt_world w = { 0 };
	const struct kd_desired_subset *d;
	char buf[64];

	shop(&w);
	d = kdt_subset(kdt_service(&w, "shop/greeting"), "default");
	for (__u32 i = 0; i < d->n; i++) {
		kanary_format_ipport(buf, sizeof(buf), &d->be[i].addr, d->be[i].port);
		for (size_t k = 0; k < sizeof(excluded) / sizeof(excluded[0]); k++)
			ck_assert_msg(strncmp(buf, excluded[k], strlen(excluded[k])) != 0 ||
				      buf[strlen(excluded[k])] != ':', "backend %s must not be there", buf);
	}
	/* The cart pod that Succeeded is not a backend either. */
	d = kdt_subset(kdt_service(&w, "shop/cart/80"), "default");
	ck_assert_uint_eq(d->n, 1);
	ck_assert(kdt_has_backend(d, "10.244.4.11:8080"));
	kdt_free(&w);
}
END_TEST

START_TEST(multi_port_service_gets_one_service_per_tcp_port)
{
	struct kdt_world w = { 0 };
	const struct kd_desired_service *grpc;

	shop(&w);
	ck_assert_ptr_null(kd_desired_find(&w.desired, "shop/cart"));
	kdt_service(&w, "shop/cart/80");
	grpc = kdt_service(&w, "shop/cart/9090");
	ck_assert_uint_eq(ntohs(grpc->key.port), 9090);
	ck_assert(kdt_has_backend(kdt_subset(grpc, "default"), "10.244.4.11:9090"));
	ck_assert_ptr_null(kd_desired_find(&w.desired, "shop/cart/53"));
	KDT_ASSERT_DIAG(&w.diags, KD_WARN, "services.yaml:", "Service shop/cart", "spec.ports[2]", "UDP",
			"port 53 skipped");
	kdt_free(&w);
}
END_TEST

START_TEST(headless_unassigned_and_external_services_are_skipped)
{
	struct kdt_world w = { 0 };

	shop(&w);
	ck_assert_ptr_null(kd_desired_find(&w.desired, "shop/greeting-headless"));
	ck_assert_ptr_null(kd_desired_find(&w.desired, "shop/draft"));
	ck_assert_ptr_null(kd_desired_find(&w.desired, "shop/payments"));
	KDT_ASSERT_DIAG(&w.diags, KD_WARN, "Service shop/greeting-headless", "headless");
	KDT_ASSERT_DIAG(&w.diags, KD_WARN, "Service shop/draft", "spec.clusterIP: missing");
	ck_assert(!kdt_diag(&w.diags, KD_WARN, "shop/payments", NULL));
	ck_assert_uint_eq(w.desired.n, 3);	/* greeting, cart/80, cart/9090 */
	kdt_free(&w);
}
END_TEST

START_TEST(backends_are_sorted_so_order_in_files_does_not_matter)
{
	static const char *const a =
		"apiVersion: v1\nkind: Pod\nmetadata: {name: a, labels: {app: x}}\n"
		"status: {phase: Running, podIP: 10.0.0.9, conditions: [{type: Ready, status: 'True'}]}\n";
	static const char *const b =
		"apiVersion: v1\nkind: Pod\nmetadata: {name: b, labels: {app: x}}\n"
		"status: {phase: Running, podIP: 10.0.0.2, conditions: [{type: Ready, status: 'True'}]}\n";
	static const char *const svc =
		"apiVersion: v1\nkind: Service\nmetadata: {name: x}\n"
		"spec: {clusterIP: 10.96.0.99, selector: {app: x}, ports: [{port: 80}]}\n";
	struct kdt_world w1 = { 0 }, w2 = { 0 };
	const struct kd_desired_service *s1, *s2;

	kdt_load_text(&w1, "svc.yaml", svc);
	kdt_load_text(&w1, "a.yaml", a);
	kdt_load_text(&w1, "b.yaml", b);
	kdt_load_text(&w2, "b.yaml", b);
	kdt_load_text(&w2, "a.yaml", a);
	kdt_load_text(&w2, "svc.yaml", svc);
	kdt_build(&w1);
	kdt_build(&w2);
	s1 = kdt_service(&w1, "default/x");
	s2 = kdt_service(&w2, "default/x");
	ck_assert(kdt_has_backend(&s1->sub[0], "10.0.0.2:80"));
	ck_assert_mem_eq(&s1->sub[0].be[0], &s2->sub[0].be[0], sizeof(struct kanary_backend));
	ck_assert_uint_eq(s1->hash, s2->hash);
	kdt_free(&w1);
	kdt_free(&w2);
}
END_TEST

START_TEST(hash_follows_what_is_written)
{
	struct kdt_world w = { 0 };
	struct kd_desired_service copy;
	__u64 h;

	shop(&w);
	copy = *kdt_service(&w, "shop/greeting");
	h = copy.hash;
	ck_assert_uint_eq(kd_desired_service_hash(&copy), h);
	copy.sub[0].weight_milli++;
	ck_assert_uint_ne(kd_desired_service_hash(&copy), h);
	copy.sub[0].weight_milli--;
	copy.sub[0].n--;
	ck_assert_uint_ne(kd_desired_service_hash(&copy), h);
	kdt_free(&w);
}
END_TEST

START_TEST(duplicate_objects_first_wins_with_a_warning)
{
	struct kdt_world w = { 0 };

	kdt_load_text(&w, "one.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: x}\n"
		      "spec: {clusterIP: 10.96.0.1, selector: {app: x}, ports: [{port: 80}]}\n");
	kdt_load_text(&w, "two.yaml", "# again\napiVersion: v1\nkind: Service\nmetadata: {name: x}\n"
		      "spec: {clusterIP: 10.96.0.2, selector: {app: x}, ports: [{port: 80}]}\n");
	kdt_build(&w);
	ck_assert_uint_eq(w.desired.n, 1);
	ck_assert_uint_eq(kdt_service(&w, "default/x")->key.vip.w[3], inet_addr("10.96.0.1"));
	KDT_ASSERT_DIAG(&w.diags, KD_WARN, "two.yaml:2:", "Service default/x", "also defined at one.yaml:1");
	kdt_free(&w);
}
END_TEST

/* Several duplicates: each later one dropped, the warnings in namespace and name order, each naming the first. */
START_TEST(duplicates_are_reported_in_name_order)
{
	static const char svc[] = "apiVersion: v1\nkind: Service\nmetadata: {name: %s}\n"
				  "spec: {clusterIP: 10.96.0.%d, selector: {app: x}, ports: [{port: 80}]}\n";
	struct kdt_world w = { 0 };
	char text[3][256];
	size_t a = SIZE_MAX, z = SIZE_MAX;

	snprintf(text[0], sizeof(text[0]), svc, "zz", 1);
	snprintf(text[1], sizeof(text[1]), svc, "aa", 2);
	kdt_load_text(&w, "one.yaml", text[0]);
	kdt_load_text(&w, "two.yaml", text[1]);
	snprintf(text[2], sizeof(text[2]), svc, "zz", 3);
	kdt_load_text(&w, "three.yaml", text[2]);
	snprintf(text[0], sizeof(text[0]), svc, "aa", 4);
	kdt_load_text(&w, "four.yaml", text[0]);
	kdt_load_text(&w, "five.yaml", text[1]);
	kdt_build(&w);
	ck_assert_uint_eq(w.desired.n, 2);
	ck_assert_uint_eq(kdt_service(&w, "default/zz")->key.vip.w[3], inet_addr("10.96.0.1"));
	ck_assert_uint_eq(kdt_service(&w, "default/aa")->key.vip.w[3], inet_addr("10.96.0.2"));
	KDT_ASSERT_DIAG(&w.diags, KD_WARN, "three.yaml:1:", "default/zz", "also defined at one.yaml:1");
	KDT_ASSERT_DIAG(&w.diags, KD_WARN, "four.yaml:1:", "default/aa", "also defined at two.yaml:1");
	KDT_ASSERT_DIAG(&w.diags, KD_WARN, "five.yaml:1:", "default/aa", "also defined at two.yaml:1");
	for (size_t i = 0; i < w.diags.n; i++) {
		if (strstr(w.diags.v[i].msg, "default/aa is also") && a == SIZE_MAX)
			a = i;
		if (strstr(w.diags.v[i].msg, "default/zz is also"))
			z = i;
	}
	ck_assert_uint_lt(a, z);	/* aa before zz, though zz's duplicate came first */
	kdt_free(&w);
}
END_TEST

START_TEST(two_services_on_one_address_hold_the_second)
{
	struct kdt_world w = { 0 };

	kdt_load_text(&w, "s.yaml",
		      "apiVersion: v1\nkind: Service\nmetadata: {name: a}\n"
		      "spec: {clusterIP: 10.96.0.1, selector: {app: x}, ports: [{port: 80}]}\n---\n"
		      "apiVersion: v1\nkind: Service\nmetadata: {name: b}\n"
		      "spec: {clusterIP: 10.96.0.1, selector: {app: y}, ports: [{port: 80}]}\n");
	kdt_build(&w);
	ck_assert(!kdt_service(&w, "default/a")->hold);
	ck_assert(kdt_service(&w, "default/b")->hold);
	ck_assert_ptr_nonnull(strstr(kdt_service(&w, "default/b")->problem, "is also default/a"));
	kdt_free(&w);
}
END_TEST

START_TEST(every_later_service_on_an_address_names_the_first)
{
	static const char *const svc =
		"apiVersion: v1\nkind: Service\nmetadata: {name: %s}\n"
		"spec: {clusterIP: %s, selector: {app: x}, ports: [{port: 80}]}\n---\n";
	/* Names sort apart from their file order: the first in the file is not the first by name. */
	static const char *const order[][2] = {
		{ "m", "10.96.0.1" }, { "z", "10.96.0.2" }, { "a", "10.96.0.1" },
		{ "q", "10.96.0.1" }, { "b", "10.96.0.2" }, { "c", "10.96.0.3" },
	};
	struct kdt_world w = { 0 };
	char text[2048] = "";

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), svc, order[i][0], order[i][1]);
	kdt_load_text(&w, "s.yaml", text);
	kdt_build(&w);
	/* The first by name is kept; each later one is held, naming it. */
	ck_assert(!kdt_service(&w, "default/a")->hold);
	ck_assert(!kdt_service(&w, "default/b")->hold);
	ck_assert(!kdt_service(&w, "default/c")->hold);
	ck_assert_ptr_nonnull(strstr(kdt_service(&w, "default/m")->problem, "10.96.0.1:80/tcp is also default/a"));
	ck_assert_ptr_nonnull(strstr(kdt_service(&w, "default/q")->problem, "10.96.0.1:80/tcp is also default/a"));
	ck_assert_ptr_nonnull(strstr(kdt_service(&w, "default/z")->problem, "10.96.0.2:80/tcp is also default/b"));
	kdt_free(&w);
}
END_TEST

START_TEST(long_names_are_shortened_uniquely)
{
	struct kdt_world w = { 0 };
	char text[1024];
	const char *ns = "a-very-long-namespace-name-for-the-payments-team-eu-west";

	snprintf(text, sizeof(text),
		 "apiVersion: v1\nkind: Service\nmetadata: {name: checkout-service-one, namespace: %s}\n"
		 "spec: {clusterIP: 10.96.0.1, selector: {app: x}, ports: [{port: 80}]}\n---\n"
		 "apiVersion: v1\nkind: Service\nmetadata: {name: checkout-service-two, namespace: %s}\n"
		 "spec: {clusterIP: 10.96.0.2, selector: {app: x}, ports: [{port: 80}, {port: 81, name: b}]}\n",
		 ns, ns);
	kdt_load_text(&w, "long.yaml", text);
	kdt_build(&w);
	ck_assert_uint_eq(w.desired.n, 3);
	for (size_t i = 0; i < w.desired.n; i++) {
		ck_assert_uint_lt(strlen(w.desired.v[i].name), KANARY_NAME_LEN);
		ck_assert_ptr_nonnull(strchr(w.desired.v[i].name, '/'));
		for (size_t j = 0; j < i; j++)
			ck_assert_str_ne(w.desired.v[i].name, w.desired.v[j].name);
	}
	kdt_free(&w);
}
END_TEST

START_TEST(host_names_resolve_as_istio_and_cluster_dns)
{
	static const char *const cases[][3] = {
		{ "greeting", "shop", "greeting.shop.svc.cluster.local" },
		{ "greeting.shop", "default", "greeting.shop.svc.cluster.local" },
		{ "greeting.shop.svc", "default", "greeting.shop.svc.cluster.local" },
		{ "greeting.shop.svc.cluster.local", "other", "greeting.shop.svc.cluster.local" },
		{ "Greeting.Shop.svc.cluster.local.", "other", "greeting.shop.svc.cluster.local" },
		{ "api.example.com", "shop", "api.example.com" },
	};
	char out[KD_FQDN_LEN];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		kd_host_fqdn(out, sizeof(out), cases[i][0], cases[i][1], "cluster.local");
		ck_assert_str_eq(out, cases[i][2]);
	}
	kd_host_fqdn(out, sizeof(out), "greeting", "shop", "corp.internal");
	ck_assert_str_eq(out, "greeting.shop.svc.corp.internal");
	ck_assert(kd_host_is_wildcard("*.example.com"));
	ck_assert(!kd_host_is_wildcard("greeting"));
}
END_TEST

Suite *desired_suite(void)
{
	Suite *s = suite_create("desired");
	TCase *tc = tcase_create("services");

	tcase_add_test(tc, no_virtual_service_means_one_default_subset_of_ready_pods);
	tcase_add_test(tc, terminating_unready_pending_and_foreign_pods_are_not_backends);
	tcase_add_test(tc, multi_port_service_gets_one_service_per_tcp_port);
	tcase_add_test(tc, duplicates_are_reported_in_name_order);
	tcase_add_test(tc, headless_unassigned_and_external_services_are_skipped);
	tcase_add_test(tc, backends_are_sorted_so_order_in_files_does_not_matter);
	tcase_add_test(tc, hash_follows_what_is_written);
	tcase_add_test(tc, duplicate_objects_first_wins_with_a_warning);
	tcase_add_test(tc, two_services_on_one_address_hold_the_second);
	tcase_add_test(tc, every_later_service_on_an_address_names_the_first);
	tcase_add_test(tc, long_names_are_shortened_uniquely);
	tcase_add_test(tc, host_names_resolve_as_istio_and_cluster_dns);
	suite_add_tcase(s, tc);
	return s;
}
