/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* libkanary's private helpers, shared between its .c files only. */
#ifndef KANARY_LIB_INTERNAL_H
#define KANARY_LIB_INTERNAL_H

#include <stdbool.h>
#include <linux/bpf.h>
#include "kanary.h"

/* One pinned map as the ABI defines it, to check old pins against. */
struct kanary_map_spec {
	const char *name;
	__u32 type;
	__u32 key_size;
	__u32 value_size;
	bool fixed_entries;	/* max_entries is part of the layout */
	__u32 max_entries;	/* when fixed_entries */
};

extern const struct kanary_map_spec kanary_map_specs[];
extern const int kanary_n_map_specs;

/* "<pin>/<name>" into buf; -ENAMETOOLONG with a sentence when it does not fit. */
int kanary_pin_join(char *buf, size_t len, const char *pin, const char *name,
		    struct kanary_err *e);

/*
 * Opens <pin>/<spec->name> and checks its type, key and value size against
 * the ABI.  Returns the fd, -ENOENT (no message) when the pin is missing, or
 * another negative errno with a sentence naming the map.
 */
int kanary_pinned_map_open(const char *pin, const struct kanary_map_spec *spec,
			   __u32 *max_entries, struct kanary_err *e);

/* The instance lock: an exclusive flock on the pin directory. */
int kanary_lock(const char *pin, struct kanary_err *e);

/* Re-attaches every interface of this netns that has a kanary filter. */
int kanary_reattach_all(int prog_in_fd, int prog_out_fd, struct kanary_err *e);
/* Removes kanary's filters from every interface of this netns. */
int kanary_detach_all(struct kanary_err *e);

/* Name rules: 1..max-1 characters of [A-Za-z0-9._/-]. */
bool kanary_name_valid(const char *s, size_t max);

/* Zeroes the per-CPU stats of one service (all its subset slots). */
int kanary_stats_zero(struct kanary_maps *m, __u32 svc_id, struct kanary_err *e);

#endif /* KANARY_LIB_INTERNAL_H */
