// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "decode/decode.h"
#include "decode/yaml_limits.h"

void kd_dec_say(struct kd_dec *d, enum kd_level level, const char *fmt, ...)
{
	va_list ap;

	if (level == KD_ERROR)
		d->errors++;
	if (level <= KD_WARN && d->said++ >= KD_YAML_MAX_DIAGS) {
		d->unsaid++;
		return;
	}
	va_start(ap, fmt);
	kd_diag_addv(d->diags, level, fmt, ap);
	va_end(ap);
}

static void dec_add(struct kd_dec *d, enum kd_level level, struct kd_node at, const char *fmt,
		    va_list ap)
{
	char text[768];

	vsnprintf(text, sizeof(text), fmt, ap);
	kd_dec_say(d, level, "%s:%d: %s: %s", d->file, kd_line(at), d->what, text);
}

void kd_dec_warn(struct kd_dec *d, struct kd_node at, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	dec_add(d, KD_WARN, at, fmt, ap);
	va_end(ap);
}

void kd_dec_error(struct kd_dec *d, struct kd_node at, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	dec_add(d, KD_ERROR, at, fmt, ap);
	va_end(ap);
}

const char *kd_dec_str(struct kd_dec *d, struct kd_node map, const char *key, const char *path)
{
	struct kd_node x = kd_get(map, key);
	const char *s;

	if (kd_is_null(x))
		return NULL;
	s = kd_str(x);
	if (!s) {
		kd_dec_error(d, x, "%s: expected a string, got %s", path, kd_kind_name(x));
		return NULL;
	}
	return kd_strdup(&d->out->arena, s);
}

bool kd_dec_port(struct kd_dec *d, struct kd_node map, const char *key, const char *path,
		 bool required, int *out)
{
	struct kd_node x = kd_get(map, key);
	long long v;

	if (kd_is_null(x)) {
		if (required)
			kd_dec_error(d, x.n ? x : map, "%s.%s: missing: expected a port number 1-65535",
				     path, key);
		return false;
	}
	if (kd_int(x, &v) || v < 1 || v > 65535) {
		kd_dec_error(d, x, "%s.%s: expected a port number 1-65535, got %s%s%s", path, key,
			     kd_str(x) ? "'" : "", kd_str(x) ? kd_str(x) : kd_kind_name(x),
			     kd_str(x) ? "'" : "");
		return false;
	}
	*out = (int)v;
	return true;
}

void kd_dec_labels(struct kd_dec *d, struct kd_node x, const char *path, struct kd_labels *out)
{
	size_t n = kd_len(x);

	memset(out, 0, sizeof(*out));
	if (kd_is_null(x))
		return;
	if (!kd_is_map(x)) {
		kd_dec_error(d, x, "%s: expected a mapping of label names to values, got %s", path,
			     kd_kind_name(x));
		return;
	}
	out->key = kd_alloc(&d->out->arena, n * sizeof(*out->key));
	out->val = kd_alloc(&d->out->arena, n * sizeof(*out->val));
	for (size_t i = 0; i < n; i++) {
		const char *k = kd_str(kd_key_at(x, i)), *v = kd_str(kd_val_at(x, i));

		if (!k) {
			kd_dec_error(d, kd_key_at(x, i), "%s: a label name must be a string", path);
			continue;
		}
		if (!v && !kd_is_null(kd_val_at(x, i))) {
			kd_dec_error(d, kd_val_at(x, i), "%s.%s: expected a string, got %s", path, k,
				     kd_kind_name(kd_val_at(x, i)));
			continue;
		}
		out->key[out->n] = kd_strdup(&d->out->arena, k);
		out->val[out->n] = kd_strdup(&d->out->arena, v ? v : "");
		out->n++;
	}
}

bool kd_dec_list(struct kd_dec *d, struct kd_node x, const char *path)
{
	if (kd_is_null(x) || kd_is_seq(x))
		return true;
	kd_dec_error(d, x, "%s: expected a list, got %s", path, kd_kind_name(x));
	return false;
}

bool kd_dec_map(struct kd_dec *d, struct kd_node x, const char *path, bool required)
{
	if (kd_is_map(x))
		return true;
	if (kd_is_null(x) && !required)
		return false;
	kd_dec_error(d, x, "%s: expected a mapping, got %s", path, kd_kind_name(x));
	return false;
}

int kd_dec_protocol(struct kd_dec *d, struct kd_node map, const char *path, const char **name)
{
	static const struct { const char *name; int proto; } protos[] = {
		{ "TCP", IPPROTO_TCP }, { "UDP", IPPROTO_UDP }, { "SCTP", IPPROTO_SCTP },
	};
	struct kd_node x = kd_get(map, "protocol");
	const char *s;

	*name = "TCP";
	if (kd_is_null(x))
		return IPPROTO_TCP;
	s = kd_str(x);
	for (size_t i = 0; s && i < sizeof(protos) / sizeof(protos[0]); i++) {
		if (strcmp(s, protos[i].name) == 0) {
			*name = protos[i].name;
			return protos[i].proto;
		}
	}
	kd_dec_error(d, x, "%s: expected TCP, UDP or SCTP, got %s", path,
		     s ? s : kd_kind_name(x));
	return -EINVAL;
}

void kd_dec_check_fields(struct kd_dec *d, struct kd_node map, const char *path,
			 const struct kd_field_rule *rules)
{
	for (size_t i = 0; i < kd_len(map); i++) {
		struct kd_node k = kd_key_at(map, i);
		const char *name = kd_str(k);
		const struct kd_field_rule *r;

		if (!name)
			continue;
		for (r = rules; r->name; r++)
			if (strcmp(r->name, name) == 0)
				break;
		if (!r->name)
			kd_dec_warn(d, k, "%s.%s: unknown field, ignored", path, name);
		else if (r->unsupported)
			kd_dec_warn(d, k, "%s.%s: %s", path, name, r->unsupported);
	}
}
