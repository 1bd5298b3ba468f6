// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * A desired service's subsets, as routes and dark-release rules name them:
 * each destination of a VirtualService route is a subset of pods (the
 * destination Service's, with the DestinationRule subset's labels), added
 * once per service with its backends; weights add up as Istio's do.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kanary.h"
#include "desired/desired_int.h"
#include "desired/hostname.h"

/* ---- backends ---- */

static bool pod_eligible(const struct kd_pod *p)
{
	return p->running && p->ready && !p->terminating && p->ip;
}

/* The pod's port for a Service port: by number, or by name through its containers. */
static int pod_port(const struct kd_pod *p, const struct kd_svc_port *sp)
{
	if (!sp->target_name)
		return sp->target_num;
	for (size_t i = 0; i < p->nports; i++)
		if (p->ports[i].name && strcmp(p->ports[i].name, sp->target_name) == 0 &&
		    p->ports[i].proto == sp->proto)
			return p->ports[i].port;
	return 0;	/* as the endpoints controller: not a backend for this port */
}

int kd_backend_cmp(const void *pa, const void *pb)
{
	const struct kanary_backend *a = pa, *b = pb;
	int r = memcmp(&a->addr, &b->addr, sizeof(a->addr));

	if (!r)
		r = (int)ntohs(a->port) - (int)ntohs(b->port);
	return r;
}

void kd_hold(struct kd_desired_service *ds, char *problem)
{
	if (!ds->hold) {
		ds->hold = true;
		ds->problem = problem;
	} else {
		free(problem);
	}
}

static void fill_backends(struct kd_build *c, struct kd_desired_service *ds,
			  struct kd_desired_subset *sub, const struct kd_service *s,
			  const struct kd_svc_port *sp, const struct kd_labels *labels)
{
	struct kanary_backend *be = NULL;
	const struct kd_pod *first = NULL;
	size_t n = 0, cap = 0, k = 0, ncand;
	const struct kd_pod **cand = kd_pod_candidates(c, s->m.ns, &s->selector, &ncand);

	for (size_t i = 0; sp && i < ncand; i++) {
		const struct kd_pod *p = cand[i];
		struct kanary_backend b;
		int port;

		if (strcmp(p->m.ns, s->m.ns) != 0 || !pod_eligible(p) ||
		    !kd_labels_match(&s->selector, &p->labels) ||
		    (labels && !kd_labels_match(labels, &p->labels)))
			continue;
		port = pod_port(p, sp);
		if (!port)
			continue;
		if (!first || strcmp(p->m.name, first->m.name) < 0)
			first = p;
		memset(&b, 0, sizeof(b));
		kanary_addr_from_v4(&b.addr, p->ip);
		b.port = htons((__u16)port);
		KD_PUSH(be, n, cap, b);
	}
	free(cand);
	if (n)
		qsort(be, n, sizeof(*be), kd_backend_cmp);
	for (size_t i = 0; i < n; i++)
		if (k == 0 || kd_backend_cmp(&be[k - 1], &be[i]) != 0)
			be[k++] = be[i];
	sub->be = be;
	sub->n = (__u32)k;
	if (first)
		kd_subset_identity(sub, first);
	if (k > KANARY_MAX_BACKENDS)
		kd_hold(ds, kd_xasprintf("subset %s has %zu ready pods; kanary takes at most %d per subset",
				   sub->name, k, KANARY_MAX_BACKENDS));
}

/* ---- subsets ---- */

/* The subset named name, added with weight 0 when new; NULL when all 8 are taken. */
static struct kd_desired_subset *subset_slot(struct kd_desired_service *ds, const char *name)
{
	for (__u32 i = 0; i < ds->nsub; i++)
		if (strcmp(ds->sub[i].name, name) == 0)
			return &ds->sub[i];
	if (ds->nsub == KANARY_MAX_SUBSETS)
		return NULL;
	snprintf(ds->sub[ds->nsub].name, sizeof(ds->sub[0].name), "%s", name);
	return &ds->sub[ds->nsub++];
}

struct kd_desired_subset *kd_selected_subset(struct kd_build *c, struct kd_desired_service *ds,
					     size_t svc, const struct kd_svc_port *sp,
					     const char *name, const struct kd_labels *labels)
{
	struct kd_desired_subset *slot = subset_slot(ds, name);

	if (slot && !slot->filled) {
		slot->filled = true;
		fill_backends(c, ds, slot, c->svc[svc], sp, labels);
	}
	return slot;
}

/* Which port of the destination Service a route destination means. */
static const struct kd_svc_port *dest_port(const struct kd_service *to, const struct kd_destination *d,
					   const struct kd_svc_port *from, bool same)
{
	if (d->port)
		return kd_tcp_port(to, d->port);
	if (same)
		return from;
	if (kd_tcp_port(to, from->port))
		return kd_tcp_port(to, from->port);
	if (kd_tcp_ports(to) == 1)
		for (size_t i = 0; i < to->nports; i++)
			if (to->ports[i].proto == IPPROTO_TCP)
				return &to->ports[i];
	return NULL;
}

/*
 * The Service that destination di of route r names, and in *sub the
 * DestinationRule subset it names (NULL: none, or undefined: warned).
 * -1 when it is not a Service in the manifests (warned).  A short name
 * resolves in the namespace of the Service being routed, svc: a
 * VirtualService that svc's namespace lets govern it from elsewhere must
 * not make "greeting" mean a Service of its own namespace.
 */
static ssize_t destination_service(struct kd_build *c, size_t svc,
				   const struct kd_virtual_service *v, const struct kd_route *r,
				   size_t di, const struct kd_dr_subset **sub)
{
	const struct kd_destination *d = &r->dests[di];
	const char *list = r->kind == KD_ROUTE_HTTP ? "http" : "tcp";
	const struct kd_destination_rule *rule;
	char fqdn[KD_FQDN_LEN];
	ssize_t ti;

	*sub = NULL;
	kd_host_fqdn(fqdn, sizeof(fqdn), d->host, c->svc[svc]->m.ns, c->domain);
	ti = kd_service_by_fqdn(c, fqdn);
	if (ti < 0) {
		kd_warn_once(c, "%s:%d: VirtualService %s/%s: spec.%s[%d].route[%zu].destination.host: "
			  "'%s' (%s) is not a Service in the manifests; this destination takes no traffic",
			  v->m.file, d->line, v->m.ns, v->m.name, list, r->index, di, d->host, fqdn);
		return -1;
	}
	rule = kd_rule_for(c, (size_t)ti);	/* even without a subset: it warns of a second rule */
	if (d->subset) {
		*sub = kd_subset_of(rule, d->subset);
		if (!*sub)
			kd_warn_once(c, "%s:%d: VirtualService %s/%s: spec.%s[%d].route[%zu].destination.subset: "
				  "no DestinationRule for %s defines subset '%s'; it gets no pods, and its "
				  "share goes to the other subsets", v->m.file, d->line, v->m.ns, v->m.name,
				  list, r->index, di, fqdn, d->subset);
	}
	return ti;
}

struct kd_desired_subset *kd_destination_subset(struct kd_build *c, struct kd_desired_service *ds,
						size_t svc, const struct kd_svc_port *sp,
						const struct kd_virtual_service *v,
						const struct kd_route *r, size_t di)
{
	const struct kd_destination *d = &r->dests[di];
	const char *list = r->kind == KD_ROUTE_HTTP ? "http" : "tcp";
	const struct kd_dr_subset *sub;
	const struct kd_service *to;
	const struct kd_svc_port *tp;
	struct kd_desired_subset *slot;
	ssize_t ti = destination_service(c, svc, v, r, di, &sub);
	char name[128];

	if (ti < 0)
		return NULL;
	to = c->svc[ti];
	if ((size_t)ti == svc)
		snprintf(name, sizeof(name), "%s", d->subset ? d->subset : KD_DEFAULT_SUBSET);
	else if (d->subset)
		snprintf(name, sizeof(name), "%s/%s", to->m.name, d->subset);
	else
		snprintf(name, sizeof(name), "%s", to->m.name);
	if (strlen(name) >= KANARY_SUBSET_NAME_LEN) {
		kd_hold(ds, kd_xasprintf("%s:%d: spec.%s[%d].route[%zu]: subset name '%s' is longer than "
				   "kanary's %d characters", v->m.file, d->line, list, r->index, di,
				   name, KANARY_SUBSET_NAME_LEN - 1));
		return NULL;
	}
	slot = subset_slot(ds, name);
	if (!slot) {
		kd_hold(ds, kd_xasprintf("%s:%d: spec.%s[%d].route: more than %d destinations; kanary "
				   "takes at most %d subsets per service", v->m.file, r->line, list,
				   r->index, KANARY_MAX_SUBSETS, KANARY_MAX_SUBSETS));
		return NULL;
	}
	if (slot->filled)
		return slot;	/* named before: its pods are known */
	slot->filled = true;
	tp = dest_port(to, d, sp, (size_t)ti == svc);
	if (!tp) {
		kd_warn_once(c, "%s:%d: VirtualService %s/%s: spec.%s[%d].route[%zu].destination.port: "
			  "Service %s/%s has no TCP port %d%s; this destination gets no pods",
			  v->m.file, d->line, v->m.ns, v->m.name, list, r->index, di, to->m.ns,
			  to->m.name, d->port ? d->port : sp->port,
			  d->port ? "" : " and more than one other: name one with destination.port.number");
		return slot;
	}
	if (d->subset && !sub)
		return slot;	/* an undefined subset selects no pods (warned above) */
	fill_backends(c, ds, slot, to, tp, sub ? &sub->labels : NULL);
	return slot;
}

__u32 kd_add_weight(__u32 cur_milli, const struct kd_route *r, size_t di)
{
	long long w = r->dests[di].weight;
	__u64 milli;

	/* A lone destination without a weight takes everything; otherwise unset is 0. */
	if (w < 0)
		w = r->ndests == 1 ? 100 : 0;
	/* The same destination twice: weights add up. */
	milli = cur_milli + (__u64)w * KANARY_WEIGHT_MILLI;
	return milli > KANARY_WEIGHT_MAX_MILLI ? KANARY_WEIGHT_MAX_MILLI : (__u32)milli;
}

bool kd_match_applies(const struct kd_match *m, int port)
{
	return m->mesh && (m->port == 0 || m->port == port);
}
