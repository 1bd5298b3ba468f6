// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * An http[] route's mirrors, as Istio reads them: `mirror` (a Destination)
 * with `mirrorPercentage.value` (a percent, fractions allowed), else the
 * deprecated `mirrorPercent` (a whole percent), else 100 %; or the newer
 * `mirrors[]`, each a `destination` with its own `percentage.value`.  A
 * route may not have both, as Istio's validation says.  Whether kanary can
 * apply them is desired_mirror.c's question.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kanary/mirror.h"
#include "decode/decode.h"

static const struct kd_field_rule percent_fields[] = {
	{ "value", NULL },
	{ NULL, NULL },
};

static const struct kd_field_rule mirrors_item_fields[] = {
	{ "destination", NULL },
	{ "percentage", NULL },
	{ NULL, NULL },
};

/* A plain number 0..100 at x into parts per million; false (an error recorded) otherwise. */
static bool percent_ppm(struct kd_dec *d, struct kd_node x, const char *path, __u32 *ppm)
{
	const char *s = kd_str(x);
	char *end = NULL;
	double v = 0;

	if (s && !kd_is_quoted(x)) {
		errno = 0;
		v = strtod(s, &end);
	}
	if (!s || kd_is_quoted(x) || end == s || *end || errno || !isfinite(v) || v < 0 || v > 100) {
		kd_dec_error(d, x, "%s: expected a percentage from 0 to 100 (e.g. 10 or 0.5), got %s%s%s",
			     path, s ? "'" : "", s ? s : kd_kind_name(x), s ? "'" : "");
		return false;
	}
	*ppm = (__u32)(v * (KANARY_MIRROR_PPM_MAX / 100) + 0.5);	/* rounded */
	if (v > 0 && *ppm == 0)
		kd_dec_warn(d, x, "%s: %s %% is below kanary's resolution of 0.0001 %%; nothing is "
			    "mirrored", path, s);
	return true;
}

/*
 * A Percent message at x ({value: N}) into *ppm: absent is 100 %, a
 * message without a value 0 % (proto3's default, as Istio reads it).
 */
static bool percent_message(struct kd_dec *d, struct kd_node x, const char *path, __u32 *ppm)
{
	char p[128];

	*ppm = KANARY_MIRROR_PPM_MAX;
	if (kd_is_null(x))
		return true;
	if (!kd_dec_map(d, x, path, true))
		return false;
	kd_dec_check_fields(d, x, path, percent_fields);
	*ppm = 0;
	if (kd_is_null(kd_get(x, "value")))
		return true;
	snprintf(p, sizeof(p), "%s.value", path);
	return percent_ppm(d, kd_get(x, "value"), p, ppm);
}

static struct kd_mirror *add_mirror(struct kd_dec *d, struct kd_route *r, size_t cap)
{
	struct kd_mirror *m;

	if (!r->mirrors)
		r->mirrors = kd_alloc(&d->out->arena, cap * sizeof(*r->mirrors));
	m = &r->mirrors[r->nmirrors++];
	memset(m, 0, sizeof(*m));
	return m;
}

/* mirror, with mirrorPercentage or mirrorPercent beside it. */
static void decode_single(struct kd_dec *d, struct kd_node route, const char *path,
			  struct kd_route *r)
{
	struct kd_node dest = kd_get(route, "mirror"), pct = kd_get(route, "mirrorPercentage"),
		       old = kd_get(route, "mirrorPercent");
	struct kd_mirror *m;
	char p[96];
	long long v;

	if (kd_is_null(dest)) {
		if (!kd_is_null(pct) || !kd_is_null(old))
			kd_dec_warn(d, kd_is_null(pct) ? old : pct, "%s.%s: no mirror beside it; ignored",
				    path, kd_is_null(pct) ? "mirrorPercent" : "mirrorPercentage");
		return;
	}
	m = add_mirror(d, r, 1);
	snprintf(m->field, sizeof(m->field), "mirror");
	m->dest.line = kd_line(kd_get_key(route, "mirror"));
	snprintf(p, sizeof(p), "%s.mirror", path);
	kd_dec_destination(d, route, "mirror", p, &m->dest);
	if (!kd_is_null(pct)) {
		if (!kd_is_null(old))
			kd_dec_warn(d, old, "%s.mirrorPercent: deprecated, and mirrorPercentage is given; "
				    "ignored", path);
		snprintf(p, sizeof(p), "%s.mirrorPercentage", path);
		percent_message(d, pct, p, &m->ppm);
		return;
	}
	m->ppm = KANARY_MIRROR_PPM_MAX;
	if (kd_is_null(old))
		return;
	if (kd_int(old, &v) || v < 0 || v > 100) {
		kd_dec_error(d, old, "%s.mirrorPercent: expected a whole percentage from 0 to 100, got "
			     "%s%s%s", path, kd_str(old) ? "'" : "",
			     kd_str(old) ? kd_str(old) : kd_kind_name(old), kd_str(old) ? "'" : "");
		return;
	}
	m->ppm = (__u32)v * (KANARY_MIRROR_PPM_MAX / 100);
}

void kd_dec_route_mirrors(struct kd_dec *d, struct kd_node route, const char *path,
			  struct kd_route *r)
{
	struct kd_node list = kd_get(route, "mirrors");
	char p[96];

	if (!kd_is_null(list) && !kd_is_null(kd_get(route, "mirror"))) {
		kd_dec_error(d, list, "%s: has both mirror and mirrors; Istio takes one or the other",
			     path);
		return;
	}
	if (kd_is_null(list)) {
		decode_single(d, route, path, r);
		return;
	}
	snprintf(p, sizeof(p), "%s.mirrors", path);
	if (!kd_dec_list(d, list, p))
		return;
	for (size_t i = 0; i < kd_len(list); i++) {
		struct kd_node item = kd_at(list, i);
		struct kd_mirror *m;

		snprintf(p, sizeof(p), "%s.mirrors[%zu]", path, i);
		if (!kd_dec_map(d, item, p, true))
			continue;
		kd_dec_check_fields(d, item, p, mirrors_item_fields);
		m = add_mirror(d, r, kd_len(list));
		snprintf(m->field, sizeof(m->field), "mirrors[%zu]", i);
		m->dest.line = kd_line(item);
		snprintf(p, sizeof(p), "%s.mirrors[%zu].destination", path, i);
		kd_dec_destination(d, item, "destination", p, &m->dest);
		snprintf(p, sizeof(p), "%s.mirrors[%zu].percentage", path, i);
		percent_message(d, kd_get(item, "percentage"), p, &m->ppm);
	}
}
