// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * A route's match list (VirtualService http[].match, tcp[].match): for each
 * element, the port and gateways it applies to and the header and URI
 * conditions that become dark-release rules.  A condition kanary cannot
 * evaluate is warned about and marks its element unsupported, which is then
 * never applied: dropping the condition would route more than written.
 */
#include <stdio.h>
#include <string.h>
#include "decode/decode.h"

/* Field paths grow as they go down: each buffer holds its parent's path and more. */
#define ELEMENT_PATH	128
#define FIELD_PATH	192
#define HEADER_PATH	320
#define OP_PATH		352

static const char no_client_match[] = "matching on the client is not supported";

bool kd_gateways_include_mesh(struct kd_node gws)
{
	if (kd_is_null(gws))
		return true;
	for (size_t i = 0; i < kd_len(gws); i++) {
		const char *g = kd_str(kd_at(gws, i));

		if (g && strcmp(g, "mesh") == 0)
			return true;
	}
	return false;
}

/* Records why kanary cannot evaluate m (the first reason is kept) and warns at the field. */
static void unsupported(struct kd_dec *d, struct kd_match *m, struct kd_node at, const char *path,
			const char *why)
{
	char text[OP_PATH + 160];

	snprintf(text, sizeof(text), "%s: %s", path, why);
	kd_dec_warn(d, at, "%s; kanary cannot evaluate this match element", text);
	if (!m->unsupported)
		m->unsupported = kd_strdup(&d->out->arena, text);
}

/*
 * A StringMatch ({exact: V}, {prefix: V}, {regex: V}, or {} for a header's
 * presence) into c.  False when it adds no condition: a URI match that every
 * path passes ({} or an empty prefix, as Envoy reads them), or one that is
 * unsupported or malformed (reported).
 */
static bool string_match(struct kd_dec *d, struct kd_match *m, struct kd_node v, const char *path,
			 const char *header, struct kd_condition *c)
{
	static const char *const ops[] = { "exact", "prefix", "regex" };
	struct kd_node key, val;
	const char *op, *text;

	if (kd_is_null(v) && !header)
		return false;	/* uri: null is no URI match */
	if (!kd_is_map(v)) {
		kd_dec_error(d, v, "%s: expected {exact: VALUE}, {prefix: VALUE}%s, got %s", path,
			     header ? " or {} (the header is present)" : "", kd_kind_name(v));
		return false;
	}
	if (kd_len(v) == 0) {
		if (!header)
			return false;
		c->header = header;
		c->op = KD_MATCH_PRESENT;
		return true;
	}
	if (kd_len(v) > 1) {
		kd_dec_error(d, v, "%s: set only one of exact, prefix and regex", path);
		return false;
	}
	key = kd_key_at(v, 0);
	val = kd_val_at(v, 0);
	op = kd_str(key);
	if (!op || (strcmp(op, ops[0]) && strcmp(op, ops[1]) && strcmp(op, ops[2]))) {
		char fpath[OP_PATH];

		snprintf(fpath, sizeof(fpath), "%s.%s", path, op ? op : "?");
		unsupported(d, m, key, fpath, "not a string match kanary knows (exact, prefix or regex)");
		return false;
	}
	text = kd_str(val);
	if (!text) {
		kd_dec_error(d, kd_is_null(val) ? key : val, "%s.%s: expected a string, got %s", path,
			     op, kd_kind_name(val));
		return false;
	}
	if (strcmp(op, "regex") == 0) {
		char fpath[OP_PATH];

		/* Every header value matches these: Istio itself turns "*" into a presence match. */
		if (header && (strcmp(text, ".*") == 0 || strcmp(text, "*") == 0)) {
			c->header = header;
			c->op = KD_MATCH_PRESENT;
			return true;
		}
		snprintf(fpath, sizeof(fpath), "%s.regex", path);
		unsupported(d, m, key, fpath, "regex matches are not supported");
		return false;
	}
	if (!header && strcmp(op, "prefix") == 0 && !*text)
		return false;	/* every path starts with "" */
	c->header = header;
	c->op = strcmp(op, "exact") == 0 ? KD_MATCH_EXACT : KD_MATCH_PREFIX;
	c->value = kd_strdup(&d->out->arena, text);
	return true;
}

static void decode_headers(struct kd_dec *d, struct kd_match *m, struct kd_node hs, const char *path)
{
	/* Istio's reference says these keys are ignored; its versions disagree, so kanary does not guess. */
	static const char *const ambiguous[] = { "uri", "scheme", "method", "authority", NULL };

	if (kd_is_null(hs))
		return;
	if (!kd_is_map(hs)) {
		kd_dec_error(d, hs, "%s: expected a mapping of header names to matches, got %s", path,
			     kd_kind_name(hs));
		return;
	}
	for (size_t i = 0; i < kd_len(hs); i++) {
		const char *name = kd_str(kd_key_at(hs, i));
		char hpath[HEADER_PATH];
		bool skip = false;

		if (!name) {
			kd_dec_error(d, kd_key_at(hs, i), "%s: a header name must be a string", path);
			continue;
		}
		snprintf(hpath, sizeof(hpath), "%s.%s", path, name);
		for (size_t k = 0; ambiguous[k]; k++)
			skip |= strcmp(name, ambiguous[k]) == 0;
		if (skip) {
			unsupported(d, m, kd_key_at(hs, i), hpath,
				    "Istio versions treat a header named uri, scheme, method or authority differently");
			continue;
		}
		if (string_match(d, m, kd_val_at(hs, i), hpath, kd_strdup(&d->out->arena, name),
				 &m->conds[m->nconds]))
			m->nconds++;
	}
}

/* A field kanary takes when it is empty or false; anything else cannot be evaluated. */
static bool empty_or_false(struct kd_node v)
{
	bool b;

	if (kd_is_null(v) || (kd_is_map(v) && kd_len(v) == 0))
		return true;
	return kd_is_scalar(v) && kd_bool(v, &b) == 0 && !b;
}

/* Why kanary cannot evaluate field f of an element (when not empty), or NULL when it can. */
static const char *field_problem(enum kd_route_kind kind, const char *f)
{
	static const struct { const char *name; const char *why; } http[] = {
		{ "method", "matching on the method is not supported (kanary matches headers and the URI)" },
		{ "scheme", "matching on the scheme is not supported (kanary matches headers and the URI)" },
		{ "authority", "matching on the authority is not supported (kanary matches headers and the URI)" },
		{ "queryParams", "query parameter matches are not supported" },
		{ "withoutHeaders", "matching on a header's absence is not supported" },
		{ "ignoreUriCase", "case-insensitive URI matches are not supported" },
		{ NULL, NULL },
	};
	static const char *const client[] = {
		"sourceLabels", "sourceNamespace", "sourceSubnet", "destinationSubnets", NULL,
	};
	static const char *const fine[] = { "port", "gateways", "name", "statPrefix", NULL };

	for (size_t i = 0; fine[i]; i++)
		if (strcmp(f, fine[i]) == 0)
			return NULL;
	if (kind == KD_ROUTE_HTTP && (strcmp(f, "uri") == 0 || strcmp(f, "headers") == 0))
		return NULL;
	for (size_t i = 0; kind == KD_ROUTE_HTTP && http[i].name; i++)
		if (strcmp(f, http[i].name) == 0)
			return http[i].why;
	for (size_t i = 0; client[i]; i++)
		if (strcmp(f, client[i]) == 0)
			return no_client_match;
	return "unknown match field";
}

static void decode_element(struct kd_dec *d, struct kd_node c, const char *path,
			   enum kd_route_kind kind, struct kd_match *m)
{
	struct kd_node uri = kd_get(c, "uri"), headers = kd_get(c, "headers");
	char fpath[FIELD_PATH];

	m->mesh = true;
	if (!kd_dec_map(d, c, path, true))
		return;
	for (size_t i = 0; i < kd_len(c); i++) {
		const char *f = kd_str(kd_key_at(c, i));
		const char *why;

		if (!f)
			continue;
		why = field_problem(kind, f);
		/* ignoreUriCase: false, or without a URI match, changes nothing. */
		if (why && (empty_or_false(kd_val_at(c, i)) ||
			    (strcmp(f, "ignoreUriCase") == 0 && kd_is_null(uri))))
			continue;
		if (why) {
			snprintf(fpath, sizeof(fpath), "%s.%s", path, f);
			unsupported(d, m, kd_key_at(c, i), fpath, why);
		}
	}
	if (!kd_gateways_include_mesh(kd_get(c, "gateways"))) {
		kd_dec_warn(d, kd_get(c, "gateways"),
			    "%s.gateways: applies to gateways only, not to traffic from pods; "
			    "this match never applies", path);
		m->mesh = false;
	}
	if (kd_present(kd_get(c, "port")))
		kd_dec_port(d, c, "port", path, false, &m->port);
	if (kind != KD_ROUTE_HTTP)
		return;
	m->conds = kd_alloc(&d->out->arena, (1 + kd_len(headers)) * sizeof(*m->conds));
	snprintf(fpath, sizeof(fpath), "%s.uri", path);
	if (kd_present(uri) && string_match(d, m, uri, fpath, NULL, &m->conds[m->nconds]))
		m->nconds++;
	snprintf(fpath, sizeof(fpath), "%s.headers", path);
	decode_headers(d, m, headers, fpath);
}

void kd_dec_route_match(struct kd_dec *d, struct kd_node route, const char *path,
			struct kd_route *r)
{
	struct kd_node match = kd_get(route, "match");
	char mpath[ELEMENT_PATH];

	snprintf(mpath, sizeof(mpath), "%s.match", path);
	if (!kd_dec_list(d, match, mpath) || kd_len(match) == 0)
		return;	/* no match list: all traffic */
	r->matches = kd_alloc(&d->out->arena, kd_len(match) * sizeof(*r->matches));
	for (size_t i = 0; i < kd_len(match); i++) {
		struct kd_match *m = &r->matches[r->nmatches++];

		m->index = (int)i;
		snprintf(mpath, sizeof(mpath), "%s.match[%zu]", path, i);
		decode_element(d, kd_at(match, i), mpath, r->kind, m);
	}
}
