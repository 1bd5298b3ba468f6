// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Traffic mirroring from a VirtualService, for one Service port
 * (docs/mirror.md).  The datapath draws each request for the mirrors of
 * the route that took it (kanary_mirror_v2: the split's, or a rule's), so
 * a route's mirror copies that route's requests only, as Istio's does:
 *
 * - the route that decides the weighted split: its mirrors take the
 *   requests no rule routed (all of them without rules);
 * - a route with a match before it that became a dark-release rule
 *   (desired_rules.c): its mirrors take that rule's requests.  One that
 *   did not become a rule (kanary cannot evaluate it, or the port is not
 *   HTTP) cannot be told from the split: its mirror is warned, not
 *   applied;
 * - to a DestinationRule subset of the same Service, in the Service's
 *   namespace, on the same port: the relay sends the copies to that
 *   subset's pods as the maps hold them.  Anything else is an error that
 *   holds the service, so the maps keep their last good state.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "kanary.h"
#include "desired/desired_int.h"
#include "desired/hostname.h"

static bool match_applies_to(const struct kd_route *r, int port)
{
	for (size_t i = 0; i < r->nmatches; i++)
		if (kd_match_applies(&r->matches[i], port))
			return true;
	return false;
}

/* The rule route r became on this port (its index in ds->rules), or -1. */
static int rule_of(const struct kd_desired_service *ds, const struct kd_route *r)
{
	for (__u32 k = 0; ds->rules && k < ds->rules->n_rules && k < KANARY_RULES_MAX; k++)
		if (ds->rule_http[k] == r->index)
			return (int)k;
	return -1;
}

static void hold_mirror(struct kd_desired_service *ds, const struct kd_virtual_service *v,
			const struct kd_route *r, const struct kd_mirror *m, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* Holds ds: mirror m of route r is bad input (fmt says why, after its path). */
static void hold_mirror(struct kd_desired_service *ds, const struct kd_virtual_service *v,
			const struct kd_route *r, const struct kd_mirror *m, const char *fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	kd_hold(ds, kd_xasprintf("%s:%d: VirtualService %s/%s: spec.http[%d].%s%s", v->m.file,
				 m->dest.line, v->m.ns, v->m.name, r->index, m->field, why));
}

/* Mirror m of route r onto ds: its subset's slot in shares (the route's) gets m's share. */
static void apply_mirror(struct kd_build *c, struct kd_desired_service *ds, size_t svc,
			 const struct kd_svc_port *sp, const struct kd_virtual_service *v,
			 const struct kd_route *r, const struct kd_mirror *m, __u32 *shares)
{
	const struct kd_service *s = c->svc[svc];
	const struct kd_dr_subset *sub;
	struct kd_desired_subset *slot;
	char fqdn[KD_FQDN_LEN];
	ssize_t ti;
	__u32 *ppm;

	kd_host_fqdn(fqdn, sizeof(fqdn), m->dest.host, s->m.ns, c->domain);
	if (strcmp(fqdn, c->svc_fqdn[svc]) != 0) {
		ti = kd_service_by_fqdn(c, fqdn);
		if (ti >= 0 && strcmp(c->svc[ti]->m.ns, s->m.ns) != 0)
			hold_mirror(ds, v, r, m, ".host: '%s' is Service %s/%s, in another namespace; "
				    "kanary mirrors only to a subset of the routed Service %s/%s",
				    m->dest.host, c->svc[ti]->m.ns, c->svc[ti]->m.name, s->m.ns,
				    s->m.name);
		else
			hold_mirror(ds, v, r, m, ".host: '%s' (%s) is not the routed Service %s/%s; "
				    "kanary mirrors only to a subset of it", m->dest.host, fqdn,
				    s->m.ns, s->m.name);
		return;
	}
	if (!m->dest.subset) {
		hold_mirror(ds, v, r, m, ": no subset: kanary mirrors to a DestinationRule subset of "
			    "Service %s/%s, not to all of its pods", s->m.ns, s->m.name);
		return;
	}
	sub = kd_subset_of(kd_rule_for(c, svc), m->dest.subset);
	if (!sub) {
		hold_mirror(ds, v, r, m, ".subset: no DestinationRule for %s defines subset '%s'",
			    fqdn, m->dest.subset);
		return;
	}
	if (m->dest.port && m->dest.port != sp->port) {
		kd_warn_once(c, "%s:%d: VirtualService %s/%s: spec.http[%d].%s.port: %d: not applied to "
			     "port %d of Service %s/%s: kanary mirrors a port's requests to the same "
			     "port", v->m.file, m->dest.line, v->m.ns, v->m.name, r->index, m->field,
			     m->dest.port, sp->port, s->m.ns, s->m.name);
		return;
	}
	if (strlen(sub->name) >= KANARY_SUBSET_NAME_LEN) {
		hold_mirror(ds, v, r, m, ".subset: '%s' is longer than kanary's %d characters",
			    sub->name, KANARY_SUBSET_NAME_LEN - 1);
		return;
	}
	/* At weight 0 when new: it takes copies, not live traffic, but its pods are backends. */
	slot = kd_selected_subset(c, ds, svc, sp, sub->name, &sub->labels);
	if (!slot) {
		hold_mirror(ds, v, r, m, ": subset '%s' is one more than kanary's %d subsets per "
			    "service", sub->name, KANARY_MAX_SUBSETS);
		return;
	}
	/* Named twice: one draw serves all mirrors of a subset, so the larger share. */
	ppm = &shares[slot - ds->sub];
	if (m->ppm > *ppm)
		*ppm = m->ppm;
}

static void apply_route(struct kd_build *c, struct kd_desired_service *ds, size_t svc,
			const struct kd_svc_port *sp, const struct kd_virtual_service *v,
			const struct kd_route *r, __u32 *shares)
{
	for (size_t i = 0; i < r->nmirrors && !ds->hold; i++)
		if (r->mirrors[i].ppm)
			apply_mirror(c, ds, svc, sp, v, r, &r->mirrors[i], shares);
}

void kd_mirror_service(struct kd_build *c, struct kd_desired_service *ds, size_t svc,
		       const struct kd_svc_port *sp, const struct kd_virtual_service *v,
		       const struct kd_route *decider)
{
	/* The routes with a match before the decider: each one's mirrors go with its rule. */
	for (size_t i = 0; i < v->nroutes && &v->routes[i] != decider && !ds->hold; i++) {
		const struct kd_route *r = &v->routes[i];
		int k;

		if (r->kind != KD_ROUTE_HTTP || !r->nmirrors || !match_applies_to(r, sp->port))
			continue;
		k = rule_of(ds, r);
		if (k < 0) {
			kd_warn_once(c, "%s:%d: VirtualService %s/%s: spec.http[%d].%s: not applied to "
				     "port %d of Service %s/%s: this route is no dark-release rule there "
				     "(see why above), so kanary cannot tell its requests from the "
				     "split's", v->m.file, r->mirrors[0].dest.line, v->m.ns, v->m.name,
				     r->index, r->mirrors[0].field, sp->port, c->svc[svc]->m.ns,
				     c->svc[svc]->m.name);
			continue;
		}
		apply_route(c, ds, svc, sp, v, r, ds->rule_mirror_ppm[k]);
	}
	if (decider && decider->kind == KD_ROUTE_HTTP && !ds->hold)
		apply_route(c, ds, svc, sp, v, decider, ds->mirror_ppm);
}
