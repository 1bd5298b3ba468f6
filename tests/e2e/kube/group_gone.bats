#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The Istio API group stops being served (a CRD reinstall, a discovery
# outage): kanaryd keeps the last applied VirtualServices and
# DestinationRules (--api-gone-hold, 6 s here) so the dark-release rule and
# the 80/20 split stay; when the group comes back, a LIST applies what
# exists; when it stays away past the hold, its objects are taken as gone.

source "$BATS_TEST_DIRNAME/kube.bash"

HOLD_S=6

# istio_served true|false: the test API server serves the Istio group or answers 404.
istio_served() {
	kapi_curl -X POST --data "{\"served\": $1}" "$KAPI_URL/_test/istio" >/dev/null ||
		{ echo "istio_served $1: failed" >&2; return 1; }
}

# wait_held true|false: until kanaryd's status says virtualservices are (not) held (20 s).
wait_held() {
	for _ in $(seq 200); do
		[[ $(kd_status '.kube.kinds.virtualservices.held' 2>/dev/null) == "$1" ]] && return 0
		sleep 0.1
	done
	echo "FAIL: virtualservices held is not $1:" >&2
	kd_status '.kube.kinds.virtualservices' >&2
	tail -20 "$KD_LOG" >&2
	return 1
}

# dark_pod: which pod answers one request that carries the dark header.
dark_pod() {
	in_ns client curl -sS --max-time 5 -H 'x-my-header: dark' "$KN_VIP_URL"
}

rules() { kctl -j route list "$KD_SERVICE" | jq '.rules | length'; }

setup_file() {
	kube_setup_file || return 1
	# The seed's dark release: x-my-header: dark -> risky, ahead of the 80/20 split.
	jq '.spec.http = [{"match": [{"headers": {"x-my-header": {"exact": "dark"}}}],
			   "route": [{"destination": {"host": "greeting", "subset": "risky"}}]}] + .spec.http' \
		"$KAPI_FIXTURES/virtualservice-greeting.json" | kapi_put - || return 1
	kube_kd_start --api-gone-hold "$HOLD_S"
}
teardown_file() { kube_teardown_file; }

@test "the Istio group gone: the rule and the 80/20 split stay while it is held" {
	expect_eq "$(rules)" 1 "rules before"
	istio_served false
	wait_held true
	grep -q "virtualservices: not served by the API server any more; its 1 object stays applied" "$KD_LOG" ||
		{ echo "no hold in the log" >&2; tail -20 "$KD_LOG" >&2; return 1; }
	sleep 2	# within the hold, with the group rechecked meanwhile
	expect_eq "$(kd_status '.kube.kinds.virtualservices.served')" false "virtualservices served"
	expect_eq "$(kd_weights "$KD_SERVICE")" "safe=80 risky=20" "weights while held"
	expect_eq "$(rules)" 1 "rules while held"
	for _ in 1 2 3 4 5; do
		expect_eq "$(dark_pod)" risky1 "the pod answering a dark request"
	done
	measure 2000
	expect_share "risky1" 16 24 "risky share (%) while held"
}

@test "the group back with a change: a LIST applies what exists" {
	kapi_vs_weights 50 50	# written while the group was away; drops the rule too
	istio_served true
	kd_wait_weights "$KD_SERVICE" "safe=50 risky=50"
	wait_held false
	expect_eq "$(rules)" 0 "rules after the LIST"
	grep -q "virtualservices: served now" "$KD_LOG" || { echo "no 'served now' in the log" >&2; return 1; }
}

@test "the group away past the hold: its objects are taken as gone" {
	istio_served false
	wait_held true
	wait_held false
	grep -q "virtualservices: still not served after [0-9]* s; its objects are taken as gone" "$KD_LOG" ||
		{ echo "no drop in the log" >&2; tail -20 "$KD_LOG" >&2; return 1; }
	kd_wait_weights "$KD_SERVICE" "safe=0 risky=0 default=100"	# old subsets stay, at 0
	expect_eq "$(kd_status '.kube.kinds.virtualservices.objects')" 0 "virtualservices in the cache"
}
