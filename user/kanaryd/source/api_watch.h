/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * kanaryd --kube: one thread per kind (Services, Pods, DestinationRules,
 * VirtualServices) lists it page by page, then watches it from the list's
 * resourceVersion, as client-go's reflector does:
 *   - every event moves the resourceVersion on, bookmarks included;
 *   - a stream the server ends is resumed from that version;
 *   - 410 Gone (an HTTP status, or an ERROR event in the stream) means the
 *     version is too old: list again and replace the cache;
 *   - an unreachable or failing server is retried with exponential backoff
 *     and jitter, while the maps keep the last good state;
 *   - a kind the server does not serve (no Istio CRDs) is logged once and
 *     looked for again every minute.
 * The main loop is woken through an eventfd and reads the stores under lock,
 * through k->source (api_source.c).
 */
#ifndef KD_KUBE_WATCH_H
#define KD_KUBE_WATCH_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <jansson.h>
#include "source/api_source.h"
#include "source/store.h"
#include "source/api_config.h"

#define KD_KUBE_PAGE_SIZE	500

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
	char api[96];		/* "v1", "networking.istio.io/v1" */
	char rv[64];		/* last resourceVersion seen */
	struct kd_kube_stats st;
	char *last_error;
};

struct kd_kube {
	struct kd_source source;	/* first: kd_api_source_ops, for the loop */
	struct kd_kube_config cfg;
	unsigned page_size;
	pthread_mutex_t lock;
	int efd;		/* eventfd, readable when the cache changed */
	atomic_bool stop;
	bool changed;		/* under lock: since kd_kube_take_changed */
	long long event_ms;	/* under lock: CLOCK_MONOTONIC of the oldest change not taken */
	struct kd_kube_kind kinds[KD_KUBE_NKINDS];
};

/* Takes cfg (moved in), starts the threads.  -errno with e when they cannot start. */
int kd_kube_start(struct kd_kube *k, struct kd_kube_config *cfg, unsigned page_size,
		  struct kanary_err *e);
void kd_kube_stop(struct kd_kube *k);

void kd_kube_lock(struct kd_kube *k);
void kd_kube_unlock(struct kd_kube *k);
/* Under lock: whether the cache changed since the last call, and when the oldest change arrived. */
bool kd_kube_take_changed(struct kd_kube *k, long long *event_ms);
/* Under lock: every kind listed once (or known missing); else why not, in why. */
bool kd_kube_synced(struct kd_kube *k, char *why, size_t len);
/* What the status file shows: the server, and per kind its state and counters (takes the lock). */
json_t *kd_kube_json(struct kd_kube *k);
/* Drains the eventfd. */
void kd_kube_ack(struct kd_kube *k);

#endif
