#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Hairpin on real TCP stacks: a pod whose connection to a VIP is steered
# to itself gets its answer (docs/datapath.md#hairpin).  kanary is on
# safe2's host veth too; "self" has safe2 as its only backend, greeting
# has safe2 among others.

source "$BATS_TEST_DIRNAME/../../lib/e2e.bash"

HP_VIP=10.96.0.77
HP_URL="http://$HP_VIP:$KN_VIP_PORT/"

setup_file() {
	KN_BIG_MB=0 e2e_setup_file || return 1
	kctl attach "$(host_if safe2)" >/dev/null &&
		kctl service add self "$HP_VIP:$KN_VIP_PORT" &&
		kctl backend add self safe "$(pod_ip safe2):80"
}
teardown_file() { e2e_teardown_file; }

# hp_get URL: one request from safe2 on a new connection; prints the body.
hp_get() {
	in_ns safe2 curl -sS --fail --retry 0 --max-time 3 -H 'Connection: close' "$1"
}

@test "safe2 reaches a service whose only backend is itself, on new connections" {
	local i body
	for i in 1 2 3 4 5; do
		body=$(hp_get "$HP_URL") || { echo "FAIL: request $i from safe2 to $HP_URL got no answer" >&2; return 1; }
		expect_eq "$body" safe2 "body of request $i"
	done
}

# tx offload off in safe2: its segments are fully checksummed, so a wrong
# incremental update shows as TcpInCsumErrors (verified-here.md).
@test "safe2 reaches itself on one keep-alive connection, checksums intact" {
	local steps out csum0 n
	in_ns safe2 ethtool -K eth0 tx off >/dev/null
	csum0=$(csum_errors safe2)
	steps='[{"kind":"a"},{"kind":"b"},{"kind":"c"},{"kind":"d"},{"kind":"e"}]'
	out=$(in_ns safe2 /usr/bin/python3 "$KN_LIB_DIR/keepalive_client.py" steps "$HP_VIP" "$KN_VIP_PORT" - <<<"$steps") ||
		{ echo "FAIL: keep-alive client: $out" >&2; in_ns safe2 ethtool -K eth0 tx on >/dev/null; return 1; }
	in_ns safe2 ethtool -K eth0 tx on >/dev/null
	echo "$out"
	n=$(jq -s '[.[] | select(.status == 200 and .pod == "safe2")] | length' <<<"$out")
	expect_eq "$n" 5 "answers from safe2 with 200"
	expect_eq "$(jq -s '[.[].lport] | unique | length' <<<"$out")" 1 "local ports used (one connection)"
	expect_eq "$(($(csum_errors safe2) - csum0))" 0 "TcpInCsumErrors in safe2"
}

@test "safe2 gets every answer from greeting, which has safe2 among its backends" {
	local i body seen=" "
	for i in $(seq 30); do
		body=$(hp_get "$KN_VIP_URL") || { echo "FAIL: request $i from safe2 to greeting got no answer" >&2; return 1; }
		[[ $body == safe1 || $body == safe2 || $body == risky1 ]] ||
			{ echo "FAIL: request $i answered '$body', no pod of greeting" >&2; return 1; }
		seen+="$body "
	done
	echo "answered by:$seen"
	# safe2's share is 40 %: none of 30 would be 0.6^30, about 2e-7.
	[[ $seen == *" safe2 "* ]] || { echo "FAIL: no request went to safe2 itself: the hairpin case was not run" >&2; return 1; }
}
