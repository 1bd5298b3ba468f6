// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The cache's pods by label key and by namespace, over all sets
 * (partial_int.h): added and removed a set at a time, each ref in O(1)
 * (its position is kept in its memo, so removal needs no search).
 */
#include <stdlib.h>
#include <string.h>
#include "desired/partial_int.h"

/* The place of name: its bucket, or the empty place it would take. */
static size_t place(const struct kd_pod_index *x, const char *name, unsigned long long h)
{
	size_t i = h & (x->cap - 1);

	while (x->b[i].name && (x->b[i].h != h || strcmp(x->b[i].name, name) != 0))
		i = (i + 1) & (x->cap - 1);
	return i;
}

static void grow(struct kd_pod_index *x)
{
	struct kd_pod_bucket *old = x->b;
	size_t oldcap = x->cap;

	x->cap = oldcap ? 2 * oldcap : 1024;
	x->b = kd_xcalloc(x->cap, sizeof(*x->b));
	for (size_t k = 0; k < oldcap; k++)
		if (old[k].name)
			x->b[place(x, old[k].name, old[k].h)] = old[k];
	free(old);
}

static void add(struct kd_pod_index *x, const char *name, struct kd_set_memo *m, size_t pod,
		size_t *back)
{
	unsigned long long h = kd_name_index_hash(name);
	struct kd_pod_bucket *b;
	size_t i;

	if (2 * (x->n + 1) > x->cap)
		grow(x);
	i = place(x, name, h);
	b = &x->b[i];
	if (!b->name) {
		b->name = kd_xstrdup(name);
		b->h = h;
		x->n++;
	}
	*back = b->n;
	KD_PUSH(b->v, b->n, b->cap, ((struct kd_pod_ref){ .m = m, .pod = pod, .back = back }));
}

static void remove_ref(struct kd_pod_index *x, const char *name, size_t at)
{
	struct kd_pod_bucket *b = &x->b[place(x, name, kd_name_index_hash(name))];

	/* The last ref takes the place of the one removed, and is told so. */
	b->v[at] = b->v[--b->n];
	*b->v[at].back = at;
}

void kd_pod_index_add_set(struct kd_pod_index *x, struct kd_set_memo *m)
{
	for (size_t i = 0; i < m->npod; i++) {
		add(x, m->ns_key[i], m, i, &m->ns_pos[i]);
		for (size_t k = m->key_first[i]; k < m->key_first[i + 1]; k++)
			add(x, m->key[k], m, i, &m->key_pos[k]);
	}
}

void kd_pod_index_remove_set(struct kd_pod_index *x, struct kd_set_memo *m)
{
	for (size_t i = 0; i < m->npod; i++) {
		remove_ref(x, m->ns_key[i], m->ns_pos[i]);
		for (size_t k = m->key_first[i]; k < m->key_first[i + 1]; k++)
			remove_ref(x, m->key[k], m->key_pos[k]);
	}
}

const struct kd_pod_bucket *kd_pod_index_get(const struct kd_pod_index *x, const char *name)
{
	size_t i;

	if (!x->cap)
		return NULL;
	i = place(x, name, kd_name_index_hash(name));
	return x->b[i].name ? &x->b[i] : NULL;
}

void kd_pod_index_free(struct kd_pod_index *x)
{
	for (size_t i = 0; i < x->cap; i++) {
		free(x->b[i].name);
		free(x->b[i].v);
	}
	free(x->b);
	memset(x, 0, sizeof(*x));
}
