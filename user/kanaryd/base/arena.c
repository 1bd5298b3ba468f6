// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/arena.h"

#define CHUNK_MIN	(16 * 1024)

struct kd_arena_chunk {
	struct kd_arena_chunk *next;
	size_t used, size;
	max_align_t data[];
};

static void oom(void)
{
	fputs("kanaryd: error: out of memory\n", stderr);
	abort();
}

void *kd_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		oom();
	return p;
}

void *kd_xrealloc(void *p, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		oom();
	size_t total = n * size;

	p = realloc(p, total ? total : 1);
	if (!p)
		oom();
	return p;
}

char *kd_xstrdup(const char *s)
{
	char *p = strdup(s ? s : "");

	if (!p)
		oom();
	return p;
}

void *kd_alloc(struct kd_arena *a, size_t size)
{
	struct kd_arena_chunk *c = a->head;
	size_t align = sizeof(max_align_t);
	void *p;

	size = (size + align - 1) / align * align;
	if (!c || c->size - c->used < size) {
		size_t cap = size > CHUNK_MIN ? size : CHUNK_MIN;

		c = malloc(sizeof(*c) + cap);
		if (!c)
			oom();
		c->next = a->head;
		c->used = 0;
		c->size = cap;
		a->head = c;
	}
	p = (char *)c->data + c->used;
	c->used += size;
	memset(p, 0, size);
	return p;
}

char *kd_strndup(struct kd_arena *a, const char *s, size_t n)
{
	char *p = kd_alloc(a, n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *kd_strdup(struct kd_arena *a, const char *s)
{
	return kd_strndup(a, s, strlen(s));
}

void kd_arena_free(struct kd_arena *a)
{
	while (a->head) {
		struct kd_arena_chunk *next = a->head->next;

		free(a->head);
		a->head = next;
	}
}

char *kd_xasprintf(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return kd_xstrdup(buf);
}
