// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The partial build's pod index (partial_pod_index.c): pods by label key
 * and by namespace over all sets, kept as sets come and go, and the
 * candidates a selector gets from it (partial_candidates.c).  Each pod is
 * a set of its own, as with --kube.  And the pod definition counts beside
 * it (partial_pod_count.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kdt.h"
#include "desired/partial_int.h"

struct fixture {
	struct kdt_world w;
	struct kd_desired_cache cache;	/* only pods and the pod counts are used */
	struct kd_pod_index x;
	struct kd_set_memo *memo[KDT_MAX_SETS];	/* by set; NULL once removed */
};

static void setup(struct fixture *f)
{
	memset(f, 0, sizeof(*f));
	f->cache.pods = &f->x;
}

static void teardown(struct fixture *f)
{
	for (size_t i = 0; i < f->w.n; i++)
		if (f->memo[i])
			kd_memo_free(f->memo[i]);
	kd_pod_index_free(&f->x);
	free(f->cache.count);
	kdt_free(&f->w);
}

/* Pods "NAME LABELS; NAME LABELS" of namespace ns as one new set, its memo indexed. */
static struct kd_set_memo *add_set(struct fixture *f, const char *ns, const char *pods)
{
	char text[2048], one[512], name[32], labels[128];
	const char *at = pods;
	size_t len = 0;
	struct kd_set_memo *m;
	int used;

	text[0] = '\0';
	while (sscanf(at, " %31[^ ] %127[^;]%n", name, labels, &used) == 2) {
		snprintf(one, sizeof(one), "---\napiVersion: v1\nkind: Pod\n"
			 "metadata: {name: %s, namespace: %s, labels: {%s}}\n"
			 "status: {phase: Running, podIP: 10.1.0.1, conditions: [{type: Ready, status: 'True'}]}\n",
			 name, ns, labels);
		ck_assert_uint_lt(len + strlen(one), sizeof(text));
		strcpy(text + len, one);
		len += strlen(one);
		at += used;
		if (*at == ';')
			at++;
	}
	ck_assert_msg(kdt_load_text(&f->w, "pods.yaml", text) == 0, "pods do not decode: %s", pods);
	m = kd_memo_new(f->w.ptr[f->w.n - 1], "cluster.local");
	ck_assert_uint_gt(m->npod, 0);
	kd_pod_index_add_set(&f->x, m);
	f->memo[f->w.n - 1] = m;
	return m;
}

static void remove_set(struct fixture *f, struct kd_set_memo *m)
{
	kd_pod_index_remove_set(&f->x, m);
	for (size_t i = 0; i < f->w.n; i++)
		if (f->memo[i] == m)
			f->memo[i] = NULL;
	kd_memo_free(m);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of pods v[0..n), sorted, comma-separated. */
static const char *joined(const struct kd_pod *const *v, size_t n)
{
	static char out[512];
	const char **names = calloc(n + 1, sizeof(*names));

	out[0] = '\0';
	for (size_t i = 0; i < n; i++)
		names[i] = v[i]->m.name;
	qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++)
		snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s", i ? "," : "", names[i]);
	free(names);
	return out;
}

/* The pods the index has under label key=val of namespace ns; "-" when the name was never seen. */
static const char *under(const struct fixture *f, const char *ns, const char *key, const char *val)
{
	char *name = kd_label_key(ns, key, val);
	const struct kd_pod_bucket *b = kd_pod_index_get(&f->x, name);
	const struct kd_pod *v[16];

	free(name);
	if (!b)
		return "-";
	ck_assert_uint_le(b->n, 16);
	for (size_t i = 0; i < b->n; i++) {
		ck_assert_uint_eq(*b->v[i].back, i);	/* each ref knows where it is */
		v[i] = b->v[i].m->set->pod[b->v[i].pod];
	}
	return joined(v, b->n);
}

/* The candidates of selector "k1=v1,k2=v2" (or "" for none) in namespace ns. */
static const char *candidates(struct fixture *f, const char *ns, const char *selector)
{
	char buf[128], *save = NULL;
	const char *keys[4], *vals[4];
	struct kd_labels sel = { .key = keys, .val = vals };
	struct kd_build c = { .cache = &f->cache };
	const struct kd_pod **v;
	const char *out;
	size_t n;

	snprintf(buf, sizeof(buf), "%s", selector);
	for (char *kv = strtok_r(buf, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(kv, '=');

		ck_assert_ptr_nonnull(eq);
		ck_assert_uint_lt(sel.n, 4);
		*eq = '\0';
		keys[sel.n] = kv;
		vals[sel.n++] = eq + 1;
	}
	v = kd_cache_pod_candidates(&c, ns, &sel, &n);
	out = joined(v, n);
	free(v);
	ck_assert(!c.fallback);
	return out;
}

START_TEST(sets_added_put_each_pod_under_each_of_its_labels)
{
	struct fixture f;

	setup(&f);
	add_set(&f, "n", "p1 app: g, v: a");
	add_set(&f, "n", "p2 app: g, v: b");
	add_set(&f, "n", "p3 app: h");
	add_set(&f, "n", "q1 app: g; q2 app: g, v: b");
	ck_assert_str_eq(under(&f, "n", "app", "g"), "p1,p2,q1,q2");
	ck_assert_str_eq(under(&f, "n", "v", "b"), "p2,q2");
	ck_assert_str_eq(under(&f, "n", "v", "a"), "p1");
	ck_assert_str_eq(under(&f, "n", "app", "h"), "p3");
	ck_assert_str_eq(under(&f, "n", "app", "x"), "-");
	teardown(&f);
}
END_TEST

/* Removing refs moves others into their places: removing a moved one must find it. */
START_TEST(sets_removed_leave_the_others_in_any_order)
{
	struct fixture f;
	struct kd_set_memo *m[5];
	char pod[32];

	setup(&f);
	for (int i = 0; i < 5; i++) {
		snprintf(pod, sizeof(pod), "p%d app: g", i + 1);
		m[i] = add_set(&f, "n", pod);
	}
	remove_set(&f, m[1]);	/* p5's refs take p2's places */
	ck_assert_str_eq(under(&f, "n", "app", "g"), "p1,p3,p4,p5");
	remove_set(&f, m[4]);	/* p5, from where it was moved */
	ck_assert_str_eq(under(&f, "n", "app", "g"), "p1,p3,p4");
	remove_set(&f, m[0]);
	ck_assert_str_eq(under(&f, "n", "app", "g"), "p3,p4");
	ck_assert_str_eq(candidates(&f, "n", ""), "p3,p4");
	remove_set(&f, m[2]);
	remove_set(&f, m[3]);
	ck_assert_str_eq(under(&f, "n", "app", "g"), "");
	ck_assert_str_eq(candidates(&f, "n", "app=g"), "");
	teardown(&f);
}
END_TEST

/* A pod relabelled is an event replacing its set: it moves from one label's pods to the other's. */
START_TEST(a_pod_relabelled_moves_between_labels)
{
	struct fixture f;
	struct kd_set_memo *old;

	setup(&f);
	add_set(&f, "n", "p1 app: g, v: a");
	old = add_set(&f, "n", "p3 app: g, v: b");
	add_set(&f, "n", "p2 app: g, v: b");
	remove_set(&f, old);
	add_set(&f, "n", "p3 app: g, v: a");
	ck_assert_str_eq(under(&f, "n", "v", "b"), "p2");
	ck_assert_str_eq(under(&f, "n", "v", "a"), "p1,p3");
	ck_assert_str_eq(under(&f, "n", "app", "g"), "p1,p2,p3");
	ck_assert_str_eq(candidates(&f, "n", "app=g,v=a"), "p1,p3");
	ck_assert_str_eq(candidates(&f, "n", "app=g,v=b"), "p2");
	teardown(&f);
}
END_TEST

/* A selector gets the pods of its rarest label: every pod it matches, and for one label only those. */
START_TEST(a_selector_gets_the_pods_of_its_rarest_label)
{
	struct fixture f;

	setup(&f);
	add_set(&f, "n", "p1 app: g, v: a");
	add_set(&f, "n", "p2 app: g, v: b");
	add_set(&f, "n", "p3 app: g, v: b");
	add_set(&f, "n", "p4 app: g, v: c");
	add_set(&f, "n", "p5 app: h, v: a");
	ck_assert_str_eq(candidates(&f, "n", "app=g"), "p1,p2,p3,p4");
	ck_assert_str_eq(candidates(&f, "n", "v=a"), "p1,p5");
	/* v=c has one pod, app=g four: the changed selector is looked up anew. */
	ck_assert_str_eq(candidates(&f, "n", "app=g,v=c"), "p4");
	ck_assert_str_eq(candidates(&f, "n", "v=c,app=g"), "p4");
	ck_assert_str_eq(candidates(&f, "n", "app=g,v=b"), "p2,p3");
	/* A label no pod carries: nothing, however common the others. */
	ck_assert_str_eq(candidates(&f, "n", "app=g,v=z"), "");
	teardown(&f);
}
END_TEST

START_TEST(lookups_stay_in_their_namespace)
{
	struct fixture f;

	setup(&f);
	add_set(&f, "n", "p1 app: g");
	add_set(&f, "m", "p1 app: g; m2 app: g");
	add_set(&f, "n", "p2 app: h");
	add_set(&f, "m", "m3 app: h");
	ck_assert_str_eq(under(&f, "n", "app", "g"), "p1");
	ck_assert_str_eq(under(&f, "m", "app", "g"), "m2,p1");
	ck_assert_str_eq(candidates(&f, "n", "app=g"), "p1");
	ck_assert_str_eq(candidates(&f, "m", "app=h"), "m3");
	ck_assert_str_eq(candidates(&f, "o", "app=g"), "");
	/* No selector labels: every pod of the namespace, none of another. */
	ck_assert_str_eq(candidates(&f, "n", ""), "p1,p2");
	ck_assert_str_eq(candidates(&f, "m", ""), "m2,m3,p1");
	teardown(&f);
}
END_TEST

/* Pod definitions by ns/name hash (partial_pod_count.c): the table grows and keeps every count. */
START_TEST(pod_counts_survive_the_table_growing)
{
	struct kd_desired_cache x = { 0 };
	const size_t n = 5000;

	for (size_t i = 1; i <= n; i++)
		kd_pod_count_slot(&x, i * 0x9e3779b97f4a7c15ull)->n += i % 3 + 1;
	ck_assert_uint_eq(x.ncount, n);		/* each hash counted once, growing or not */
	ck_assert_uint_le(2 * x.ncount, x.capcount);
	for (size_t i = 1; i <= n; i++)
		ck_assert_uint_eq(kd_pod_count_slot(&x, i * 0x9e3779b97f4a7c15ull)->n, i % 3 + 1);
	ck_assert_uint_eq(x.ncount, n);
	free(x.count);
}
END_TEST

Suite *pod_index_suite(void)
{
	Suite *s = suite_create("pod_index");
	TCase *t = tcase_create("sets");

	tcase_add_test(t, sets_added_put_each_pod_under_each_of_its_labels);
	tcase_add_test(t, sets_removed_leave_the_others_in_any_order);
	tcase_add_test(t, a_pod_relabelled_moves_between_labels);
	tcase_add_test(t, a_selector_gets_the_pods_of_its_rarest_label);
	tcase_add_test(t, lookups_stay_in_their_namespace);
	tcase_add_test(t, pod_counts_survive_the_table_growing);
	suite_add_tcase(s, t);
	return s;
}
