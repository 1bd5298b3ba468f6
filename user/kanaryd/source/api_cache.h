/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What the API source holds, under one lock: per kind, its store and where
 * its list/watch stands.  The kinds' threads (api_watch.c, api_list_watch.c)
 * write it; the loop reads it through the source's interface
 * (api_source.c), and the status file and /metrics through kd_kube_json
 * and the counters.
 */
#ifndef KD_API_CACHE_H
#define KD_API_CACHE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <jansson.h>
#include "source/api_config.h"
#include "source/source.h"
#include "source/store.h"

enum kd_kube_kind_id {
	KD_KUBE_SERVICES,
	KD_KUBE_PODS,
	KD_KUBE_DESTINATIONRULES,
	KD_KUBE_VIRTUALSERVICES,
	KD_KUBE_NKINDS,
};

/* Counters kept per kind for /metrics and the status file (under kd_kube.lock). */
struct kd_kube_stats {
	unsigned long long lists, events, bookmarks, restarts, relists_410, errors;
};

struct kd_kube_kind {
	struct kd_kube *k;
	const char *kind, *resource, *group;	/* group NULL: the core API */
	pthread_t thread;
	bool started;
	/* Under k->lock: */
	struct kd_store store;	/* items "api:KIND/NAMESPACE/NAME" */
	bool synced;		/* listed at least once, or known not served */
	bool missing;		/* the server does not serve this kind */
	/*
	 * Not served any more, its last objects kept in store since
	 * held_since_ms (CLOCK_MONOTONIC): a CRD reinstall or a discovery
	 * outage must not drop every rule at once.
	 */
	bool held;
	long long held_since_ms;
	char api[96];		/* "v1", "networking.istio.io/v1" */
	char rv[64];		/* last resourceVersion seen */
	struct kd_kube_stats st;
	char *last_error;
};

struct kd_kube {
	struct kd_source source;	/* first: kd_api_source_ops, for the loop */
	struct kd_kube_config cfg;
	unsigned page_size;
	long long gone_hold_ms;	/* how long a kind no longer served keeps its objects */
	pthread_mutex_t lock;
	int efd;		/* eventfd, readable when the cache changed */
	atomic_bool stop;
	bool changed;		/* under lock: since kd_kube_take_changed */
	long long event_ms;	/* under lock: CLOCK_MONOTONIC of the oldest change not taken */
	struct kd_kube_kind kinds[KD_KUBE_NKINDS];
};

void kd_kube_lock(struct kd_kube *k);
void kd_kube_unlock(struct kd_kube *k);
/* Under lock: the cache changed; wakes the loop through the eventfd. */
void kd_kube_notify(struct kd_kube *k);
/* Under lock: whether the cache changed since the last call, and when the oldest change arrived. */
bool kd_kube_take_changed(struct kd_kube *k, long long *event_ms);
/* Under lock: every kind listed once (or known missing); else why not, in why. */
bool kd_kube_synced(struct kd_kube *k, char *why, size_t len);
/* What the status file shows: the server, and per kind its state and counters (takes the lock). */
json_t *kd_kube_json(struct kd_kube *k);
/* Drains the eventfd. */
void kd_kube_ack(struct kd_kube *k);

#endif
