// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The list/watch client against the test API server: pagination,
 * resourceVersion tracking, bookmarks, 410 in the stream and as a status,
 * closed streams, a rotated token, missing CRDs, a server that goes away.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "kdt.h"
#include "test_kube_server.h"
#include "source/api_watch.h"
#include "base/log.h"

static struct kubet srv;
static struct kd_kube kube;
static bool kube_on;
static unsigned gone_hold_s = KD_KUBE_GONE_HOLD_S;

static void start_kube(void)
{
	struct kd_kube_config c;
	struct kanary_err ke = { "" };
	char *err = ke.msg;

	ck_assert_msg(kd_kube_config_load(&c, srv.kubeconfig, NULL, &ke) == 0, "%s", err);
	ck_assert_int_eq(kd_kube_start(&kube, &c, 2, gone_hold_s, NULL), 0);
	kube_on = true;
}

static void seed(void)
{
	static const char *const fx[] = {
		"service-greeting", "service-message", "pod-greeting-safe-7c9d8b6f4d-2xkqp",
		"pod-greeting-safe-7c9d8b6f4d-m5r8t", "pod-greeting-risky-6b4f9d7c8-h9v2c",
		"pod-message-5d8f7c6b9d-q7wzn", "destinationrule-greeting", "virtualservice-greeting",
	};

	for (size_t i = 0; i < sizeof(fx) / sizeof(fx[0]); i++)
		kubet_put_fixture(&srv, fx[i]);
}

static void teardown(void)
{
	if (kube_on)
		kd_kube_stop(&kube);
	kube_on = false;
	gone_hold_s = KD_KUBE_GONE_HOLD_S;
	kubet_cleanup(&srv);
}

/* --- conditions, read under the cache lock ------------------------------ */

static bool synced(void *arg)
{
	char why[128];
	bool ok;

	kd_kube_lock(&kube);
	ok = kd_kube_synced(&kube, why, sizeof(why));
	kd_kube_unlock(&kube);
	return ok;
}

struct want_n {
	int kind;
	size_t n;
};

static bool has_n(void *arg)
{
	struct want_n *w = arg;
	bool ok;

	kd_kube_lock(&kube);
	ok = kube.kinds[w->kind].synced && kube.kinds[w->kind].store.n == w->n;
	kd_kube_unlock(&kube);
	return ok;
}

static unsigned long long stat_of(int kind, size_t off)
{
	unsigned long long v;

	kd_kube_lock(&kube);
	v = *(unsigned long long *)((char *)&kube.kinds[kind].st + off);
	kd_kube_unlock(&kube);
	return v;
}

struct want_stat {
	int kind;
	size_t off;
	unsigned long long min;
};

static bool stat_at_least(void *arg)
{
	struct want_stat *w = arg;

	return stat_of(w->kind, w->off) >= w->min;
}

#define STAT(kind, field) stat_of((kind), offsetof(struct kd_kube_stats, field))
#define WAIT_STAT(kind, field, atleast)							\
	do {										\
		struct want_stat w_ = { (kind), offsetof(struct kd_kube_stats, field), (atleast) }; \
		ck_assert_msg(kubet_wait(stat_at_least, &w_), #field " of kind %d stayed %llu, "	\
			      "expected at least %llu", (kind), STAT((kind), field),		\
			      (unsigned long long)(atleast));				\
	} while (0)
#define WAIT_N(kind, count)								\
	do {										\
		struct want_n w_ = { (kind), (count) };					\
		ck_assert_msg(kubet_wait(has_n, &w_), "kind %d: %zu objects, expected %zu",	\
			      (kind), kube.kinds[(kind)].store.n, (size_t)(count));	\
	} while (0)

static char *rv_of(int kind)
{
	char *v;

	kd_kube_lock(&kube);
	v = strdup(kube.kinds[kind].rv);
	kd_kube_unlock(&kube);
	return v;
}

/* A new greeting pod, as the API server returns one. */
static void put_pod(const char *name, const char *version)
{
	json_error_t je;
	json_t *o = json_load_file("tests/lib/kube/fixtures/pod-greeting-safe-7c9d8b6f4d-2xkqp.json", 0, &je);

	ck_assert_msg(o, "%s", je.text);
	json_object_set_new(json_object_get(o, "metadata"), "name", json_string(name));
	json_object_set_new(json_object_get(json_object_get(o, "metadata"), "labels"), "version",
			    json_string(version));
	kubet_put_json(&srv, o);
	json_decref(o);
}

static const char *pod_version(const char *key)
{
	const struct kd_store_item *o = kd_store_find(&kube.kinds[KD_KUBE_PODS].store, key);

	return o && o->good && o->good->npod ? kd_label(&o->good->pod[0]->labels, "version") : NULL;
}

static bool pod_is_risky(void *arg)
{
	const char *v;
	bool ok;

	kd_kube_lock(&kube);
	v = pod_version(arg);
	ok = v && strcmp(v, "risky") == 0;
	kd_kube_unlock(&kube);
	return ok;
}

static bool server_rv_reached(void *arg)
{
	char *rv = rv_of(KD_KUBE_PODS);
	bool ok = strcmp(rv, arg) == 0;

	free(rv);
	return ok;
}

START_TEST(list_pages_then_watch)
{
	char *rv;
	json_t *r;

	kubet_start(&srv, NULL);
	seed();
	start_kube();
	ck_assert_msg(kubet_wait(synced, NULL), "the first list never completed");
	WAIT_N(KD_KUBE_PODS, 4);
	WAIT_N(KD_KUBE_SERVICES, 2);
	WAIT_N(KD_KUBE_VIRTUALSERVICES, 1);
	/* 4 pods at 2 per page: a first page, then one with the continue token. */
	ck_assert_uint_ge(kubet_count_requests(&srv, "/api/v1/pods", "limit", "2"), 2);
	ck_assert_uint_ge(kubet_count_requests(&srv, "/api/v1/pods", "continue", NULL), 1);
	ck_assert_uint_eq(kubet_count_requests(&srv, "/apis/networking.istio.io/v1/virtualservices",
					       "limit", "2"), 1);
	/* The watch starts at the list's version, with bookmarks. */
	rv = rv_of(KD_KUBE_PODS);
	ck_assert_str_eq(rv, "1008");
	free(rv);
	ck_assert_uint_ge(kubet_count_requests(&srv, "/api/v1/pods", "allowWatchBookmarks", "true"), 1);
	ck_assert_uint_ge(kubet_count_requests(&srv, "/api/v1/pods", "resourceVersion", "1008"), 1);

	put_pod("extra-1", "safe");
	WAIT_N(KD_KUBE_PODS, 5);
	put_pod("extra-1", "risky");
	ck_assert_msg(kubet_wait(pod_is_risky, "api:Pod/default/extra-1"), "MODIFIED not applied");
	r = kubet_ctl(&srv, "DELETE", "/_test/objects/pods/default/extra-1", NULL);
	ck_assert_ptr_nonnull(r);
	json_decref(r);
	WAIT_N(KD_KUBE_PODS, 4);
	ck_assert_msg(kubet_wait(server_rv_reached, "1011"), "pods resourceVersion %s, expected 1011",
		      kube.kinds[KD_KUBE_PODS].rv);
	ck_assert_uint_eq(STAT(KD_KUBE_PODS, events), 3);
}
END_TEST

START_TEST(bookmarks_move_the_version)
{
	kubet_start(&srv, NULL);
	seed();
	kubet_put_fixture(&srv, "service-greeting");	/* rv 1009: a Service, not a Pod */
	start_kube();
	ck_assert(kubet_wait(synced, NULL));
	WAIT_STAT(KD_KUBE_PODS, bookmarks, 1);
	/* No pod changed, yet the pods' version moved on to the server's. */
	ck_assert_msg(kubet_wait(server_rv_reached, "1009"), "pods at %s, expected 1009 from a bookmark",
		      kube.kinds[KD_KUBE_PODS].rv);
}
END_TEST

START_TEST(gone_in_stream_relists_and_replaces)
{
	json_t *r;

	kubet_start(&srv, NULL);
	seed();
	start_kube();
	ck_assert(kubet_wait(synced, NULL));
	WAIT_N(KD_KUBE_PODS, 4);
	/* Lost in a compaction: no DELETED event; only a new list can tell. */
	r = kubet_ctl(&srv, "DELETE", "/_test/objects/pods/default/greeting-risky-6b4f9d7c8-h9v2c?silent=1", NULL);
	ck_assert_ptr_nonnull(r);
	json_decref(r);
	r = kubet_ctl(&srv, "POST", "/_test/expire", "");
	ck_assert_ptr_nonnull(r);
	json_decref(r);
	WAIT_STAT(KD_KUBE_PODS, relists_410, 1);
	WAIT_N(KD_KUBE_PODS, 3);
	ck_assert_uint_ge(STAT(KD_KUBE_PODS, lists), 2);
}
END_TEST

START_TEST(gone_as_http_status_relists)
{
	unsigned long long lists;
	json_t *r;

	kubet_start(&srv, NULL);
	seed();
	start_kube();
	ck_assert(kubet_wait(synced, NULL));
	WAIT_STAT(KD_KUBE_PODS, bookmarks, 1);	/* watching */
	lists = STAT(KD_KUBE_PODS, lists) + STAT(KD_KUBE_SERVICES, lists) +
		STAT(KD_KUBE_DESTINATIONRULES, lists) + STAT(KD_KUBE_VIRTUALSERVICES, lists);
	r = kubet_ctl(&srv, "POST", "/_test/http410", "");
	json_decref(r);
	r = kubet_ctl(&srv, "POST", "/_test/close", "");
	json_decref(r);
	/* One of the four watches gets the 410 and lists again; the others resume. */
	for (int i = 0; i < 150; i++) {
		unsigned long long g = 0;

		for (int k = 0; k < KD_KUBE_NKINDS; k++)
			g += STAT(k, relists_410);
		if (g)
			break;
		usleep(100 * 1000);
	}
	{
		unsigned long long g = 0, now = 0;

		for (int k = 0; k < KD_KUBE_NKINDS; k++) {
			g += STAT(k, relists_410);
			now += STAT(k, lists);
		}
		ck_assert_uint_eq(g, 1);
		for (int i = 0; i < 150 && now < lists + 1; i++) {
			usleep(100 * 1000);
			now = 0;
			for (int k = 0; k < KD_KUBE_NKINDS; k++)
				now += STAT(k, lists);
		}
		ck_assert_uint_eq(now, lists + 1);
	}
}
END_TEST

START_TEST(closed_stream_resumes_without_list)
{
	char *rv;
	json_t *r;

	kubet_start(&srv, NULL);
	seed();
	start_kube();
	ck_assert(kubet_wait(synced, NULL));
	WAIT_STAT(KD_KUBE_PODS, bookmarks, 1);
	r = kubet_ctl(&srv, "POST", "/_test/close", "");
	json_decref(r);
	WAIT_STAT(KD_KUBE_PODS, restarts, 1);
	put_pod("after-close", "safe");
	WAIT_N(KD_KUBE_PODS, 5);
	ck_assert_uint_eq(STAT(KD_KUBE_PODS, lists), 1);
	rv = rv_of(KD_KUBE_PODS);
	ck_assert_str_eq(rv, "1009");
	free(rv);
	/* The second watch started where the first stopped. */
	ck_assert_uint_ge(kubet_count_requests(&srv, "/api/v1/pods", "watch", "1"), 2);
}
END_TEST

START_TEST(rotated_token_is_read_again)
{
	json_t *r;

	kubet_start(&srv, NULL);
	seed();
	start_kube();
	ck_assert(kubet_wait(synced, NULL));
	WAIT_STAT(KD_KUBE_PODS, bookmarks, 1);
	kubet_rotate_token(&srv);
	r = kubet_ctl(&srv, "POST", "/_test/close", "");
	json_decref(r);
	put_pod("after-rotation", "safe");
	WAIT_N(KD_KUBE_PODS, 5);
	/* The 401 was answered with the new token at once, not counted as an outage. */
	ck_assert_uint_ge(kubet_count_requests(&srv, "/api/v1/pods", NULL, NULL), 1);
	ck_assert_uint_eq(STAT(KD_KUBE_PODS, errors), 0);
}
END_TEST

START_TEST(missing_crds_said_once)
{
	kubet_start(&srv, "--no-istio");
	kubet_put_fixture(&srv, "service-greeting");
	start_kube();
	ck_assert(kubet_wait(synced, NULL));
	kd_kube_lock(&kube);
	ck_assert(kube.kinds[KD_KUBE_DESTINATIONRULES].missing);
	ck_assert(kube.kinds[KD_KUBE_VIRTUALSERVICES].missing);
	ck_assert(!kube.kinds[KD_KUBE_SERVICES].missing);
	ck_assert_uint_eq(kube.kinds[KD_KUBE_SERVICES].store.n, 1);
	kd_kube_unlock(&kube);
	/* Asked once per kind, then left alone for a minute: not looped on. */
	sleep(2);
	ck_assert_uint_eq(kubet_count_requests(&srv, "/apis/networking.istio.io", NULL, NULL), 2);
	ck_assert_uint_eq(STAT(KD_KUBE_VIRTUALSERVICES, errors), 0);
}
END_TEST

static bool vs_held(void *arg)
{
	bool want = *(bool *)arg, ok;

	kd_kube_lock(&kube);
	ok = kube.kinds[KD_KUBE_VIRTUALSERVICES].held == want &&
	     kube.kinds[KD_KUBE_VIRTUALSERVICES].missing;
	kd_kube_unlock(&kube);
	return ok;
}

static void set_istio_served(bool served)
{
	json_decref(kubet_ctl(&srv, "POST", "/_test/istio", served ? "{\"served\": true}"
								   : "{\"served\": false}"));
}

START_TEST(a_group_that_disappears_is_held_until_it_returns_or_the_hold_ends)
{
	bool yes = true, no = false;

	gone_hold_s = 4;
	kubet_start(&srv, NULL);
	seed();
	start_kube();
	ck_assert(kubet_wait(synced, NULL));
	WAIT_N(KD_KUBE_VIRTUALSERVICES, 1);
	/* Gone: the last objects stay. */
	set_istio_served(false);
	ck_assert(kubet_wait(vs_held, &yes));
	sleep(2);
	kd_kube_lock(&kube);
	ck_assert(kube.kinds[KD_KUBE_VIRTUALSERVICES].held);
	ck_assert_uint_eq(kube.kinds[KD_KUBE_VIRTUALSERVICES].store.n, 1);
	ck_assert_uint_eq(kube.kinds[KD_KUBE_DESTINATIONRULES].store.n, 1);
	kd_kube_unlock(&kube);
	/* Back, with one VirtualService more: a LIST says what exists. */
	json_decref(kubet_ctl(&srv, "POST", "/_test/objects",
		"{\"apiVersion\": \"networking.istio.io/v1\", \"kind\": \"VirtualService\","
		" \"metadata\": {\"name\": \"later\", \"namespace\": \"default\"},"
		" \"spec\": {\"hosts\": [\"message\"]}}"));
	set_istio_served(true);
	WAIT_N(KD_KUBE_VIRTUALSERVICES, 2);
	kd_kube_lock(&kube);
	ck_assert(!kube.kinds[KD_KUBE_VIRTUALSERVICES].held);
	ck_assert(!kube.kinds[KD_KUBE_VIRTUALSERVICES].missing);
	kd_kube_unlock(&kube);
	/* Gone for longer than the hold: taken as gone. */
	set_istio_served(false);
	ck_assert(kubet_wait(vs_held, &yes));
	ck_assert(kubet_wait(vs_held, &no));
	WAIT_N(KD_KUBE_VIRTUALSERVICES, 0);
	WAIT_N(KD_KUBE_DESTINATIONRULES, 0);
}
END_TEST

START_TEST(server_down_keeps_cache_then_resumes)
{
	kubet_start(&srv, NULL);
	seed();
	start_kube();
	ck_assert(kubet_wait(synced, NULL));
	WAIT_N(KD_KUBE_PODS, 4);
	WAIT_STAT(KD_KUBE_PODS, bookmarks, 1);
	kubet_stop(&srv);
	WAIT_STAT(KD_KUBE_PODS, errors, 1);
	kd_kube_lock(&kube);
	ck_assert_uint_eq(kube.kinds[KD_KUBE_PODS].store.n, 4);	/* the last good state */
	ck_assert_ptr_nonnull(kube.kinds[KD_KUBE_PODS].last_error);
	kd_kube_unlock(&kube);
	kubet_restart(&srv, NULL);
	put_pod("after-restart", "safe");
	WAIT_N(KD_KUBE_PODS, 5);
	kd_kube_lock(&kube);
	ck_assert_ptr_null(kube.kinds[KD_KUBE_PODS].last_error);
	kd_kube_unlock(&kube);
}
END_TEST

Suite *kube_watch_suite(void)
{
	Suite *s = suite_create("kube_watch");
	TCase *tc = tcase_create("watch");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, list_pages_then_watch);
	tcase_add_test(tc, bookmarks_move_the_version);
	tcase_add_test(tc, gone_in_stream_relists_and_replaces);
	tcase_add_test(tc, gone_as_http_status_relists);
	tcase_add_test(tc, closed_stream_resumes_without_list);
	tcase_add_test(tc, rotated_token_is_read_again);
	tcase_add_test(tc, missing_crds_said_once);
	tcase_add_test(tc, a_group_that_disappears_is_held_until_it_returns_or_the_hold_ends);
	tcase_add_test(tc, server_down_keeps_cache_then_resumes);
	suite_add_tcase(s, tc);
	return s;
}
