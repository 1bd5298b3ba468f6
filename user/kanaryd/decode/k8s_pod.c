// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Decodes a v1 Pod: labels, IP, and whether it may take connections
 * (Running, Ready, not terminating), as the endpoints controller decides;
 * and its owner, which names its workload in the metrics.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "decode/decode.h"

static void decode_ip(struct kd_dec *d, struct kd_node status, struct kd_pod *p)
{
	const char *ip = kd_dec_str(d, status, "podIP", "status.podIP");
	struct in6_addr a6;
	struct in_addr a4;

	if (!ip || !*ip)
		return;
	if (inet_pton(AF_INET, ip, &a4) == 1)
		p->ip = a4.s_addr;
	else if (inet_pton(AF_INET6, ip, &a6) != 1)
		kd_dec_error(d, kd_get(status, "podIP"), "status.podIP: expected an IP address, got '%s'",
			     ip);
}

static bool decode_ready(struct kd_dec *d, struct kd_node status)
{
	struct kd_node conds = kd_get(status, "conditions");
	char path[64];

	if (!kd_dec_list(d, conds, "status.conditions"))
		return false;
	for (size_t i = 0; i < kd_len(conds); i++) {
		struct kd_node c = kd_at(conds, i);
		const char *type, *st;

		snprintf(path, sizeof(path), "status.conditions[%zu]", i);
		if (!kd_dec_map(d, c, path, true))
			continue;
		type = kd_str(kd_get(c, "type"));
		st = kd_str(kd_get(c, "status"));
		if (type && strcmp(type, "Ready") == 0)
			return st && strcasecmp(st, "True") == 0;
	}
	return false;
}

static void decode_container_ports(struct kd_dec *d, struct kd_node spec, struct kd_pod *p)
{
	struct kd_node cs = kd_get(spec, "containers");
	size_t total = 0;
	char path[96];

	if (!kd_dec_list(d, cs, "spec.containers"))
		return;
	for (size_t i = 0; i < kd_len(cs); i++)
		total += kd_len(kd_get(kd_at(cs, i), "ports"));
	p->ports = kd_alloc(&d->out->arena, total * sizeof(*p->ports));
	for (size_t i = 0; i < kd_len(cs); i++) {
		struct kd_node ports = kd_get(kd_at(cs, i), "ports");

		snprintf(path, sizeof(path), "spec.containers[%zu].ports", i);
		if (!kd_dec_list(d, ports, path))
			continue;
		for (size_t j = 0; j < kd_len(ports); j++) {
			struct kd_node port = kd_at(ports, j);
			struct kd_container_port *cp = &p->ports[p->nports];
			const char *proto;

			snprintf(path, sizeof(path), "spec.containers[%zu].ports[%zu]", i, j);
			if (!kd_dec_map(d, port, path, true))
				continue;
			cp->name = kd_dec_str(d, port, "name", path);
			cp->proto = kd_dec_protocol(d, port, path, &proto);
			if (kd_dec_port(d, port, "containerPort", path, true, &cp->port) && cp->proto > 0)
				p->nports++;
		}
	}
}

static void decode_owner(struct kd_dec *d, struct kd_node meta, struct kd_pod *p)
{
	struct kd_node refs = kd_get(meta, "ownerReferences");
	char path[64];

	if (!kd_dec_list(d, refs, "metadata.ownerReferences"))
		return;
	for (size_t i = 0; i < kd_len(refs); i++) {
		struct kd_node r = kd_at(refs, i), ctl;
		const char *kind, *name;
		bool controller = false;

		snprintf(path, sizeof(path), "metadata.ownerReferences[%zu]", i);
		if (!kd_dec_map(d, r, path, true))
			continue;
		kind = kd_dec_str(d, r, "kind", path);
		name = kd_dec_str(d, r, "name", path);
		ctl = kd_get(r, "controller");
		if (!kd_is_null(ctl) && kd_bool(ctl, &controller) < 0)
			kd_dec_error(d, ctl, "%s.controller: expected true or false", path);
		if (!kind || !name || (p->owner_name && !controller))
			continue;
		p->owner_kind = kind;
		p->owner_name = name;
		if (controller)
			return;
	}
}

int kd_decode_pod(struct kd_dec *d, struct kd_node obj, const struct kd_meta *m)
{
	struct kd_node meta = kd_get(obj, "metadata"), status = kd_get(obj, "status");
	struct kd_pod *p;
	int errors = d->errors;

	p = kd_alloc(&d->out->arena, sizeof(*p));
	p->m = *m;
	kd_dec_labels(d, kd_get(meta, "labels"), "metadata.labels", &p->labels);
	p->terminating = !kd_is_null(kd_get(meta, "deletionTimestamp"));
	decode_owner(d, meta, p);
	kd_dec_map(d, kd_get(obj, "spec"), "spec", false);
	decode_container_ports(d, kd_get(obj, "spec"), p);
	/* A pod as written, before the scheduler, has no status: not a backend yet. */
	if (kd_dec_map(d, status, "status", false)) {
		p->phase = kd_dec_str(d, status, "phase", "status.phase");
		p->running = p->phase && strcmp(p->phase, "Running") == 0;
		p->ready = decode_ready(d, status);
		decode_ip(d, status, p);
	}
	if (d->errors != errors)
		return -EINVAL;
	KD_PUSH(d->out->pod, d->out->npod, d->out->cap_pod, p);
	return 0;
}
