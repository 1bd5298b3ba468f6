/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The steps of one kind's list/watch loop (api_list_watch.c), for its thread in api_watch.c. */
#ifndef KD_API_LIST_WATCH_H
#define KD_API_LIST_WATCH_H

#include <stdbool.h>
#include "source/api_http.h"
#include "source/api_cache.h"

#define KD_API_MISSING_RECHECK_MS	60000	/* how often a kind not served is looked for */

/* Istio's API version for c: 1 served (c->api set), 0 not served, -EIO could not ask. */
int kd_api_discover(struct kd_kube_kind *c, struct kd_kube_http *h);
/* 1: listed and the store replaced; 0: not served (404); -EIO: failed (410 in *code too). */
int kd_api_list(struct kd_kube_kind *c, struct kd_kube_http *h, long *code);
/* Watches from c->rv until the stream ends: 0, or -EIO (*relist on 410, *missing on 404). */
int kd_api_watch(struct kd_kube_kind *c, struct kd_kube_http *h, bool *relist, bool *missing);
/* The kind is not served: its objects are held, then gone; *said keeps the warnings to once. */
void kd_api_set_missing(struct kd_kube_kind *c, bool *said);
/* How often a kind not served is looked for: often enough to end a hold on time. */
long long kd_api_missing_recheck_ms(const struct kd_kube *k);
/* The kind works again after an error: said once, as "what again". */
void kd_api_kind_ok(struct kd_kube_kind *c, const char *what);

#endif
