// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The API source's stores: objects from the API decoded by the manifest decoder. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "kdt.h"
#include "source/api_object.h"

static json_t *pod(const char *name, const char *ip)
{
	json_t *o = json_pack("{s:{s:s, s:s, s:{s:s, s:s}}, s:{s:[{s:s, s:[{s:i, s:s}]}]}, "
			      "s:{s:s, s:s, s:[{s:s, s:s}]}}",
			      "metadata", "name", name, "namespace", "shop", "labels", "app", "cart",
			      "version", "safe",
			      "spec", "containers", "name", "c", "ports", "containerPort", 8080, "name", "http",
			      "status", "phase", "Running", "podIP", ip, "conditions", "type", "Ready",
			      "status", "True");

	ck_assert_ptr_nonnull(o);
	return o;
}

START_TEST(list_item_without_kind_is_decoded)
{
	struct kd_store s = { 0 };
	struct kd_diags d = { 0 };
	const struct kd_store_item *o;
	json_t *p = pod("cart-1", "10.244.9.2");

	/* As in a PodList: no kind or apiVersion on the item. */
	ck_assert_int_eq(kd_api_object_put(&s, "Pod", "v1", p, &d), 0);
	o = kd_store_find(&s, "api:Pod/shop/cart-1");
	ck_assert_ptr_nonnull(o);
	ck_assert_ptr_nonnull(o->good);
	ck_assert_uint_eq(o->good->npod, 1);
	ck_assert_str_eq(o->good->pod[0]->m.ns, "shop");
	ck_assert(o->good->pod[0]->ready && o->good->pod[0]->running);
	ck_assert_str_eq(kd_label(&o->good->pod[0]->labels, "version"), "safe");
	ck_assert_str_eq(o->name, "api:Pod/shop/cart-1");
	ck_assert_uint_eq(kd_store_unknown(&s), 0);
	json_decref(p);
	kd_diags_free(&d);
	kd_store_free(&s);
}
END_TEST

START_TEST(bad_version_keeps_last_good)
{
	struct kd_store s = { 0 };
	struct kd_diags d = { 0 };
	const struct kd_store_item *o;
	json_t *p = pod("cart-1", "10.244.9.2"), *bad = pod("cart-1", "10.244.9.3"), *other;

	kd_api_object_put(&s, "Pod", "v1", p, &d);
	/* A port kanary cannot use: the decoder says so; the old version stays. */
	json_object_set_new(json_array_get(json_object_get(json_array_get(json_object_get(
		json_object_get(bad, "spec"), "containers"), 0), "ports"), 0), "containerPort",
		json_integer(70000));
	kd_api_object_put(&s, "Pod", "v1", bad, &d);
	o = kd_store_find(&s, "api:Pod/shop/cart-1");
	ck_assert_ptr_nonnull(o->error);
	ck_assert_ptr_nonnull(o->good);
	ck_assert_uint_eq(kd_store_unknown(&s), 0);
	KDT_ASSERT_DIAG(&d, KD_ERROR, "api:Pod/shop/cart-1", "last good version stays applied");
	/* A bad object never seen good is unknown: nothing is applied, as for a bad file. */
	other = json_deep_copy(bad);
	json_object_set_new(json_object_get(other, "metadata"), "name", json_string("cart-2"));
	kd_api_object_put(&s, "Pod", "v1", other, &d);
	ck_assert_uint_eq(kd_store_unknown(&s), 1);
	/* Deleted, it no longer counts. */
	ck_assert(kd_api_object_del(&s, "Pod", other));
	ck_assert(!kd_api_object_del(&s, "Pod", other));
	ck_assert_uint_eq(kd_store_unknown(&s), 0);
	ck_assert_uint_eq(s.n, 1);
	json_decref(p);
	json_decref(bad);
	json_decref(other);
	kd_diags_free(&d);
	kd_store_free(&s);
}
END_TEST

START_TEST(sorted_and_warned_once)
{
	struct kd_store s = { 0 };
	struct kd_diags d = { 0 };
	static const char *const names[] = { "c", "a", "b" };
	struct kd_objects **sets = NULL;
	size_t n = 0, cap = 0;
	json_t *p;

	for (int i = 0; i < 3; i++) {
		p = pod(names[i], "10.244.9.2");
		kd_api_object_put(&s, "Pod", "v1", p, &d);
		json_decref(p);
	}
	ck_assert_str_eq(s.v[0].name, "api:Pod/shop/a");
	ck_assert_str_eq(s.v[2].name, "api:Pod/shop/c");
	kd_store_sets(&s, &sets, &n, &cap);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(sets[1]->pod[0]->m.name, "b");
	free(sets);
	/* A Service's warning, through updates that keep it, is said once. */
	kd_diags_free(&d);
	for (int i = 0; i < 3; i++) {
		p = json_pack("{s:{s:s, s:s, s:s}, s:{s:s, s:s, s:{s:s}, s:[{s:i}]}}",
			      "metadata", "name", "cart", "namespace", "shop", "resourceVersion", i ? "2" : "1",
			      "spec", "clusterIP", "10.96.5.5", "sessionAffinity", "ClientIP",
			      "selector", "app", "cart", "ports", "port", 80);
		kd_api_object_put(&s, "Service", "v1", p, &d);
		json_decref(p);
	}
	KDT_ASSERT_DIAG(&d, KD_WARN, "api:Service/shop/cart", "sessionAffinity");
	ck_assert_uint_eq(kd_diag_count(&d, KD_WARN), 1);
	p = json_pack("{s:{}}", "metadata");
	ck_assert_int_eq(kd_api_object_put(&s, "Pod", "v1", p, &d), -EINVAL);
	json_decref(p);
	kd_diags_free(&d);
	kd_store_free(&s);
}
END_TEST

Suite *kube_cache_suite(void)
{
	Suite *s = suite_create("kube_cache");
	TCase *tc = tcase_create("cache");

	tcase_add_test(tc, list_item_without_kind_is_decoded);
	tcase_add_test(tc, bad_version_keeps_last_good);
	tcase_add_test(tc, sorted_and_warned_once);
	suite_add_tcase(s, tc);
	return s;
}
