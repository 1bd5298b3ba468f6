// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Weights and dark-release rules as JSON: the one writer kanaryctl and kanaryd share. */
#include <stdio.h>
#include <string.h>
#include "kanary_json.h"

json_t *kanary_weight_json(__u32 weight_milli, bool real)
{
	if (!real && weight_milli % KANARY_WEIGHT_MILLI == 0)
		return json_integer(weight_milli / KANARY_WEIGHT_MILLI);
	return json_real((double)weight_milli / KANARY_WEIGHT_MILLI);
}

json_t *kanary_cond_json(const struct kanary_cond *c)
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

static json_t *dest_json(const struct kanary_rule *ru, __u32 d, const char *const *names,
			 __u32 n_names, unsigned int flags)
{
	__u8 idx = ru->dest_subset[d];
	__u32 prev = d ? ru->dest_cum_parts[d - 1] : 0;
	char missing[32];
	json_t *o = json_object();

	if (idx < n_names) {
		json_object_set_new(o, "subset",
				    json_stringn(names[idx], strnlen(names[idx], KANARY_SUBSET_NAME_LEN)));
	} else {
		snprintf(missing, sizeof(missing), "#%u (missing)", idx);
		json_object_set_new(o, "subset", json_string(missing));
	}
	json_object_set_new(o, "weight", kanary_weight_json(ru->dest_weight_milli[d],
							    flags & KANARY_RULE_JSON_REAL_WEIGHTS));
	if (flags & KANARY_RULE_JSON_PERCENT)
		json_object_set_new(o, "percent", json_real((ru->dest_cum_parts[d] - prev) / 100.0));
	return o;
}

json_t *kanary_rule_json(json_t *o, const struct kanary_rules *rs, __u32 at,
			 const char *const *names, __u32 n_names, unsigned int flags)
{
	const struct kanary_rule *ru = &rs->rules[at];
	json_t *match = json_array(), *to = json_array();
	struct kanary_rule_spec sp;

	if (kanary_rules_spec(rs, at, &sp, NULL) == 0) {
		for (__u32 m = 0; m < sp.n_matches; m++) {
			json_t *all = json_array();

			for (__u32 k = 0; k < sp.n_conds[m]; k++)
				json_array_append_new(all, kanary_cond_json(&sp.conds[m][k]));
			json_array_append_new(match, all);
		}
		for (__u32 d = 0; d < ru->n_dests && d < KANARY_RULE_DESTS_MAX; d++)
			json_array_append_new(to, dest_json(ru, d, names, n_names, flags));
	}
	json_object_set_new(o, "match", match);
	json_object_set_new(o, "to", to);
	return o;
}
