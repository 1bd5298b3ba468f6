/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * --health-listen ADDR:PORT: /healthz, /readyz and /metrics over HTTP
 * (libmicrohttpd, in its own thread) for the kubelet's probes and for
 * Prometheus.  The loop publishes a snapshot of its state here; counters
 * are read from the pinned maps at each scrape.
 */
#ifndef KD_HEALTH_H
#define KD_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>
#include "kanary.h"

struct kd_kube;
struct kd_health;

/* What the loop last said about itself. */
struct kd_health_state {
	bool ready;		/* the first full sync is in the maps */
	char why[512];		/* not ready, or the last pass failed: why */
	size_t services;	/* kanary services kanaryd manages */
	time_t last_sync;	/* the last pass that left the maps as desired */
	unsigned long long syncs, sync_failures;
};

/*
 * Serves on listen ("0.0.0.0:9808", "10.0.0.5:9808", "[::1]:9808").  kube
 * may be NULL (file mode).  0 with *h set, or -errno with e saying why it
 * cannot listen.
 */
int kd_health_start(struct kd_health **h, const char *listen, const char *pin_path,
		    struct kd_kube *kube, struct kanary_err *e);
/* Publishes the loop's state; also the liveness heartbeat. */
void kd_health_update(struct kd_health *h, const struct kd_health_state *st);
void kd_health_stop(struct kd_health *h);

/* Parses ADDR:PORT into a sockaddr; -EINVAL when malformed. For flag checking too. */
int kd_health_parse_listen(const char *listen, void *sockaddr_storage, unsigned *len);

#endif
