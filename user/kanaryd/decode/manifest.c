// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "decode/decode.h"
#include "decode/manifest.h"
#include "decode/yaml_limits.h"

#define ISTIO_GROUP	"networking.istio.io/"

enum kind_api {
	API_UNKNOWN_KIND,	/* not something kanary reads */
	API_OK,
	API_BAD_VERSION,	/* a kind kanary reads, in a version it does not */
};

typedef int (*decode_fn)(struct kd_dec *, struct kd_node, const struct kd_meta *);

static const struct {
	const char *kind;
	bool istio;
	decode_fn decode;
} kinds[] = {
	{ "Service", false, kd_decode_service },
	{ "Pod", false, kd_decode_pod },
	{ "DestinationRule", true, kd_decode_destination_rule },
	{ "VirtualService", true, kd_decode_virtual_service },
};

static enum kind_api kind_api(const char *kind, const char *api, decode_fn *fn)
{
	static const char *const istio_versions[] = { "v1", "v1beta1", "v1alpha3" };

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (strcmp(kinds[i].kind, kind) != 0)
			continue;
		*fn = kinds[i].decode;
		if (!kinds[i].istio)	/* a Knative Service is another kind altogether */
			return api && strcmp(api, "v1") == 0 ? API_OK : API_UNKNOWN_KIND;
		if (!api || strncmp(api, ISTIO_GROUP, strlen(ISTIO_GROUP)) != 0)
			return API_UNKNOWN_KIND;
		for (size_t v = 0; v < 3; v++)
			if (strcmp(api + strlen(ISTIO_GROUP), istio_versions[v]) == 0)
				return API_OK;
		return API_BAD_VERSION;
	}
	return API_UNKNOWN_KIND;
}

static int decode_object(struct kd_dec *d, struct kd_node obj, const char *list_kind,
			 const char *list_api, int depth);

/* kind: List, or a typed list (PodList) whose items may omit their kind. */
static int decode_list(struct kd_dec *d, struct kd_node obj, const char *kind, const char *api,
		       int depth)
{
	struct kd_node items = kd_get(obj, "items");
	char item_kind[128] = "";
	int ret = 0;

	if (depth > 0) {
		kd_dec_say(d, KD_ERROR, "%s:%d: a %s inside a list is not supported", d->file,
			   kd_line(obj), kind);
		return -EINVAL;
	}
	if (!kd_is_null(items) && !kd_is_seq(items)) {
		kd_dec_say(d, KD_ERROR, "%s:%d: %s.items: expected a list, got %s", d->file,
			   kd_line(items), kind, kd_kind_name(items));
		return -EINVAL;
	}
	if (strcmp(kind, "List") != 0)
		snprintf(item_kind, sizeof(item_kind), "%.*s", (int)(strlen(kind) - 4), kind);
	for (size_t i = 0; i < kd_len(items); i++)
		if (decode_object(d, kd_at(items, i), item_kind[0] ? item_kind : NULL,
				  item_kind[0] ? api : NULL, depth + 1))
			ret = -EINVAL;
	return ret;
}

static int decode_meta(struct kd_dec *d, struct kd_node obj, const char *kind,
		       struct kd_meta *m)
{
	struct kd_node meta = kd_get(obj, "metadata");
	const char *name = kd_str(kd_get(meta, "name"));
	const char *ns = kd_str(kd_get(meta, "namespace"));

	if (!kd_is_map(meta) || !name || !*name) {
		kd_dec_say(d, KD_ERROR, "%s:%d: %s: metadata.name: missing: every %s needs a name",
			   d->file, kd_line(kd_is_map(meta) ? meta : obj), kind, kind);
		return -EINVAL;
	}
	m->kind = kd_strdup(&d->out->arena, kind);
	m->name = kd_strdup(&d->out->arena, name);
	m->ns = kd_strdup(&d->out->arena, ns && *ns ? ns : "default");
	m->file = d->file;
	m->line = kd_line(obj);
	snprintf(d->what, sizeof(d->what), "%s %s/%s", kind, m->ns, m->name);
	return 0;
}

static int decode_object(struct kd_dec *d, struct kd_node obj, const char *list_kind,
			 const char *list_api, int depth)
{
	const char *kind, *api;
	struct kd_meta m;
	decode_fn fn = NULL;
	size_t klen;

	if (++d->objects > KD_YAML_MAX_OBJECTS) {
		/* Said even past the diagnostics' cap: it is why the rest was not read. */
		if (d->objects == KD_YAML_MAX_OBJECTS + 1)
			kd_diag_add(d->diags, KD_ERROR, "%s:%d: more than %d objects in one file "
				    "(over kanaryd's limit, see docs/kanaryd.md)", d->file, kd_line(obj),
				    KD_YAML_MAX_OBJECTS);
		d->errors++;
		return -EINVAL;
	}
	if (!kd_is_map(obj)) {
		kd_dec_say(d, KD_ERROR,
			   "%s:%d: expected a Kubernetes object (a mapping with apiVersion and kind), got %s",
			   d->file, kd_line(obj), kd_kind_name(obj));
		return -EINVAL;
	}
	kind = kd_str(kd_get(obj, "kind"));
	api = kd_str(kd_get(obj, "apiVersion"));
	if (!kind)
		kind = list_kind;
	if (!api)
		api = list_api;
	if (!kind || !*kind) {
		kd_dec_say(d, KD_WARN, "%s:%d: not a Kubernetes object (no kind); skipped",
			   d->file, kd_line(obj));
		return 0;
	}
	klen = strlen(kind);
	if (klen > 4 && strcmp(kind + klen - 4, "List") == 0 && kd_present(kd_get(obj, "items")))
		return decode_list(d, obj, kind, api, depth);
	if (strcmp(kind, "List") == 0)
		return decode_list(d, obj, kind, api, depth);

	switch (kind_api(kind, api, &fn)) {
	case API_UNKNOWN_KIND:
		d->out->nignored++;
		kd_dec_say(d, KD_DEBUG, "%s:%d: %s %s: not read by kanary; skipped", d->file,
			   kd_line(obj), api ? api : "(no apiVersion)", kind);
		return 0;
	case API_BAD_VERSION:
		kd_dec_say(d, KD_WARN,
			   "%s:%d: %s %s: unsupported apiVersion (expected networking.istio.io/v1, "
			   "v1beta1 or v1alpha3); skipped", d->file, kd_line(obj), api, kind);
		return 0;
	case API_OK:
		break;
	}
	if (decode_meta(d, obj, kind, &m))
		return -EINVAL;
	return fn(d, obj, &m);
}

int kd_manifest_decode_yaml(const char *file, struct kd_yaml *y, struct kd_objects *out,
			    struct kd_diags *diags)
{
	struct kd_dec d = { .file = file, .out = out, .diags = diags };

	for (size_t i = 0; i < y->ndocs; i++) {
		struct kd_node root = kd_yaml_root(y, i);

		if (kd_is_null(root))
			continue;	/* an empty document between two --- */
		decode_object(&d, root, NULL, NULL, 0);
	}
	if (d.unsaid)
		kd_diag_add(diags, d.errors ? KD_ERROR : KD_WARN,
			    "%s: %zu more warnings and errors not shown (kanaryd shows %d per file)",
			    file, d.unsaid, KD_YAML_MAX_DIAGS);
	return d.errors ? -EINVAL : 0;
}

int kd_manifest_decode(const char *file, const void *buf, size_t len, struct kd_objects *out,
		       struct kd_diags *diags)
{
	struct kanary_err e = { "" };
	struct kd_yaml y;
	int ret;

	ret = kd_yaml_parse(&y, buf, len, &e, NULL);
	if (ret) {
		kd_diag_add(diags, KD_ERROR, "%s:%s (%s; the whole file is ignored)", file, e.msg,
			    ret == -E2BIG ? "over kanaryd's limit, see docs/kanaryd.md"
					  : "invalid YAML/JSON");
		return -EINVAL;
	}
	ret = kd_manifest_decode_yaml(file, &y, out, diags);
	kd_yaml_free(&y);
	return ret;
}

void kd_objects_free(struct kd_objects *o)
{
	kd_arena_free(&o->arena);
	free(o->svc);
	free(o->pod);
	free(o->dr);
	free(o->vs);
	memset(o, 0, sizeof(*o));
}

const char *kd_label(const struct kd_labels *l, const char *key)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->key[i], key) == 0)
			return l->val[i];
	return NULL;
}

bool kd_labels_match(const struct kd_labels *want, const struct kd_labels *have)
{
	for (size_t i = 0; i < want->n; i++) {
		const char *v = kd_label(have, want->key[i]);

		if (!v || strcmp(v, want->val[i]) != 0)
			return false;
	}
	return true;
}
