#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Hairpin on the rule path, on real TCP stacks (docs/datapath.md#hairpin):
# a pod (safe2, kanary on its host veth too) reaches a rule service that
# steers it to itself.  "selfrule" has safe2 as its only backend and a
# rule to it: dark and ordinary requests, on new connections (curl) and on
# one keep-alive connection (Python), with tx offload off so that a wrong
# checksum shows.  "selfmix" sends ordinary requests to safe2 and dark
# ones to risky1: one keep-alive connection switches legs between the pod
# itself and risky1.  On the old datapath every test times out.

source "$BATS_TEST_DIRNAME/../../lib/e2e.bash"
source "$BATS_TEST_DIRNAME/../../lib/handoff.bash"

SELF_VIP=10.96.0.78
MIX_VIP=10.96.0.79
DARK="x-my-header: dark"

setup_file() {
	handoff_setup_file || return 1
	kctl attach "$(host_if safe2)" >/dev/null &&
		kctl service add selfrule "$SELF_VIP:$KN_VIP_PORT" >/dev/null &&
		kctl backend add selfrule safe "$(pod_ip safe2):80" >/dev/null &&
		kctl route add selfrule header x-my-header=dark to safe >/dev/null &&
		kctl service add selfmix "$MIX_VIP:$KN_VIP_PORT" >/dev/null &&
		kctl backend add selfmix safe "$(pod_ip safe2):80" >/dev/null &&
		kctl backend add selfmix risky "$(pod_ip risky1):80" >/dev/null &&
		kctl route add selfmix header x-my-header=dark to risky >/dev/null ||
		{ echo "hairpin: setting up selfrule and selfmix failed" >&2; return 1; }
}
teardown_file() { e2e_teardown_file; }
teardown() { in_ns safe2 ethtool -K eth0 tx on >/dev/null 2>&1 || true; }

# svc_stats SERVICE: the service's entry of `kanaryctl -j stats`, one line.
svc_stats() {
	kctl -j stats "$1" | jq -ec --arg s "$1" '.[] | select(.service == $s)'
}

# self_get VIP [CURL_ARG...]: one request from safe2 on a new connection; prints the body.
self_get() {
	local vip=$1
	shift
	in_ns safe2 curl -sS --fail --retry 0 --max-time 3 -H 'Connection: close' "$@" "http://$vip:$KN_VIP_PORT/"
}

# self_keepalive VIP STEPS: keepalive_client.py from safe2, one JSON line per request.
self_keepalive() {
	in_ns safe2 "$HO_PYTHON" "$KN_LIB_DIR/keepalive_client.py" steps "$1" "$KN_VIP_PORT" - <<<"$2"
}

@test "safe2 reaches a rule service whose only backend is itself, dark and ordinary, new connections" {
	local i body s0 s1
	s0=$(svc_stats selfrule) || return 1
	for i in 1 2 3; do
		body=$(self_get "$SELF_VIP" -H "$DARK") || { echo "FAIL: dark request $i got no answer" >&2; return 1; }
		expect_eq "$body" safe2 "body of dark request $i" || return 1
		body=$(self_get "$SELF_VIP") || { echo "FAIL: ordinary request $i got no answer" >&2; return 1; }
		expect_eq "$body" safe2 "body of ordinary request $i" || return 1
	done
	s1=$(svc_stats selfrule) || return 1
	# Through the rule path: the dark ones are counted as the rule's.
	expect_eq "$(jq -n --argjson a "$s0" --argjson b "$s1" \
		'[$b.subsets[].rule_connections] | add - ([$a.subsets[].rule_connections] | add)')" 3 \
		"connections chosen by the rule"
}

# tx offload off in safe2: its segments are fully checksummed, so a wrong
# incremental update shows as TcpInCsumErrors (verified-here.md).
@test "safe2 reaches itself through the rule service on one keep-alive connection, checksums intact" {
	local steps out csum0 n
	in_ns safe2 ethtool -K eth0 tx off >/dev/null
	csum0=$(csum_errors safe2)
	steps='[{"kind":"dark","headers":{"x-my-header":"dark"}},{"kind":"get"},{"kind":"dark","headers":{"x-my-header":"dark"}},{"kind":"get"}]'
	out=$(self_keepalive "$SELF_VIP" "$steps") || { echo "FAIL: keep-alive client: $out" >&2; return 1; }
	echo "$out"
	n=$(jq -s '[.[] | select(.status == 200 and .pod == "safe2")] | length' <<<"$out")
	expect_eq "$n" 4 "answers from safe2 with 200" || return 1
	expect_eq "$(jq -s '[.[].lport] | unique | length' <<<"$out")" 1 "local ports used (one connection)" || return 1
	expect_eq "$(($(csum_errors safe2) - csum0))" 0 "TcpInCsumErrors in safe2"
}

@test "one keep-alive connection switches between safe2 itself and risky1, checksums intact" {
	local steps out csum0 s0 s1
	in_ns safe2 ethtool -K eth0 tx off >/dev/null
	csum0=$(csum_errors safe2)
	s0=$(svc_stats selfmix) || return 1
	steps='[{"kind":"get"},{"kind":"dark","headers":{"x-my-header":"dark"}},{"kind":"get"},{"kind":"dark","headers":{"x-my-header":"dark"}},{"kind":"get"}]'
	out=$(self_keepalive "$MIX_VIP" "$steps") || { echo "FAIL: keep-alive client: $out" >&2; return 1; }
	echo "$out"
	s1=$(svc_stats selfmix) || return 1
	expect_eq "$(jq -sc '[.[] | "\(.status) \(.pod)"]' <<<"$out")" \
		'["200 safe2","200 risky1","200 safe2","200 risky1","200 safe2"]' "answers in order" || return 1
	expect_eq "$(jq -s '[.[].lport] | unique | length' <<<"$out")" 1 "local ports used (one connection)" || return 1
	expect_eq "$(jq -n --argjson a "$s0" --argjson b "$s1" '$b.handoff.switches - $a.handoff.switches')" 4 \
		"kanary switches" || return 1
	expect_eq "$(($(csum_errors safe2) - csum0))" 0 "TcpInCsumErrors in safe2"
}

@test "safe2's new connections to selfmix: ordinary ones to itself, dark ones to risky1" {
	local i body
	for i in 1 2 3; do
		body=$(self_get "$MIX_VIP") || { echo "FAIL: ordinary request $i got no answer" >&2; return 1; }
		expect_eq "$body" safe2 "body of ordinary request $i" || return 1
		body=$(self_get "$MIX_VIP" -H "$DARK") || { echo "FAIL: dark request $i got no answer" >&2; return 1; }
		expect_eq "$body" risky1 "body of dark request $i" || return 1
	done
}
