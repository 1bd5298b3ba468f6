// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The objects of all good files, gathered for the desired-state build: later
 * duplicates dropped, FQDNs computed and indexed once, and the lookups Istio
 * does.
 */
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "desired/desired_int.h"
#include "desired/hostname.h"

/* ---- warnings once ---- */

static size_t text_hash(const char *s)
{
	size_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* Where text is in x, or the empty place it would take. */
static size_t text_place(const struct kd_text_set *x, const char *text)
{
	size_t i = text_hash(text) & (x->cap - 1);

	while (x->v[i] && strcmp(x->v[i], text) != 0)
		i = (i + 1) & (x->cap - 1);
	return i;
}

static void text_set_add(struct kd_text_set *x, const char *text)
{
	size_t at;

	if (2 * (x->n + 1) > x->cap) {
		struct kd_text_set big = { 0, x->cap ? 2 * x->cap : 64, NULL };

		big.v = kd_xcalloc(big.cap, sizeof(*big.v));
		for (size_t i = 0; i < x->cap; i++)
			if (x->v[i])
				big.v[text_place(&big, x->v[i])] = x->v[i];
		big.n = x->n;
		free(x->v);
		*x = big;
	}
	at = text_place(x, text);
	if (!x->v[at]) {
		x->v[at] = text;
		x->n++;
	}
}

/*
 * Adds the warning unless diags has its text already (from this build, or
 * from decoding).  The diags texts are hashed as they come: a scan of them
 * all for each warning made a build O(warnings^2).
 */
void kd_warn_once(struct kd_build *c, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	for (; c->nsaid < c->diags->n; c->nsaid++)
		text_set_add(&c->said, c->diags->v[c->nsaid].msg);
	if (!c->said.cap || !c->said.v[text_place(&c->said, msg)])
		kd_diag_add(c->diags, KD_WARN, "%s", msg);
}

/* ---- gathering objects, first definition wins ---- */

static bool meta_same(const struct kd_meta *a, const struct kd_meta *b)
{
	return strcmp(a->name, b->name) == 0 && strcmp(a->ns, b->ns) == 0;
}

struct sortable {
	const struct kd_meta *m;
	size_t order;
	unsigned long long h;	/* of ns and name: most comparisons are one integer's */
};

static unsigned long long meta_hash(const struct kd_meta *m)
{
	unsigned long long h = 14695981039346656037ull;

	for (const char *p = m->ns; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	h = (h ^ 0x1f) * 1099511628211ull;
	for (const char *p = m->name; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	return h;
}

/* By namespace, name, then place: the order duplicates are reported in. */
static int cmp_sortable(const void *pa, const void *pb)
{
	const struct sortable *a = pa, *b = pb;
	int r = strcmp(a->m->ns, b->m->ns);

	if (!r)
		r = strcmp(a->m->name, b->m->name);
	if (!r)
		r = a->order < b->order ? -1 : a->order > b->order;
	return r;
}

/* By hash first: the same ns/name still ends up together, in place order, at a fraction of the cost. */
static int cmp_hashed(const void *pa, const void *pb)
{
	const struct sortable *a = pa, *b = pb;

	if (a->h != b->h)
		return a->h < b->h ? -1 : 1;
	return cmp_sortable(pa, pb);
}

/* A later definition and the first one of its ns/name. */
struct dup {
	struct sortable later, first;
};

static int cmp_dup(const void *pa, const void *pb)
{
	return cmp_sortable(&((const struct dup *)pa)->later, &((const struct dup *)pb)->later);
}

/*
 * Drops later definitions of the same ns/name, with a warning naming both
 * places.  objs point to structs whose first member is their kd_meta.
 * Grouped by a hash of ns/name (110,000 objects sorted by strcmp were a
 * fifth of a pod event's CPU at 10,000 Services); the warnings, few, are
 * then said in namespace and name order.
 */
static size_t dedupe(struct kd_build *c, void **objs, size_t n)
{
	struct sortable *s = kd_xcalloc(n ? n : 1, sizeof(*s));
	bool *drop = kd_xcalloc(n ? n : 1, sizeof(*drop));
	struct dup *dups = NULL;
	size_t k = 0, ndup = 0, capdup = 0;

	for (size_t i = 0; i < n; i++) {
		s[i].m = objs[i];
		s[i].order = i;
		s[i].h = meta_hash(s[i].m);
	}
	qsort(s, n, sizeof(*s), cmp_hashed);
	for (size_t i = 1; i < n; i++) {
		size_t first = i - 1;
		struct dup d;

		while (first > 0 && s[first - 1].h == s[i].h && meta_same(s[first - 1].m, s[i].m))
			first--;
		if (s[first].h != s[i].h || !meta_same(s[first].m, s[i].m))
			continue;
		drop[s[i].order] = true;
		d.later = s[i];
		d.first = s[first];
		KD_PUSH(dups, ndup, capdup, d);
	}
	if (ndup)
		qsort(dups, ndup, sizeof(*dups), cmp_dup);
	for (size_t i = 0; i < ndup; i++) {
		const struct kd_meta *m = dups[i].later.m, *f = dups[i].first.m;

		kd_diag_add(c->diags, KD_WARN, "%s:%d: %s %s/%s is also defined at %s:%d; this one is ignored",
			    m->file, m->line, m->kind, m->ns, m->name, f->file, f->line);
	}
	for (size_t i = 0; i < n; i++)
		if (!drop[i])
			objs[k++] = objs[i];
	free(dups);
	free(s);
	free(drop);
	return k;
}

#define GATHER(c, sets, nsets, field, nfield)					\
	do {									\
		size_t total = 0, at = 0;					\
		for (size_t i = 0; i < (nsets); i++)				\
			total += (sets)[i]->nfield;				\
		(c)->field = kd_xcalloc(total, sizeof(*(c)->field));		\
		for (size_t i = 0; i < (nsets); i++)				\
			for (size_t j = 0; j < (sets)[i]->nfield; j++)		\
				(c)->field[at++] = (sets)[i]->field[j];		\
		(c)->nfield = dedupe((c), (void **)(c)->field, total);		\
	} while (0)

/* "NAMESPACE\x1fKEY=VALUE", made without printf: 100,000 pods make 200,000 of them per build. */
char *kd_label_key(const char *ns, const char *key, const char *val)
{
	size_t a = strlen(ns), b = strlen(key), c = strlen(val);
	char *k = kd_xcalloc(1, a + b + c + 3);

	memcpy(k, ns, a);
	k[a] = '\x1f';
	memcpy(k + a + 1, key, b);
	k[a + 1 + b] = '=';
	memcpy(k + a + 2 + b, val, c);
	return k;
}

__u64 kd_fqdn_hash(const char *fqdn)
{
	__u64 h = 14695981039346656037ull;

	for (; *fqdn; fqdn++)
		h = (h ^ (unsigned char)*fqdn) * 1099511628211ull;
	return h;
}

void kd_ctx_init_config(struct kd_build *c, struct kd_objects *const *sets, size_t nsets)
{
	GATHER(c, sets, nsets, svc, nsvc);
	GATHER(c, sets, nsets, dr, ndr);
	GATHER(c, sets, nsets, vs, nvs);
	c->svc_fqdn = kd_xcalloc(c->nsvc, sizeof(char *));
	c->svc_hash = kd_xcalloc(c->nsvc ? c->nsvc : 1, sizeof(*c->svc_hash));
	for (size_t i = 0; i < c->nsvc; i++) {
		const struct kd_service *s = c->svc[i];
		char f[KD_FQDN_LEN];

		kd_service_fqdn(f, sizeof(f), s->m.name, s->m.ns, c->domain);
		c->svc_fqdn[i] = kd_xstrdup(f);
		c->svc_hash[i] = kd_fqdn_hash(f);
		kd_name_index_add(&c->svc_by_fqdn, c->svc_fqdn[i], i);
		if (s->selector.n)
			kd_name_index_add(&c->svc_by_selector,
					  kd_label_key(s->m.ns, s->selector.key[0], s->selector.val[0]), i);
	}
	c->dr_fqdn = kd_xcalloc(c->ndr, sizeof(char *));
	for (size_t i = 0; i < c->ndr; i++) {
		char f[KD_FQDN_LEN];

		kd_host_fqdn(f, sizeof(f), c->dr[i]->host, c->dr[i]->m.ns, c->domain);
		c->dr_fqdn[i] = kd_xstrdup(f);
		kd_name_index_add(&c->dr_by_fqdn, c->dr_fqdn[i], i);
	}
	kd_name_index_sort(&c->svc_by_fqdn);
	kd_name_index_sort(&c->svc_by_selector);
	kd_name_index_sort(&c->dr_by_fqdn);
	for (size_t i = 0; i < c->nvs; i++) {
		const struct kd_virtual_service *v = c->vs[i];

		for (size_t h = 0; v->mesh && h < v->nhosts; h++) {
			char f[KD_FQDN_LEN];

			kd_host_fqdn(f, sizeof(f), v->hosts[h], v->m.ns, c->domain);
			kd_name_index_add(&c->vs_by_host, kd_xstrdup(f), i);
		}
	}
	kd_name_index_sort(&c->vs_by_host);
}

void kd_ctx_init_pods(struct kd_build *c, struct kd_objects *const *sets, size_t nsets)
{
	GATHER(c, sets, nsets, pod, npod);
	for (size_t i = 0; i < c->npod; i++)
		for (size_t l = 0; l < c->pod[i]->labels.n; l++)
			kd_name_index_add(&c->pods_by_label,
					  kd_label_key(c->pod[i]->m.ns, c->pod[i]->labels.key[l],
						       c->pod[i]->labels.val[l]), i);
	kd_name_index_sort(&c->pods_by_label);
}

void kd_ctx_free_pods(struct kd_build *c)
{
	for (size_t i = 0; i < c->pods_by_label.n; i++)
		free((char *)c->pods_by_label.v[i].name);
	kd_name_index_free(&c->pods_by_label);
	free(c->pod);
	c->pod = NULL;
	c->npod = 0;
}

void kd_ctx_free(struct kd_build *c)
{
	kd_ctx_free_pods(c);
	for (size_t i = 0; i < c->nsvc; i++)
		free(c->svc_fqdn[i]);
	for (size_t i = 0; i < c->ndr; i++)
		free(c->dr_fqdn[i]);
	for (size_t i = 0; i < c->vs_by_host.n; i++)
		free((char *)c->vs_by_host.v[i].name);
	for (size_t i = 0; i < c->svc_by_selector.n; i++)
		free((char *)c->svc_by_selector.v[i].name);
	kd_name_index_free(&c->svc_by_fqdn);
	kd_name_index_free(&c->svc_by_selector);
	kd_name_index_free(&c->dr_by_fqdn);
	kd_name_index_free(&c->vs_by_host);
	free(c->said.v);
	free(c->svc_fqdn);
	free(c->svc_hash);
	free(c->dr_fqdn);
	free(c->svc);
	free(c->dr);
	free(c->vs);
	c->said.v = NULL;
}

/* ---- lookups ---- */

/* Also a dependency of the service being built, found or not (it may appear). */
ssize_t kd_service_by_fqdn(struct kd_build *c, const char *fqdn)
{
	struct kd_desired_service *ds = c->cur;

	if (ds)
		KD_PUSH(ds->deps, ds->ndeps, ds->capdeps, kd_fqdn_hash(fqdn));
	return kd_name_index_find(&c->svc_by_fqdn, fqdn);
}

/*
 * An object in namespace ns may govern Service s when it is in s's own
 * namespace, or when s grants ns by its kanary.io/routing-from annotation.
 * Without this, any tenant could route another's Service by naming it by
 * its qualified name while the owner has no VirtualService of their own.
 */
static bool may_govern(struct kd_build *c, const struct kd_service *s, const struct kd_meta *m,
		       int line)
{
	if (strcmp(m->ns, s->m.ns) == 0 || s->routing_from_any)
		return true;
	for (size_t i = 0; i < s->nrouting_from; i++)
		if (strcmp(s->routing_from[i], m->ns) == 0)
			return true;
	kd_warn_once(c, "%s:%d: %s %s/%s: may not route Service %s/%s: namespace %s is not the "
		     "Service's, and the Service does not grant it (annotation %s); ignored for it",
		     m->file, line, m->kind, m->ns, m->name, s->m.ns, s->m.name, m->ns,
		     KD_ANNOTATION_ROUTING_FROM);
	return false;
}

/*
 * Among the rules naming a host, one in the Service's own namespace wins,
 * else the first in file order; a second candidate gets a warning, as Istio
 * would also pick just one.
 */
const struct kd_destination_rule *kd_rule_for(struct kd_build *c, size_t svc)
{
	const struct kd_service *s = c->svc[svc];
	const struct kd_destination_rule *best = NULL;
	size_t end, k = kd_name_index_range(&c->dr_by_fqdn, c->svc_fqdn[svc], &end);

	for (; k < end; k++) {
		const struct kd_destination_rule *r = c->dr[c->dr_by_fqdn.v[k].at];

		if (!may_govern(c, s, &r->m, r->host_line))
			continue;
		if (best && !(strcmp(r->m.ns, s->m.ns) == 0 && strcmp(best->m.ns, s->m.ns) != 0)) {
			kd_warn_once(c, "%s:%d: DestinationRule %s/%s: spec.host: Service %s/%s already has "
				  "DestinationRule %s/%s (%s:%d); this one is ignored for it",
				  r->m.file, r->host_line, r->m.ns, r->m.name, s->m.ns, s->m.name,
				  best->m.ns, best->m.name, best->m.file, best->m.line);
			continue;
		}
		best = r;
	}
	return best;
}

const struct kd_virtual_service *kd_vs_for(struct kd_build *c, size_t svc)
{
	const struct kd_service *s = c->svc[svc];
	const struct kd_virtual_service *best = NULL;
	size_t end, first = kd_name_index_range(&c->vs_by_host, c->svc_fqdn[svc], &end);

	for (size_t k = first; k < end; k++) {
		const struct kd_virtual_service *v = c->vs[c->vs_by_host.v[k].at];

		if (k > first && c->vs_by_host.v[k - 1].at == c->vs_by_host.v[k].at)
			continue;	/* it lists the host twice */
		if (!may_govern(c, s, &v->m, v->m.line))
			continue;
		if (best && !(strcmp(v->m.ns, s->m.ns) == 0 && strcmp(best->m.ns, s->m.ns) != 0)) {
			kd_warn_once(c, "%s:%d: VirtualService %s/%s: spec.hosts: Service %s/%s already has "
				  "VirtualService %s/%s (%s:%d); this one is ignored for it",
				  v->m.file, v->m.line, v->m.ns, v->m.name, s->m.ns, s->m.name,
				  best->m.ns, best->m.name, best->m.file, best->m.line);
			continue;
		}
		best = v;
	}
	return best;
}

const struct kd_dr_subset *kd_subset_of(const struct kd_destination_rule *r, const char *name)
{
	for (size_t i = 0; r && i < r->nsubsets; i++)
		if (strcmp(r->subsets[i].name, name) == 0)
			return &r->subsets[i];
	return NULL;
}

const struct kd_svc_port *kd_tcp_port(const struct kd_service *s, int port)
{
	for (size_t i = 0; i < s->nports; i++)
		if (s->ports[i].port == port && s->ports[i].proto == IPPROTO_TCP)
			return &s->ports[i];
	return NULL;
}

const struct kd_pod **kd_pod_candidates(struct kd_build *c, const char *ns,
					const struct kd_labels *sel, size_t *n)
{
	const struct kd_pod **v;
	size_t first = 0, end = c->npod;

	if (c->cache)
		return kd_cache_pod_candidates(c, ns, sel, n);
	for (size_t l = 0; l < sel->n; l++) {
		char *key = kd_label_key(ns, sel->key[l], sel->val[l]);
		size_t e, f = kd_name_index_range(&c->pods_by_label, key, &e);

		free(key);
		if (l == 0 || e - f < end - first) {
			first = f;
			end = e;
		}
	}
	*n = end - first;
	v = kd_xcalloc(*n ? *n : 1, sizeof(*v));
	for (size_t i = first; i < end; i++)
		v[i - first] = c->pod[sel->n ? c->pods_by_label.v[i].at : i];
	return v;
}

size_t kd_tcp_ports(const struct kd_service *s)
{
	size_t n = 0;

	for (size_t i = 0; i < s->nports; i++)
		n += s->ports[i].proto == IPPROTO_TCP;
	return n;
}
