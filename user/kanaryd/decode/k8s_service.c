// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Decodes a v1 Service: its cluster IP, selector, ports and kanary's annotations. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "decode/decode.h"

static void decode_cluster_ip(struct kd_dec *d, struct kd_node spec, struct kd_service *s)
{
	struct kd_node x = kd_get(spec, "clusterIP");
	const char *ip = kd_dec_str(d, spec, "clusterIP", "spec.clusterIP");
	struct in6_addr a6;
	struct in_addr a4;

	s->cluster_ip = ip;
	if (!ip || !*ip)
		s->cip = KD_CIP_MISSING;
	else if (strcmp(ip, "None") == 0)
		s->cip = KD_CIP_NONE;
	else if (inet_pton(AF_INET, ip, &a4) == 1) {
		s->cip = KD_CIP_V4;
		s->vip = a4.s_addr;
	} else if (inet_pton(AF_INET6, ip, &a6) == 1)
		s->cip = KD_CIP_V6;
	else
		kd_dec_error(d, x, "spec.clusterIP: expected an IP address or None, got '%s'", ip);
}

static void decode_target_port(struct kd_dec *d, struct kd_node port, const char *path,
			       struct kd_svc_port *p)
{
	struct kd_node x = kd_get(port, "targetPort");
	const char *s = kd_str(x);
	long long v;

	p->target_num = p->port;	/* Kubernetes' default: the same as port */
	if (kd_is_null(x))
		return;
	if (!s) {
		kd_dec_error(d, x, "%s.targetPort: expected a port number or a port name, got %s",
			     path, kd_kind_name(x));
		return;
	}
	/* Digits are a number even quoted: a port name must hold a letter. */
	if (*s && strspn(s, "0123456789") == strlen(s)) {
		v = strlen(s) <= 5 ? atoll(s) : 0;
		if (v < 1 || v > 65535) {
			kd_dec_error(d, x, "%s.targetPort: expected a port number 1-65535, got '%s'",
				     path, s);
			return;
		}
		p->target_num = (int)v;
		return;
	}
	if (strlen(s) > 15 || strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(s)) {
		kd_dec_error(d, x,
			     "%s.targetPort: '%s' is neither a port number nor a port name "
			     "(1-15 characters of a-z, 0-9 and -)", path, s);
		return;
	}
	p->target_num = 0;
	p->target_name = kd_strdup(&d->out->arena, s);
}

/* Whether a protocol name, as appProtocol or a port name's prefix gives it, is HTTP; -1: unknown. */
static int http_protocol(const char *proto, size_t len)
{
	static const char *const http[] = { "http", "http2", "h2c", "grpc", "grpc-web",
					    "kubernetes.io/h2c" };
	static const char *const other[] = { "tcp", "tls", "https", "mongo", "mysql", "redis",
					     "udp", "kubernetes.io/ws", "kubernetes.io/wss" };

	for (size_t i = 0; i < sizeof(http) / sizeof(http[0]); i++)
		if (strlen(http[i]) == len && strncasecmp(proto, http[i], len) == 0)
			return 1;
	for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++)
		if (strlen(other[i]) == len && strncasecmp(proto, other[i], len) == 0)
			return 0;
	return -1;
}

/* Istio's protocol selection: appProtocol when set, else the name's "<protocol>[-<suffix>]". */
static void port_protocol(struct kd_dec *d, struct kd_node port, const char *path,
			  struct kd_svc_port *p)
{
	const char *app = kd_dec_str(d, port, "appProtocol", path);
	int h;

	if (app)
		h = http_protocol(app, strlen(app));
	else if (p->name)
		h = http_protocol(p->name, strcspn(p->name, "-"));
	else
		h = -1;
	p->declared = h >= 0;
	p->http = h == 1;
}

/* One TCP port of s, given as text of len bytes; NULL when it is not one. */
static struct kd_svc_port *tcp_port_named(struct kd_service *s, const char *text, size_t len)
{
	long port = 0;

	if (len == 0 || len > 5 || strspn(text, "0123456789") < len)
		return NULL;
	for (size_t i = 0; i < len; i++)
		port = port * 10 + (text[i] - '0');
	for (size_t i = 0; i < s->nports; i++)
		if (s->ports[i].port == port && s->ports[i].proto == IPPROTO_TCP)
			return &s->ports[i];
	return NULL;
}

/* metadata.annotations[key] (NULL: absent), and in *at its node, for errors. */
static const char *annotation(struct kd_dec *d, struct kd_node obj, const char *key,
			      struct kd_node *at)
{
	struct kd_node ann = kd_get(kd_get(obj, "metadata"), "annotations");

	*at = kd_get(ann, key);
	return kd_dec_str(d, ann, key, "metadata.annotations");
}

/*
 * The next item of the comma-separated list at *p, spaces trimmed, in
 * *item and *len; *p moves past it (NULL after the last).  False when the
 * list is done.  "a," has two items, the second empty.
 */
static bool list_next(const char **p, const char **item, size_t *len)
{
	const char *s = *p;
	size_t n;

	if (!s)
		return false;
	n = strcspn(s, ",");
	*p = s[n] ? s + n + 1 : NULL;
	while (n && *s == ' ')
		s++, n--;
	while (n && s[n - 1] == ' ')
		n--;
	*item = s;
	*len = n;
	return true;
}

/* "8080, 9090": ports the operator says speak HTTP, whatever their names. */
static void decode_http_ports(struct kd_dec *d, struct kd_node obj, struct kd_service *s)
{
	struct kd_node at;
	const char *v = annotation(d, obj, KD_ANNOTATION_HTTP_PORTS, &at), *p = v, *item;
	size_t len;

	while (list_next(&p, &item, &len)) {
		struct kd_svc_port *sp = tcp_port_named(s, item, len);

		if (!sp) {
			kd_dec_error(d, at, "metadata.annotations." KD_ANNOTATION_HTTP_PORTS ": '%s' is "
				     "not a comma-separated list of the Service's TCP ports", v);
			return;
		}
		sp->http = true;
	}
}

static void decode_ports(struct kd_dec *d, struct kd_node spec, struct kd_service *s)
{
	struct kd_node ports = kd_get(spec, "ports");
	char path[64];

	if (!kd_dec_list(d, ports, "spec.ports"))
		return;
	s->ports = kd_alloc(&d->out->arena, kd_len(ports) * sizeof(*s->ports));
	for (size_t i = 0; i < kd_len(ports); i++) {
		struct kd_node port = kd_at(ports, i);
		struct kd_svc_port *p = &s->ports[s->nports];

		snprintf(path, sizeof(path), "spec.ports[%zu]", i);
		if (!kd_dec_map(d, port, path, true))
			continue;
		p->line = kd_line(port);
		p->name = kd_dec_str(d, port, "name", path);
		p->proto = kd_dec_protocol(d, port, path, &p->proto_name);
		if (!kd_dec_port(d, port, "port", path, true, &p->port) || p->proto < 0)
			continue;
		decode_target_port(d, port, path, p);
		port_protocol(d, port, path, p);
		s->nports++;
	}
}

/* "true" puts a service without rules on the rule path, each request weighted on its own. */
static void decode_per_request(struct kd_dec *d, struct kd_node obj, struct kd_service *s)
{
	struct kd_node at;
	const char *v = annotation(d, obj, KD_ANNOTATION_PER_REQUEST, &at);

	if (!v || strcmp(v, "false") == 0)
		return;
	if (strcmp(v, "true") == 0)
		s->per_request = true;
	else
		kd_dec_error(d, at, "metadata.annotations." KD_ANNOTATION_PER_REQUEST
			     ": expected \"true\" or \"false\", got '%s'", v);
}

/* A namespace name as Kubernetes allows it: an RFC 1123 label. */
static bool namespace_name_ok(const char *s, size_t n)
{
	if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	return true;
}

/*
 * "ns1,ns2" or "*": the namespaces whose VirtualServices and
 * DestinationRules the Service's owner lets govern it.  The grant is the
 * Service's own, as a Gateway API ReferenceGrant is its namespace's: no
 * other namespace can give it.
 */
static void decode_routing_from(struct kd_dec *d, struct kd_node obj, struct kd_service *s)
{
	struct kd_node at;
	const char *v = annotation(d, obj, KD_ANNOTATION_ROUTING_FROM, &at), *p = v, *item;
	size_t n = 1, len;

	if (!v)
		return;
	for (const char *c = v; *c; c++)
		n += *c == ',';
	s->routing_from = kd_alloc(&d->out->arena, n * sizeof(*s->routing_from));
	while (list_next(&p, &item, &len)) {
		if (len == 1 && *item == '*')
			s->routing_from_any = true;
		else if (namespace_name_ok(item, len))
			s->routing_from[s->nrouting_from++] = kd_strndup(&d->out->arena, item, len);
		else
			kd_dec_error(d, at, "metadata.annotations." KD_ANNOTATION_ROUTING_FROM ": '%.*s' "
				     "is not a namespace name (expected a comma-separated list of "
				     "namespaces, or \"*\")", (int)len, item);
	}
}

int kd_decode_service(struct kd_dec *d, struct kd_node obj, const struct kd_meta *m)
{
	struct kd_node spec = kd_get(obj, "spec");
	struct kd_service *s;
	const char *type, *affinity, *itp;
	int errors = d->errors;

	if (!kd_dec_map(d, spec, "spec", true))
		return -EINVAL;
	s = kd_alloc(&d->out->arena, sizeof(*s));
	s->m = *m;
	type = kd_dec_str(d, spec, "type", "spec.type");
	s->external_name = type && strcmp(type, "ExternalName") == 0;
	if (!s->external_name)
		decode_cluster_ip(d, spec, s);
	s->has_selector = kd_len(kd_get(spec, "selector")) > 0;
	kd_dec_labels(d, kd_get(spec, "selector"), "spec.selector", &s->selector);
	decode_ports(d, spec, s);
	decode_per_request(d, obj, s);
	decode_routing_from(d, obj, s);
	decode_http_ports(d, obj, s);

	affinity = kd_dec_str(d, spec, "sessionAffinity", "spec.sessionAffinity");
	if (affinity && strcmp(affinity, "None") != 0)
		kd_dec_warn(d, kd_get(spec, "sessionAffinity"),
			    "spec.sessionAffinity: %s is not applied: kanary picks a pod per connection",
			    affinity);
	itp = kd_dec_str(d, spec, "internalTrafficPolicy", "spec.internalTrafficPolicy");
	if (itp && strcmp(itp, "Cluster") != 0)
		kd_dec_warn(d, kd_get(spec, "internalTrafficPolicy"),
			    "spec.internalTrafficPolicy: %s is not applied: kanary sends to pods on any node",
			    itp);
	if (d->errors != errors)
		return -EINVAL;
	KD_PUSH(d->out->svc, d->out->nsvc, d->out->cap_svc, s);
	return 0;
}
