/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Each service's entry of the status file, as JSON text, kept from one
 * write to the next and made again only when what it shows changed (its
 * desired state, where it came from, the last pass's result).  At 10,000
 * services, building and printing every entry on each write was most of
 * kanaryd's CPU for one pod event; copying the kept text is not.
 */
#ifndef KD_STATUS_CACHE_H
#define KD_STATUS_CACHE_H

#include <stdio.h>
#include "apply/reconcile.h"
#include "desired/desired.h"

struct kd_status_entry {
	char name[KANARY_NAME_LEN];
	__u64 print;		/* fingerprint of everything the text shows */
	char *text;		/* compact JSON object */
};

struct kd_status_cache {
	size_t n;
	struct kd_status_entry *v;	/* the desired services' order: by name */
	size_t made;			/* entries made (not reused) by the last update */
};

/* Brings c to the services of want with their results res, making only the changed entries. */
void kd_status_cache_update(struct kd_status_cache *c, const struct kd_desired *want,
			    const struct kd_results *res);
/* The entries as the elements of a JSON array (no brackets); 0 or -errno. */
int kd_status_cache_print(const struct kd_status_cache *c, FILE *f);
void kd_status_cache_free(struct kd_status_cache *c);
/* One service's entry, as the status file shows it (also what the cache keeps). */
json_t *kd_status_service_json(const struct kd_desired_service *s, const struct kd_result *r);

#endif
