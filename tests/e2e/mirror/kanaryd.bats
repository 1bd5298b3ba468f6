#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Istio's mirror semantics from a VirtualService, end to end (issue 11):
# kanaryd on the seed scenario's manifests, its dark route (x-my-header:
# dark to risky) ahead of a split all to safe that mirrors to a third
# subset, shadow (the pod risky2, at weight 0), and the relay in the node.
# A route's mirror copies only that route's requests: the dark requests
# reach risky1 and no mirror, the split's reach the mirror once each.

source "$BATS_TEST_DIRNAME/../kanaryd/kanaryd.bash"
source "$KN_LIB_DIR/mirror.bash"

# kanaryd_vs: the dark route, then safe 100 % mirrored to shadow.
kanaryd_vs() {
	cat <<'EOF'
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: greeting, namespace: default}
spec:
  hosts: [greeting]
  http:
  - match: [{headers: {x-my-header: {exact: dark}}}]
    route: [{destination: {host: greeting, subset: risky}}]
  - route: [{destination: {host: greeting, subset: safe}}]
    mirror: {host: greeting, subset: shadow}
EOF
}

setup_file() {
	local pod dir
	kd_setup_file || return 1
	for pod in "${KN_SERVER_PODS[@]}"; do
		dir=$(nginx_dir "$pod")
		{
			echo "access_log $dir/access.log;"
			echo 'location = /kd-mirror { default_type text/plain; return 200 "ok\n"; }'
		} >"$dir/server.d/kd-mirror.conf" && nginx_reload "$pod" || return 1
	done
	pod_manifest greeting-shadow-1 shadow "$(pod_ip risky2)" >"$KD_MANIFESTS/pod-shadow.yaml" &&
		sed -i 's/^  subsets:$/  subsets:\n  - labels:\n      version: shadow\n    name: shadow/' \
			"$KD_MANIFESTS/destinationrule.yaml" &&
		kanaryd_vs >"$KD_MANIFESTS/virtualservice.yaml" || return 1
	kd_start || return 1
	relay_start
}
teardown_file() { relay_stop; kd_teardown_file; }

# kd_requests POD KIND: the /kd-mirror?KIND=N requests in POD's access log.
kd_requests() {
	grep -c "\"GET /kd-mirror?$2=[0-9]* HTTP/1.1\"" "$(nginx_dir "$1")/access.log" || true
}

@test "a VirtualService's dark route and split mirror: dark requests reach no mirror" {
	local steps
	expect_eq "$(kctl -j mirror show "$KD_SERVICE" | jq -c '[.mirrors[] | [.subset, .percent, .routes]]')" \
		'[["shadow",100,[]]]' "the mirror kanaryd applied"
	expect_eq "$(kctl -j route list "$KD_SERVICE" | jq '.rules | length')" 1 "kanaryd's rules"
	# 30 requests on one keep-alive connection, every third dark.
	steps=$(for i in $(seq 0 29); do
		if ((i % 3 == 0)); then
			printf '{"path":"/kd-mirror?dark=%d","headers":{"x-my-header":"dark"}}\n' "$i"
		else
			printf '{"path":"/kd-mirror?plain=%d"}\n' "$i"
		fi
	done | jq -sc .)
	in_ns client "$MIRROR_PYTHON" "$KN_LIB_DIR/keepalive_client.py" steps "$KN_VIP" "$KN_VIP_PORT" - \
		<<<"$steps" >"$KN_TMP/kd-mirror.json" || { cat "$KN_TMP/kd-mirror.json"; return 1; }
	relay_settled "$KD_SERVICE" risky2
	kctl -j mirror show "$KD_SERVICE"
	expect_eq "$(kd_requests risky1 dark)" 10 "dark requests at risky1, by the rule"
	expect_eq "$(kd_requests risky2 dark)" 0 "dark requests at the mirror"
	expect_eq "$(kd_requests risky2 plain)" 20 "the split's requests at the mirror"
	expect_eq "$(($(kd_requests safe1 plain) + $(kd_requests safe2 plain)))" 20 "the split's requests at safe"
}
