// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <inttypes.h>
#include <stdio.h>
#include "kanary_json.h"
#include "report/desired_json.h"

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

/* [{route, match, to: [{subset, weight}]}]: kanary_rule_json, led by where each rule came from. */
static json_t *rules_json(const struct kd_desired_service *s)
{
	const char *names[KANARY_MAX_SUBSETS];
	json_t *a = json_array();

	for (__u32 i = 0; i < s->nsub && i < KANARY_MAX_SUBSETS; i++)
		names[i] = s->sub[i].name;
	for (__u32 i = 0; s->rules && i < s->rules->n_rules; i++)
		json_array_append_new(a, kanary_rule_json(json_pack("{s:s}", "route", s->rule_route[i]),
							  s->rules, i, names, s->nsub, 0));
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
		json_object_set_new(sub, "weight", kanary_weight_json(s->sub[i].weight_milli, false));
		json_object_set_new(sub, "backends", backends_json(&s->sub[i]));
		if (s->mirror_ppm[i])
			json_object_set_new(sub, "mirror_percent", json_real(kanary_percent_of(s->mirror_ppm[i])));
		for (int k = 0; k < KANARY_RULES_MAX; k++) {
			json_t *rules = json_object_get(sub, "mirror_rules");

			if (!s->rule_mirror_ppm[k][i])
				continue;
			if (!rules) {
				rules = json_array();
				json_object_set_new(sub, "mirror_rules", rules);
			}
			json_array_append_new(rules, json_pack("{s:i, s:f}", "rule", k + 1, "percent",
							       kanary_percent_of(s->rule_mirror_ppm[k][i])));
		}
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
