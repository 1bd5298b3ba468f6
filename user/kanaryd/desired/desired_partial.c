// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Partial builds of the desired state (desired_partial.h): the sets an
 * event changed, the Services they touch, the services built again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "desired/desired_int.h"
#include "desired/desired_partial.h"
#include "desired/hostname.h"

/* What the cache keeps of one object set; the set itself is valid only while it is current. */
struct kd_set_memo {
	unsigned long long serial;
	struct kd_objects *set;
	bool config;		/* it has Services, DestinationRules or VirtualServices */
	size_t nfqdn;
	__u64 *fqdn;		/* the hosts its config objects name */
	size_t npod;
	char **pod_ns;		/* copies: the set is gone when an event removes it */
	__u64 *pod_name;	/* hash of each pod's ns/name */
	size_t *key_first;	/* pod i's label keys: key[key_first[i]] to key[key_first[i + 1] - 1] */
	char **key;
	struct kd_name_index by_label;	/* key[] -> pod index in the set */
};

struct kd_pod_count {
	__u64 h;		/* 0: an empty place */
	size_t n;
};

/* Every set seen gets one; never reused, unlike a freed set's address. */
static unsigned long long next_serial;

/* A set of hashes: pushed, then sorted and searched. */
struct hashes {
	size_t n, cap;
	__u64 *v;
};

static void hashes_add(struct hashes *h, __u64 x)
{
	KD_PUSH(h->v, h->n, h->cap, x);
}

static int cmp_u64(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

static void hashes_sort(struct hashes *h)
{
	size_t k = 0;

	if (h->n)
		qsort(h->v, h->n, sizeof(*h->v), cmp_u64);
	for (size_t i = 0; i < h->n; i++)
		if (k == 0 || h->v[k - 1] != h->v[i])
			h->v[k++] = h->v[i];
	h->n = k;
}

static bool hashes_has(const struct hashes *h, __u64 x)
{
	return h->n && bsearch(&x, h->v, h->n, sizeof(*h->v), cmp_u64);
}

/* ---- pod definitions by ns/name: a pod defined twice is left to a full build ---- */

static __u64 pod_name_hash(const struct kd_pod *p)
{
	__u64 h = kd_fqdn_hash(p->m.ns);

	h = (h ^ 0x1f) * 1099511628211ull;
	for (const char *s = p->m.name; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h ? h : 1;
}

static struct kd_pod_count *count_slot(struct kd_desired_cache *x, __u64 h)
{
	size_t i;

	if (2 * (x->ncount + 1) > x->capcount) {
		struct kd_pod_count *old = x->count;
		size_t oldcap = x->capcount;

		x->capcount = oldcap ? 2 * oldcap : 1024;
		x->count = kd_xcalloc(x->capcount, sizeof(*x->count));
		x->ncount = 0;
		for (size_t k = 0; k < oldcap; k++)
			if (old[k].h) {
				*count_slot(x, old[k].h) = old[k];
				x->ncount++;
			}
		free(old);
	}
	for (i = h & (x->capcount - 1); x->count[i].h && x->count[i].h != h;)
		i = (i + 1) & (x->capcount - 1);
	if (!x->count[i].h) {
		x->count[i].h = h;
		x->ncount++;
	}
	return &x->count[i];
}

/* ---- memos ---- */

static void memo_init(struct kd_set_memo *m, struct kd_objects *o, const char *domain)
{
	char f[KD_FQDN_LEN];
	size_t nkey = 0, cap = 0;

	memset(m, 0, sizeof(*m));
	m->serial = o->serial;
	m->set = o;
	m->config = o->nsvc || o->ndr || o->nvs;
	for (size_t i = 0; i < o->nsvc; i++) {
		kd_service_fqdn(f, sizeof(f), o->svc[i]->m.name, o->svc[i]->m.ns, domain);
		KD_PUSH(m->fqdn, m->nfqdn, cap, kd_fqdn_hash(f));
	}
	for (size_t i = 0; i < o->ndr; i++) {
		kd_host_fqdn(f, sizeof(f), o->dr[i]->host, o->dr[i]->m.ns, domain);
		KD_PUSH(m->fqdn, m->nfqdn, cap, kd_fqdn_hash(f));
	}
	for (size_t i = 0; i < o->nvs; i++)
		for (size_t h = 0; h < o->vs[i]->nhosts; h++) {
			kd_host_fqdn(f, sizeof(f), o->vs[i]->hosts[h], o->vs[i]->m.ns, domain);
			KD_PUSH(m->fqdn, m->nfqdn, cap, kd_fqdn_hash(f));
		}
	m->npod = o->npod;
	m->pod_ns = kd_xcalloc(o->npod + 1, sizeof(*m->pod_ns));
	m->pod_name = kd_xcalloc(o->npod + 1, sizeof(*m->pod_name));
	m->key_first = kd_xcalloc(o->npod + 1, sizeof(*m->key_first));
	cap = 0;
	for (size_t i = 0; i < o->npod; i++) {
		const struct kd_pod *p = o->pod[i];

		m->pod_ns[i] = kd_xstrdup(p->m.ns);
		m->pod_name[i] = pod_name_hash(p);
		m->key_first[i] = nkey;
		for (size_t l = 0; l < p->labels.n; l++) {
			char *k = kd_label_key(p->m.ns, p->labels.key[l], p->labels.val[l]);

			KD_PUSH(m->key, nkey, cap, k);
			kd_name_index_add(&m->by_label, k, i);
		}
	}
	m->key_first[o->npod] = nkey;
	kd_name_index_sort(&m->by_label);
}

static void memo_free(struct kd_set_memo *m)
{
	for (size_t i = 0; i < m->npod; i++)
		free(m->pod_ns[i]);
	for (size_t i = 0; m->key_first && i < m->key_first[m->npod]; i++)
		free(m->key[i]);
	kd_name_index_free(&m->by_label);
	free(m->pod_ns);
	free(m->pod_name);
	free(m->key_first);
	free(m->key);
	free(m->fqdn);
	memset(m, 0, sizeof(*m));
}

static void give_serials(struct kd_objects *const *sets, size_t nsets)
{
	for (size_t i = 0; i < nsets; i++)
		if (!sets[i]->serial)
			sets[i]->serial = ++next_serial;
}

void kd_desired_cache_free(struct kd_desired_cache *x)
{
	if (x->cfg) {
		kd_ctx_free(x->cfg);
		free(x->cfg);
	}
	for (size_t i = 0; i < x->nsets; i++)
		memo_free(&x->sets[i]);
	free(x->sets);
	free(x->count);
	memset(x, 0, sizeof(*x));
}

void kd_desired_build_full(struct kd_desired_cache *x, struct kd_objects *const *sets,
			   size_t nsets, const struct kd_desired_opts *opts, struct kd_desired *out,
			   struct kd_diags *diags)
{
	struct kd_build *c = kd_xcalloc(1, sizeof(*c));

	kd_desired_cache_free(x);
	snprintf(x->domain, sizeof(x->domain), "%s",
		 opts && opts->domain ? opts->domain : KD_DEFAULT_DOMAIN);
	c->domain = x->domain;
	c->diags = diags;
	kd_build_all(c, sets, nsets, out);
	kd_ctx_free_pods(c);
	c->diags = NULL;
	x->cfg = c;
	give_serials(sets, nsets);
	x->sets = kd_xcalloc(nsets ? nsets : 1, sizeof(*x->sets));
	for (size_t i = 0; i < nsets; i++) {
		memo_init(&x->sets[x->nsets++], sets[i], x->domain);
		for (size_t p = 0; p < sets[i]->npod; p++)
			count_slot(x, x->sets[i].pod_name[p])->n++;
	}
	x->last_serial = next_serial;
	x->valid = true;
}

/* ---- what the changed sets touch ---- */

/* Whether every label of Service s's selector is among a pod's keys. */
static bool selects(const struct kd_service *s, char *const *key, size_t nkey)
{
	for (size_t l = 0; l < s->selector.n; l++) {
		char *want = kd_label_key(s->m.ns, s->selector.key[l], s->selector.val[l]);
		bool found = false;

		for (size_t k = 0; k < nkey && !found; k++)
			found = strcmp(key[k], want) == 0;
		free(want);
		if (!found)
			return false;
	}
	return true;
}

/* The Services of c that select pod i of memo m (found by their first selector label). */
static void touch_pod(const struct kd_build *c, const struct kd_set_memo *m, size_t i,
		      struct hashes *t)
{
	char *const *key = m->key + m->key_first[i];
	size_t nkey = m->key_first[i + 1] - m->key_first[i];

	for (size_t k = 0; k < nkey; k++) {
		size_t end, r = kd_name_index_range(&c->svc_by_selector, key[k], &end);

		for (; r < end; r++) {
			size_t svc = c->svc_by_selector.v[r].at;

			if (selects(c->svc[svc], key, nkey))
				hashes_add(t, c->svc_hash[svc]);
		}
	}
}

static void touch_set(const struct kd_build *c, const struct kd_set_memo *m, struct hashes *t)
{
	for (size_t i = 0; i < m->nfqdn; i++)
		hashes_add(t, m->fqdn[i]);
	for (size_t i = 0; i < m->npod; i++)
		touch_pod(c, m, i, t);
}

/* ---- pods from the memos ---- */

static void add_candidate(struct kd_build *c, const struct kd_set_memo *m, size_t i,
			  const struct kd_pod ***v, size_t *n, size_t *cap)
{
	if (count_slot(c->cache, m->pod_name[i])->n > 1)
		c->fallback = true;	/* which definition wins is the full build's dedupe */
	KD_PUSH(*v, *n, *cap, m->set->pod[i]);
}

const struct kd_pod **kd_cache_pod_candidates(struct kd_build *c, const char *ns,
					      const struct kd_labels *sel, size_t *n)
{
	const struct kd_desired_cache *x = c->cache;
	const struct kd_pod **v = kd_xcalloc(1, sizeof(*v));
	char *key = sel->n ? kd_label_key(ns, sel->key[0], sel->val[0]) : NULL;
	unsigned long long h = key ? kd_name_index_hash(key) : 0;
	size_t cap = 1;

	*n = 0;
	for (size_t s = 0; s < x->nsets; s++) {
		const struct kd_set_memo *m = &x->sets[s];
		size_t end, r;

		if (!key) {
			for (size_t i = 0; i < m->npod; i++)
				if (strcmp(m->pod_ns[i], ns) == 0)
					add_candidate(c, m, i, &v, n, &cap);
			continue;
		}
		for (r = kd_name_index_range_hashed(&m->by_label, key, h, &end); r < end; r++)
			add_candidate(c, m, m->by_label.v[r].at, &v, n, &cap);
	}
	free(key);
	return v;
}

/* ---- the partial build ---- */

/*
 * The sets now, memos kept or made; the memos of sets gone stay in x->sets,
 * kept[] false.  A source gives its sets in the same order every time (by
 * file or object name), so the kept ones are found in one walk; a set with
 * a serial newer than the cache's is new.  Out of order, a set is only
 * taken for a new one: its objects are touched, still correct.
 */
static struct kd_set_memo *match_sets(struct kd_desired_cache *x, struct kd_objects *const *sets,
				      size_t nsets, bool *kept, bool *added)
{
	struct kd_set_memo *now = kd_xcalloc(nsets ? nsets : 1, sizeof(*now));
	size_t j = 0;

	for (size_t i = 0; i < nsets; i++) {
		size_t k = j;

		if (sets[i]->serial <= x->last_serial)
			while (k < x->nsets && x->sets[k].set != sets[i])
				k++;
		if (sets[i]->serial <= x->last_serial && k < x->nsets &&
		    x->sets[k].serial == sets[i]->serial) {
			now[i] = x->sets[k];
			kept[k] = true;
			j = k + 1;
		} else {
			memo_init(&now[i], sets[i], x->domain);
			added[i] = true;
		}
	}
	return now;
}

/* Touches, against c, every set the event removed (not kept) or added. */
static void touch_changed(const struct kd_build *c, const struct kd_desired_cache *x,
			  const bool *kept, const struct kd_set_memo *now, const bool *added,
			  size_t nsets, struct hashes *t)
{
	for (size_t i = 0; i < x->nsets; i++)
		if (!kept[i])
			touch_set(c, &x->sets[i], t);
	for (size_t i = 0; i < nsets; i++)
		if (added[i])
			touch_set(c, &now[i], t);
}

/* Warnings of a config rebuild (duplicates) that diags does not have yet. */
static void add_new_diags(struct kd_diags *to, const struct kd_diags *from)
{
	for (size_t i = 0; i < from->n; i++)
		if (!kd_diag_has(to, from->v[i].msg))
			kd_diag_add(to, from->v[i].level, "%s", from->v[i].msg);
}

/*
 * Brings the cache to sets and collects in t what changed: 1 when a pod
 * defined twice was among the changes (a full build decides which wins).
 */
static int update_cache(struct kd_desired_cache *x, struct kd_objects *const *sets, size_t nsets,
			struct kd_diags *diags, struct hashes *t)
{
	bool *kept = kd_xcalloc(x->nsets + 1, sizeof(*kept));
	bool *added = kd_xcalloc(nsets + 1, sizeof(*added));
	struct kd_set_memo *now = match_sets(x, sets, nsets, kept, added);
	bool config = false, twice = false;

	for (size_t i = 0; i < x->nsets; i++)
		config |= !kept[i] && x->sets[i].config;
	for (size_t i = 0; i < nsets; i++)
		config |= added[i] && now[i].config;
	/* Against the configuration before: what the old pods and objects were part of. */
	touch_changed(x->cfg, x, kept, now, added, nsets, t);
	for (size_t i = 0; i < x->nsets; i++)
		for (size_t p = 0; !kept[i] && p < x->sets[i].npod; p++)
			twice |= count_slot(x, x->sets[i].pod_name[p])->n-- > 1;
	for (size_t i = 0; i < nsets; i++)
		for (size_t p = 0; added[i] && p < now[i].npod; p++)
			twice |= ++count_slot(x, now[i].pod_name[p])->n > 1;
	if (config) {
		struct kd_build *c = kd_xcalloc(1, sizeof(*c));
		struct kd_diags said = { 0 };

		c->domain = x->domain;
		c->diags = &said;
		kd_ctx_init_config(c, sets, nsets);
		c->diags = NULL;
		add_new_diags(diags, &said);
		kd_diags_free(&said);
		kd_ctx_free(x->cfg);
		free(x->cfg);
		x->cfg = c;
		/* And against the configuration after: what they are part of now. */
		touch_changed(x->cfg, x, kept, now, added, nsets, t);
	}
	for (size_t i = 0; i < x->nsets; i++)
		if (!kept[i])
			memo_free(&x->sets[i]);
	free(x->sets);
	x->sets = now;
	x->nsets = nsets;
	x->last_serial = next_serial;
	free(kept);
	free(added);
	hashes_sort(t);
	return twice;
}

static bool touched(const struct kd_desired_service *s, const struct hashes *t)
{
	for (__u32 i = 0; i < s->ndeps; i++)
		if (hashes_has(t, s->deps[i]))
			return true;
	return false;
}

static int cmp_desired_name(const void *a, const void *b)
{
	return strcmp(((const struct kd_desired_service *)a)->name,
		      ((const struct kd_desired_service *)b)->name);
}

/* The services of the Services in owners, built again from the cache, sorted by name. */
static void rebuild(struct kd_desired_cache *x, const struct hashes *owners, struct kd_diags *diags,
		    struct kd_desired *patch)
{
	struct kd_build *c = x->cfg;

	memset(patch, 0, sizeof(*patch));
	free(c->said.v);
	memset(&c->said, 0, sizeof(c->said));
	c->nsaid = 0;
	c->diags = diags;
	c->cache = x;
	c->fallback = false;
	for (size_t i = 0; i < c->nsvc; i++)
		if (hashes_has(owners, c->svc_hash[i]))
			kd_build_service(c, i, patch);
	c->cache = NULL;
	c->diags = NULL;
	if (patch->n)
		qsort(patch->v, patch->n, sizeof(*patch->v), cmp_desired_name);
}

int kd_desired_build_some(struct kd_desired_cache *x, struct kd_objects *const *sets,
			  size_t nsets, const struct kd_desired_opts *opts, struct kd_desired *d,
			  struct kd_diags *diags, struct kd_changes *changes, size_t *rebuilt)
{
	const char *domain = opts && opts->domain ? opts->domain : KD_DEFAULT_DOMAIN;
	struct hashes t = { 0 }, owners = { 0 };
	struct kd_desired patch;
	size_t *old = NULL, nold = 0, capold = 0;
	int ret = 1;

	memset(changes, 0, sizeof(*changes));
	*rebuilt = 0;
	if (!x->valid || strcmp(domain, x->domain) != 0)
		return 1;
	give_serials(sets, nsets);
	if (update_cache(x, sets, nsets, diags, &t))
		goto invalid;
	/* A touched Service's services, and every service that looked one up. */
	for (size_t i = 0; i < t.n; i++)
		hashes_add(&owners, t.v[i]);
	for (size_t i = 0; i < d->n; i++)
		if (touched(&d->v[i], &t))
			hashes_add(&owners, d->v[i].owner);
	hashes_sort(&owners);
	rebuild(x, &owners, diags, &patch);
	if (x->cfg->fallback)
		goto invalid_patch;
	for (size_t i = 0; i < d->n; i++)
		if (hashes_has(&owners, d->v[i].owner))
			KD_PUSH(old, nold, capold, i);
	/* Services added, removed or moved to another VIP:port: the maps' keys change, a full build's job. */
	if (nold != patch.n)
		goto out_patch;
	for (size_t k = 0; k < nold; k++)
		if (strcmp(d->v[old[k]].name, patch.v[k].name) != 0 ||
		    memcmp(&d->v[old[k]].key, &patch.v[k].key, sizeof(patch.v[k].key)) != 0)
			goto out_patch;
	kd_hold_shared_key(patch.v, patch.n, d);
	for (size_t k = 0; k < patch.n; k++) {
		struct kd_desired_service *was = &d->v[old[k]];

		patch.v[k].hash = kd_desired_service_hash(&patch.v[k]);
		if (kd_desired_service_differs(was, &patch.v[k]))
			kd_changes_add(changes, patch.v[k].name);
		kd_desired_service_free(was);
		*was = patch.v[k];
	}
	*rebuilt = patch.n;
	free(patch.v);
	free(old);
	free(t.v);
	free(owners.v);
	return 0;

invalid_patch:
	x->valid = false;
out_patch:
	kd_desired_free(&patch);
	free(old);
	free(t.v);
	free(owners.v);
	return ret;
invalid:
	x->valid = false;
	free(t.v);
	return ret;
}
