#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# --iface GLOB: a new interface that matches is attached as it appears; one
# that goes away is forgotten; one that does not match is left alone.

source "$BATS_TEST_DIRNAME/kanaryd.bash"

setup_file() {
	kd_setup_file || return 1
	kd_start
}
teardown_file() { kd_teardown_file; }

attached() {	# IFACE: 1 when kanary's filter is on it, else 0
	kctl -j iface list | jq -r --arg i "$1" '[.[] | select(.name == $i)] | length'
}

@test "every matching interface is attached at start" {
	local pod
	for pod in client "${KN_SERVER_PODS[@]}"; do
		expect_eq "$(attached "$(host_if "$pod")")" 1 "$(host_if "$pod") attached"
	done
}

@test "a new veth matching --iface is attached; a non-matching one is not" {
	local new="h-new$$" other="x-new$$"
	ip -n "$KN_NODE" link add "$new" type veth peer name "p-new$$"
	ip -n "$KN_NODE" link add "$other" type veth peer name "q-new$$"
	for _ in $(seq 100); do [[ $(attached "$new") == 1 ]] && break; sleep 0.1; done
	expect_eq "$(attached "$new")" 1 "$new attached"
	expect_eq "$(attached "$other")" 0 "$other attached"
	expect_eq "$(attached "p-new$$")" 0 "p-new$$ attached"
	expect_eq "$(kd_status '[.interfaces.attached[] | select(. == "'"$new"'")] | length')" 1 "$new in kanaryd's status"

	ip -n "$KN_NODE" link del "$new"
	ip -n "$KN_NODE" link del "$other"
	for _ in $(seq 100); do grep -q "$new is gone" "$KD_LOG" && break; sleep 0.1; done
	grep -q "$new is gone; forgotten" "$KD_LOG"
	for _ in $(seq 50); do [[ $(kd_status '[.interfaces.attached[] | select(. == "'"$new"'")] | length') == 0 ]] && break; sleep 0.1; done
	expect_eq "$(kd_status '[.interfaces.attached[] | select(. == "'"$new"'")] | length')" 0 "$new gone from kanaryd's status"
}

@test "a normal attach logs no libbpf warning" {
	# The first query of a bare hook is answered "Cannot find specified filter
	# chain", an expected answer that libbpf used to print on every attach.
	grep -q 'attached to' "$KD_LOG"
	! grep 'Cannot find specified filter chain' "$KD_LOG"
}
