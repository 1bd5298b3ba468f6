/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Lookups by name in O(log n).  kanaryd keeps arrays of services by name
 * (desired, seen in the maps, results, the applied record), objects by
 * FQDN and warnings by text; at 10,000 services, linear lookups in them
 * made each pass quadratic.  An array sorted by name is searched in place;
 * one that must keep another order, or several names per element, gets an
 * index.
 */
#ifndef KD_NAME_INDEX_H
#define KD_NAME_INDEX_H

#include <stddef.h>
#include <sys/types.h>

/*
 * In n elements of size bytes from base, sorted by strcmp of the name (a
 * char array) at offset off in each: the position of the first element
 * whose name is not below name, n when there is none.
 */
size_t kd_sorted_lower_bound(const void *base, size_t n, size_t size, size_t off, const char *name);
/* ... the first element named name, or NULL. */
void *kd_sorted_find(const void *base, size_t n, size_t size, size_t off, const char *name);

/* kd_sorted_find in arr[0..n), sorted by its member field. */
#define KD_SORTED_FIND(arr, n, field, name)						\
	((__typeof__(&(arr)[0]))kd_sorted_find((arr), (n), sizeof((arr)[0]),		\
					       offsetof(__typeof__((arr)[0]), field), (name)))

/* The same where the name member is a pointer to the chars (char *name). */
size_t kd_sorted_ptr_lower_bound(const void *base, size_t n, size_t size, size_t off,
				 const char *name);
void *kd_sorted_ptr_find(const void *base, size_t n, size_t size, size_t off, const char *name);
#define KD_SORTED_PTR_FIND(arr, n, field, name)						\
	((__typeof__(&(arr)[0]))kd_sorted_ptr_find((arr), (n), sizeof((arr)[0]),		\
						   offsetof(__typeof__((arr)[0]), field), (name)))

struct kd_name_ref {
	const char *name;	/* the caller's, valid while the index is used */
	size_t at;		/* the position of what it names, in the caller's array */
	unsigned long long hash;	/* of name */
};

/*
 * Positions by name: add them all, sort once, then look up by the exact
 * name.  Sorted by a hash of the name first (then the name, then the
 * position), so sorting 200,000 pod label keys compares integers, not
 * strings; the order of the whole index is therefore not the names', only
 * each name's refs are together and in position order.
 */
struct kd_name_index {
	size_t n, cap;
	struct kd_name_ref *v;	/* by hash, name, then position */
};

void kd_name_index_add(struct kd_name_index *x, const char *name, size_t at);
void kd_name_index_sort(struct kd_name_index *x);
/*
 * Adds and sorts the names (char arrays at off) of n elements of size bytes
 * from base: they are pointed at, so the array must not change meanwhile.
 */
void kd_name_index_of(struct kd_name_index *x, const void *base, size_t n, size_t size, size_t off);
#define KD_NAME_INDEX_OF(x, arr, n, field)						\
	kd_name_index_of((x), (arr), (n), sizeof((arr)[0]), offsetof(__typeof__((arr)[0]), field))
/* The refs named name are v[first] to v[*end - 1], by position; returns first. */
size_t kd_name_index_range(const struct kd_name_index *x, const char *name, size_t *end);
/* The same with name's hash (kd_name_index_hash) given: one name looked up in many indexes. */
unsigned long long kd_name_index_hash(const char *name);
size_t kd_name_index_range_hashed(const struct kd_name_index *x, const char *name,
				  unsigned long long hash, size_t *end);
/* The lowest position named name, or -1. */
ssize_t kd_name_index_find(const struct kd_name_index *x, const char *name);
void kd_name_index_free(struct kd_name_index *x);

#endif
