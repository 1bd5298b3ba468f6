/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The probes and the metrics, each on a listener of its own (libmicrohttpd,
 * each in its own thread): --health-listen serves /healthz and /readyz to
 * the kubelet (127.0.0.1:9808 by default with --kube), --metrics-listen
 * serves /metrics to Prometheus.  A flood on one cannot starve the other.
 * Neither reads the loop's state: the loop publishes an immutable snapshot
 * after each pass, and the listeners serve that (and the maps' counters).
 */
#ifndef KD_HEALTH_H
#define KD_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>
#include "kanary.h"

struct kd_kube;
struct kd_health;

#define KD_HEALTH_DEFAULT_LISTEN	"127.0.0.1:9808"

/* What the loop last said about itself. */
struct kd_results;

struct kd_health_state {
	bool ready;		/* the first full sync is in the maps */
	char why[512];		/* not ready, or the last pass failed: why */
	size_t services;	/* kanary services kanaryd manages */
	time_t last_sync;	/* the last pass that left the maps as desired */
	unsigned long long syncs, sync_failures;
	const struct kd_results *results;	/* the last pass's, read during publish only */
};

struct kd_health_opts {
	const char *health_listen;	/* /healthz, /readyz; NULL: none */
	const char *metrics_listen;	/* /metrics; NULL: none */
	const char *pin_path;		/* the maps whose counters /metrics shows */
};

/*
 * Listens on "ADDR:PORT" ("127.0.0.1:9808", "10.0.0.5:9809", "[::1]:9808").
 * 0 with *h set, or -errno with e naming the flag and why it cannot listen.
 */
int kd_health_start(struct kd_health **h, const struct kd_health_opts *o, struct kanary_err *e);
struct kd_istio_ids;
/*
 * The loop's state after a pass, rendered here (in the loop's thread, with
 * kube's counters when kube is set) and swapped in whole, with the Istio
 * labels of the subsets (ids, taken over; NULL: no Istio families); also
 * /healthz's heartbeat.  NULL h: nothing.
 */
void kd_health_publish(struct kd_health *h, const struct kd_health_state *st, struct kd_kube *kube,
		       struct kd_istio_ids *ids);
void kd_health_stop(struct kd_health *h);

/* Parses ADDR:PORT into a sockaddr; -EINVAL when malformed. For flag checking too. */
int kd_health_parse_listen(const char *listen, void *sockaddr_storage, unsigned *len);

#endif
