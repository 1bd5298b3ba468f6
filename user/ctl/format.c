// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* How services, weights and shares read, in plain text and in JSON. */
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include "ctl.h"

__u32 subset_parts(const struct kanary_svc_config *c, __u32 i)
{
	__u32 prev = i ? c->cum_weight[i - 1] : 0;

	if (i >= c->n_subsets || c->cum_weight[i] < prev)
		return 0;
	return c->cum_weight[i] - prev;
}

const char *subset_why_empty(const struct kanary_svc_config *c, __u32 i)
{
	const struct kanary_subset *s = &c->subsets[i];

	if (subset_parts(c, i))
		return NULL;
	if (!s->n_backends)
		return "no backends: its share goes to the other subsets";
	if (!s->weight_milli)
		return "weight 0";
	return "weight too small for one part in 10,000";
}

void fmt_ipport(char *buf, const struct kanary_backend *b)
{
	kanary_format_ipport(buf, ADDR_STR_LEN, &b->addr, b->port);
}

void fmt_vip(char *buf, const struct kanary_svc_config *c)
{
	kanary_format_ipport(buf, ADDR_STR_LEN, &c->key.vip, c->key.port);
}

static char *cfg_name(const struct kanary_svc_config *c, char *buf)
{
	snprintf(buf, KANARY_NAME_LEN, "%.*s", KANARY_NAME_LEN - 1, c->name);
	return buf;
}

json_t *service_json(const struct kanary_service *s)
{
	const struct kanary_svc_config *c = &s->cfg;
	char vip[ADDR_STR_LEN], addr[ADDR_STR_LEN], name[KANARY_NAME_LEN];
	json_t *subsets = json_array();

	for (__u32 i = 0; i < c->n_subsets; i++) {
		const struct kanary_subset *sub = &c->subsets[i];
		json_t *bes = json_array(), *o;
		const char *why = subset_why_empty(c, i);

		for (__u32 j = 0; j < sub->n_backends; j++) {
			fmt_ipport(addr, &s->backends[i][j]);
			json_array_append_new(bes, json_string(addr));
		}
		o = json_pack("{s:s%, s:o, s:f, s:I, s:o}", "name", sub->name,
			      strnlen(sub->name, KANARY_SUBSET_NAME_LEN), "weight",
			      kanary_weight_json(sub->weight_milli, true), "effective_percent",
			      subset_parts(c, i) / 100.0, "parts", (json_int_t)subset_parts(c, i),
			      "backends", bes);
		if (why)
			json_object_set_new(o, "note", json_string(why));
		json_array_append_new(subsets, o);
	}
	fmt_vip(vip, c);
	return json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:o}", "service", cfg_name(c, name),
			 "vip", vip, "protocol", "tcp", "id", (json_int_t)s->id, "slot",
			 (json_int_t)s->slot, "generation", (json_int_t)c->generation, "subsets",
			 subsets);
}

void service_print(const struct kanary_service *s)
{
	static const char *const hdr[] = { "  SUBSET", "WEIGHT", "SHARE", "BACKENDS" };
	const struct kanary_svc_config *c = &s->cfg;
	char vip[ADDR_STR_LEN], name[KANARY_NAME_LEN];
	struct table *t;

	fmt_vip(vip, c);
	printf("service %s  vip %s/tcp  id %u  slot %u  generation %u\n", cfg_name(c, name), vip,
	       s->id, s->slot, c->generation);
	if (!c->n_subsets) {
		printf("  no subsets yet: add backends with 'kanaryctl backend add %s SUBSET ADDR'\n",
		       name);
		return;
	}
	t = table_new(4, hdr);
	for (__u32 i = 0; i < c->n_subsets; i++) {
		const struct kanary_subset *sub = &c->subsets[i];
		char w[KANARY_WEIGHT_STR_LEN], share[16], sname[KANARY_SUBSET_NAME_LEN + 3];
		char bes[KANARY_MAX_BACKENDS * 24] = "", addr[ADDR_STR_LEN];

		for (__u32 j = 0; j < sub->n_backends; j++) {
			fmt_ipport(addr, &s->backends[i][j]);
			if (j)
				strcat(bes, " ");
			strcat(bes, addr);
		}
		if (!sub->n_backends)
			strcpy(bes, "(none)");
		snprintf(sname, sizeof(sname), "  %.*s", KANARY_SUBSET_NAME_LEN, sub->name);
		kanary_weight_format(w, sizeof(w), sub->weight_milli);
		snprintf(share, sizeof(share), "%.2f%%", subset_parts(c, i) / 100.0);
		table_add(t, sname, w, share, bes);
	}
	table_print(t);
}
