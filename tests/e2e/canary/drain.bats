#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Removing a backend under load: new connections stop reaching it at once,
# the others take over, and the client sees no error.

source "$BATS_TEST_DIRNAME/../../lib/e2e.bash"

setup_file() { e2e_setup_file; }
teardown_file() { e2e_teardown_file; }
teardown() { bg_stop_all; }

@test "backend del drains safe2 under Connection: close load with zero errors" {
	local json="$BATS_TEST_TMPDIR/wrk.json" wrk_pid a_start a_del a_grace a_end s1_grace s1_end
	a_start=$(pod_accepts safe2)

	# Each request is a new connection, so every one is a fresh choice.
	WRK_EXPECT="safe1 safe2 risky1" bg wrk_run "$KN_VIP_URL" 8 32 close "$BATS_TEST_TMPDIR/wrk.out" >"$json"
	wrk_pid=$BG_LAST

	sleep 3
	a_del=$(pod_accepts safe2)
	expect_between "$((a_del - a_start - 1))" 1 1e12 "connections safe2 took before its removal"
	kctl backend del greeting safe "$(pod_ip safe2):80"
	# Connections whose SYN was steered just before the switch may still land.
	sleep 0.2
	a_grace=$(pod_accepts safe2)
	s1_grace=$(pod_accepts safe1)

	wait "$wrk_pid" || { cat "$BATS_TEST_TMPDIR/wrk.out"; false; }
	a_end=$(pod_accepts safe2)
	s1_end=$(pod_accepts safe1)

	echo "safe2 accepts: start $a_start, at del $a_del, after grace $a_grace, end $a_end"
	expect_eq "$((a_end - a_grace - 1))" 0 "connections safe2 took after its removal"
	expect_between "$((s1_end - s1_grace - 1))" 1 1e12 "connections safe1 took after safe2's removal"
	wrk_expect_clean "$(cat "$json")"

	run kctl -j backend list greeting
	[[ $status == 0 ]]
	if grep -qF "$(pod_ip safe2)" <<<"$output"; then
		echo "FAIL: safe2 still listed after backend del: $output" >&2
		false
	fi
}
