// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Manifests to desired services.  For each TCP port of each Service: the
 * VirtualService whose hosts name it picks a route for the weighted split
 * (the first one without a match, or with a port-only match), its
 * destinations become subsets weighted as written, and each subset's
 * backends are the Running, Ready, not terminating pods that the
 * destination Service selects and whose labels carry the DestinationRule
 * subset's labels.  The http[] routes with a match before it become
 * dark-release rules (desired_rules.c).  Without a VirtualService all
 * selected pods form one subset, "default".
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kanary.h"
#include "desired/desired_int.h"
#include "desired/hostname.h"
#include "base/sorted_names.h"

static __u32 fnv32(const char *s)
{
	__u32 h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static void fnv64(__u64 *h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		*h = (*h ^ b[i]) * 1099511628211ull;
}

__u64 kd_desired_service_hash(const struct kd_desired_service *s)
{
	__u64 h = 14695981039346656037ull;

	fnv64(&h, s->name, sizeof(s->name));
	fnv64(&h, &s->key, sizeof(s->key));
	fnv64(&h, &s->nsub, sizeof(s->nsub));
	for (__u32 i = 0; i < s->nsub; i++) {
		fnv64(&h, s->sub[i].name, sizeof(s->sub[i].name));
		fnv64(&h, &s->sub[i].weight_milli, sizeof(s->sub[i].weight_milli));
		fnv64(&h, &s->sub[i].n, sizeof(s->sub[i].n));
		for (__u32 j = 0; j < s->sub[i].n; j++) {
			fnv64(&h, &s->sub[i].be[j].addr, sizeof(s->sub[i].be[j].addr));
			fnv64(&h, &s->sub[i].be[j].port, sizeof(s->sub[i].be[j].port));
		}
	}
	/* Only when there are rules: a service without keeps the hash it had before rules. */
	if (s->rules && s->rules->n_rules) {
		fnv64(&h, &s->rules->n_rules, sizeof(s->rules->n_rules));
		fnv64(&h, &s->rules->n_conds, sizeof(s->rules->n_conds));
		fnv64(&h, s->rules->conds, s->rules->n_conds * sizeof(s->rules->conds[0]));
		fnv64(&h, s->rules->rules, s->rules->n_rules * sizeof(s->rules->rules[0]));
	}
	if (s->per_request)
		fnv64(&h, &s->per_request, sizeof(s->per_request));
	/* Likewise only with mirrors: by subset name, as reconcile writes them. */
	for (__u32 i = 0; i < s->nsub; i++)
		if (s->mirror_ppm[i]) {
			fnv64(&h, s->sub[i].name, sizeof(s->sub[i].name));
			fnv64(&h, &s->mirror_ppm[i], sizeof(s->mirror_ppm[i]));
		}
	for (int k = 0; k < KANARY_RULES_MAX; k++)
		for (__u32 i = 0; i < s->nsub; i++)
			if (s->rule_mirror_ppm[k][i]) {
				fnv64(&h, &k, sizeof(k));
				fnv64(&h, s->sub[i].name, sizeof(s->sub[i].name));
				fnv64(&h, &s->rule_mirror_ppm[k][i], sizeof(s->rule_mirror_ppm[k][i]));
			}
	return h;
}


/* ---- services ---- */

static void service_name(char *out, const struct kd_service *s, int port, bool multi)
{
	char full[300], suffix[32];
	size_t room, ns_len, name_len;

	snprintf(full, sizeof(full), "%s/%s", s->m.ns, s->m.name);
	if (multi)
		snprintf(full + strlen(full), sizeof(full) - strlen(full), "/%d", port);
	if (strlen(full) < KANARY_NAME_LEN) {
		strcpy(out, full);
		return;
	}
	/*
	 * Too long for the map: prefixes of both parts, still with the '/'
	 * that marks kanaryd's services, and a hash of the whole name
	 * ('.' cannot occur in a Service name, so this cannot collide).
	 */
	snprintf(suffix, sizeof(suffix), ".%08x", fnv32(full));
	if (multi)
		snprintf(suffix + strlen(suffix), sizeof(suffix) - strlen(suffix), "/%d", port);
	room = KANARY_NAME_LEN - 1 - strlen(suffix) - 1;
	ns_len = strlen(s->m.ns) < room / 2 ? strlen(s->m.ns) : room / 2;
	name_len = strlen(s->m.name) < room - ns_len ? strlen(s->m.name) : room - ns_len;
	snprintf(out, KANARY_NAME_LEN, "%.*s/%.*s%s", (int)ns_len, s->m.ns, (int)name_len,
		 s->m.name, suffix);
}

static bool service_usable(struct kd_build *c, const struct kd_service *s)
{
	const char *where = s->m.file;

	if (s->external_name)
		return false;
	switch (s->cip) {
	case KD_CIP_MISSING:
		kd_warn_once(c, "%s:%d: Service %s/%s: spec.clusterIP: missing: kanary needs the address "
			  "the API server assigned (use the output of kubectl get -o yaml); skipped",
			  where, s->m.line, s->m.ns, s->m.name);
		return false;
	case KD_CIP_NONE:
		kd_warn_once(c, "%s:%d: Service %s/%s: spec.clusterIP: None (headless): clients dial pods "
			  "directly, nothing to steer; skipped", where, s->m.line, s->m.ns, s->m.name);
		return false;
	case KD_CIP_V6:
		kd_warn_once(c, "%s:%d: Service %s/%s: spec.clusterIP: %s: IPv6 is not supported yet; skipped",
			  where, s->m.line, s->m.ns, s->m.name, s->cluster_ip);
		return false;
	case KD_CIP_V4:
		break;
	}
	if (!s->has_selector) {
		kd_warn_once(c, "%s:%d: Service %s/%s: spec.selector: missing: kanary finds backends by "
			  "pod labels, not from Endpoints; skipped", where, s->m.line, s->m.ns, s->m.name);
		return false;
	}
	for (size_t i = 0; i < s->nports; i++)
		if (s->ports[i].proto != IPPROTO_TCP)
			kd_warn_once(c, "%s:%d: Service %s/%s: spec.ports[%zu]: %s is not supported (TCP only); "
				  "port %d skipped", where, s->ports[i].line, s->m.ns, s->m.name, i,
				  s->ports[i].proto_name, s->ports[i].port);
	return true;
}

void kd_build_service(struct kd_build *c, size_t svc, struct kd_desired *out)
{
	const struct kd_service *s = c->svc[svc];
	bool multi = kd_tcp_ports(s) > 1;

	if (!service_usable(c, s))
		return;
	for (size_t i = 0; i < s->nports; i++) {
		const struct kd_svc_port *sp = &s->ports[i];
		struct kd_desired_service ds;

		if (sp->proto != IPPROTO_TCP || kd_tcp_port(s, sp->port) != sp)
			continue;	/* not TCP, or the same port listed twice */
		memset(&ds, 0, sizeof(ds));
		service_name(ds.name, s, sp->port, multi);
		kanary_addr_from_v4(&ds.key.vip, s->vip);
		ds.key.port = htons((__u16)sp->port);
		ds.key.proto = IPPROTO_TCP;
		ds.per_request = s->per_request && sp->http;
		if (s->per_request && !sp->http)
			kd_warn_once(c, "%s:%d: Service %s/%s: " KD_ANNOTATION_PER_REQUEST " does not apply "
				     "to port %d, which is not declared as HTTP (appProtocol: http, a name "
				     "such as http-web, or the annotation " KD_ANNOTATION_HTTP_PORTS "): "
				     "a server-first protocol there would wait for a request that never "
				     "comes", s->m.file, sp->line, s->m.ns, s->m.name, sp->port);
		ds.origin = kd_xasprintf("Service %s/%s port %d (%s:%d)", s->m.ns, s->m.name, sp->port,
				      s->m.file, sp->line);
		ds.owner = c->svc_hash[svc];
		KD_PUSH(ds.deps, ds.ndeps, ds.capdeps, ds.owner);
		c->cur = &ds;
		kd_route_service(c, &ds, svc, sp);
		c->cur = NULL;
		KD_PUSH(out->v, out->n, out->cap, ds);
	}
}

static void warn_unmatched_hosts(struct kd_build *c)
{
	char f[KD_FQDN_LEN];

	for (size_t i = 0; i < c->nvs; i++) {
		const struct kd_virtual_service *v = c->vs[i];

		for (size_t h = 0; v->mesh && h < v->nhosts; h++) {
			kd_host_fqdn(f, sizeof(f), v->hosts[h], v->m.ns, c->domain);
			if (kd_host_is_wildcard(v->hosts[h]))
				kd_warn_once(c, "%s:%d: VirtualService %s/%s: spec.hosts[%zu]: wildcard host '%s' "
					  "is not supported; ignored", v->m.file, v->host_lines[h], v->m.ns,
					  v->m.name, h, v->hosts[h]);
			else if (kd_service_by_fqdn(c, f) < 0)
				kd_warn_once(c, "%s:%d: VirtualService %s/%s: spec.hosts[%zu]: '%s' (%s) is not a "
					  "Service in the manifests; ignored", v->m.file, v->host_lines[h],
					  v->m.ns, v->m.name, h, v->hosts[h], f);
		}
	}
	for (size_t i = 0; i < c->ndr; i++)
		if (kd_service_by_fqdn(c, c->dr_fqdn[i]) < 0)
			kd_warn_once(c, "%s:%d: DestinationRule %s/%s: spec.host: '%s' (%s) is not a Service "
				  "in the manifests; ignored", c->dr[i]->m.file, c->dr[i]->host_line,
				  c->dr[i]->m.ns, c->dr[i]->m.name, c->dr[i]->host, c->dr_fqdn[i]);
}

static int cmp_desired_service(const void *a, const void *b)
{
	const struct kd_desired_service *x = a, *y = b;

	return strcmp(x->name, y->name);
}

static int cmp_key_then_place(const void *pa, const void *pb)
{
	const struct kd_desired_service *a = *(const struct kd_desired_service *const *)pa;
	const struct kd_desired_service *b = *(const struct kd_desired_service *const *)pb;
	int r = memcmp(&a->key, &b->key, sizeof(a->key));

	if (!r)
		r = a < b ? -1 : a > b;
	return r;
}

/*
 * Two Services on one VIP:port: the map has one key; the later names are
 * held, each naming the first.  Sorted by key, so not O(n^2).  The same
 * rule as kd_hold_shared_key, for a whole build.
 */
static void check_keys(struct kd_desired *out)
{
	const struct kd_desired_service **by_key;
	char addr[64];

	if (!out->n)
		return;
	by_key = kd_xcalloc(out->n, sizeof(*by_key));
	for (size_t i = 0; i < out->n; i++)
		by_key[i] = &out->v[i];
	qsort(by_key, out->n, sizeof(*by_key), cmp_key_then_place);
	for (size_t i = 1, first = 0; i < out->n; i++) {
		const struct kd_desired_service *f = by_key[first];

		if (memcmp(&by_key[i]->key, &f->key, sizeof(f->key)) != 0) {
			first = i;
			continue;
		}
		kanary_format_ipport(addr, sizeof(addr), &f->key.vip, f->key.port);
		kd_hold(&out->v[by_key[i] - out->v],
			kd_xasprintf("%s/tcp is also %s (%s)", addr, f->name, f->origin));
	}
	free(by_key);
}

/*
 * A few services' (v, sorted by name) holds for a shared key, against all
 * the others: linear, for a partial build of a handful.
 */
void kd_hold_shared_key(struct kd_desired_service *v, size_t n, const struct kd_desired *all)
{
	char addr[64];

	for (size_t i = 0; i < n; i++) {
		const struct kd_desired_service *first = NULL, *own;

		for (size_t j = 0; j < all->n; j++)
			if (memcmp(&all->v[j].key, &v[i].key, sizeof(v[i].key)) == 0 &&
			    strcmp(all->v[j].name, v[i].name) < 0 &&
			    (!first || strcmp(all->v[j].name, first->name) < 0))
				first = &all->v[j];
		if (!first)
			continue;
		/* Said with the first's origin as this build made it. */
		own = KD_SORTED_FIND(v, n, name, first->name);
		if (own)
			first = own;
		kanary_format_ipport(addr, sizeof(addr), &first->key.vip, first->key.port);
		kd_hold(&v[i], kd_xasprintf("%s/tcp is also %s (%s)", addr, first->name, first->origin));
	}
}

void kd_build_all(struct kd_build *c, struct kd_objects *const *sets, size_t nsets,
		  struct kd_desired *out)
{
	memset(out, 0, sizeof(*out));
	kd_ctx_init_config(c, sets, nsets);
	kd_ctx_init_pods(c, sets, nsets);
	for (size_t i = 0; i < c->nsvc; i++)
		kd_build_service(c, i, out);
	warn_unmatched_hosts(c);
	if (out->n)
		qsort(out->v, out->n, sizeof(*out->v), cmp_desired_service);
	check_keys(out);
	for (size_t i = 0; i < out->n; i++)
		out->v[i].hash = kd_desired_service_hash(&out->v[i]);
}

void kd_desired_build(struct kd_objects *const *sets, size_t nsets,
		      const struct kd_desired_opts *opts, struct kd_desired *out,
		      struct kd_diags *diags)
{
	struct kd_build c;

	memset(&c, 0, sizeof(c));
	c.domain = opts && opts->domain ? opts->domain : KD_DEFAULT_DOMAIN;
	c.diags = diags;
	kd_build_all(&c, sets, nsets, out);
	kd_ctx_free(&c);
}

void kd_desired_service_free(struct kd_desired_service *s)
{
	for (__u32 k = 0; k < s->nsub; k++)
		free(s->sub[k].be);
	free(s->origin);
	free(s->route);
	free(s->dr);
	free(s->problem);
	free(s->rules);
	free(s->deps);
	memset(s, 0, sizeof(*s));
}

void kd_desired_free(struct kd_desired *d)
{
	for (size_t i = 0; i < d->n; i++)
		kd_desired_service_free(&d->v[i]);
	free(d->v);
	memset(d, 0, sizeof(*d));
}

int kd_desired_subset_index(const struct kd_desired_service *d, const char *name)
{
	for (__u32 i = 0; i < d->nsub; i++)
		if (strncmp(d->sub[i].name, name, KANARY_SUBSET_NAME_LEN) == 0)
			return (int)i;
	return -1;
}

const struct kd_desired_service *kd_desired_find(const struct kd_desired *d, const char *name)
{
	return KD_SORTED_FIND(d->v, d->n, name, name);
}
