// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * A pod's workload, version and app, as Istio's telemetry names them: what
 * Flagger and dashboards select a canary's metrics by.
 */
#include <stdio.h>
#include <string.h>
#include "desired/desired.h"

void kd_pod_workload(const struct kd_pod *p, char *buf, size_t len)
{
	const char *hash = kd_label(&p->labels, "pod-template-hash");
	const char *owner = p->owner_name;
	size_t n;

	if (!owner) {
		snprintf(buf, len, "%s", p->m.name);
		return;
	}
	n = strlen(owner);
	/* A Deployment's pods belong to a ReplicaSet named DEPLOYMENT-HASH. */
	if (p->owner_kind && strcmp(p->owner_kind, "ReplicaSet") == 0 && hash && *hash &&
	    n > strlen(hash) + 1 && owner[n - strlen(hash) - 1] == '-' &&
	    strcmp(owner + n - strlen(hash), hash) == 0)
		n -= strlen(hash) + 1;
	snprintf(buf, len, "%.*s", (int)n, owner);
}

/* The first of the labels Istio reads that the pod has, or "unknown". */
static const char *label_or_unknown(const struct kd_pod *p, const char *a, const char *b)
{
	const char *v = kd_label(&p->labels, a);

	if (!v || !*v)
		v = kd_label(&p->labels, b);
	return v && *v ? v : "unknown";
}

void kd_subset_identity(struct kd_desired_subset *sub, const struct kd_pod *p)
{
	kd_pod_workload(p, sub->workload, sizeof(sub->workload));
	snprintf(sub->version, sizeof(sub->version), "%s",
		 label_or_unknown(p, "version", "app.kubernetes.io/version"));
	snprintf(sub->app, sizeof(sub->app), "%s", label_or_unknown(p, "app", "app.kubernetes.io/name"));
}
