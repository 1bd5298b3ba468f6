// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * One Service port's weighted split: the route of its VirtualService that
 * decides it, each destination a subset with its weight, the
 * DestinationRule's other subsets at weight 0, and the routes with a match
 * before it as dark-release rules (desired_rules.c), and its mirrors
 * (desired_mirror.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kanary.h"
#include "desired/desired_int.h"

static bool route_takes_all(const struct kd_route *r, int port)
{
	if (!r->routable)
		return false;
	if (r->nmatches == 0)
		return true;
	for (size_t i = 0; i < r->nmatches; i++)
		if (kd_match_applies(&r->matches[i], port) && !r->matches[i].unsupported &&
		    r->matches[i].nconds == 0)
			return true;
	return false;
}

/* All the pods the Service selects, as one subset that takes everything. */
static void default_subset(struct kd_build *c, struct kd_desired_service *ds, size_t svc,
			   const struct kd_svc_port *sp)
{
	struct kd_desired_subset *sub = kd_selected_subset(c, ds, svc, sp, KD_DEFAULT_SUBSET, NULL);

	sub->weight_milli = 100 * KANARY_WEIGHT_MILLI;
}

/* Route r's destinations as subsets, each with its weight. */
static void weighted_split(struct kd_build *c, struct kd_desired_service *ds, size_t svc,
			   const struct kd_svc_port *sp, const struct kd_virtual_service *v,
			   const struct kd_route *r)
{
	__u64 total = 0;

	for (size_t i = 0; i < r->ndests; i++) {
		struct kd_desired_subset *slot = kd_destination_subset(c, ds, svc, sp, v, r, i);

		if (slot)
			slot->weight_milli = kd_add_weight(slot->weight_milli, r, i);
	}
	for (__u32 i = 0; i < ds->nsub; i++)
		total += ds->sub[i].weight_milli;
	if (ds->nsub && total == 0)
		kd_warn_once(c, "%s:%d: VirtualService %s/%s: spec.%s[%d].route: every destination has "
			  "weight 0; kanary passes the service's connections through untouched",
			  v->m.file, r->line, v->m.ns, v->m.name,
			  r->kind == KD_ROUTE_HTTP ? "http" : "tcp", r->index);
}

/* The rule's other subsets, at weight 0, so an operator can shift traffic to them. */
static void idle_subsets(struct kd_build *c, struct kd_desired_service *ds, size_t svc,
			 const struct kd_svc_port *sp, const struct kd_destination_rule *rule)
{
	for (size_t i = 0; rule && i < rule->nsubsets; i++) {
		const struct kd_dr_subset *s = &rule->subsets[i];

		if (strlen(s->name) < KANARY_SUBSET_NAME_LEN)
			kd_selected_subset(c, ds, svc, sp, s->name, &s->labels);
	}
}

void kd_route_service(struct kd_build *c, struct kd_desired_service *ds, size_t svc,
		      const struct kd_svc_port *sp)
{
	const struct kd_virtual_service *v = kd_vs_for(c, svc);
	const struct kd_destination_rule *rule = kd_rule_for(c, svc);
	const struct kd_route *r = NULL;
	size_t at;

	if (rule)
		ds->dr = kd_xasprintf("DestinationRule %s/%s (%s:%d)", rule->m.ns, rule->m.name,
				   rule->m.file, rule->m.line);
	if (!v) {
		ds->route = kd_xasprintf("no VirtualService: all selected pods");
		default_subset(c, ds, svc, sp);
		return;
	}
	for (at = 0; at < v->nroutes && !r; at++)
		if (route_takes_all(&v->routes[at], sp->port))
			r = &v->routes[at];
	if (!r) {
		kd_warn_once(c, "%s:%d: VirtualService %s/%s: no route without a match condition applies "
			  "to port %d; connections that no rule takes go to all pods of Service %s/%s",
			  v->m.file, v->m.line, v->m.ns, v->m.name, sp->port, c->svc[svc]->m.ns,
			  c->svc[svc]->m.name);
		ds->route = kd_xasprintf("VirtualService %s/%s (%s:%d) has no route without a match: all selected pods",
				      v->m.ns, v->m.name, v->m.file, v->m.line);
		default_subset(c, ds, svc, sp);
		kd_rules_service(c, ds, svc, sp, v, v->nroutes);
		kd_mirror_service(c, ds, svc, sp, v, NULL);
		return;
	}
	ds->route = kd_xasprintf("VirtualService %s/%s spec.%s[%d] (%s:%d)", v->m.ns, v->m.name,
			      r->kind == KD_ROUTE_HTTP ? "http" : "tcp", r->index, v->m.file, r->line);
	weighted_split(c, ds, svc, sp, v, r);
	idle_subsets(c, ds, svc, sp, rule);
	kd_rules_service(c, ds, svc, sp, v, at - 1);
	kd_mirror_service(c, ds, svc, sp, v, r);
}
