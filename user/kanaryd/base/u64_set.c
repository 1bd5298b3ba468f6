// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <stdlib.h>
#include <string.h>
#include "base/arena.h"
#include "base/u64_set.h"

void kd_u64_set_add(struct kd_u64_set *h, __u64 x)
{
	KD_PUSH(h->v, h->n, h->cap, x);
}

static int cmp_u64(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

void kd_u64_set_sort(struct kd_u64_set *h)
{
	size_t k = 0;

	if (h->n)
		qsort(h->v, h->n, sizeof(*h->v), cmp_u64);
	for (size_t i = 0; i < h->n; i++)
		if (k == 0 || h->v[k - 1] != h->v[i])
			h->v[k++] = h->v[i];
	h->n = k;
}

bool kd_u64_set_has(const struct kd_u64_set *h, __u64 x)
{
	return h->n && bsearch(&x, h->v, h->n, sizeof(*h->v), cmp_u64);
}

void kd_u64_set_free(struct kd_u64_set *h)
{
	free(h->v);
	memset(h, 0, sizeof(*h));
}
