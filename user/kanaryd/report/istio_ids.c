// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The Istio labels of each kanary subset (istio_ids.h).  Every exchange
 * kanary counts is reported once, as Istio's destination reporter would:
 * Flagger's built-in checks select reporter="destination".  kanary sees
 * no client identity, so the source_* labels are "unknown".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/arena.h"
#include "desired/desired.h"
#include "report/istio_ids.h"
#include "report/metrics_text.h"

static int id_cmp(const void *a, const void *b)
{
	const struct kd_istio_id *x = a, *y = b;
	int r = strcmp(x->service, y->service);

	return r ? r : strcmp(x->subset, y->subset);
}

/* "ns/name" or "ns/name/port": the Service's namespace and name. */
static void service_of(const char *kname, char *ns, size_t nslen, char *name, size_t namelen)
{
	const char *slash = strchr(kname, '/'), *end;

	if (!slash) {
		snprintf(ns, nslen, "unknown");
		snprintf(name, namelen, "%s", kname);
		return;
	}
	end = strchr(slash + 1, '/');
	snprintf(ns, nslen, "%.*s", (int)(slash - kname), kname);
	snprintf(name, namelen, "%.*s", end ? (int)(end - slash - 1) : (int)strlen(slash + 1),
		 slash + 1);
}

static char *labels_of(const struct kd_desired_service *s, const struct kd_desired_subset *sub,
		       const char *domain)
{
	char ns[KANARY_NAME_LEN], name[KANARY_NAME_LEN], host[2 * KANARY_NAME_LEN + 64];
	char e_ns[2 * KANARY_NAME_LEN], e_name[2 * KANARY_NAME_LEN], e_host[sizeof(host) * 2];
	char e_wl[2 * KANARY_NAME_LEN], e_ver[2 * KANARY_NAME_LEN], e_app[2 * KANARY_NAME_LEN];
	struct kd_text t = { 0 };

	service_of(s->name, ns, sizeof(ns), name, sizeof(name));
	snprintf(host, sizeof(host), "%s.%s.svc.%s", name, ns, domain ? domain : KD_DEFAULT_DOMAIN);
	kd_label_escape(ns, e_ns, sizeof(e_ns));
	kd_label_escape(name, e_name, sizeof(e_name));
	kd_label_escape(host, e_host, sizeof(e_host));
	kd_label_escape(sub->workload, e_wl, sizeof(e_wl));
	kd_label_escape(sub->version, e_ver, sizeof(e_ver));
	kd_label_escape(sub->app, e_app, sizeof(e_app));
	kd_text_printf(&t, "reporter=\"destination\",source_workload=\"unknown\","
		       "source_workload_namespace=\"unknown\",source_app=\"unknown\","
		       "source_version=\"unknown\",destination_workload=\"%s\","
		       "destination_workload_namespace=\"%s\",destination_app=\"%s\","
		       "destination_version=\"%s\",destination_service=\"%s\","
		       "destination_service_name=\"%s\",destination_service_namespace=\"%s\","
		       "destination_canonical_service=\"%s\",destination_canonical_revision=\"%s\","
		       "request_protocol=\"http\",response_flags=\"-\","
		       "connection_security_policy=\"unknown\"",
		       e_wl, e_ns, e_app, e_ver, e_host, e_name, e_ns,
		       strcmp(sub->app, "unknown") ? e_app : e_wl, e_ver);
	return t.b;
}

/* While building: an entry and its labels, to be grouped. */
struct pending {
	struct kd_istio_id id;
	char *labels;
};

static int pending_cmp(const void *a, const void *b)
{
	return strcmp(((const struct pending *)a)->labels, ((const struct pending *)b)->labels);
}

struct kd_istio_ids *kd_istio_ids_build(const struct kd_desired *d, const char *domain)
{
	struct kd_istio_ids *ids = kd_xcalloc(1, sizeof(*ids));
	struct pending *p = NULL;
	size_t n = 0, cap = 0;

	for (size_t i = 0; i < d->n; i++) {
		const struct kd_desired_service *s = &d->v[i];

		for (__u32 k = 0; k < s->nsub; k++) {
			struct pending e;

			if (!s->sub[k].workload[0])
				continue;	/* no pod: nothing to name */
			e.id.service = kd_xstrdup(s->name);
			e.id.subset = kd_xstrdup(s->sub[k].name);
			e.labels = labels_of(s, &s->sub[k], domain);
			KD_PUSH(p, n, cap, e);
		}
	}
	/* Ports of one Service (one kanary service each) share their labels: one group. */
	if (n)
		qsort(p, n, sizeof(*p), pending_cmp);
	ids->v = kd_xcalloc(n ? n : 1, sizeof(*ids->v));
	ids->labels = kd_xcalloc(n ? n : 1, sizeof(*ids->labels));
	for (size_t i = 0; i < n; i++) {
		if (i && !strcmp(p[i].labels, ids->labels[ids->ngroups - 1]))
			free(p[i].labels);
		else
			ids->labels[ids->ngroups++] = p[i].labels;
		ids->v[i] = p[i].id;
		ids->v[i].group = ids->ngroups - 1;
	}
	ids->n = n;
	free(p);
	if (n)
		qsort(ids->v, n, sizeof(*ids->v), id_cmp);
	return ids;
}

void kd_istio_ids_free(struct kd_istio_ids *ids)
{
	if (!ids)
		return;
	for (size_t i = 0; i < ids->n; i++) {
		free(ids->v[i].service);
		free(ids->v[i].subset);
	}
	for (size_t g = 0; g < ids->ngroups; g++)
		free(ids->labels[g]);
	free(ids->v);
	free(ids->labels);
	free(ids);
}

const struct kd_istio_id *kd_istio_ids_find(const struct kd_istio_ids *ids, const char *service,
					    const char *subset)
{
	struct kd_istio_id key = { .service = (char *)service, .subset = (char *)subset };

	if (!ids || !ids->n)
		return NULL;
	return bsearch(&key, ids->v, ids->n, sizeof(*ids->v), id_cmp);
}
