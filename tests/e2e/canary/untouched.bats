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

# client_resets: RSTs the client's stack has sent so far.
client_resets() {
	in_ns client nstat -saz TcpOutRsts | awk '$1 == "TcpOutRsts" { print $2; f = 1 } END { if (!f) exit 1 }'
}

# Two services with the one pod behind them: from the pod, a connection via
# either is the same tuple, and a client port freed by the first (the pod
# closed it, so the pod holds the TIME_WAIT) may be picked for the second.
# The pod may take the second's SYN for an old duplicate (its timestamp or
# sequence looks older) and answer with its TIME_WAIT's ACK; the client
# resets that ACK at the ack's sequence, which ends the TIME_WAIT, and its
# SYN sent again 1 s later connects.  kanary must let that RST through,
# though it is nowhere near the new connection's sequence.  About a third of
# the ports take that turn, and whether the RST lands outside the window
# kanary allows a live connection is a coin flip per port: hence 16 ports,
# in both orders, and a count of the client's resets to show the turn was
# taken (tests/bpf/test_spoof.c holds the exact case).
@test "a connection via another service to the same pod, reusing a client port the pod holds in TIME_WAIT, connects" {
	local a=10.96.0.12 b=10.96.0.13 base=$((20000 + RANDOM % 20000)) i port first second out fails=0 rst0
	kctl service add tw-a "$a:$KN_VIP_PORT" >/dev/null 2>&1
	kctl service add tw-b "$b:$KN_VIP_PORT" >/dev/null 2>&1
	kctl backend add tw-a only "$(pod_ip risky1):80" >/dev/null
	kctl backend add tw-b only "$(pod_ip risky1):80" >/dev/null
	rst0=$(client_resets)
	for i in $(seq 0 15); do
		port=$((base + i))
		if ((i % 2)); then first=$a second=$b; else first=$b second=$a; fi
		in_ns client sysctl -qw net.ipv4.ip_local_port_range="$port $port"
		out=$(in_ns client curl -sS --fail --max-time 5 -H 'Connection: close' -w '%{local_port}' "http://$first/") ||
			{ echo "FAIL: via $first from port $port: $out" >&2; return 1; }
		expect_eq "${out//$'\n'/ }" "risky1 $port" "answer via $first, and the client port"
		out=$(in_ns client curl -sS --fail --max-time 5 -H 'Connection: close' -w '%{local_port}' "http://$second/" 2>&1) ||
			{ echo "not connected: via $second from port $port, after $first: ${out//$'\n'/ }" >&2; fails=$((fails + 1)); continue; }
		expect_eq "${out//$'\n'/ }" "risky1 $port" "answer via $second, and the client port"
	done
	kctl service del tw-a >/dev/null
	kctl service del tw-b >/dev/null
	expect_eq "$fails" 0 "connections that did not connect within 5 s"
	expect_between "$(($(client_resets) - rst0))" 1 32 "client resets of a TIME_WAIT's ACK"
}
