// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Decodes an Istio VirtualService (v1, v1beta1, v1alpha3): hosts, and the
 * http[] and tcp[] routes with their match lists (istio_match.c), weighted
 * destinations and mirrors (istio_mirror.c).  The route features kanary
 * does not do are reported.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "kanary/abi.h"
#include "decode/decode.h"

static const struct kd_field_rule spec_fields[] = {
	{ "hosts", NULL },
	{ "gateways", NULL },
	{ "http", NULL },
	{ "tcp", NULL },
	{ "tls", "TLS routes are not supported; ignored" },
	{ "exportTo", "kanary cannot scope an object to some clients' namespaces: it applies to every "
		      "client, and only to Services of its own namespace or ones that grant it "
		      "(" KD_ANNOTATION_ROUTING_FROM "); ignored" },
	{ NULL, NULL },
};

static const struct kd_field_rule http_fields[] = {
	{ "name", NULL },
	{ "match", NULL },
	{ "route", NULL },
	{ "redirect", NULL },		/* reported where the route is skipped */
	{ "directResponse", NULL },
	{ "delegate", NULL },
	{ "rewrite", "rewrites are not applied; ignored" },
	{ "timeout", "timeouts are not applied; ignored" },
	{ "retries", "retries are not applied; ignored" },
	{ "fault", "fault injection is not applied; ignored" },
	{ "mirror", NULL },		/* istio_mirror.c */
	{ "mirrors", NULL },
	{ "mirrorPercent", NULL },
	{ "mirrorPercentage", NULL },
	{ "corsPolicy", "CORS policies are not applied; ignored" },
	{ "headers", "header manipulation is not applied; ignored" },
	{ NULL, NULL },
};

static const struct kd_field_rule tcp_fields[] = {
	{ "name", NULL },
	{ "match", NULL },
	{ "route", NULL },
	{ NULL, NULL },
};

static const struct kd_field_rule dest_fields[] = {
	{ "destination", NULL },
	{ "weight", NULL },
	{ "headers", "header manipulation is not applied; ignored" },
	{ NULL, NULL },
};

void kd_dec_destination(struct kd_dec *d, struct kd_node parent, const char *key,
			const char *path, struct kd_destination *dst)
{
	struct kd_node dest = kd_get(parent, key);
	char p[160];

	if (!kd_present(dest)) {
		kd_dec_error(d, parent, "%s: missing: expected a destination with a host", path);
		return;
	}
	if (!kd_dec_map(d, dest, path, true))
		return;
	snprintf(p, sizeof(p), "%s.host", path);
	dst->host = kd_dec_str(d, dest, "host", p);
	if (!dst->host || !*dst->host)
		kd_dec_error(d, dest, "%s: missing: expected a service host name", p);
	snprintf(p, sizeof(p), "%s.subset", path);
	dst->subset = kd_dec_str(d, dest, "subset", p);
	if (kd_present(kd_get(dest, "port"))) {
		snprintf(p, sizeof(p), "%s.port", path);
		if (kd_dec_map(d, kd_get(dest, "port"), p, false))
			kd_dec_port(d, kd_get(dest, "port"), "number", p, true, &dst->port);
	}
}

static void decode_destination(struct kd_dec *d, struct kd_node rd, const char *path,
			       struct kd_destination *dst)
{
	struct kd_node w = kd_get(rd, "weight");
	char p[128];

	kd_dec_check_fields(d, rd, path, dest_fields);
	dst->line = kd_line(rd);
	dst->weight = -1;
	snprintf(p, sizeof(p), "%s.destination", path);
	kd_dec_destination(d, rd, "destination", p, dst);
	if (!kd_is_null(w) && (kd_int(w, &dst->weight) || dst->weight < 0 ||
			       dst->weight > KANARY_WEIGHT_MAX)) {
		kd_dec_error(d, w, "%s.weight: expected an integer 0-%d, got %s%s%s", path, KANARY_WEIGHT_MAX,
			     kd_str(w) ? "'" : "", kd_str(w) ? kd_str(w) : kd_kind_name(w),
			     kd_str(w) ? "'" : "");
		dst->weight = -1;
	}
}

static void decode_destinations(struct kd_dec *d, struct kd_node route, const char *path,
				struct kd_route *r)
{
	struct kd_node dests = kd_get(route, "route");
	char p[96];

	snprintf(p, sizeof(p), "%s.route", path);
	if (!kd_dec_list(d, dests, p))
		return;
	r->dests = kd_alloc(&d->out->arena, kd_len(dests) * sizeof(*r->dests));
	for (size_t i = 0; i < kd_len(dests); i++) {
		snprintf(p, sizeof(p), "%s.route[%zu]", path, i);
		if (kd_dec_map(d, kd_at(dests, i), p, true))
			decode_destination(d, kd_at(dests, i), p, &r->dests[r->ndests++]);
	}
	r->routable = r->ndests > 0;
}

static void decode_route(struct kd_dec *d, struct kd_node route, enum kd_route_kind kind,
			 int index, struct kd_route *r)
{
	static const char *const skipping[] = { "redirect", "directResponse", "delegate" };
	const char *list = kind == KD_ROUTE_HTTP ? "http" : "tcp";
	char path[64];

	snprintf(path, sizeof(path), "spec.%s[%d]", list, index);
	r->kind = kind;
	r->index = index;
	r->line = kd_line(route);
	if (!kd_dec_map(d, route, path, true))
		return;
	kd_dec_check_fields(d, route, path, kind == KD_ROUTE_HTTP ? http_fields : tcp_fields);
	kd_dec_route_match(d, route, path, r);
	for (size_t i = 0; kind == KD_ROUTE_HTTP && i < 3; i++) {
		struct kd_node x = kd_get(route, skipping[i]);

		if (kd_present(x)) {
			kd_dec_warn(d, x, "%s.%s: not supported; this route takes no traffic", path,
				    skipping[i]);
			return;
		}
	}
	decode_destinations(d, route, path, r);
	if (kind == KD_ROUTE_HTTP)
		kd_dec_route_mirrors(d, route, path, r);
	if (!r->routable)
		kd_dec_warn(d, route, "%s.route: no destination; this route takes no traffic", path);
}

static void decode_hosts(struct kd_dec *d, struct kd_node spec, struct kd_virtual_service *v)
{
	struct kd_node hosts = kd_get(spec, "hosts");
	char path[64];

	if (!kd_dec_list(d, hosts, "spec.hosts"))
		return;
	if (kd_len(hosts) == 0) {
		kd_dec_error(d, spec, "spec.hosts: missing: expected at least one host");
		return;
	}
	v->hosts = kd_alloc(&d->out->arena, kd_len(hosts) * sizeof(*v->hosts));
	v->host_lines = kd_alloc(&d->out->arena, kd_len(hosts) * sizeof(*v->host_lines));
	for (size_t i = 0; i < kd_len(hosts); i++) {
		const char *h = kd_str(kd_at(hosts, i));

		snprintf(path, sizeof(path), "spec.hosts[%zu]", i);
		if (!h || !*h) {
			kd_dec_error(d, kd_at(hosts, i), "%s: expected a host name, got %s", path,
				     kd_kind_name(kd_at(hosts, i)));
			continue;
		}
		v->host_lines[v->nhosts] = kd_line(kd_at(hosts, i));
		v->hosts[v->nhosts++] = kd_strdup(&d->out->arena, h);
	}
}

int kd_decode_virtual_service(struct kd_dec *d, struct kd_node obj, const struct kd_meta *m)
{
	struct kd_node spec = kd_get(obj, "spec"), http, tcp, gws;
	struct kd_virtual_service *v;
	int errors = d->errors;

	if (!kd_dec_map(d, spec, "spec", true))
		return -EINVAL;
	v = kd_alloc(&d->out->arena, sizeof(*v));
	v->m = *m;
	kd_dec_check_fields(d, spec, "spec", spec_fields);
	decode_hosts(d, spec, v);
	gws = kd_get(spec, "gateways");
	kd_dec_list(d, gws, "spec.gateways");
	v->mesh = kd_gateways_include_mesh(gws);
	if (!v->mesh)
		kd_dec_warn(d, gws, "spec.gateways: applies to gateways only (no 'mesh'), not to "
			    "traffic from pods; kanary ignores this VirtualService");
	http = kd_get(spec, "http");
	tcp = kd_get(spec, "tcp");
	if (kd_dec_list(d, http, "spec.http") && kd_dec_list(d, tcp, "spec.tcp")) {
		v->routes = kd_alloc(&d->out->arena, (kd_len(http) + kd_len(tcp)) * sizeof(*v->routes));
		for (size_t i = 0; i < kd_len(http); i++)
			decode_route(d, kd_at(http, i), KD_ROUTE_HTTP, (int)i, &v->routes[v->nroutes++]);
		for (size_t i = 0; i < kd_len(tcp); i++)
			decode_route(d, kd_at(tcp, i), KD_ROUTE_TCP, (int)i, &v->routes[v->nroutes++]);
	}
	if (d->errors != errors)
		return -EINVAL;
	KD_PUSH(d->out->vs, d->out->nvs, d->out->cap_vs, v);
	return 0;
}
