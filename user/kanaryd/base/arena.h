/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A bump allocator: everything decoded from one manifest file lives in one
 * arena and is freed with it, so a file can be replaced or dropped whole.
 */
#ifndef KD_ARENA_H
#define KD_ARENA_H

#include <stddef.h>

struct kd_arena_chunk;

struct kd_arena {
	struct kd_arena_chunk *head;
};

/* Zeroed memory; aborts on out-of-memory (a supervisor restarts us). */
void *kd_alloc(struct kd_arena *a, size_t size);
char *kd_strndup(struct kd_arena *a, const char *s, size_t n);
char *kd_strdup(struct kd_arena *a, const char *s);
void kd_arena_free(struct kd_arena *a);

/* malloc/calloc/realloc that abort with a message instead of returning NULL. */
void *kd_xcalloc(size_t n, size_t size);
void *kd_xrealloc(void *p, size_t n, size_t size);
char *kd_xstrdup(const char *s);
/* A formatted string of at most 1 KiB, malloc'd (kd_xstrdup). */
char *kd_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Appends p to a growable array (arr, n, cap). */
#define KD_PUSH(arr, n, cap, p) do {						\
		if ((n) == (cap)) {						\
			(cap) = (cap) ? (cap) * 2 : 8;				\
			(arr) = kd_xrealloc((arr), (cap), sizeof(*(arr)));	\
		}								\
		(arr)[(n)++] = (p);						\
	} while (0)

#endif
