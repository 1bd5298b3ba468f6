// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Decoding the fixtures, in kubectl's formats, and bad files. */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include "kdt.h"
#include "apply/rules_map_write.h"

static const struct kd_pod *pod(const struct kd_objects *o, const char *name)
{
	for (size_t i = 0; i < o->npod; i++)
		if (strcmp(o->pod[i]->m.name, name) == 0)
			return o->pod[i];
	ck_abort_msg("no pod %s", name);
	return NULL;
}

static const struct kd_service *service(const struct kd_objects *o, const char *name)
{
	for (size_t i = 0; i < o->nsvc; i++)
		if (strcmp(o->svc[i]->m.name, name) == 0)
			return o->svc[i];
	ck_abort_msg("no service %s", name);
	return NULL;
}

START_TEST(kubectl_pods_json_list)
{
	struct kdt_world w = { 0 };
	const struct kd_pod *p;

	ck_assert_int_eq(kdt_load(&w, "pods-list.json"), 0);
	ck_assert_uint_eq(w.sets[0].npod, 9);
	p = pod(&w.sets[0], "greeting-safe-7c9d8b6f4d-aaaaa");
	ck_assert(p->running && p->ready && !p->terminating);
	ck_assert_str_eq(p->m.ns, "shop");
	ck_assert_str_eq(kd_label(&p->labels, "version"), "safe");
	ck_assert_uint_eq(p->ip, htonl(0x0af4010b));	/* 10.244.1.11 */
	ck_assert_str_eq(p->m.file, "pods-list.json");
	ck_assert_int_gt(p->m.line, 1);

	ck_assert(pod(&w.sets[0], "greeting-safe-7c9d8b6f4d-ccccc")->terminating);
	ck_assert(!pod(&w.sets[0], "greeting-risky-6b4f9d7c8-bbbbb")->ready);
	p = pod(&w.sets[0], "greeting-risky-6b4f9d7c8-ccccc");
	ck_assert(!p->running);
	ck_assert_uint_eq(p->ip, 0);
	p = pod(&w.sets[0], "greeting-risky-6b4f9d7c8-aaaaa");
	ck_assert_uint_eq(p->nports, 2);
	ck_assert_str_eq(p->ports[1].name, "http");
	ck_assert_int_eq(p->ports[1].port, 9090);
	ck_assert_int_eq(p->ports[1].proto, IPPROTO_TCP);
	kdt_free(&w);
}
END_TEST

START_TEST(typed_list_items_inherit_kind)
{
	struct kdt_world w = { 0 };

	ck_assert_int_eq(kdt_load(&w, "podlist-typed.json"), 0);
	ck_assert_uint_eq(w.sets[0].npod, 1);
	ck_assert_str_eq(w.sets[0].pod[0]->m.kind, "Pod");
	kdt_free(&w);
}
END_TEST

START_TEST(multi_document_services)
{
	struct kdt_world w = { 0 };
	const struct kd_service *s;

	ck_assert_int_eq(kdt_load(&w, "services.yaml"), 0);
	ck_assert_uint_eq(w.sets[0].nsvc, 5);
	ck_assert_uint_eq(w.sets[0].nignored, 1);	/* the Deployment */
	s = service(&w.sets[0], "greeting");
	ck_assert_int_eq(s->cip, KD_CIP_V4);
	ck_assert_uint_eq(s->vip, htonl(0x0a60010a));	/* 10.96.1.10 */
	ck_assert_uint_eq(s->nports, 1);
	ck_assert_str_eq(s->ports[0].target_name, "http");
	ck_assert_int_eq(s->ports[0].target_num, 0);
	ck_assert_str_eq(kd_label(&s->selector, "app"), "greeting");
	s = service(&w.sets[0], "cart");
	ck_assert_uint_eq(s->nports, 3);
	ck_assert_int_eq(s->ports[0].target_num, 8080);
	ck_assert_int_eq(s->ports[2].proto, IPPROTO_UDP);
	ck_assert_int_eq(service(&w.sets[0], "greeting-headless")->cip, KD_CIP_NONE);
	ck_assert_int_eq(service(&w.sets[0], "draft")->cip, KD_CIP_MISSING);
	ck_assert_int_eq(service(&w.sets[0], "draft")->ports[0].target_num, 80);	/* default: port */
	ck_assert(service(&w.sets[0], "payments")->external_name);
	kdt_free(&w);
}
END_TEST

/* Rules and per-request routing only on ports declared HTTP, as Istio declares them, or named by the operator. */
START_TEST(http_ports_as_istio_declares_them_or_the_operator_names_them)
{
	static const struct {
		const char *port;
		bool http;
	} cases[] = {
		{ "{name: http, port: 80}", true },
		{ "{name: http-web, port: 80}", true },
		{ "{name: HTTP2-x, port: 80}", true },
		{ "{name: grpc-api, port: 80}", true },
		{ "{name: web, port: 80, appProtocol: http}", true },
		{ "{name: http, port: 80, appProtocol: mysql}", false },	/* appProtocol wins */
		{ "{name: tcp-db, port: 80, appProtocol: kubernetes.io/h2c}", true },
		{ "{name: mysql, port: 80}", false },
		{ "{name: httpx, port: 80}", false },	/* not a prefix followed by '-' */
		{ "{port: 80}", false },
		{ "{name: db, port: 80}", false },
	};
	struct kanary_svc_config cfg = { .n_subsets = 0 };
	struct kanary_rules rs;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (int ann = 0; ann < 2; ann++) {
			struct kdt_world w = { 0 };
			const struct kd_desired_service *ds;
			bool want = cases[i].http || ann;
			char text[512];

			snprintf(text, sizeof(text), "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n"
				 "  namespace: n\n  annotations: {kanary.io/per-request: 'true'%s}\n"
				 "spec: {clusterIP: 10.96.0.9, selector: {app: s}, ports: [%s, {name: http, port: 81}]}\n",
				 ann ? ", kanary.io/http-ports: ' 80 '" : "", cases[i].port);
			ck_assert_int_eq(kdt_load_text(&w, "s.yaml", text), 0);
			kdt_build(&w);
			ds = kdt_service(&w, "n/s/80");
			ck_assert_msg(ds->per_request == want, "%s, annotation %d: per_request %d",
				      cases[i].port, ann, ds->per_request);
			ck_assert(kd_rules_committed(ds, &cfg, &rs));
			ck_assert_uint_eq(rs.flags, want ? KANARY_RULES_F_PER_REQUEST : 0);
			ck_assert(kdt_service(&w, "n/s/81")->per_request);
			if (!want)
				KDT_ASSERT_DIAG(&w.diags, KD_WARN, "s.yaml:", "Service n/s: kanary.io/per-request "
						"does not apply to port 80, which is not declared as HTTP");
			kdt_free(&w);
		}
	}
}
END_TEST

START_TEST(http_ports_annotation_must_name_the_services_tcp_ports)
{
	static const char *const bad[] = { "8080", "80,", "80 81", "x", "80,,81" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct kdt_world w = { 0 };
		char text[512];

		snprintf(text, sizeof(text), "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n"
			 "  namespace: n\n  annotations: {kanary.io/http-ports: '%s'}\n"
			 "spec: {clusterIP: 10.96.0.9, selector: {app: s}, ports: [{port: 80}, {port: 81}]}\n",
			 bad[i]);
		ck_assert_int_eq(kdt_load_text(&w, "s.yaml", text), -EINVAL);
		KDT_ASSERT_DIAG(&w.diags, KD_ERROR, "s.yaml:", "kanary.io/http-ports",
				"is not a comma-separated list of the Service's TCP ports");
		kdt_free(&w);
	}
}
END_TEST

/* kanary.io/per-request: "true" reaches the rules entry kanaryd writes; "false" is the default. */
START_TEST(per_request_annotation)
{
	static const char *const vals[] = { "'true'", "'false'", NULL };
	struct kanary_svc_config cfg = { .n_subsets = 0 };
	struct kanary_rules rs;

	for (int i = 0; i < 3; i++) {
		struct kdt_world w = { 0 };
		char text[512];
		const struct kd_desired_service *ds;

		snprintf(text, sizeof(text), "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n"
			 "  namespace: n\n%s%s%s\nspec: {clusterIP: 10.96.0.9, selector: {app: s}, "
			 "ports: [{name: http, port: 80}]}\n", vals[i] ? "  annotations: {kanary.io/per-request: " : "",
			 vals[i] ? vals[i] : "  labels: {a: b}", vals[i] ? "}" : "");
		ck_assert_int_eq(kdt_load_text(&w, "s.yaml", text), 0);
		ck_assert_int_eq(service(&w.sets[0], "s")->per_request, i == 0);
		kdt_build(&w);
		ds = kdt_service(&w, "n/s");
		ck_assert_int_eq(ds->per_request, i == 0);
		ck_assert(kd_rules_committed(ds, &cfg, &rs));
		ck_assert_uint_eq(rs.n_rules, 0);
		ck_assert_uint_eq(rs.flags, i == 0 ? KANARY_RULES_F_PER_REQUEST : 0);
		kdt_free(&w);
	}
}
END_TEST

START_TEST(per_request_annotation_bad_value)
{
	struct kdt_world w = { 0 };

	ck_assert_int_ne(kdt_load_text(&w, "pr.yaml", "apiVersion: v1\nkind: Service\nmetadata:\n"
				       "  name: s\n  annotations:\n    kanary.io/per-request: 'yes'\n"
				       "spec: {clusterIP: 10.96.0.9, ports: [{port: 80}]}\n"), 0);
	KDT_ASSERT_DIAG(&w.diags, KD_ERROR, "pr.yaml:6:", "Service default/s",
			"metadata.annotations.kanary.io/per-request: expected \"true\" or \"false\", got 'yes'");
	ck_assert_uint_eq(w.sets[0].nsvc, 0);
	kdt_free(&w);
}
END_TEST

/* The three networking.istio.io versions share a schema; each decodes. */
START_TEST(istio_versions)
{
	static const char *const files[] = { "istio-v1.yaml", "istio-v1beta1.yaml",
					     "istio-v1alpha3.yaml" };
	static const long long safe_weight[] = { 90, 80, 70 };
	struct kdt_world w = { 0 };
	const struct kd_virtual_service *vs;

	ck_assert_int_eq(kdt_load(&w, files[_i]), 0);
	ck_assert_uint_eq(w.sets[0].ndr, 1);
	ck_assert_uint_eq(w.sets[0].nvs, 1);
	ck_assert_str_eq(w.sets[0].dr[0]->host, "greeting");
	ck_assert_uint_eq(w.sets[0].dr[0]->nsubsets, 2);
	ck_assert_str_eq(kd_label(&w.sets[0].dr[0]->subsets[1].labels, "version"), "risky");
	vs = w.sets[0].vs[0];
	ck_assert(vs->mesh);
	ck_assert_uint_eq(vs->nhosts, 1);
	ck_assert_uint_eq(vs->nroutes, 1);
	ck_assert(vs->routes[0].nmatches == 0 && vs->routes[0].routable);
	ck_assert_uint_eq(vs->routes[0].ndests, 2);
	ck_assert_int_eq(vs->routes[0].dests[0].weight, safe_weight[_i]);
	ck_assert_str_eq(vs->routes[0].dests[1].subset, "risky");
	ck_assert_uint_eq(w.diags.n, 0);
	kdt_free(&w);
}
END_TEST

START_TEST(unsupported_istio_version_is_skipped_with_a_warning)
{
	struct kdt_world w = { 0 };

	ck_assert_int_eq(kdt_load_text(&w, "vs.yaml",
		"apiVersion: networking.istio.io/v2\nkind: VirtualService\nmetadata:\n  name: x\n"
		"spec:\n  hosts: [x]\n"), 0);
	ck_assert_uint_eq(w.sets[0].nvs, 0);
	KDT_ASSERT_DIAG(&w.diags, KD_WARN, "vs.yaml:1:", "networking.istio.io/v2", "unsupported apiVersion");
	kdt_free(&w);
}
END_TEST

START_TEST(syntax_error_names_file_and_line)
{
	struct kdt_world w = { 0 };
	char where[64];

	ck_assert_int_ne(kdt_load(&w, "bad-syntax.yaml"), 0);
	snprintf(where, sizeof(where), "bad-syntax.yaml:%d:", kdt_marker_line("bad-syntax.yaml", "BAD-LINE"));
	KDT_ASSERT_DIAG(&w.diags, KD_ERROR, where, "invalid YAML");
	kdt_free(&w);
}
END_TEST

START_TEST(bad_field_names_file_line_object_and_field)
{
	struct kdt_world w = { 0 };
	char where[64];

	ck_assert_int_ne(kdt_load(&w, "bad-field.yaml"), 0);
	snprintf(where, sizeof(where), "bad-field.yaml:%d:", kdt_marker_line("bad-field.yaml", "BAD-LINE"));
	KDT_ASSERT_DIAG(&w.diags, KD_ERROR, where, "VirtualService shop/greeting",
			"spec.http[0].route[0].weight", "'eighty'");
	kdt_free(&w);
}
END_TEST

/* Each wrong shape is an error that says what was expected. */
static const struct { const char *text, *expect; } bad_cases[] = {
	{ "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  clusterIP: 10.0.0.300\n",
	  "spec.clusterIP: expected an IP address" },
	{ "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  ports:\n  - port: 70000\n",
	  "spec.ports[0].port: expected a port number 1-65535, got '70000'" },
	{ "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  ports:\n  - port: 80\n    targetPort: Not_A_Name\n",
	  "spec.ports[0].targetPort: 'Not_A_Name' is neither" },
	{ "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  ports:\n  - port: 80\n    protocol: QUIC\n",
	  "expected TCP, UDP or SCTP" },
	{ "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  ports: {port: 80}\n",
	  "spec.ports: expected a list, got a mapping" },
	{ "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nstatus:\n  podIP: banana\n",
	  "status.podIP: expected an IP address, got 'banana'" },
	{ "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  labels: [a, b]\n",
	  "metadata.labels: expected a mapping" },
	{ "apiVersion: v1\nkind: Service\nmetadata: {namespace: x}\nspec: {}\n",
	  "metadata.name: missing" },
	{ "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: d}\nspec:\n  subsets:\n  - name: a\n",
	  "spec.host: missing" },
	{ "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: d}\nspec:\n  host: h\n  subsets:\n  - name: a\n  - name: a\n",
	  "subset 'a' is defined twice" },
	{ "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: v}\nspec:\n  hosts: []\n",
	  "spec.hosts: missing" },
	{ "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: v}\nspec:\n  hosts: [h]\n  http:\n  - route:\n    - destination: {host: h}\n      weight: -5\n",
	  "spec.http[0].route[0].weight: expected an integer 0-1000000, got '-5'" },
	{ "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: v}\nspec:\n  hosts: [h]\n  tcp:\n  - route:\n    - destination: {subset: a}\n",
	  "spec.tcp[0].route[0].destination.host: missing" },
	{ "- just\n- a list\n", "expected a Kubernetes object" },
	{ "apiVersion: v1\nkind: List\nitems: {a: 1}\n", "List.items: expected a list" },
};

START_TEST(wrong_shapes_are_errors)
{
	struct kdt_world w = { 0 };

	ck_assert_int_ne(kdt_load_text(&w, "case.yaml", bad_cases[_i].text), 0);
	KDT_ASSERT_DIAG(&w.diags, KD_ERROR, "case.yaml:", bad_cases[_i].expect);
	kdt_free(&w);
}
END_TEST

START_TEST(unknown_kinds_and_documents_without_kind_do_not_fail)
{
	struct kdt_world w = { 0 };

	ck_assert_int_eq(kdt_load_text(&w, "mixed.yaml",
		"apiVersion: serving.knative.dev/v1\nkind: Service\nmetadata: {name: k}\n---\n"
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n---\n"
		"resources:\n- deployment.yaml\n---\n"
		"apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {clusterIP: 10.0.0.1, selector: {a: b}, ports: [{port: 80}]}\n"), 0);
	ck_assert_uint_eq(w.sets[0].nsvc, 1);
	ck_assert_uint_eq(w.sets[0].nignored, 2);
	ck_assert_str_eq(w.sets[0].svc[0]->m.ns, "default");
	KDT_ASSERT_DIAG(&w.diags, KD_WARN, "mixed.yaml:9:", "no kind");
	kdt_free(&w);
}
END_TEST

START_TEST(unsupported_fields_are_warnings_naming_object_and_field)
{
	static const char *const expect[][3] = {
		{ "spec.http[1].match[0].uri.regex", "regex matches are not supported",
		  "cannot evaluate this match element" },
		{ "spec.http[2].retries", "retries are not applied", NULL },
		{ "spec.http[2].fault", "fault injection", NULL },
		{ "spec.trafficPolicy", "not applied", NULL },
	};
	struct kdt_world w = { 0 };

	ck_assert_int_eq(kdt_load(&w, "istio-features.yaml"), 0);
	for (size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++) {
		if (!kdt_diag(&w.diags, KD_WARN, "istio-features.yaml:", expect[i][0], expect[i][1],
			      expect[i][2], NULL)) {
			kdt_dump(&w.diags);
			ck_abort_msg("no warning about %s", expect[i][0]);
		}
	}
	KDT_ASSERT_DIAG(&w.diags, KD_WARN, "VirtualService shop/greeting", "retries");
	KDT_ASSERT_DIAG(&w.diags, KD_WARN, "DestinationRule shop/greeting", "trafficPolicy");
	ck_assert_uint_eq(kd_diag_count(&w.diags, KD_ERROR), 0);
	/* A header match kanary evaluates is no warning; the regex marks its element. */
	ck_assert(!kdt_diag(&w.diags, KD_WARN, "spec.http[0].match", NULL));
	ck_assert_uint_eq(w.sets[0].vs[0]->routes[0].nmatches, 1);
	ck_assert_uint_eq(w.sets[0].vs[0]->routes[0].matches[0].nconds, 1);
	ck_assert_ptr_null(w.sets[0].vs[0]->routes[0].matches[0].unsupported);
	ck_assert_ptr_nonnull(strstr(w.sets[0].vs[0]->routes[1].matches[0].unsupported, "uri.regex"));
	ck_assert_uint_eq(w.sets[0].vs[0]->routes[2].nmatches, 0);
	kdt_free(&w);
}
END_TEST

START_TEST(gateway_only_virtual_service_is_not_mesh)
{
	struct kdt_world w = { 0 };

	ck_assert_int_eq(kdt_load_text(&w, "gw.yaml",
		"apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: v}\n"
		"spec:\n  hosts: [h]\n  gateways: [istio-system/public]\n  http:\n  - route:\n    - destination: {host: h}\n"), 0);
	ck_assert(!w.sets[0].vs[0]->mesh);
	KDT_ASSERT_DIAG(&w.diags, KD_WARN, "gw.yaml:6:", "spec.gateways", "gateways only");
	kdt_free(&w);
}
END_TEST

Suite *decode_suite(void)
{
	Suite *s = suite_create("decode");
	TCase *tc = tcase_create("fixtures");

	tcase_add_test(tc, kubectl_pods_json_list);
	tcase_add_test(tc, typed_list_items_inherit_kind);
	tcase_add_test(tc, multi_document_services);
	tcase_add_loop_test(tc, istio_versions, 0, 3);
	tcase_add_test(tc, unsupported_istio_version_is_skipped_with_a_warning);
	tcase_add_test(tc, syntax_error_names_file_and_line);
	tcase_add_test(tc, bad_field_names_file_line_object_and_field);
	tcase_add_loop_test(tc, wrong_shapes_are_errors, 0,
			    (int)(sizeof(bad_cases) / sizeof(bad_cases[0])));
	tcase_add_test(tc, unknown_kinds_and_documents_without_kind_do_not_fail);
	tcase_add_test(tc, unsupported_fields_are_warnings_naming_object_and_field);
	tcase_add_test(tc, gateway_only_virtual_service_is_not_mesh);
	tcase_add_test(tc, per_request_annotation);
	tcase_add_test(tc, http_ports_as_istio_declares_them_or_the_operator_names_them);
	tcase_add_test(tc, http_ports_annotation_must_name_the_services_tcp_ports);
	tcase_add_test(tc, per_request_annotation_bad_value);
	suite_add_tcase(s, tc);
	return s;
}
