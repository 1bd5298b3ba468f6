#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The test cluster itself: everything cluster_up makes, cluster_down
# removes, and what a killed run left is removed by the next cluster_up.
# Needs no kanary.

source "$BATS_TEST_DIRNAME/../../lib/cluster.sh"

teardown() { cluster_down; }

# What a run with id $1 and temp dir $2 still holds, one line per leftover.
leftovers_of() {
	local id=$1 tmp=$2
	ip netns list | awk '{print $1}' | grep -E "^$id-" | sed 's/^/netns /'
	mount | awk -v d="$tmp/" 'index($3, d) == 1 { print "mount " $3 }'
	pgrep -f -- "-c $tmp/" | sed 's/^/process /'
	[[ -e $tmp ]] && echo "dir $tmp"
	return 0
}

@test "cluster_up builds pods that answer their names; cluster_down removes everything" {
	KN_BIG_MB=1 cluster_up
	local id=$KN_ID tmp=$KN_TMP pod
	for pod in "${KN_SERVER_PODS[@]}"; do
		[[ $(in_ns client curl -sS --max-time 5 "http://$(pod_ip "$pod")/") == "$pod" ]]
	done
	[[ $(in_ns client curl -sS --max-time 5 "http://$(pod_ip safe2)/big" | sha256sum | cut -d' ' -f1) == "$KN_BIG_SHA" ]]
	# Before: the run holds namespaces, the bpffs mount, nginx and its dir.
	run leftovers_of "$id" "$tmp"
	echo "$output"
	[[ $(grep -c '^netns ' <<<"$output") == 5 ]]
	grep -q '^mount ' <<<"$output"
	[[ $(grep -c '^process ' <<<"$output") -ge 3 ]]

	cluster_down
	run leftovers_of "$id" "$tmp"
	echo "left after cluster_down: $output"
	[[ -z $output ]]
	cluster_down   # idempotent
}

@test "the node's sysctls are set in our namespaces, not in the root one" {
	local root_fwd
	root_fwd=$(sysctl -n net.ipv4.ip_forward)
	KN_BIG_MB=0 cluster_up
	[[ $(in_ns node sysctl -n net.ipv4.ip_forward) == 1 ]]
	[[ $(in_ns client sysctl -n net.ipv4.tcp_tw_reuse) == 1 ]]
	[[ $(sysctl -n net.ipv4.ip_forward) == "$root_fwd" ]]
	# No pod interface appeared in the root namespace.
	if ip -o link show | grep -E ' (h-client|h-safe1|h-safe2|h-risky1)[@:]'; then
		echo "FAIL: a pod's veth is in the root namespace" >&2
		false
	fi
}

@test "a killed run's namespaces, nginx and bpffs are removed by the next cluster_up" {
	local state="$BATS_TEST_TMPDIR/dead" pid id tmp
	KN_BIG_MB=0 bash -c 'source "$1"; cluster_up || exit 1; echo "$KN_ID $KN_TMP" >"$2"; exec sleep 600' \
		_ "$KN_LIB_DIR/cluster.sh" "$state" 3>&- &
	pid=$!
	for _ in $(seq 100); do [[ -s $state ]] && break; sleep 0.1; done
	read -r id tmp <"$state"
	kill -9 "$pid"
	wait "$pid" || true
	run leftovers_of "$id" "$tmp"
	echo "left by the killed run: $output"
	[[ $(grep -c '^netns ' <<<"$output") == 5 ]]

	KN_BIG_MB=0 cluster_up
	run leftovers_of "$id" "$tmp"
	echo "after the next cluster_up: $output"
	[[ -z $output ]]
}
