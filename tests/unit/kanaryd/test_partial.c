// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * A partial pass (kd_desired_changed, then kd_reconcile_some) leaves the
 * maps exactly as a full pass does, for each kind of event: the same
 * manifests before and after, applied to two kanary instances, one
 * reconciled fully and one partially after the event, then every
 * service's config, backends, rules and mirrors compared byte for byte.
 * A dependency the change set missed leaves the partial maps behind and
 * fails the comparison.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <bpf/bpf.h>
#include "kdt.h"
#include "apply/reconcile.h"
#include "desired/desired_changed.h"
#include "kanary/mirror.h"

/* The manifests, by what an event may change in them. */
struct scene {
	const char *p3_labels, *p3_ready, *p3_ip;
	bool no_p3;		/* pod p3 left out */
	bool p4;		/* one more ready pod of subset a */
	bool stranger;		/* a pod no Service selects */
	int port, target_port;
	const char *selector;	/* Service n/g's */
	const char *dr_b;	/* subset b's labels */
	int w_a;		/* weight of a in n/g's split; b gets the rest */
	const char *header;	/* the dark-release rule's header value */
	const char *mirror;	/* percentage of n/h's requests copied to b, set by namespace other */
	const char *grant;	/* n/h's kanary.io/routing-from */
	int other_w;		/* weight of a in the split namespace other sets for n/h */
	const char *export_to;	/* that VirtualService's exportTo (kanary ignores it: docs/kanaryd.md) */
	bool extra;		/* a Service n/z */
};

static const struct scene base = {
	.p3_labels = "app: g, v: b", .p3_ready = "True", .p3_ip = "10.1.0.3",
	.port = 80, .target_port = 8080, .selector = "app: g", .dr_b = "v: b", .w_a = 80,
	.header = "dark", .mirror = "5", .grant = "other", .other_w = 70, .export_to = "'*'",
};

static const char *pod(char *buf, size_t len, const char *name, const char *labels,
		       const char *ip, const char *ready)
{
	snprintf(buf, len, "apiVersion: v1\nkind: Pod\nmetadata: {name: %s, namespace: n, labels: {%s}}\n"
		 "status: {phase: Running, podIP: %s, conditions: [{type: Ready, status: '%s'}]}\n---\n",
		 name, labels, ip, ready);
	return buf;
}

static void build(struct kdt_world *w, const struct scene *s)
{
	char text[16384], p[8][320];

	memset(w, 0, sizeof(*w));
	snprintf(text, sizeof(text),
		"apiVersion: v1\nkind: Service\nmetadata: {name: g, namespace: n}\n"
		"spec: {clusterIP: 10.96.0.50, selector: {%s}, ports: [{name: http, port: %d, targetPort: %d}]}\n---\n"
		"apiVersion: v1\nkind: Service\nmetadata: {name: h, namespace: n, annotations: {kanary.io/routing-from: '%s'}}\n"
		"spec: {clusterIP: 10.96.0.51, selector: {app: h}, ports: [{name: http, port: 80, targetPort: 8080}]}\n---\n"
		"%s%s%s%s%s%s%s%s"
		"apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: g, namespace: n}\n"
		"spec: {host: g, subsets: [{name: a, labels: {v: a}}, {name: b, labels: {%s}}]}\n---\n"
		"apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: g, namespace: n}\n"
		"spec:\n  hosts: [g]\n  http:\n"
		"  - match: [{headers: {x-my-header: {exact: %s}}}]\n    route: [{destination: {host: g, subset: b}}]\n"
		"  - route: [{destination: {host: g, subset: a}, weight: %d}, {destination: {host: g, subset: b}, weight: %d}]\n---\n"
		"apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: h, namespace: other}\n"
		"spec: {host: h.n.svc.cluster.local, subsets: [{name: a, labels: {v: a}}, {name: b, labels: {v: b}}]}\n---\n"
		"apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: h, namespace: other}\n"
		"spec:\n  hosts: [h.n.svc.cluster.local]\n  exportTo: [%s]\n  http:\n"
		"  - mirror: {host: h.n.svc.cluster.local, subset: b}\n    mirrorPercentage: {value: %s}\n"
		"    route: [{destination: {host: h.n.svc.cluster.local, subset: a}, weight: %d}, {destination: {host: h.n.svc.cluster.local, subset: b}, weight: %d}]\n"
		"%s",
		s->selector, s->port, s->target_port, s->grant,
		pod(p[0], sizeof(p[0]), "p1", "app: g, v: a", "10.1.0.1", "True"),
		pod(p[1], sizeof(p[1]), "p2", "app: g, v: b", "10.1.0.2", "True"),
		s->no_p3 ? "" : pod(p[2], sizeof(p[2]), "p3", s->p3_labels, s->p3_ip, s->p3_ready),
		s->p4 ? pod(p[3], sizeof(p[3]), "p4", "app: g, v: a", "10.1.0.4", "True") : "",
		s->stranger ? pod(p[4], sizeof(p[4]), "x1", "app: x, v: a", "10.1.0.9", "True") : "",
		pod(p[5], sizeof(p[5]), "h1", "app: h, v: a", "10.2.0.1", "True"),
		pod(p[6], sizeof(p[6]), "h2", "app: h, v: b", "10.2.0.2", "True"),
		pod(p[7], sizeof(p[7]), "h3", "app: h, v: b", "10.2.0.3", "True"),
		s->dr_b, s->header, s->w_a, 100 - s->w_a, s->export_to, s->mirror, s->other_w, 100 - s->other_w,
		s->extra ? "---\napiVersion: v1\nkind: Service\nmetadata: {name: z, namespace: n}\n"
			   "spec: {clusterIP: 10.96.0.52, selector: {app: g}, ports: [{name: http, port: 80}]}\n" : "");
	ck_assert_msg(kdt_load_text(w, "scene.yaml", text) == 0, "the scene does not decode");
	kdt_build(w);
}

/* One kanary on a bpffs of its own under $KDT_BASE. */
struct instance {
	char pin[256];
	struct kanary_maps m;
	struct kd_applied applied;
	struct kd_results res;
};

static void up(struct instance *in)
{
	struct kanary_load_opts lo = { .ct_size = 1024, .max_services = 16, .max_backends = 1024,
				       .cgroup = KANARY_CGROUP_NONE };
	struct kanary_err e = { "" };

	memset(in, 0, sizeof(*in));
	snprintf(in->pin, sizeof(in->pin), "%s/partial.XXXXXX", getenv(KDT_BASE_ENV));
	ck_assert_ptr_nonnull(mkdtemp(in->pin));
	ck_assert_msg(mount("bpf", in->pin, "bpf", 0, "mode=0700") == 0, "mount bpffs: %s", strerror(errno));
	ck_assert_msg(kanary_load(in->pin, &lo, &e) == 0, "kanary_load: %s", e.msg);
	ck_assert_msg(kanary_maps_open(&in->m, in->pin, &e) == 0, "maps: %s", e.msg);
}

static void down(struct instance *in)
{
	kanary_maps_close(&in->m);
	kd_applied_free(&in->applied);
	kd_results_free(&in->res);
	umount2(in->pin, MNT_DETACH);
	rmdir(in->pin);
}

static void full(struct instance *in, const struct kd_desired *d)
{
	struct kanary_err e = { "" };

	kd_results_free(&in->res);
	ck_assert_msg(kd_reconcile(&in->m, d, &in->applied, &in->res, &e) == 0, "reconcile: %s", e.msg);
}

static void partial(struct instance *in, const struct kd_desired *d, const struct kd_changes *c)
{
	struct kd_results before = in->res;
	struct kanary_err e = { "" };

	ck_assert_msg(kd_reconcile_some(&in->m, d, c, &in->applied, &before, &in->res, &e) == 0,
		      "reconcile_some: %s", e.msg);
	kd_results_free(&before);
}

/* Everything of a service the datapath reads, as text. */
struct dump {
	struct kanary_maps *m;
	size_t n;
	char *lines[32];
};

static void hex(char *out, size_t len, const void *p, size_t n)
{
	const unsigned char *b = p;
	size_t at = 0;

	for (size_t i = 0; i < n && at + 3 < len; i++)
		at += (size_t)snprintf(out + at, len - at, "%02x", b[i]);
}

static int dump_one(const struct kanary_service *s, void *ctx)
{
	struct dump *d = ctx;
	struct kanary_maps *m = d->m;
	size_t len = 3 * sizeof(struct kanary_rules) + 8 * sizeof(s->cfg) + 4096;
	char *line = malloc(len), *at;
	struct kanary_rules *rules = calloc(1, sizeof(*rules));
	struct kanary_mirror_cfg mirror;
	struct kanary_err e = { "" };
	size_t used;

	ck_assert_ptr_nonnull(line);
	used = (size_t)snprintf(line, len, "%s id %u slot %u cfg ", s->cfg.name, s->id, s->slot);
	hex(line + used, len - used, &s->cfg, sizeof(s->cfg));
	for (__u32 i = 0; i < s->cfg.n_subsets; i++) {
		used = strlen(line);
		at = line + used;
		at += snprintf(at, len - used, " be%u ", i);
		hex(at, len - (size_t)(at - line), s->backends[i],
		    s->cfg.subsets[i].n_backends * sizeof(s->backends[i][0]));
	}
	used = strlen(line);
	if (bpf_map_lookup_elem(m->rules, &s->id, rules) == 0) {
		at = line + used;
		at += snprintf(at, len - used, " rules ");
		hex(at, len - (size_t)(at - line), rules, sizeof(*rules));
	}
	ck_assert_msg(kanary_mirror_get(m, s->id, &mirror, &e) == 0, "mirror: %s", e.msg);
	used = strlen(line);
	at = line + used;
	at += snprintf(at, len - used, " mirror ");
	hex(at, len - (size_t)(at - line), &mirror, sizeof(mirror));
	free(rules);
	ck_assert_uint_lt(d->n, sizeof(d->lines) / sizeof(d->lines[0]));
	d->lines[d->n++] = line;
	return 0;
}

static void dump_maps(struct instance *in, struct dump *d)
{
	struct kanary_err e = { "" };

	memset(d, 0, sizeof(*d));
	d->m = &in->m;
	ck_assert_msg(kanary_service_foreach(&in->m, dump_one, d, &e) == 0, "foreach: %s", e.msg);
}

static void dump_free(struct dump *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->lines[i]);
}

/* An event: the scene before, the scene after.  min_changed: services it must change. */
struct event {
	const char *what;
	struct scene after;
	size_t min_changed, max_changed;
	bool structural;
};

static struct event events[] = {
	{ "pod added", { .p4 = true }, 1, 1, false },
	{ "pod removed", { .no_p3 = true }, 1, 1, false },
	{ "pod relabelled to another subset", { .p3_labels = "app: g, v: a" }, 1, 1, false },
	{ "pod relabelled out of the Service", { .p3_labels = "app: q, v: b" }, 1, 1, false },
	{ "pod not ready", { .p3_ready = "False" }, 1, 1, false },
	{ "pod address changed", { .p3_ip = "10.1.0.33" }, 1, 1, false },
	{ "pod no Service selects", { .stranger = true }, 0, 0, false },
	{ "Service targetPort changed", { .target_port = 9090 }, 1, 1, false },
	{ "Service selector changed", { .selector = "v: b" }, 1, 1, false },
	{ "DestinationRule subset labels changed", { .dr_b = "v: a" }, 1, 1, false },
	{ "VirtualService weights changed", { .w_a = 50 }, 1, 1, false },
	{ "VirtualService rule changed", { .header = "darker" }, 1, 1, false },
	{ "VirtualService mirror changed", { .mirror = "12.5" }, 1, 1, false },
	{ "routing-from grant withdrawn", { .grant = "nobody" }, 1, 1, false },
	{ "another namespace's granted split changed", { .other_w = 20 }, 1, 1, false },
	{ "VirtualService exportTo narrowed to its namespace", { .export_to = "'.'" }, 0, 0, false },
	{ "Service port changed", { .port = 81 }, 1, 1, true },
	{ "Service added", { .extra = true }, 1, 1, true },
};

/* The event's scene: base with the fields it sets. */
static struct scene scene_of(const struct scene *ev)
{
	struct scene s = base;

	if (ev->p3_labels)
		s.p3_labels = ev->p3_labels;
	if (ev->p3_ready)
		s.p3_ready = ev->p3_ready;
	if (ev->p3_ip)
		s.p3_ip = ev->p3_ip;
	s.no_p3 = ev->no_p3;
	s.p4 = ev->p4;
	s.stranger = ev->stranger;
	if (ev->port)
		s.port = ev->port;
	if (ev->target_port)
		s.target_port = ev->target_port;
	if (ev->selector)
		s.selector = ev->selector;
	if (ev->dr_b)
		s.dr_b = ev->dr_b;
	if (ev->w_a)
		s.w_a = ev->w_a;
	if (ev->header)
		s.header = ev->header;
	if (ev->mirror)
		s.mirror = ev->mirror;
	if (ev->grant)
		s.grant = ev->grant;
	if (ev->other_w)
		s.other_w = ev->other_w;
	if (ev->export_to)
		s.export_to = ev->export_to;
	s.extra = ev->extra;
	return s;
}

START_TEST(partial_pass_equals_full_pass)
{
	const struct event *ev = &events[_i];
	struct scene after = scene_of(&ev->after);
	struct kdt_world w0, w1;
	struct instance a, b;
	struct kd_changes c;
	struct dump da, db;

	build(&w0, &base);
	/* The scene means something: n/g split with a rule, n/h split and mirrored from other. */
	ck_assert_uint_eq(kdt_service(&w0, "n/g")->nsub, 2);
	ck_assert_ptr_nonnull(kdt_service(&w0, "n/g")->rules);
	ck_assert_uint_eq(kdt_service(&w0, "n/h")->nsub, 2);
	if (!kdt_service(&w0, "n/h")->mirror_ppm[kd_desired_subset_index(kdt_service(&w0, "n/h"), "b")])
		kdt_dump(&w0.diags);
	ck_assert_uint_ne(kdt_service(&w0, "n/h")->mirror_ppm[kd_desired_subset_index(kdt_service(&w0, "n/h"), "b")], 0);
	build(&w1, &after);
	kd_desired_changed(&w0.desired, &w1.desired, &c);
	ck_assert_msg(c.n >= ev->min_changed && c.n <= ev->max_changed,
		      "%s: %zu services changed, expected %zu to %zu", ev->what, c.n, ev->min_changed,
		      ev->max_changed);
	ck_assert_msg(c.structural == ev->structural, "%s: structural %d", ev->what, c.structural);

	up(&a);
	up(&b);
	full(&a, &w0.desired);
	full(&b, &w0.desired);
	full(&a, &w1.desired);
	if (c.structural)	/* kanaryd does a full pass: nothing partial to compare */
		full(&b, &w1.desired);
	else
		partial(&b, &w1.desired, &c);
	dump_maps(&a, &da);
	dump_maps(&b, &db);
	ck_assert_uint_eq(da.n, db.n);
	for (size_t i = 0; i < da.n; i++)
		ck_assert_msg(strcmp(da.lines[i], db.lines[i]) == 0, "%s: the maps differ after a partial "
			      "pass:\n full    %.160s...\n partial %.160s...", ev->what, da.lines[i], db.lines[i]);
	/* And the results say the same of every desired service. */
	for (size_t i = 0; i < w1.desired.n; i++) {
		const struct kd_result *ra = kd_results_find(&a.res, w1.desired.v[i].name);
		const struct kd_result *rb = kd_results_find(&b.res, w1.desired.v[i].name);

		ck_assert_ptr_nonnull(ra);
		ck_assert_ptr_nonnull(rb);
		if (kd_changes_has(&c, ra->name))
			ck_assert_str_eq(kd_outcome_name(ra->outcome), kd_outcome_name(rb->outcome));
	}
	dump_free(&da);
	dump_free(&db);
	kd_changes_free(&c);
	down(&a);
	down(&b);
	kdt_free(&w0);
	kdt_free(&w1);
}
END_TEST

/* A partial pass that finds the maps changed behind it (a service deleted) creates it again. */
START_TEST(partial_pass_recreates_a_changed_service_missing_from_the_maps)
{
	struct scene after = base;
	struct kdt_world w0, w1;
	struct kanary_err e = { "" };
	struct instance a;
	struct kd_changes c;
	struct kanary_service *s = calloc(1, sizeof(*s));

	after.w_a = 10;
	build(&w0, &base);
	build(&w1, &after);
	kd_desired_changed(&w0.desired, &w1.desired, &c);
	up(&a);
	full(&a, &w0.desired);
	ck_assert_int_eq(kanary_service_del(&a.m, "n/g", &e), 0);
	partial(&a, &w1.desired, &c);
	ck_assert_str_eq(kd_outcome_name(kd_results_find(&a.res, "n/g")->outcome), "created");
	ck_assert_msg(kanary_service_get(&a.m, "n/g", s, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(s->cfg.subsets[0].weight_milli, 10 * KANARY_WEIGHT_MILLI);
	free(s);
	kd_changes_free(&c);
	down(&a);
	kdt_free(&w0);
	kdt_free(&w1);
}
END_TEST

Suite *partial_suite(void)
{
	Suite *s = suite_create("partial");
	TCase *t = tcase_create("events");

	tcase_set_timeout(t, 120);
	tcase_add_loop_test(t, partial_pass_equals_full_pass, 0, (int)(sizeof(events) / sizeof(events[0])));
	tcase_add_test(t, partial_pass_recreates_a_changed_service_missing_from_the_maps);
	suite_add_tcase(s, t);
	return s;
}
