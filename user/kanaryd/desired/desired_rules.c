// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Dark-release rules from a VirtualService, for one Service port.  Each
 * http[] route with a match, before the route that decides the weighted
 * split, becomes one rule, in order: each element of its match list that
 * applies to the port is an alternative (ORed), and each header or URI
 * condition of the element a condition (ANDed).  Its destinations are
 * subsets, resolved as the split's are.
 *
 * Istio tries routes in order, and a rule cannot say "and no earlier route
 * matched".  So the first route kanary cannot evaluate (or route) ends the
 * rules: a rule after it could take connections Istio gives to it.  Every
 * connection a rule takes goes where Istio would send it; the rest take the
 * weighted split.  A route over kanary's limits holds the service instead,
 * as other bad input does: the maps keep their last good state.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kanary.h"
#include "rule_set.h"
#include "desired/desired_int.h"

/*
 * A route's rule is built, or fails with
 *   -ENOENT      no element of its match list applies to this port;
 *   -EOPNOTSUPP  kanary cannot evaluate or route it (e says why);
 *   -E2BIG       it is over a limit of kanary's: the service is held.
 */
struct rule_build {
	struct kd_build *c;
	struct kd_desired_service *ds;
	size_t svc;
	const struct kd_svc_port *sp;
	const struct kd_virtual_service *v;
	const struct kd_route *r;
};

static int hold(struct rule_build *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Holds the service, the problem at route b->r (fmt follows its spec.http[N]); -E2BIG. */
static int hold(struct rule_build *b, const char *fmt, ...)
{
	const struct kd_virtual_service *v = b->v;
	char what[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	kd_hold(b->ds, kd_xasprintf("%s:%d: VirtualService %s/%s: spec.http[%d]%s", v->m.file,
				    b->r->line, v->m.ns, v->m.name, b->r->index, what));
	return -E2BIG;
}

/* One condition as the rules ABI holds it; kanary_cond_check says whether the matcher can evaluate it. */
static int to_cond(struct rule_build *b, const struct kd_match *m, const struct kd_condition *kc,
		   struct kanary_cond *out, struct kanary_err *e)
{
	char path[200], field[160];
	struct kanary_err why = { "" };
	size_t nlen = kc->header ? strlen(kc->header) : 0, vlen = kc->value ? strlen(kc->value) : 0;

	if (kc->header)
		snprintf(field, sizeof(field), ".match[%d].headers.%s", m->index, kc->header);
	else
		snprintf(field, sizeof(field), ".match[%d].uri", m->index);
	snprintf(path, sizeof(path), "spec.http[%d]%s", b->r->index, field);
	if (nlen > KANARY_COND_NAME_MAX)
		return hold(b, "%s: the header name is %zu bytes; kanary matches names of at most %d",
			    field, nlen, KANARY_COND_NAME_MAX);
	if (vlen > KANARY_COND_VALUE_MAX)
		return hold(b, "%s: the value is %zu bytes; kanary matches values of at most %d",
			    field, vlen, KANARY_COND_VALUE_MAX);
	memset(out, 0, sizeof(*out));
	out->kind = kc->header ? KANARY_COND_HEADER : KANARY_COND_PATH;
	out->op = kc->op == KD_MATCH_EXACT ? KANARY_OP_EXACT :
		  kc->op == KD_MATCH_PREFIX ? KANARY_OP_PREFIX : KANARY_OP_PRESENT;
	/* Header names are case-insensitive; the ABI holds them in lowercase. */
	for (size_t i = 0; i < nlen; i++)
		out->name[i] = (char)(kc->header[i] >= 'A' && kc->header[i] <= 'Z' ?
				      kc->header[i] + 32 : kc->header[i]);
	out->name_len = (__u8)nlen;
	if (vlen)
		memcpy(out->value, kc->value, vlen);
	out->value_len = (__u8)vlen;
	if (kanary_cond_check(out, &why))
		return kanary_errf(e, EOPNOTSUPP, "%s: kanary cannot evaluate it: %s", path, why.msg);
	return 0;
}

static int match_alternatives(struct rule_build *b, struct kanary_rule_spec *spec,
			      struct kanary_err *e)
{
	const struct kd_route *r = b->r;
	size_t applies = 0;

	for (size_t i = 0; i < r->nmatches; i++) {
		const struct kd_match *m = &r->matches[i];

		if (!kd_match_applies(m, b->sp->port))
			continue;	/* never true for this port: leaving it out is exact */
		if (m->unsupported)
			return kanary_errf(e, EOPNOTSUPP, "%s", m->unsupported);
		applies++;
	}
	if (!applies)
		return -ENOENT;
	if (applies > KANARY_RULE_MATCHES_MAX)
		return hold(b, ".match: %zu of its elements apply to port %d; a kanary rule has at "
			    "most %d alternatives: split the route", applies, b->sp->port,
			    KANARY_RULE_MATCHES_MAX);
	for (size_t i = 0; i < r->nmatches; i++) {
		const struct kd_match *m = &r->matches[i];
		__u32 at = spec->n_matches;

		if (!kd_match_applies(m, b->sp->port))
			continue;
		if (m->nconds > KANARY_MATCH_CONDS_MAX)
			return hold(b, ".match[%d]: %zu conditions; kanary takes at most %d per element",
				    m->index, m->nconds, KANARY_MATCH_CONDS_MAX);
		for (size_t k = 0; k < m->nconds; k++) {
			int err = to_cond(b, m, &m->conds[k], &spec->conds[at][k], e);

			if (err)
				return err;
		}
		spec->n_conds[at] = (__u32)m->nconds;
		spec->n_matches++;
	}
	return 0;
}

/* Where the rule's connections go: the route's destinations as subsets of ds, weights as the split's. */
static int destinations(struct rule_build *b, struct kanary_rule_spec *spec, struct kanary_err *e)
{
	const struct kd_route *r = b->r;
	__u64 total = 0;

	if (!r->routable)
		return kanary_errf(e, EOPNOTSUPP, "spec.http[%d] has no destination kanary routes to "
				   "(a redirect, directResponse or delegate, or no route)", r->index);
	for (size_t di = 0; di < r->ndests; di++) {
		struct kd_desired_subset *slot = kd_destination_subset(b->c, b->ds, b->svc, b->sp,
								       b->v, r, di);
		__u32 idx, d;

		if (b->ds->hold)
			return -E2BIG;
		if (!slot)
			continue;	/* not a Service (warned): takes nothing, as in the split */
		idx = (__u32)(slot - b->ds->sub);
		for (d = 0; d < spec->n_dests && spec->dest_subset[d] != idx; d++)
			;
		if (d == spec->n_dests) {
			spec->dest_subset[d] = (__u8)idx;
			spec->n_dests++;
		}
		spec->dest_weight_milli[d] = kd_add_weight(spec->dest_weight_milli[d], r, di);
	}
	for (__u32 d = 0; d < spec->n_dests; d++)
		total += spec->dest_weight_milli[d];
	if (!spec->n_dests)
		return kanary_errf(e, EOPNOTSUPP, "spec.http[%d]: none of its destinations is a "
				   "Service in the manifests", r->index);
	if (!total)
		return kanary_errf(e, EOPNOTSUPP, "spec.http[%d]: every destination has weight 0",
				   r->index);
	return 0;
}

static int route_rule(struct rule_build *b, struct kanary_rule_spec *spec, struct kanary_err *e)
{
	int err;

	memset(spec, 0, sizeof(*spec));
	err = match_alternatives(b, spec, e);
	return err ? err : destinations(b, spec, e);
}

/* Routes with a match from routes[from] up to stop that could take traffic to the port. */
static size_t match_routes(const struct kd_virtual_service *v, size_t from, size_t stop, int port)
{
	size_t n = 0;

	for (size_t k = from; k < stop; k++) {
		const struct kd_route *r = &v->routes[k];
		bool applies = false;

		for (size_t m = 0; r->kind == KD_ROUTE_HTTP && m < r->nmatches; m++)
			applies |= kd_match_applies(&r->matches[m], port);
		n += applies;
	}
	return n;
}

/* Why route i ends the rules (why), and which later routes it leaves out. */
static void warn_stop(struct rule_build *b, size_t i, size_t stop, const char *why)
{
	const struct kd_virtual_service *v = b->v;
	size_t later = match_routes(v, i + 1, stop, b->sp->port);
	char rest[300] = "";

	if (later)
		snprintf(rest, sizeof(rest), "; nor %s the %zu route%s with a match after it, which "
			 "could take connections Istio gives to spec.http[%d] (Istio tries routes in order)",
			 later == 1 ? "is" : "are", later, later == 1 ? "" : "s", b->r->index);
	kd_warn_once(b->c, "%s:%d: VirtualService %s/%s: spec.http[%d] is not applied to port %d as a "
		  "dark-release rule: %s%s; those connections take the weighted split",
		  v->m.file, b->r->line, v->m.ns, v->m.name, b->r->index, b->sp->port, why, rest);
}

void kd_rules_service(struct kd_build *c, struct kd_desired_service *ds, size_t svc,
		      const struct kd_svc_port *sp, const struct kd_virtual_service *v,
		      size_t stop)
{
	struct rule_build b = { .c = c, .ds = ds, .svc = svc, .sp = sp, .v = v };
	struct kanary_rule_spec spec;
	size_t n;

	if (!sp->http) {
		n = match_routes(v, 0, stop, sp->port);
		if (n)
			kd_warn_once(c, "%s:%d: VirtualService %s/%s: its %zu route%s with a match %s not "
				     "applied to port %d of Service %s/%s, which is not declared as HTTP "
				     "(%s); its connections take the weighted split. Declare it with "
				     "appProtocol: http, a name such as http-web, or the annotation "
				     KD_ANNOTATION_HTTP_PORTS, v->m.file, v->m.line, v->m.ns, v->m.name,
				     n, n == 1 ? "" : "s", n == 1 ? "is" : "are", sp->port,
				     c->svc[svc]->m.ns, c->svc[svc]->m.name,
				     sp->declared ? "its appProtocol or name says another protocol" :
				     "neither appProtocol nor its name says which protocol");
		return;
	}

	for (size_t i = 0; i < stop && i < v->nroutes && !ds->hold; i++) {
		struct kanary_err e = { "" };
		int err;

		b.r = &v->routes[i];
		if (b.r->kind != KD_ROUTE_HTTP)
			continue;
		err = route_rule(&b, &spec, &e);
		if (err == -ENOENT)
			continue;
		if (err == -EOPNOTSUPP)
			warn_stop(&b, i, stop, e.msg);
		if (err)
			return;
		if (!ds->rules)
			ds->rules = kd_xcalloc(1, sizeof(*ds->rules));
		if (ds->rules->n_rules == KANARY_RULES_MAX) {
			hold(&b, ": more than %d routes with a match apply to port %d; kanary takes at "
			     "most %d rules per service", KANARY_RULES_MAX, sp->port, KANARY_RULES_MAX);
			return;
		}
		if (kanary_rules_insert(ds->rules, ds->rules->n_rules, &spec, &e)) {
			hold(&b, ": %s", e.msg);
			return;
		}
		snprintf(ds->rule_route[ds->rules->n_rules - 1], sizeof(ds->rule_route[0]),
			 "spec.http[%d]", b.r->index);
		ds->rule_http[ds->rules->n_rules - 1] = b.r->index;
	}
}
