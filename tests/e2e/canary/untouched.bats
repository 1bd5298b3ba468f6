#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Traffic from the client straight to a pod address (not the VIP) passes
# kanary's hook untouched and is not counted.

source "$BATS_TEST_DIRNAME/../../lib/e2e.bash"

setup_file() { e2e_setup_file; }
teardown_file() { e2e_teardown_file; }
teardown() { in_ns client sysctl -qw net.ipv4.ip_local_port_range="1024 65535"; }

@test "direct pod traffic works and is not counted in stats" {
	local n=50 pod bodies="$BATS_TEST_TMPDIR/bodies" f
	declare -A k0
	for f in connections packets_in packets_out bytes_in bytes_out; do
		k0[$f]=$(service_stat_sum greeting "$f")
	done
	for pod in "${KN_SERVER_PODS[@]}"; do
		local a0 a1
		a0=$(pod_accepts "$pod")
		new_conns "http://$(pod_ip "$pod")/" "$n" 8 >"$bodies"
		a1=$(pod_accepts "$pod")
		expect_eq "$(count_lines "$bodies" "$pod")" "$n" "answers from $pod itself"
		expect_eq "$((a1 - a0 - 1))" "$n" "$pod: connections nginx accepted"
	done
	# A direct download too: data through the hook in both directions.
	local sum
	sum=$(in_ns client curl -sS --fail --max-time 30 "http://$(pod_ip risky1)/small.txt" | sha256sum | cut -d' ' -f1)
	expect_eq "$sum" "$KN_SMALL_SHA" "sha256 of /small.txt fetched directly"

	for f in connections packets_in packets_out bytes_in bytes_out; do
		expect_eq "$(service_stat_sum greeting "$f")" "${k0[$f]}" "greeting $f after direct traffic"
	done

	# The same stats do move for VIP traffic, so the check above can fail.
	# At least 10, not exactly: a VIP SYN may reuse a client port whose direct
	# connection above a pod still holds in TIME_WAIT; the pod answers it as
	# an old duplicate (PAWS), the client resets, retries, and kanary counts
	# the retried SYN as a new connection.
	new_conns "$KN_VIP_URL" 10 4 >"$bodies"
	expect_between "$(service_stat_sum greeting connections)" "$((k0[connections] + 10))" 1e12 "greeting connections after 10 via the VIP"
}

# A client port is free again once its VIP connection closed, and the kernel
# may pick it for a direct connection to the very backend that served it:
# from the backend both are the same tuple.  kanary's state from the VIP
# connection must not capture the direct one (e.g. by rewriting its replies
# to come from the VIP).  The pod may still hold the first connection in
# TIME_WAIT and make the client retry its SYN once (1 s): hence --max-time 10.
# A one-port range makes the kernel pick that port for both connections
# (curl --local-port could not bind it while the first is in TIME_WAIT).
@test "a direct connection reusing the client port of a finished VIP connection works" {
	local port=$((20000 + RANDOM % 20000)) out backend body k0
	in_ns client sysctl -qw net.ipv4.ip_local_port_range="$port $port"
	out=$(in_ns client curl -sS --fail --max-time 5 -H 'Connection: close' -w '%{local_port}\n' "$KN_VIP_URL")
	backend=$(head -1 <<<"$out")
	expect_eq "$(tail -1 <<<"$out")" "$port" "client port of the VIP connection"
	[[ $backend == safe1 || $backend == safe2 || $backend == risky1 ]]
	k0=$(service_stat_sum greeting packets_out)

	out=$(in_ns client curl -sS --max-time 10 -H 'Connection: close' -w '%{local_port}\n' "http://$(pod_ip "$backend")/") || true
	body=$(sed '$d' <<<"$out")
	expect_eq "$body" "$backend" "direct answer from $backend to client port $port (used via the VIP before)"
	expect_eq "$(tail -1 <<<"$out")" "$port" "client port of the direct connection"
	expect_eq "$(service_stat_sum greeting packets_out)" "$k0" "greeting packets_out after the direct connection"
}
