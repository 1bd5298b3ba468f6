// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The names a subset goes by in Istio's telemetry: a pod's workload from
 * its owner (a Deployment behind its ReplicaSet), its version and app
 * labels, and the label table /metrics renders istio_* with, one group
 * per set of labels (the ports of a Service share theirs).
 */
#include <string.h>
#include "kdt.h"
#include "report/istio_ids.h"

/* Pods p1 (version safe) and p2 (version risky) of n/g, owned as given. */
static void world(struct kdt_world *w, const char *owner1, const char *owner2)
{
	char text[4096];

	snprintf(text, sizeof(text),
		 "apiVersion: v1\nkind: Service\nmetadata: {name: g, namespace: n}\n"
		 "spec: {clusterIP: 10.96.0.50, selector: {app: g}, ports: [{name: http, port: 80}, {name: web, port: 8080}]}\n---\n"
		 "apiVersion: v1\nkind: Pod\nmetadata: {name: g-safe-5d8f7c6b9d-q7wzn, namespace: n,\n"
		 "  labels: {app: g, version: safe, pod-template-hash: 5d8f7c6b9d}%s}\n"
		 "status: {phase: Running, podIP: 10.1.0.1, conditions: [{type: Ready, status: 'True'}]}\n---\n"
		 "apiVersion: v1\nkind: Pod\nmetadata: {name: g-risky-0, namespace: n, labels: {app: g, version: risky}%s}\n"
		 "status: {phase: Running, podIP: 10.1.0.2, conditions: [{type: Ready, status: 'True'}]}\n---\n"
		 "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: g, namespace: n}\n"
		 "spec: {host: g, subsets: [{name: safe, labels: {version: safe}}, {name: risky, labels: {version: risky}}]}\n---\n"
		 "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: g, namespace: n}\n"
		 "spec: {hosts: [g], http: [{route: [{destination: {host: g, subset: safe}, weight: 90},\n"
		 "  {destination: {host: g, subset: risky}, weight: 10}]}]}\n",
		 owner1, owner2);
	ck_assert_int_eq(kdt_load_text(w, "g.yaml", text), 0);
	kdt_build(w);
}

START_TEST(workload_is_the_deployment_behind_the_replicaset)
{
	struct kdt_world w = { 0 };
	const struct kd_desired_service *s;

	world(&w, ",\n  ownerReferences: [{kind: Node, name: n1}, {kind: ReplicaSet, name: g-safe-5d8f7c6b9d, controller: true}]",
	      ",\n  ownerReferences: [{kind: StatefulSet, name: g-risky, controller: true}]");
	s = kdt_service(&w, "n/g/80");
	ck_assert_str_eq(kdt_subset(s, "safe")->workload, "g-safe");
	ck_assert_str_eq(kdt_subset(s, "safe")->version, "safe");
	ck_assert_str_eq(kdt_subset(s, "safe")->app, "g");
	ck_assert_str_eq(kdt_subset(s, "risky")->workload, "g-risky");
	kdt_free(&w);
}
END_TEST

START_TEST(workload_without_owner_or_hash)
{
	struct kdt_world w = { 0 };
	const struct kd_desired_service *s;

	/* A ReplicaSet whose name does not end in the pod's hash keeps its name. */
	world(&w, ",\n  ownerReferences: [{kind: ReplicaSet, name: g-safe-other, controller: true}]", "");
	s = kdt_service(&w, "n/g/80");
	ck_assert_str_eq(kdt_subset(s, "safe")->workload, "g-safe-other");
	ck_assert_str_eq(kdt_subset(s, "risky")->workload, "g-risky-0");
	kdt_free(&w);
}
END_TEST

START_TEST(a_bad_owner_reference_is_an_error)
{
	struct kdt_world w = { 0 };

	ck_assert_int_ne(kdt_load_text(&w, "bad.yaml",
				       "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: n,\n"
				       "  ownerReferences: [{kind: ReplicaSet, name: rs, controller: maybe}]}\n"), 0);
	KDT_ASSERT_DIAG(&w.diags, KD_ERROR, "bad.yaml", "metadata.ownerReferences[0].controller");
	kdt_free(&w);
}
END_TEST

START_TEST(label_table_groups_the_ports_of_a_service)
{
	struct kdt_world w = { 0 };
	struct kd_istio_ids *ids;
	const struct kd_istio_id *a, *b, *r;

	world(&w, ",\n  ownerReferences: [{kind: ReplicaSet, name: g-safe-5d8f7c6b9d, controller: true}]", "");
	ids = kd_istio_ids_build(&w.desired, "cluster.local");
	a = kd_istio_ids_find(ids, "n/g/80", "safe");
	b = kd_istio_ids_find(ids, "n/g/8080", "safe");
	r = kd_istio_ids_find(ids, "n/g/80", "risky");
	ck_assert(a && b && r);
	ck_assert_uint_eq(a->group, b->group);
	ck_assert_uint_ne(a->group, r->group);
	ck_assert_uint_eq(ids->ngroups, 2);
	ck_assert_ptr_null(kd_istio_ids_find(ids, "n/g/80", "nosuch"));
	ck_assert_msg(strstr(ids->labels[a->group], "reporter=\"destination\"") &&
		      strstr(ids->labels[a->group], "destination_workload=\"g-safe\"") &&
		      strstr(ids->labels[a->group], "destination_workload_namespace=\"n\"") &&
		      strstr(ids->labels[a->group], "destination_version=\"safe\"") &&
		      strstr(ids->labels[a->group], "destination_service=\"g.n.svc.cluster.local\"") &&
		      strstr(ids->labels[a->group], "destination_service_name=\"g\""),
		      "labels: %s", ids->labels[a->group]);
	kd_istio_ids_free(ids);
	kdt_free(&w);
}
END_TEST

Suite *istio_ids_suite(void)
{
	Suite *s = suite_create("istio_ids");
	TCase *tc = tcase_create("istio_ids");

	tcase_add_test(tc, workload_is_the_deployment_behind_the_replicaset);
	tcase_add_test(tc, workload_without_owner_or_hash);
	tcase_add_test(tc, a_bad_owner_reference_is_an_error);
	tcase_add_test(tc, label_table_groups_the_ports_of_a_service);
	suite_add_tcase(s, tc);
	return s;
}
