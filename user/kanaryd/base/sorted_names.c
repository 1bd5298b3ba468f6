// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "base/arena.h"
#include "base/sorted_names.h"

/* The name at off in element i: the chars themselves, or (by_pointer) a pointer to them. */
static const char *name_at(const void *base, size_t size, size_t off, bool by_pointer, size_t i)
{
	const char *p = (const char *)base + i * size + off;

	return by_pointer ? *(const char *const *)p : p;
}

static size_t lower_bound(const void *base, size_t n, size_t size, size_t off, bool by_pointer,
			  const char *name)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(name_at(base, size, off, by_pointer, mid), name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

size_t kd_sorted_lower_bound(const void *base, size_t n, size_t size, size_t off, const char *name)
{
	return lower_bound(base, n, size, off, false, name);
}

static void *find(const void *base, size_t n, size_t size, size_t off, bool by_pointer,
		  const char *name)
{
	size_t i = lower_bound(base, n, size, off, by_pointer, name);

	if (i == n || strcmp(name_at(base, size, off, by_pointer, i), name) != 0)
		return NULL;
	return (char *)base + i * size;
}

void *kd_sorted_find(const void *base, size_t n, size_t size, size_t off, const char *name)
{
	return find(base, n, size, off, false, name);
}

size_t kd_sorted_ptr_lower_bound(const void *base, size_t n, size_t size, size_t off,
				 const char *name)
{
	return lower_bound(base, n, size, off, true, name);
}

void *kd_sorted_ptr_find(const void *base, size_t n, size_t size, size_t off, const char *name)
{
	return find(base, n, size, off, true, name);
}

static unsigned long long name_hash(const char *s)
{
	unsigned long long h = 14695981039346656037ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

void kd_name_index_add(struct kd_name_index *x, const char *name, size_t at)
{
	struct kd_name_ref r = { .name = name, .at = at, .hash = name_hash(name) };

	KD_PUSH(x->v, x->n, x->cap, r);
}

/* A ref against (hash, name): by hash, then name. */
static int cmp_key(const struct kd_name_ref *a, unsigned long long hash, const char *name)
{
	if (a->hash != hash)
		return a->hash < hash ? -1 : 1;
	return strcmp(a->name, name);
}

static int cmp_ref(const void *pa, const void *pb)
{
	const struct kd_name_ref *a = pa, *b = pb;
	int r = cmp_key(a, b->hash, b->name);

	if (!r)
		r = a->at < b->at ? -1 : a->at > b->at;
	return r;
}

void kd_name_index_sort(struct kd_name_index *x)
{
	if (x->n)
		qsort(x->v, x->n, sizeof(*x->v), cmp_ref);
}

void kd_name_index_of(struct kd_name_index *x, const void *base, size_t n, size_t size, size_t off)
{
	if (x->n + n > x->cap) {
		x->cap = x->n + n;
		x->v = kd_xrealloc(x->v, x->cap, sizeof(*x->v));
	}
	for (size_t i = 0; i < n; i++)
		kd_name_index_add(x, name_at(base, size, off, false, i), i);
	kd_name_index_sort(x);
}

unsigned long long kd_name_index_hash(const char *name)
{
	return name_hash(name);
}

size_t kd_name_index_range(const struct kd_name_index *x, const char *name, size_t *end)
{
	return kd_name_index_range_hashed(x, name, name_hash(name), end);
}

size_t kd_name_index_range_hashed(const struct kd_name_index *x, const char *name,
				  unsigned long long h, size_t *end)
{
	size_t lo = 0, hi = x->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cmp_key(&x->v[mid], h, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*end = lo;
	while (*end < x->n && cmp_key(&x->v[*end], h, name) == 0)
		++*end;
	return lo;
}

ssize_t kd_name_index_find(const struct kd_name_index *x, const char *name)
{
	size_t end, first = kd_name_index_range(x, name, &end);

	return first < end ? (ssize_t)x->v[first].at : -1;
}

void kd_name_index_free(struct kd_name_index *x)
{
	free(x->v);
	memset(x, 0, sizeof(*x));
}
