// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The last good version of each file or API object, and its problems said once. */
#include <stdlib.h>
#include <string.h>
#include "base/arena.h"
#include "base/sorted_names.h"
#include "source/store.h"

struct kd_store_item *kd_store_find(const struct kd_store *s, const char *name)
{
	return KD_SORTED_PTR_FIND(s->v, s->n, name, name);
}

struct kd_store_item *kd_store_item(struct kd_store *s, const char *name)
{
	size_t i = kd_sorted_ptr_lower_bound(s->v, s->n, sizeof(*s->v),
					     offsetof(struct kd_store_item, name), name);

	if (i < s->n && strcmp(s->v[i].name, name) == 0)
		return &s->v[i];
	KD_PUSH(s->v, s->n, s->cap, (struct kd_store_item){ 0 });
	memmove(&s->v[i + 1], &s->v[i], (s->n - 1 - i) * sizeof(*s->v));
	memset(&s->v[i], 0, sizeof(s->v[i]));
	s->v[i].name = kd_xstrdup(name);
	return &s->v[i];
}

static void drop_good(struct kd_store_item *it)
{
	if (it->good) {
		kd_objects_free(it->good);
		free(it->good);
		it->good = NULL;
	}
}

static void item_free(struct kd_store_item *it)
{
	drop_good(it);
	kd_diags_free(&it->diags);
	free(it->name);
	free(it->error);
}

bool kd_store_remove(struct kd_store *s, const char *name)
{
	struct kd_store_item *it = kd_store_find(s, name);
	size_t i;

	if (!it)
		return false;
	i = (size_t)(it - s->v);
	item_free(it);
	memmove(&s->v[i], &s->v[i + 1], (s->n - i - 1) * sizeof(*s->v));
	s->n--;
	return true;
}

static void set_error(struct kd_store_item *it, const char *msg)
{
	free(it->error);
	it->error = msg ? kd_xstrdup(msg) : NULL;
}

bool kd_store_record(struct kd_store_item *it, struct kd_objects *objs, struct kd_diags *problems,
		     bool repeat, struct kd_diags *said)
{
	if (!objs) {
		set_error(it, kd_diag_first(problems, KD_ERROR));
		if (!it->error)
			set_error(it, "bad");
		if (it->good)
			kd_diag_add(problems, KD_ERROR, "%s: bad; its last good version stays applied",
				    it->name);
		else
			kd_diag_add(problems, KD_ERROR, "%s: bad, and no good version of it has been "
				    "seen since kanaryd started", it->name);
	} else {
		set_error(it, NULL);
		drop_good(it);
		it->good = objs;
	}
	/* Pods change often (status, annotations): each problem is said once per item. */
	for (size_t k = 0; k < problems->n; k++)
		if (repeat || !kd_diag_has(&it->diags, problems->v[k].msg))
			kd_diag_add(said, problems->v[k].level, "%s", problems->v[k].msg);
	kd_diags_free(&it->diags);
	kd_diag_copy(&it->diags, problems, KD_WARN);
	kd_diags_free(problems);
	return objs != NULL;
}

void kd_store_record_unreadable(struct kd_store_item *it, const char *msg, struct kd_diags *said)
{
	if (!it->error || strcmp(it->error, msg) != 0)
		kd_diag_add(said, KD_ERROR, "%s (the last good version stays applied)", msg);
	set_error(it, msg);
	kd_diags_free(&it->diags);
	kd_diag_add(&it->diags, KD_ERROR, "%s", msg);
	it->has_hash = false;
}

size_t kd_store_unknown(const struct kd_store *s)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n; i++)
		n += s->v[i].error && !s->v[i].good;
	return n;
}

size_t kd_store_bad(const struct kd_store *s)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n; i++)
		n += s->v[i].error != NULL;
	return n;
}

void kd_store_sets(const struct kd_store *s, struct kd_objects ***sets, size_t *n, size_t *cap)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].good)
			KD_PUSH(*sets, *n, *cap, s->v[i].good);
}

void kd_store_free(struct kd_store *s)
{
	for (size_t i = 0; i < s->n; i++)
		item_free(&s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}
