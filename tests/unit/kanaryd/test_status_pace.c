// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The status file at scale: at most one write a second, the last one held,
 * never lost (status_pace.c); each service's entry made again only when
 * what it shows changed (status_cache.c).
 */
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "kdt.h"
#include "report/status_cache.h"
#include "report/status_pace.h"
#include "apply/reconcile.h"

START_TEST(first_write_is_at_once_then_one_a_second)
{
	struct kd_pace p = { 0 };

	ck_assert(kd_pace_ask(&p, 5000));
	ck_assert_int_eq(kd_pace_due(&p), 0);
	/* A burst within the second: held, due when the second is over. */
	ck_assert(!kd_pace_ask(&p, 5001));
	ck_assert(!kd_pace_ask(&p, 5900));
	ck_assert_int_eq(kd_pace_due(&p), 5000 + KD_STATUS_PACE_MS);
	/* The loop writes it then: the held write is done, nothing is due. */
	ck_assert(kd_pace_ask(&p, 6000));
	ck_assert_int_eq(kd_pace_due(&p), 0);
	/* A quiet second later, the next is at once again. */
	ck_assert(kd_pace_ask(&p, 7500));
}
END_TEST

START_TEST(a_burst_of_events_is_one_write_plus_the_last)
{
	struct kd_pace p = { 0 };
	int writes = 0;
	long long now;

	/* 100 events 5 ms apart, and the loop's wake-ups at each due time. */
	for (now = 10000; now < 10500; now += 5) {
		if (kd_pace_due(&p) && now >= kd_pace_due(&p))
			writes += kd_pace_ask(&p, now);
		writes += kd_pace_ask(&p, now);
	}
	ck_assert_int_eq(writes, 1);
	ck_assert_int_eq(kd_pace_due(&p), 11000);	/* the last state is still to be written */
	ck_assert(kd_pace_ask(&p, kd_pace_due(&p)));
	ck_assert_int_eq(kd_pace_due(&p), 0);
}
END_TEST

/* The cache's array, parsed back, equals the entries made from scratch. */
static void assert_cache_is_fresh(const struct kd_status_cache *c, const struct kd_desired *d,
				  const struct kd_results *res)
{
	char *buf = NULL, *doc;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	json_error_t je;
	json_t *a;

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(kd_status_cache_print(c, f), 0);
	fclose(f);
	doc = malloc(len + 3);
	ck_assert_ptr_nonnull(doc);
	snprintf(doc, len + 3, "[%s]", buf);
	a = json_loads(doc, 0, &je);
	ck_assert_msg(a != NULL, "the entries are not JSON: %s", je.text);
	ck_assert_uint_eq(json_array_size(a), d->n);
	for (size_t i = 0; i < d->n; i++) {
		json_t *want = kd_status_service_json(&d->v[i], kd_results_find(res, d->v[i].name));

		ck_assert_msg(json_equal(json_array_get(a, i), want), "entry %zu (%s) is stale", i,
			      d->v[i].name);
		json_decref(want);
	}
	json_decref(a);
	free(doc);
	free(buf);
}

static void set_result(struct kd_results *r, const char *name, enum kd_outcome o, const char *msg)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->v[i].name, name) == 0) {
			free(r->v[i].msg);
			r->v[i].outcome = o;
			r->v[i].msg = msg ? strdup(msg) : NULL;
			return;
		}
	ck_abort_msg("no result for %s", name);
}

START_TEST(entries_are_made_again_only_when_they_change)
{
	struct kd_status_cache c = { 0 };
	struct kd_results res = { 0 };
	struct kdt_world w;

	memset(&w, 0, sizeof(w));
	ck_assert_int_eq(kdt_load_vs(&w, "  hosts: [g]\n  http:\n  - route: [{destination: {host: g, subset: a}, weight: 70},"
				     " {destination: {host: g, subset: b}, weight: 30}]\n"), 0);
	kdt_build(&w);
	ck_assert_uint_eq(w.desired.n, 2);	/* n/g/80 and n/g/9090 */
	res.v = calloc(w.desired.n, sizeof(*res.v));
	for (size_t i = 0; i < w.desired.n; i++) {
		snprintf(res.v[i].name, sizeof(res.v[i].name), "%s", w.desired.v[i].name);
		res.v[i].outcome = KD_OUT_CREATED;
		res.v[i].msg = strdup("made");
	}
	res.n = res.cap = w.desired.n;
	KD_NAME_INDEX_OF(&res.by_name, res.v, res.n, name);

	kd_status_cache_update(&c, &w.desired, &res);
	ck_assert_uint_eq(c.made, 2);
	assert_cache_is_fresh(&c, &w.desired, &res);
	kd_status_cache_update(&c, &w.desired, &res);
	ck_assert_uint_eq(c.made, 0);
	/* One result changes: that entry alone is made again, and shows it. */
	set_result(&res, w.desired.v[1].name, KD_OUT_UNCHANGED, NULL);
	kd_status_cache_update(&c, &w.desired, &res);
	ck_assert_uint_eq(c.made, 1);
	assert_cache_is_fresh(&c, &w.desired, &res);
	/* A rebuilt desired state, a pod added to subset b: both ports' entries show it. */
	kdt_free(&w);
	memset(&w, 0, sizeof(w));
	ck_assert_int_eq(kdt_load_vs(&w, "  hosts: [g]\n  http:\n  - route: [{destination: {host: g, subset: a}, weight: 70},"
				     " {destination: {host: g, subset: b}, weight: 30}]\n"), 0);
	ck_assert_int_eq(kdt_load_text(&w, "gone.yaml", "apiVersion: v1\nkind: Pod\n"
				       "metadata: {name: p3, namespace: n, labels: {app: g, v: b}}\n"
				       "status: {phase: Running, podIP: 10.1.0.3, conditions: [{type: Ready, status: 'True'}]}\n"), 0);
	kdt_build(&w);
	kd_status_cache_update(&c, &w.desired, &res);
	ck_assert_uint_eq(c.made, 2);
	assert_cache_is_fresh(&c, &w.desired, &res);
	kd_status_cache_free(&c);
	kd_results_free(&res);
	kdt_free(&w);
}
END_TEST

Suite *status_pace_suite(void)
{
	Suite *s = suite_create("status_pace");
	TCase *t = tcase_create("pace");

	tcase_add_test(t, first_write_is_at_once_then_one_a_second);
	tcase_add_test(t, a_burst_of_events_is_one_write_plus_the_last);
	tcase_add_test(t, entries_are_made_again_only_when_they_change);
	suite_add_tcase(s, t);
	return s;
}
