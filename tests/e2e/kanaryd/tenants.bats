#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# A hostile tenant: namespace evil writes a VirtualService and a
# DestinationRule for default/greeting, which has none of its own, and a
# Service "greeting" of its own whose pod is risky2.  Had the objects applied
# with names resolved in evil, every connection to greeting would reach
# risky2.  They apply only once greeting's owner grants evil
# (kanary.io/routing-from), and then "greeting" still means default/greeting.

source "$BATS_TEST_DIRNAME/kanaryd.bash"

evil_manifests() {
	cat <<EOF2
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: take-greeting, namespace: evil}
spec:
  hosts: [greeting.default.svc.cluster.local]
  http:
  - route:
    - destination: {host: greeting, subset: mine}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: take-greeting, namespace: evil}
spec:
  host: greeting.default.svc.cluster.local
  subsets:
  - {name: mine, labels: {version: risky}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: greeting, namespace: evil}
spec:
  host: greeting
  subsets:
  - {name: mine, labels: {version: risky}}
---
apiVersion: v1
kind: Service
metadata: {name: greeting, namespace: evil}
spec:
  clusterIP: 10.96.6.66
  ports: [{name: http, port: 80, targetPort: 80}]
  selector: {app: greeting}
---
EOF2
	pod_manifest evil-greeting risky "$(pod_ip risky2)" | sed 's/namespace: default/namespace: evil/'
}

# grant VALUE|"": sets or removes greeting's kanary.io/routing-from, as an editor would.
grant() {
	local f="$KD_MANIFESTS/services.yaml"
	awk -v v="$1" '
		function flush() {
			if (doc ~ /\n  name: greeting\n/ && v != "")
				sub(/\n  annotations:\n/, "\n  annotations:\n    kanary.io/routing-from: " v "\n", doc)
			printf "%s", doc; doc = ""
		}
		/^---$/ { flush(); print; next }
		/^    kanary.io\/routing-from:/ { next }
		{ doc = doc $0 "\n" }
		END { flush() }' "$f" >"$f.tmp" && mv "$f.tmp" "$f"
}

setup_file() {
	kd_setup_file || return 1
	# greeting without a VirtualService or DestinationRule of its own.
	rm -f "$KD_MANIFESTS/virtualservice.yaml" "$KD_MANIFESTS/destinationrule.yaml"
	evil_manifests >"$KD_MANIFESTS/evil.yaml" || return 1
	kd_start
}
teardown_file() { kd_teardown_file; }

@test "another namespace's VirtualService does not route a Service that does not grant it" {
	expect_eq "$(kd_weights "$KD_SERVICE")" "default=100" "greeting's subsets"
	expect_eq "$(kd_backends "$KD_SERVICE" default)" 3 "greeting's own pods"
	measure 1500
	expect_eq "${SERVED[risky2]}" 0 "connections to evil's pod"
	for pod in safe1 safe2 risky1; do
		expect_between "$(pct "${SERVED[$pod]}" "$SERVED_TOTAL")" 25 42 "$pod's share (%)"
	done
	grep -q "evil.yaml:[0-9]*: VirtualService evil/take-greeting: may not route Service default/greeting" "$KD_LOG" ||
		{ echo "no refusal of the VirtualService in the log:" >&2; tail -20 "$KD_LOG" >&2; return 1; }
	grep -q "DestinationRule evil/take-greeting: may not route Service default/greeting" "$KD_LOG" ||
		{ echo "no refusal of the DestinationRule in the log" >&2; return 1; }
}

@test "once greeting grants evil, its route applies, and 'greeting' means default/greeting" {
	grant evil
	grep -q "kanary.io/routing-from: evil" "$KD_MANIFESTS/services.yaml" || { echo "grant edit failed" >&2; return 1; }
	kd_wait_weights "$KD_SERVICE" "default=0 mine=100"	# the old subset stays, at 0
	expect_eq "$(kd_backends "$KD_SERVICE" mine)" 1 "backends of subset mine"
	measure 500
	expect_eq "${SERVED[risky1]}" 500 "connections to default's risky pod"
	expect_eq "${SERVED[risky2]}" 0 "connections to evil's pod"
}

@test "withdrawing the grant takes the route away again" {
	grant ""
	kd_wait_weights "$KD_SERVICE" "default=100"
	measure 500
	expect_eq "${SERVED[risky2]}" 0 "connections to evil's pod"
	expect_between "${SERVED[risky1]}" 1 499 "connections to risky1"
}
