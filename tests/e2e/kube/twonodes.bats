#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Two simulated nodes: the cluster's node netns and a second one joined by
# a veth, each with its own kanaryd (its own --pin-path) and client pod,
# both watching one test API server.  safe3 runs on node 2, the other
# backends on node 1: the 80/20 split holds from each client, across nodes,
# and a weight change reaches both.

source "$BATS_TEST_DIRNAME/kube.bash"
KN_SERVER_PODS=(safe1 safe2 risky1)

setup_file() {
	kube_setup_file || return 1
	export NODE2="$KN_ID-node2" PIN2="$KN_PIN/node2" KD_LOG2="$KN_TMP/kanaryd2.log"
	two_nodes_build || return 1
	# The API server moves to node 1's end of the link, where both nodes reach it.
	kapi_stop
	export KAPI_HOST=10.250.0.1
	rm -f "$KAPI_DIR/apiserver.crt"	# a new certificate, for that address
	kapi_start "$KAPI_DIR" || return 1
	jq '.metadata.name = "greeting-safe-node2" | .status.podIP = "10.244.5.2" | .status.podIPs = [{"ip": "10.244.5.2"}] | .spec.nodeName = "node2"' \
		"$KAPI_FIXTURES/pod-greeting-safe-7c9d8b6f4d-2xkqp.json" | kapi_put - || return 1
	kube_kd_start || return 1
	KANARY_RUN_DIR="$KN_TMP/run" KANARY_PIN_PATH="$PIN2" ip netns exec "$NODE2" "$KANARYD" \
		--kubeconfig "$KAPI_DIR/kubeconfig" --iface 'h-*' -v 3>&- 2>>"$KD_LOG2" &
	echo $! >"$KN_TMP/kanaryd2.pid"
}

teardown_file() {
	local pid
	pid=$(cat "$KN_TMP/kanaryd2.pid" 2>/dev/null) && kill "$pid" 2>/dev/null
	kube_teardown_file
}

# Node 2 with pods safe3 (10.244.5.2) and client2 (10.244.6.2), and a link
# 10.250.0.1 (node 1) - 10.250.0.2 (node 2) routing each node's pod subnets.
two_nodes_build() {
	KN_SERVER_PODS+=(safe3 client2)
	ip netns add "$NODE2" || return 1
	ip -n "$NODE2" link set lo up || return 1
	ip netns exec "$NODE2" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.disable_ipv6=1 || return 1
	KN_NODE=$NODE2 pod_create safe3 || return 1
	KN_NODE=$NODE2 pod_create client2 || return 1
	in_ns client2 sysctl -qw net.ipv4.tcp_tw_reuse=1 net.ipv4.ip_local_port_range="1024 65535" || return 1
	nginx_start safe3 || return 1
	ip -n "$KN_NODE" link add n-link type veth peer name n-link netns "$NODE2" || return 1
	ip -n "$KN_NODE" addr add 10.250.0.1/30 dev n-link && ip -n "$KN_NODE" link set n-link up || return 1
	ip -n "$NODE2" addr add 10.250.0.2/30 dev n-link && ip -n "$NODE2" link set n-link up || return 1
	local i
	for i in 5 6; do ip -n "$KN_NODE" route add "10.244.$i.0/24" via 10.250.0.2 || return 1; done
	for i in 1 2 3 4; do ip -n "$NODE2" route add "10.244.$i.0/24" via 10.250.0.1 || return 1; done
}

kctl2() { KANARY_PIN_PATH="$PIN2" ip netns exec "$NODE2" "$KANARYCTL" "$@"; }

# wait_both "safe=80 risky=20": both nodes' maps hold these weights (10 s).
wait_both() {
	local w1 w2
	for _ in $(seq 100); do
		# Until a node's kanaryd has applied, its reads fail: keep polling (bats runs set -e).
		w1=$(kd_weights "$KD_SERVICE" 2>/dev/null) || true
		w2=$(kctl2 -j weight show "$KD_SERVICE" 2>/dev/null |
			jq -r '[.subsets[] | "\(.name)=\(.weight)"] | join(" ")' 2>/dev/null) || true
		[[ $w1 == "$1" && $w2 == "$1" ]] && return 0
		sleep 0.1
	done
	echo "node 1: '$w1', node 2: '$w2', expected '$1'" >&2
	tail -5 "$KD_LOG" "$KD_LOG2" >&2
	return 1
}

# from CLIENT N: N new connections to the VIP; sets SERVED[pod], SERVED_TOTAL.
from() {
	local bodies="$BATS_TEST_TMPDIR/bodies.$RANDOM" pod
	declare -gA SERVED=()
	timeout 120 ip netns exec "$(ns_of "$1")" curl --no-progress-meter --fail -Z --parallel-max 32 \
		--max-time 10 -H 'Connection: close' "$KN_VIP_URL?n=[1-$2]" >"$bodies" ||
		{ echo "curl from $1 failed" >&2; return 1; }
	SERVED_TOTAL=0
	for pod in safe1 safe2 risky1 safe3; do
		SERVED[$pod]=$(count_lines "$bodies" "$pod")
		SERVED_TOTAL=$((SERVED_TOTAL + SERVED[$pod]))
	done
	expect_eq "$SERVED_TOTAL" "$2" "responses naming a pod, from $1"
	echo "from $1: safe1 ${SERVED[safe1]} safe2 ${SERVED[safe2]} safe3 ${SERVED[safe3]} risky1 ${SERVED[risky1]}"
}

@test "both nodes hold 80/20 with safe3 of node 2 among the safe backends" {
	wait_both "safe=80 risky=20"
	expect_eq "$(kd_backends "$KD_SERVICE" safe)" 3 "safe backends on node 1"
	expect_eq "$(kctl2 -j weight show "$KD_SERVICE" | jq '.subsets[] | select(.name == "safe") | .backends')" 3 "safe backends on node 2"
}

@test "80/20 from each node's client, across nodes" {
	local c
	for c in client client2; do
		from "$c" 2000
		expect_share "risky1" 16 24 "risky share from $c (%)"
		expect_between "${SERVED[safe3]}" 1 2000 "connections from $c to safe3 (node 2)"
		expect_between "${SERVED[safe1]}" 1 2000 "connections from $c to safe1 (node 1)"
	done
}

@test "a weight change reaches both nodes" {
	kapi_vs_weights 50 50
	wait_both "safe=50 risky=50"
	from client2 2000
	expect_share "risky1" 44 56 "risky share from client2 (%)"
	grep -o 'watch event to kernel maps: [0-9]* ms' "$KD_LOG2" | tail -1
}
