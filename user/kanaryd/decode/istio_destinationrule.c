// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Decodes an Istio DestinationRule (networking.istio.io v1, v1beta1 and
 * v1alpha3 share this schema): the host and its subsets' labels.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "decode/decode.h"

static const struct kd_field_rule spec_fields[] = {
	{ "host", NULL },
	{ "subsets", NULL },
	{ "trafficPolicy", "traffic policies (load balancing, connection pools, outlier detection, "
			   "TLS) are not applied by kanary; ignored" },
	{ "exportTo", "kanary cannot scope an object to some clients' namespaces: it applies to every "
		      "client, and only to Services of its own namespace or ones that grant it "
		      "(" KD_ANNOTATION_ROUTING_FROM "); ignored" },
	{ "workloadSelector", "kanary applies rules to every attached pod; ignored" },
	{ NULL, NULL },
};

static const struct kd_field_rule subset_fields[] = {
	{ "name", NULL },
	{ "labels", NULL },
	{ "trafficPolicy", "traffic policies are not applied by kanary; ignored" },
	{ NULL, NULL },
};

static void decode_subsets(struct kd_dec *d, struct kd_node spec, struct kd_destination_rule *r)
{
	struct kd_node subsets = kd_get(spec, "subsets");
	char path[64];

	if (!kd_dec_list(d, subsets, "spec.subsets"))
		return;
	r->subsets = kd_alloc(&d->out->arena, kd_len(subsets) * sizeof(*r->subsets));
	for (size_t i = 0; i < kd_len(subsets); i++) {
		struct kd_node sub = kd_at(subsets, i);
		struct kd_dr_subset *s = &r->subsets[r->nsubsets];

		snprintf(path, sizeof(path), "spec.subsets[%zu]", i);
		if (!kd_dec_map(d, sub, path, true))
			continue;
		kd_dec_check_fields(d, sub, path, subset_fields);
		s->name = kd_dec_str(d, sub, "name", path);
		if (!s->name) {
			kd_dec_error(d, sub, "%s.name: missing: every subset needs a name", path);
			continue;
		}
		for (size_t j = 0; j < r->nsubsets; j++) {
			if (strcmp(r->subsets[j].name, s->name) == 0) {
				kd_dec_error(d, sub, "%s.name: subset '%s' is defined twice", path,
					     s->name);
				break;
			}
		}
		snprintf(path, sizeof(path), "spec.subsets[%zu].labels", i);
		kd_dec_labels(d, kd_get(sub, "labels"), path, &s->labels);
		r->nsubsets++;
	}
}

int kd_decode_destination_rule(struct kd_dec *d, struct kd_node obj, const struct kd_meta *m)
{
	struct kd_node spec = kd_get(obj, "spec");
	struct kd_destination_rule *r;
	int errors = d->errors;

	if (!kd_dec_map(d, spec, "spec", true))
		return -EINVAL;
	r = kd_alloc(&d->out->arena, sizeof(*r));
	r->m = *m;
	kd_dec_check_fields(d, spec, "spec", spec_fields);
	r->host = kd_dec_str(d, spec, "host", "spec.host");
	r->host_line = kd_line(kd_get(spec, "host"));
	if (!r->host || !*r->host)
		kd_dec_error(d, spec, "spec.host: missing: expected the service's host name");
	decode_subsets(d, spec, r);
	if (d->errors != errors)
		return -EINVAL;
	KD_PUSH(d->out->dr, d->out->ndr, d->out->cap_dr, r);
	return 0;
}
