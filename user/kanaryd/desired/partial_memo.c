// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * What the partial build keeps of an object set (partial_int.h): the hosts
 * its config objects name and its pods' label keys, copied, so a removed
 * set's objects can still be touched after its source freed it.
 */
#include <stdlib.h>
#include <string.h>
#include "desired/hostname.h"
#include "desired/partial_int.h"

/* Every set seen gets one; never reused, unlike a freed set's address. */
static unsigned long long next_serial;

unsigned long long kd_serial_of(struct kd_objects *o)
{
	if (!o->serial)
		o->serial = ++next_serial;
	return o->serial;
}

unsigned long long kd_give_serials(struct kd_objects *const *sets, size_t nsets)
{
	for (size_t i = 0; i < nsets; i++)
		kd_serial_of(sets[i]);
	return next_serial;
}

static __u64 pod_name_hash(const struct kd_pod *p)
{
	__u64 h = kd_fqdn_hash(p->m.ns);

	h = (h ^ 0x1f) * 1099511628211ull;
	for (const char *s = p->m.name; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h ? h : 1;
}

char *kd_ns_key(const char *ns)
{
	size_t n = strlen(ns);
	char *k = kd_xcalloc(1, n + 2);

	memcpy(k, ns, n);
	k[n] = '\x1f';		/* no '=': never a label key */
	return k;
}

struct kd_set_memo *kd_memo_new(struct kd_objects *o, const char *domain)
{
	struct kd_set_memo *m = kd_xcalloc(1, sizeof(*m));
	char f[KD_FQDN_LEN];
	size_t nkey = 0, cap = 0;

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
	m->ns_key = kd_xcalloc(o->npod + 1, sizeof(*m->ns_key));
	m->ns_pos = kd_xcalloc(o->npod + 1, sizeof(*m->ns_pos));
	m->pod_name = kd_xcalloc(o->npod + 1, sizeof(*m->pod_name));
	m->key_first = kd_xcalloc(o->npod + 1, sizeof(*m->key_first));
	cap = 0;
	for (size_t i = 0; i < o->npod; i++) {
		const struct kd_pod *p = o->pod[i];

		m->ns_key[i] = kd_ns_key(p->m.ns);
		m->pod_name[i] = pod_name_hash(p);
		m->key_first[i] = nkey;
		for (size_t l = 0; l < p->labels.n; l++)
			KD_PUSH(m->key, nkey, cap, kd_label_key(p->m.ns, p->labels.key[l], p->labels.val[l]));
	}
	m->key_first[o->npod] = nkey;
	m->key_pos = kd_xcalloc(nkey + 1, sizeof(*m->key_pos));
	return m;
}

void kd_memo_free(struct kd_set_memo *m)
{
	for (size_t i = 0; i < m->npod; i++)
		free(m->ns_key[i]);
	for (size_t i = 0; i < m->key_first[m->npod]; i++)
		free(m->key[i]);
	free(m->ns_key);
	free(m->ns_pos);
	free(m->pod_name);
	free(m->key_first);
	free(m->key);
	free(m->key_pos);
	free(m->fqdn);
	free(m);
}
