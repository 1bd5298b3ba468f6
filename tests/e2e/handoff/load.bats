#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# wrk through the handoff with 200 connections: zero errors, every body
# complete and from the right pod, and once wrk has ended no connection
# state is left in kanary_ho_v4.  The client netns already has what many
# new connections need (cluster.sh client_tune: tcp_tw_reuse, ports
# 1024-65535); with Connection: close the pods close first, so TIME_WAIT
# sits in them, not in the client.

source "$BATS_TEST_DIRNAME/../../lib/handoff.bash"

setup_file() { KN_BIG_MB=0 handoff_setup_file; }
teardown_file() { e2e_teardown_file; }

@test "wrk, 200 keep-alive connections for 30 s with the header: no error, every answer from risky1, no state left" {
	local json r0 s0
	r0=$(subset_stat greeting risky rule_connections)
	s0=$(subset_stat greeting safe connections)
	json=$(WRK_EXPECT="risky1" wrk_run "$KN_VIP_URL" 30 200 keepalive "$BATS_TEST_TMPDIR/wrk.out" -H "$HO_HEADER")
	echo "wrk: $json"
	wrk_expect_clean "$json"
	expect_eq "$(json_get "$json" '.bodies.risky1')" "$(json_get "$json" '.requests')" "answers from risky1 vs requests"
	# One connection per wrk connection (wrk's first, data-less probe connect picks no backend).
	expect_eq "$(($(subset_stat greeting risky rule_connections) - r0))" 200 "kanary rule_connections of risky"
	expect_eq "$(($(subset_stat greeting safe connections) - s0))" 0 "kanary connections of safe"
	expect_ho_drained
}

@test "wrk, 200 connections for 20 s, a new connection per request, no header: no error, 80/20, no state left" {
	local json rr0 rs0 c0 n
	rr0=$(subset_stat greeting risky rule_connections)
	rs0=$(subset_stat greeting safe rule_connections)
	c0=$(service_stat_sum greeting connections)
	json=$(WRK_EXPECT="safe1 safe2 risky1" wrk_run "$KN_VIP_URL" 20 200 close "$BATS_TEST_TMPDIR/wrk.out")
	echo "wrk: $json"
	wrk_expect_clean "$json"
	n=$(json_get "$json" '.requests')
	expect_between "$(pct "$(json_get "$json" '.bodies.risky1 // 0')" "$n")" 17 23 "risky share of answers (%)"
	expect_eq "$(($(subset_stat greeting risky rule_connections) - rr0))" 0 "kanary rule_connections of risky, no header"
	expect_eq "$(($(subset_stat greeting safe rule_connections) - rs0))" 0 "kanary rule_connections of safe, no header"
	# Every request a connection; those cut when wrk stopped count too.
	expect_between "$(($(service_stat_sum greeting connections) - c0))" "$n" "$((n + 200 + 1))" "kanary connections vs wrk's requests"
	expect_ho_drained
}

@test "wrk, 200 keep-alive connections for 30 s, the header on every other request: no error, each answer from its request's subset, no state left" {
	local json n dark plain risky_plain sw0
	sw0=$(handoff_stat greeting switches)
	json=$(WRK_EXPECT="safe1 safe2 risky1" WRK_ALTERNATE=1 \
		wrk_run "${KN_VIP_URL}echo" 30 200 keepalive "$BATS_TEST_TMPDIR/wrk.out")
	echo "wrk: $json"
	wrk_expect_clean "$json"
	n=$(json_get "$json" '.requests')
	dark=$(json_get "$json" '.bodies["risky1/dark"] // 0')
	risky_plain=$(json_get "$json" '.bodies["risky1/plain"] // 0')
	plain=$(($(json_get "$json" '.bodies["safe1/plain"] // 0') + $(json_get "$json" '.bodies["safe2/plain"] // 0') + risky_plain))
	expect_eq "$((dark + plain))" "$n" "answers checked vs requests"
	# Every other request per thread: about half are dark (wrk stops mid-flight).
	expect_between "$(pct "$dark" "$n")" 45 55 "dark share of requests (%)"
	expect_between "$(pct "$risky_plain" "$plain")" 15 25 "risky share of ordinary requests (%)"
	expect_between "$(($(handoff_stat greeting switches) - sw0))" 1 1e12 "kanary switches"
	expect_ho_drained
}
