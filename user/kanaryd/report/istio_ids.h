/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Who each kanary subset is in Istio's telemetry: the labels of
 * istio_requests_total and istio_request_duration_milliseconds (but the
 * response code), built by the loop from its desired state and published
 * with the snapshot, so a scrape never reads the loop's state.
 */
#ifndef KD_ISTIO_IDS_H
#define KD_ISTIO_IDS_H

#include <stddef.h>

struct kd_desired;

struct kd_istio_id {
	char *service, *subset;	/* the kanary service (as in the maps) and subset */
	size_t group;		/* entries with the same labels share a group */
};

struct kd_istio_ids {
	size_t n, ngroups;
	struct kd_istio_id *v;	/* sorted by service, then subset */
	char **labels;		/* by group */
};

/* From every subset with pods of every service d holds; domain as --cluster-domain (NULL: the default). */
struct kd_istio_ids *kd_istio_ids_build(const struct kd_desired *d, const char *domain);
void kd_istio_ids_free(struct kd_istio_ids *ids);
/* The entry of service's subset, or NULL. */
const struct kd_istio_id *kd_istio_ids_find(const struct kd_istio_ids *ids, const char *service,
					    const char *subset);

#endif
