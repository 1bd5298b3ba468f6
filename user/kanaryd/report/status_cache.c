// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The status file's service entries, made again only when they change (status_cache.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "base/arena.h"
#include "base/fingerprint.h"
#include "report/desired_json.h"
#include "report/status_cache.h"

json_t *kd_status_service_json(const struct kd_desired_service *s, const struct kd_result *r)
{
	json_t *o = kd_desired_service_json(s);
	char summary[600];

	kd_desired_service_summary(s, summary, sizeof(summary));
	json_object_set_new(o, "summary", json_string(summary));
	json_object_set_new(o, "state", json_string(r ? kd_outcome_name(r->outcome) : "pending"));
	json_object_set_new(o, "message", r && r->msg ? json_string(r->msg) : json_null());
	return o;
}

/*
 * What the entry shows beyond the desired hash (which covers the address,
 * subsets, weights, backends, rules and mirrors): where it came from, held
 * or not and why, the rules' routes, and the result.
 */
static __u64 fingerprint(const struct kd_desired_service *s, const struct kd_result *r)
{
	__u64 h = KD_FP_INIT;
	int outcome = r ? (int)r->outcome : -1;

	kd_fp_mix(&h, &s->hash, sizeof(s->hash));
	kd_fp_mix(&h, &s->hold, sizeof(s->hold));
	kd_fp_str(&h, s->name);
	kd_fp_str(&h, s->origin);
	kd_fp_str(&h, s->route);
	kd_fp_str(&h, s->dr);
	kd_fp_str(&h, s->problem);
	for (__u32 i = 0; s->rules && i < s->rules->n_rules && i < KANARY_RULES_MAX; i++)
		kd_fp_str(&h, s->rule_route[i]);
	kd_fp_mix(&h, &outcome, sizeof(outcome));
	kd_fp_str(&h, r ? r->msg : NULL);
	return h;
}

void kd_status_cache_update(struct kd_status_cache *c, const struct kd_desired *want,
			    const struct kd_results *res)
{
	struct kd_status_entry *next = kd_xcalloc(want->n ? want->n : 1, sizeof(*next));
	size_t j = 0;

	c->made = 0;
	for (size_t i = 0; i < want->n; i++) {
		const struct kd_desired_service *s = &want->v[i];
		const struct kd_result *r = kd_results_find(res, s->name);
		struct kd_status_entry *e = &next[i];
		json_t *o;

		memcpy(e->name, s->name, sizeof(e->name));	/* both KANARY_NAME_LEN, terminated */
		e->print = fingerprint(s, r);
		/* Both in name order: one walk finds the kept entry. */
		while (j < c->n && strcmp(c->v[j].name, s->name) < 0)
			j++;
		if (j < c->n && strcmp(c->v[j].name, s->name) == 0 && c->v[j].print == e->print &&
		    c->v[j].text) {
			e->text = c->v[j].text;
			c->v[j].text = NULL;
			continue;
		}
		o = kd_status_service_json(s, r);
		e->text = json_dumps(o, JSON_COMPACT);
		json_decref(o);
		c->made++;
	}
	for (size_t k = 0; k < c->n; k++)
		free(c->v[k].text);
	free(c->v);
	c->v = next;
	c->n = want->n;
}

int kd_status_cache_print(const struct kd_status_cache *c, FILE *f)
{
	for (size_t i = 0; i < c->n; i++) {
		if (!c->v[i].text)
			return -ENOMEM;	/* json_dumps ran out of memory: not a partial file */
		if ((i && fputc(',', f) == EOF) || fputs(c->v[i].text, f) == EOF)
			return -errno;
	}
	return 0;
}

void kd_status_cache_free(struct kd_status_cache *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->v[i].text);
	free(c->v);
	memset(c, 0, sizeof(*c));
}
