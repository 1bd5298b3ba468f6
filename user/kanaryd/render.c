// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <inttypes.h>
#include <stdio.h>
#include "kanary.h"
#include "render.h"
#include "rules.h"

json_t *kd_weight_json(__u32 milli)
{
	if (milli % KANARY_WEIGHT_MILLI == 0)
		return json_integer(milli / KANARY_WEIGHT_MILLI);
	return json_real((double)milli / KANARY_WEIGHT_MILLI);
}

static json_t *backends_json(const struct kd_desired_subset *sub)
{
	json_t *a = json_array();
	char buf[64];

	for (__u32 i = 0; i < sub->n; i++) {
		kanary_format_ipport(buf, sizeof(buf), &sub->be[i].addr, sub->be[i].port);
		json_array_append_new(a, json_string(buf));
	}
	return a;
}

/* As `kanaryctl -j route list` prints a condition. */
static json_t *cond_json(const struct kanary_cond *c)
{
	const char *op = c->op == KANARY_OP_EXACT ? "exact" :
			 c->op == KANARY_OP_PREFIX ? "prefix" : "present";
	json_t *o = json_object();

	json_object_set_new(o, "type", json_string(c->kind == KANARY_COND_PATH ? "path" : "header"));
	if (c->kind == KANARY_COND_HEADER)
		json_object_set_new(o, "name", json_stringn(c->name, c->name_len));
	json_object_set_new(o, "match", json_string(op));
	if (c->op != KANARY_OP_PRESENT)
		json_object_set_new(o, "value", json_stringn(c->value, c->value_len));
	return o;
}

/* [{route, match: [[cond, ...] (ANDed), ...] (ORed), to: [{subset, weight}]}] */
static json_t *rules_json(const struct kd_desired_service *s)
{
	json_t *a = json_array();

	for (__u32 i = 0; s->rules && i < s->rules->n_rules; i++) {
		const struct kanary_rule *ru = &s->rules->rules[i];
		json_t *match = json_array(), *to = json_array();
		struct kanary_rule_spec sp;

		if (kanary_rules_spec(s->rules, i, &sp, NULL))
			continue;
		for (__u32 m = 0; m < sp.n_matches; m++) {
			json_t *all = json_array();

			for (__u32 k = 0; k < sp.n_conds[m]; k++)
				json_array_append_new(all, cond_json(&sp.conds[m][k]));
			json_array_append_new(match, all);
		}
		for (__u32 d = 0; d < ru->n_dests && d < KANARY_RULE_DESTS_MAX; d++)
			json_array_append_new(to, json_pack("{s:s, s:o}", "subset",
				ru->dest_subset[d] < s->nsub ? s->sub[ru->dest_subset[d]].name : "?",
				"weight", kd_weight_json(ru->dest_weight_milli[d])));
		json_array_append_new(a, json_pack("{s:s, s:o, s:o}", "route", s->rule_route[i],
						   "match", match, "to", to));
	}
	return a;
}

json_t *kd_desired_service_json(const struct kd_desired_service *s)
{
	json_t *o = json_object(), *subs = json_array();
	char buf[64];

	kanary_format_ipport(buf, sizeof(buf), &s->key.vip, s->key.port);
	json_object_set_new(o, "name", json_string(s->name));
	json_object_set_new(o, "address", json_string(buf));
	json_object_set_new(o, "protocol", json_string("tcp"));
	json_object_set_new(o, "origin", json_string(s->origin ? s->origin : ""));
	json_object_set_new(o, "route", s->route ? json_string(s->route) : json_null());
	json_object_set_new(o, "destination_rule", s->dr ? json_string(s->dr) : json_null());
	if (s->hold) {
		json_object_set_new(o, "held", json_true());
		json_object_set_new(o, "problem", json_string(s->problem ? s->problem : ""));
	}
	snprintf(buf, sizeof(buf), "%016" PRIx64, (uint64_t)s->hash);
	json_object_set_new(o, "hash", json_string(buf));
	for (__u32 i = 0; i < s->nsub; i++) {
		json_t *sub = json_object();

		json_object_set_new(sub, "name", json_string(s->sub[i].name));
		json_object_set_new(sub, "weight", kd_weight_json(s->sub[i].weight_milli));
		json_object_set_new(sub, "backends", backends_json(&s->sub[i]));
		json_array_append_new(subs, sub);
	}
	json_object_set_new(o, "subsets", subs);
	json_object_set_new(o, "rules", rules_json(s));
	return o;
}

json_t *kd_desired_json(const struct kd_desired *d)
{
	json_t *a = json_array();

	for (size_t i = 0; i < d->n; i++)
		json_array_append_new(a, kd_desired_service_json(&d->v[i]));
	return a;
}

json_t *kd_diags_json(const struct kd_diags *d, enum kd_level worst_shown)
{
	json_t *a = json_array();

	for (size_t i = 0; i < d->n; i++) {
		json_t *o;

		if (d->v[i].level > worst_shown)
			continue;
		o = json_object();
		json_object_set_new(o, "level", json_string(kd_level_name(d->v[i].level)));
		json_object_set_new(o, "message", json_string(d->v[i].msg));
		json_array_append_new(a, o);
	}
	return a;
}
