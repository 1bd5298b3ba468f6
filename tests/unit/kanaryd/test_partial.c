// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * A partial build and pass (kd_desired_build_some, then kd_reconcile_some)
 * leave the desired state and the maps exactly as a full build and pass
 * do, for each kind of event: the scene is a set of files, the event
 * replaces the files whose text it changes (the others keep their object
 * sets, as kanaryd's source does), one instance is built and reconciled
 * fully and one partially, then every desired service is compared, and
 * every service's config, backends, rules and mirrors in the maps byte for
 * byte.  A service the partial build missed stays as it was and fails
 * the comparison.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <bpf/bpf.h>
#include "kdt.h"
#include "apply/reconcile.h"
#include "desired/desired_changed.h"
#include "desired/desired_partial.h"
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
	const char *g_host;	/* the host of n/g's VirtualService */
	bool cross;		/* n/g's split sends b's share to n/h's subset b instead */
	const char *h2_ready;	/* pod h2's readiness */
	bool no_dr_g, no_vs_h;	/* n/g's DestinationRule, namespace other's VirtualService, deleted */
	bool no_h;		/* Service n/h deleted */
	bool evil;		/* a VirtualService in namespace evil, not granted, names n/g */
};

static const struct scene base = {
	.p3_labels = "app: g, v: b", .p3_ready = "True", .p3_ip = "10.1.0.3",
	.port = 80, .target_port = 8080, .selector = "app: g", .dr_b = "v: b", .w_a = 80,
	.header = "dark", .mirror = "5", .grant = "other", .other_w = 70, .export_to = "'*'",
	.g_host = "g", .h2_ready = "True",
};

/* A scene as files, each one object set: an event changes some of them. */
#define MAX_FILES 16
struct files {
	size_t n;
	char name[MAX_FILES][32];
	char text[MAX_FILES][2048];
};

static void file(struct files *f, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void file(struct files *f, const char *name, const char *fmt, ...)
{
	va_list ap;
	int n;

	ck_assert_uint_lt(f->n, MAX_FILES);
	snprintf(f->name[f->n], sizeof(f->name[0]), "%s", name);
	va_start(ap, fmt);
	n = vsnprintf(f->text[f->n], sizeof(f->text[0]), fmt, ap);
	va_end(ap);
	ck_assert_int_lt(n, (int)sizeof(f->text[0]));
	f->n++;
}

static void pod(struct files *f, const char *name, const char *ns, const char *labels,
		const char *ip, const char *ready)
{
	char fname[32];

	snprintf(fname, sizeof(fname), "pod-%s.yaml", name);
	file(f, fname, "apiVersion: v1\nkind: Pod\nmetadata: {name: %s, namespace: %s, labels: {%s}}\n"
	     "status: {phase: Running, podIP: %s, conditions: [{type: Ready, status: '%s'}]}\n",
	     name, ns, labels, ip, ready);
}

static void scene_files(const struct scene *s, struct files *f)
{
	memset(f, 0, sizeof(*f));
	file(f, "services.yaml",
	     "apiVersion: v1\nkind: Service\nmetadata: {name: g, namespace: n}\n"
	     "spec: {clusterIP: 10.96.0.50, selector: {%s}, ports: [{name: http, port: %d, targetPort: %d}]}\n"
	     "%s%s%s%s",
	     s->selector, s->port, s->target_port,
	     s->no_h ? "" : "---\napiVersion: v1\nkind: Service\nmetadata: {name: h, namespace: n, annotations: {kanary.io/routing-from: '",
	     s->no_h ? "" : s->grant,
	     s->no_h ? "" : "'}}\nspec: {clusterIP: 10.96.0.51, selector: {app: h}, ports: [{name: http, port: 80, targetPort: 8080}]}\n",
	     s->extra ? "---\napiVersion: v1\nkind: Service\nmetadata: {name: z, namespace: n}\n"
			"spec: {clusterIP: 10.96.0.52, selector: {app: g}, ports: [{name: http, port: 80}]}\n" : "");
	pod(f, "p1", "n", "app: g, v: a", "10.1.0.1", "True");
	pod(f, "p2", "n", "app: g, v: b", "10.1.0.2", "True");
	if (!s->no_p3)
		pod(f, "p3", "n", s->p3_labels, s->p3_ip, s->p3_ready);
	if (s->p4)
		pod(f, "p4", "n", "app: g, v: a", "10.1.0.4", "True");
	if (s->stranger)
		pod(f, "x1", "n", "app: x, v: a", "10.1.0.9", "True");
	pod(f, "h1", "n", "app: h, v: a", "10.2.0.1", "True");
	pod(f, "h2", "n", "app: h, v: b", "10.2.0.2", s->h2_ready);
	pod(f, "h3", "n", "app: h, v: b", "10.2.0.3", "True");
	if (!s->no_dr_g)
		file(f, "dr-g.yaml", "apiVersion: networking.istio.io/v1\nkind: DestinationRule\n"
		     "metadata: {name: g, namespace: n}\n"
		     "spec: {host: g, subsets: [{name: a, labels: {v: a}}, {name: b, labels: {%s}}]}\n", s->dr_b);
	file(f, "vs-g.yaml", "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: g, namespace: n}\n"
	     "spec:\n  hosts: [%s]\n  http:\n"
	     "  - match: [{headers: {x-my-header: {exact: %s}}}]\n    route: [{destination: {host: g, subset: b}}]\n"
	     "  - route: [{destination: {host: g, subset: a}, weight: %d}, {destination: {host: %s, subset: b}, weight: %d}]\n",
	     s->g_host, s->header, s->w_a, s->cross ? "h" : "g", 100 - s->w_a);
	file(f, "istio-other.yaml",
	     "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: h, namespace: other}\n"
	     "spec: {host: h.n.svc.cluster.local, subsets: [{name: a, labels: {v: a}}, {name: b, labels: {v: b}}]}\n");
	if (!s->no_vs_h)
		file(f, "vs-other.yaml", "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: h, namespace: other}\n"
		     "spec:\n  hosts: [h.n.svc.cluster.local]\n  exportTo: [%s]\n  http:\n"
		     "  - mirror: {host: h.n.svc.cluster.local, subset: b}\n    mirrorPercentage: {value: %s}\n"
		     "    route: [{destination: {host: h.n.svc.cluster.local, subset: a}, weight: %d}, {destination: {host: h.n.svc.cluster.local, subset: b}, weight: %d}]\n",
		     s->export_to, s->mirror, s->other_w, 100 - s->other_w);
	if (s->evil)
		file(f, "vs-evil.yaml", "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: e, namespace: evil}\n"
		     "spec:\n  hosts: [g.n.svc.cluster.local]\n  http:\n"
		     "  - route: [{destination: {host: g.n.svc.cluster.local, subset: b}}]\n");
}

static void build(struct kdt_world *w, const struct scene *s, struct files *f)
{
	memset(w, 0, sizeof(*w));
	scene_files(s, f);
	for (size_t i = 0; i < f->n; i++)
		ck_assert_msg(kdt_load_text(w, f->name[i], f->text[i]) == 0, "%s does not decode", f->name[i]);
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
				       .cgroup = KANARY_CGROUP_NONE, .maps_only = true };
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

/*
 * An event: the scene before, the scene after; min_changed, max_changed:
 * the services it must change; cross: both scenes route n/g to n/h.
 */
struct event {
	const char *what;
	struct scene after;
	size_t min_changed, max_changed;
	bool structural;
	bool cross;
};

static struct event events[] = {
	{ "pod added", { .p4 = true }, 1, 1, false, false },
	{ "pod removed", { .no_p3 = true }, 1, 1, false, false },
	{ "pod relabelled to another subset", { .p3_labels = "app: g, v: a" }, 1, 1, false, false },
	{ "pod relabelled out of the Service", { .p3_labels = "app: q, v: b" }, 1, 1, false, false },
	{ "pod relabelled from one Service to another", { .p3_labels = "app: h, v: b" }, 2, 2, false, false },
	{ "pod not ready", { .p3_ready = "False" }, 1, 1, false, false },
	{ "pod address changed", { .p3_ip = "10.1.0.33" }, 1, 1, false, false },
	{ "pod no Service selects", { .stranger = true }, 0, 0, false, false },
	{ "pod of a Service another routes to not ready", { .h2_ready = "False" }, 2, 2, false, true },
	{ "Service targetPort changed", { .target_port = 9090 }, 1, 1, false, false },
	{ "Service selector changed", { .selector = "v: b" }, 1, 1, false, false },
	{ "DestinationRule subset labels changed", { .dr_b = "v: a" }, 1, 1, false, false },
	{ "DestinationRule deleted", { .no_dr_g = true }, 1, 1, false, false },
	{ "VirtualService weights changed", { .w_a = 50 }, 1, 1, false, false },
	{ "VirtualService rule changed", { .header = "darker" }, 1, 1, false, false },
	{ "VirtualService mirror changed", { .mirror = "12.5" }, 1, 1, false, false },
	{ "VirtualService host changed to another Service", { .g_host = "h" }, 2, 2, false, false },
	{ "VirtualService destination changed to another Service", { .cross = true }, 1, 1, false, false },
	{ "another namespace's VirtualService deleted", { .no_vs_h = true }, 1, 1, false, false },
	{ "routing-from grant withdrawn", { .grant = "nobody" }, 1, 1, false, false },
	{ "routing-from grant withdrawn from a Service another routes to", { .grant = "nobody" }, 2, 2, false, true },
	{ "another namespace's granted split changed", { .other_w = 20 }, 1, 1, false, false },
	{ "VirtualService exportTo narrowed to its namespace", { .export_to = "'.'" }, 0, 0, false, false },
	{ "VirtualService of a namespace not granted added", { .evil = true }, 0, 0, false, false },
	{ "Service port changed", { .port = 81 }, 1, 1, true, false },
	{ "Service added", { .extra = true }, 1, 1, true, false },
	{ "Service deleted", { .no_h = true }, 1, 1, true, false },
};

/* The event's scene: base with the fields it sets. */
static struct scene scene_of(const struct event *e)
{
	const struct scene *ev = &e->after;
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
	if (ev->g_host)
		s.g_host = ev->g_host;
	if (ev->h2_ready)
		s.h2_ready = ev->h2_ready;
	s.extra = ev->extra;
	s.cross = ev->cross || e->cross;
	s.no_dr_g = ev->no_dr_g;
	s.no_vs_h = ev->no_vs_h;
	s.no_h = ev->no_h;
	s.evil = ev->evil;
	return s;
}

static bool same_text(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

/* The partial build's result equals the full build's, field by field. */
static void assert_same_desired(const struct kd_desired *p, const struct kd_desired *f, const char *what)
{
	ck_assert_msg(p->n == f->n, "%s: %zu services built partially, %zu fully", what, p->n, f->n);
	for (size_t i = 0; i < f->n; i++) {
		const struct kd_desired_service *a = &p->v[i], *b = &f->v[i];

		ck_assert_str_eq(a->name, b->name);
		ck_assert_msg(memcmp(&a->key, &b->key, sizeof(a->key)) == 0, "%s: %s: key", what, a->name);
		ck_assert_msg(a->hash == b->hash, "%s: %s: the partial build left it as it was", what, a->name);
		ck_assert_msg(a->hold == b->hold && same_text(a->problem, b->problem), "%s: %s: held '%s' vs '%s'",
			      what, a->name, a->problem ? a->problem : "", b->problem ? b->problem : "");
		ck_assert_msg(same_text(a->origin, b->origin) && same_text(a->route, b->route) &&
			      same_text(a->dr, b->dr), "%s: %s: origin, route or rule", what, a->name);
		ck_assert_uint_eq(a->nsub, b->nsub);
		for (__u32 k = 0; k < a->nsub; k++)
			ck_assert_msg(strcmp(a->sub[k].workload, b->sub[k].workload) == 0 &&
				      strcmp(a->sub[k].version, b->sub[k].version) == 0 &&
				      strcmp(a->sub[k].app, b->sub[k].app) == 0,
				      "%s: %s: subset %s's identity", what, a->name, a->sub[k].name);
	}
}

START_TEST(partial_pass_equals_full_pass)
{
	const struct event *ev = &events[_i];
	struct scene before = base, after = scene_of(ev);
	struct kd_desired_cache cache = { 0 };
	struct kd_objects *sets[MAX_FILES];
	struct kd_diags said = { 0 };
	struct kdt_world w0, w1;
	struct kd_changes c, want;
	struct files f0, f1;
	struct kd_desired d;
	struct instance a, b;
	struct dump da, db;
	size_t rebuilt;
	int ret;

	before.cross = ev->cross;
	build(&w0, &before, &f0);
	/* The scene means something: n/g split with a rule, n/h split and mirrored from other. */
	ck_assert_uint_eq(kdt_service(&w0, "n/g")->nsub, ev->cross ? 3 : 2);
	ck_assert_ptr_nonnull(kdt_service(&w0, "n/g")->rules);
	ck_assert_uint_eq(kdt_service(&w0, "n/h")->nsub, 2);
	if (!kdt_service(&w0, "n/h")->mirror_ppm[kd_desired_subset_index(kdt_service(&w0, "n/h"), "b")])
		kdt_dump(&w0.diags);
	ck_assert_uint_ne(kdt_service(&w0, "n/h")->mirror_ppm[kd_desired_subset_index(kdt_service(&w0, "n/h"), "b")], 0);
	if (ev->cross)	/* n/g's b is n/h's */
		ck_assert_int_ge(kd_desired_subset_index(kdt_service(&w0, "n/g"), "h/b"), 0);
	build(&w1, &after, &f1);
	kd_desired_changed(&w0.desired, &w1.desired, &want);
	ck_assert_msg(want.n >= ev->min_changed && want.n <= ev->max_changed,
		      "%s: %zu services changed, expected %zu to %zu", ev->what, want.n, ev->min_changed,
		      ev->max_changed);
	ck_assert_msg(want.structural == ev->structural, "%s: structural %d", ev->what, want.structural);

	/* kanaryd's way: a full build, then the event's files replaced, the others' sets kept. */
	kd_desired_build_full(&cache, w0.ptr, w0.n, NULL, &d, &said);
	for (size_t i = 0; i < f1.n; i++) {
		sets[i] = w1.ptr[i];
		for (size_t j = 0; j < f0.n; j++)
			if (strcmp(f0.name[j], f1.name[i]) == 0 && strcmp(f0.text[j], f1.text[i]) == 0)
				sets[i] = w0.ptr[j];
	}
	ret = kd_desired_build_some(&cache, sets, f1.n, NULL, &d, &said, &c, &rebuilt);
	if (ev->structural) {
		/* The maps' keys change: left to a full build, d as it was. */
		ck_assert_msg(ret == 1, "%s: a partial build took a structural change", ev->what);
		assert_same_desired(&d, &w0.desired, ev->what);
	} else {
		ck_assert_msg(ret == 0, "%s: the partial build declined", ev->what);
		assert_same_desired(&d, &w1.desired, ev->what);
		ck_assert_uint_ge(rebuilt, want.n);
		ck_assert_uint_eq(c.n, want.n);
		for (size_t i = 0; i < c.n; i++)
			ck_assert_str_eq(c.names[i], want.names[i]);
	}

	up(&a);
	up(&b);
	full(&a, &w0.desired);
	full(&b, &w0.desired);
	full(&a, &w1.desired);
	if (ev->structural)	/* kanaryd does a full pass: nothing partial to compare */
		full(&b, &w1.desired);
	else
		partial(&b, &d, &c);
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
		if (kd_changes_has(&want, ra->name))
			ck_assert_str_eq(kd_outcome_name(ra->outcome), kd_outcome_name(rb->outcome));
	}
	dump_free(&da);
	dump_free(&db);
	kd_changes_free(&c);
	kd_changes_free(&want);
	kd_desired_free(&d);
	kd_desired_cache_free(&cache);
	kd_diags_free(&said);
	down(&a);
	down(&b);
	kdt_free(&w0);
	kdt_free(&w1);
}
END_TEST

/* A second definition of a pod: which one wins is the full build's dedupe, so a partial one declines. */
START_TEST(partial_build_leaves_a_pod_defined_twice_to_a_full_build)
{
	struct kd_desired_cache cache = { 0 };
	struct kd_objects *sets[MAX_FILES];
	struct kd_diags said = { 0 };
	struct kdt_world w0, w1;
	struct kd_changes c;
	struct files f0;
	struct kd_desired d;
	size_t rebuilt;

	build(&w0, &base, &f0);
	memset(&w1, 0, sizeof(w1));
	ck_assert_int_eq(kdt_load_text(&w1, "pod-p3-again.yaml",
				       "apiVersion: v1\nkind: Pod\nmetadata: {name: p3, namespace: n, labels: {app: g, v: a}}\n"
				       "status: {phase: Running, podIP: 10.1.0.7, conditions: [{type: Ready, status: 'True'}]}\n"), 0);
	kd_desired_build_full(&cache, w0.ptr, w0.n, NULL, &d, &said);
	for (size_t i = 0; i < w0.n; i++)
		sets[i] = w0.ptr[i];
	sets[w0.n] = w1.ptr[0];
	ck_assert_int_eq(kd_desired_build_some(&cache, sets, w0.n + 1, NULL, &d, &said, &c, &rebuilt), 1);
	assert_same_desired(&d, &w0.desired, "a pod defined twice");
	kd_changes_free(&c);
	kd_desired_free(&d);
	kd_desired_cache_free(&cache);
	kd_diags_free(&said);
	kdt_free(&w0);
	kdt_free(&w1);
}
END_TEST

/* A partial pass that finds the maps changed behind it (a service deleted) creates it again. */
START_TEST(partial_pass_recreates_a_changed_service_missing_from_the_maps)
{
	struct scene after = base;
	struct kdt_world w0, w1;
	struct files f0, f1;
	struct kanary_err e = { "" };
	struct instance a;
	struct kd_changes c;
	struct kanary_service *s = calloc(1, sizeof(*s));

	after.w_a = 10;
	build(&w0, &base, &f0);
	build(&w1, &after, &f1);
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

/*
 * A partial pass's results: every desired service's, in name order, the
 * changed ones new and the others the last pass's, found after that pass's
 * deletion (kd_reconcile_some walks them in order).
 */
START_TEST(partial_pass_results_carry_the_last_passes)
{
	struct scene extra = base, after = base;
	struct kdt_world wx, w0, w1;
	struct files fx, f0, f1;
	struct kd_results last = { 0 };
	struct instance a;
	struct kd_changes c;

	extra.extra = true;
	after.p3_ready = "False";
	build(&wx, &extra, &fx);
	build(&w0, &base, &f0);
	build(&w1, &after, &f1);
	kd_desired_changed(&w0.desired, &w1.desired, &c);
	ck_assert_uint_eq(c.n, 1);
	up(&a);
	full(&a, &wx.desired);
	full(&a, &w0.desired);		/* the extra Service's service deleted: first in the results */
	ck_assert_str_eq(kd_outcome_name(a.res.v[0].outcome), "deleted");
	for (size_t i = 0; i < a.res.n; i++) {
		struct kd_result r = a.res.v[i];

		r.msg = r.msg ? strdup(r.msg) : NULL;
		KD_PUSH(last.v, last.n, last.cap, r);
	}
	KD_NAME_INDEX_OF(&last.by_name, last.v, last.n, name);
	partial(&a, &w1.desired, &c);
	ck_assert_uint_eq(a.res.n, w1.desired.n);
	for (size_t i = 0; i < w1.desired.n; i++) {
		const struct kd_result *now = &a.res.v[i], *was = kd_results_find(&last, now->name);

		ck_assert_str_eq(now->name, w1.desired.v[i].name);
		ck_assert_ptr_eq(kd_results_find(&a.res, now->name), now);
		if (kd_changes_has(&c, now->name)) {
			ck_assert_str_eq(kd_outcome_name(now->outcome), "updated");
			continue;
		}
		ck_assert_ptr_nonnull(was);
		ck_assert_str_eq(kd_outcome_name(now->outcome), kd_outcome_name(was->outcome));
		ck_assert_int_eq(!now->msg, !was->msg);
		if (now->msg)
			ck_assert_str_eq(now->msg, was->msg);
	}
	ck_assert_uint_eq(a.res.writes, 1);
	kd_results_free(&last);
	kd_changes_free(&c);
	down(&a);
	kdt_free(&wx);
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
	tcase_add_test(t, partial_pass_results_carry_the_last_passes);
	tcase_add_test(t, partial_build_leaves_a_pod_defined_twice_to_a_full_build);
	suite_add_tcase(s, t);
	return s;
}
