#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Blind teardown on real TCP stacks (RFC 5961, docs/conntrack.md): a pod
# with raw sockets (safe2, kanary on its veth too, as on every pod of a
# node) spoofs the client's address and port while the client holds a
# keep-alive connection, on the plain path (VIP plain) and the rule path
# (greeting, with the header its rule routes).  RSTs and SYNs at wrong
# sequences break neither; a RST at the exact sequence still ends it.

source "$BATS_TEST_DIRNAME/../../lib/e2e.bash"
source "$BATS_TEST_DIRNAME/../../lib/handoff.bash"

ATTACKER=safe2

setup_file() {
	handoff_setup_file || return 1
	kctl attach "$(host_if "$ATTACKER")" >/dev/null ||
		{ echo "spoof: attaching kanary to $ATTACKER's veth failed" >&2; return 1; }
}
teardown_file() { e2e_teardown_file; }
teardown() { bg_stop_all; }

# counter NAME: a datapath counter of `kanaryctl -j counters`.
counter() {
	kctl -j counters | jq -er --arg c "$1" '.[$c] | numbers'
}

# challenge_acks: challenge ACKs (RFC 5961) the client's and the backend's
# stacks have sent, together: the spoofed RSTs and SYNs kanary lets pass.
challenge_acks() {
	local pod n sum=0
	for pod in client risky1; do
		n=$(in_ns "$pod" nstat -az TcpExtTCPChallengeACK |
			awk '$1 == "TcpExtTCPChallengeACK" { print $2 }') || return 1
		sum=$((sum + n))
	done
	echo "$sum"
}

# attack VIP HEADERS MODE: the client's keep-alive connection to VIP makes
# a request, idles 3 s while tests/lib/spoof.py (MODE) spoofs from the
# attacker pod, then makes two more.  Leaves the client's JSON lines in
# $BATS_TEST_TMPDIR/victim and spoof.py's in .../spoof; returns the
# client's exit status.
attack() {
	local vip=$1 hdrs=$2 mode=$3 steps rc=0 ready=$BATS_TEST_TMPDIR/spoof.ready
	steps=$(jq -nc --argjson h "$hdrs" \
		'[{path: "/", headers: $h}, {sleep: 3, path: "/", headers: $h}, {sleep: 0.2, path: "/", headers: $h}]')
	rm -f "$ready"
	bg env SPOOF_READY="$ready" ip netns exec "$KN_NODE" "$HO_PYTHON" "$KN_LIB_DIR/spoof.py" \
		"$(host_if client)" "$(ns_of "$ATTACKER")" "$(pod_ip client)" "$vip:$KN_VIP_PORT" \
		"$(pod_ip risky1):80" "$mode" >"$BATS_TEST_TMPDIR/spoof"
	local spoofer=$BG_LAST
	# The victim starts once spoof.py watches: an exchange it missed would
	# leave it spoofing after the connection ended.
	for _ in $(seq 100); do [[ -e $ready ]] && break; sleep 0.1; done
	[[ -e $ready ]] || { echo "FAIL: spoof.py did not start watching within 10 s" >&2; return 2; }
	ka_client steps "$vip" "$KN_VIP_PORT" - <<<"$steps" >"$BATS_TEST_TMPDIR/victim" || rc=$?
	wait "$spoofer" || { echo "FAIL: spoof.py failed: $(cat "$BATS_TEST_TMPDIR/spoof")" >&2; return 2; }
	echo "spoof.py: $(cat "$BATS_TEST_TMPDIR/spoof")"
	echo "client: $(cat "$BATS_TEST_TMPDIR/victim")"
	return "$rc"
}

# survives VIP HEADERS: the wrong-sequence attack leaves the connection working.
survives() {
	local -A was
	local c
	for c in rst_outside rst_inexact syn_on_live; do was[$c]=$(counter $c) || return 1; done
	local acks
	acks=$(challenge_acks) || return 1
	attack "$1" "$2" wrong || { echo "FAIL: the client's connection broke" >&2; return 1; }
	local v=$BATS_TEST_TMPDIR/victim
	expect_eq "$(jq -s 'map(select(.status == 200 and .pod == "risky1")) | length' "$v")" 3 \
		"requests answered by risky1 on the connection" || return 1
	expect_eq "$(jq -s 'map(.lport) | unique | length' "$v")" 1 "connections the client used" || return 1
	# The spoofed segments reached kanary, and those it let pass the client's stack.
	for c in rst_outside rst_inexact syn_on_live; do
		expect_between "$(($(counter $c) - was[$c]))" 1 1e9 "kanary's $c during the attack" || return 1
	done
	expect_between "$(($(challenge_acks) - acks))" 1 1e9 "challenge ACKs the client and risky1 sent"
}

# dies VIP HEADERS: a RST at the exact sequence ends the connection; the
# client sees it reset at its next request.
dies() {
	if attack "$1" "$2" exact; then
		echo "FAIL: the client's connection survived a RST at its exact sequence" >&2
		return 1
	fi
	local v=$BATS_TEST_TMPDIR/victim
	expect_eq "$(jq -s '.[0].status' "$v")" 200 "the first request's status" || return 1
	jq -se '.[1].error | test("ConnectionReset|RemoteDisconnected|BrokenPipe")' "$v" >/dev/null || {
		echo "FAIL: the request after the exact RST did not see its connection reset" >&2
		return 1
	}
}

@test "plain path: spoofed RSTs and SYNs at wrong sequences leave a keep-alive connection working" {
	survives "$KN_PLAIN_VIP" '{}'
}

@test "rule path: spoofed RSTs and SYNs at wrong sequences leave a keep-alive connection working" {
	survives "$KN_VIP" '{"x-my-header": "dark"}'
}

@test "plain path: a spoofed RST at the exact sequence still ends the connection" {
	dies "$KN_PLAIN_VIP" '{}'
}

@test "rule path: a spoofed RST at the exact sequence still ends the connection" {
	dies "$KN_VIP" '{"x-my-header": "dark"}'
}
