#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Conntrack with a lifecycle (docs/conntrack.md): short connections through
# the plain path end their entries a linger after their close, so an idle
# keep-alive connection keeps working and the table returns to about its
# idle size.  (That the idle connection's entries outlive a full table of
# churn is shown on a small table in tests/bpf/test_ct_lifecycle.c.)

source "$BATS_TEST_DIRNAME/../../lib/e2e.bash"

setup_file() { e2e_setup_file; }
teardown_file() { e2e_teardown_file; }
teardown() { bg_stop_all; }

ct_entries() {
	bpftool -j map dump pinned "$KN_PIN/kanary_ct_v3" | jq length
}

@test "short connections for 20 s: an idle keep-alive connection still works, the ct table shrinks back" {
	local ka="$BATS_TEST_TMPDIR/ka.json" json="$BATS_TEST_TMPDIR/wrk.json" ka_pid idle n
	local steps="$BATS_TEST_TMPDIR/steps.json" before after no_timer i
	before=$(kctl -j counters)

	# One request, idle through the churn, then one more on the same connection.
	echo '[{"kind": "first"}, {"kind": "after", "sleep": 28}]' >"$steps"
	bg in_ns client /usr/bin/python3 "$KN_LIB_DIR/keepalive_client.py" steps "$KN_VIP" "$KN_VIP_PORT" \
		"$steps" >"$ka"
	ka_pid=$BG_LAST
	sleep 1
	idle=$(ct_entries)

	WRK_EXPECT="safe1 safe2 risky1" wrk_run "$KN_VIP_URL" 20 32 close "$BATS_TEST_TMPDIR/wrk.out" >"$json"
	wrk_expect_clean "$(cat "$json")"
	n=$(jq .requests "$json")
	echo "idle entries $idle; $n short connections; entries at the end of the load $(ct_entries)"

	wait "$ka_pid" || { cat "$ka"; false; }
	cat "$ka"
	expect_eq "$(jq -s 'map(.lport) | unique | length' "$ka")" 1 "connections the keep-alive client used"
	expect_eq "$(jq -s 'map(select(.status == 200)) | length' "$ka")" 2 "keep-alive requests answered"

	# The linger is 10 s; the timers run in the kernel, on their own.  A
	# connection that got no timer (counted) is left to the LRU: two entries.
	for ((i = 0; i < 30; i++)); do
		no_timer=$(($(kctl -j counters | jq .ct_no_timer) - $(jq .ct_no_timer <<<"$before")))
		(($(ct_entries) <= idle + 8 + 2 * no_timer)) && break
		sleep 1
	done
	after=$(kctl -j counters)
	echo "entries after the linger $(ct_entries); counters: $after"
	expect_between "$(ct_entries)" 0 $((idle + 8 + 2 * no_timer)) "ct entries after the linger"
	# Each connection's entries went by its timer, or a new connection took its tuple, or it got no timer.
	expect_between "$(($(jq '.ct_ended + .ct_reused + .ct_no_timer' <<<"$after") -
		$(jq '.ct_ended + .ct_reused + .ct_no_timer' <<<"$before")))" "$n" 1e12 \
		"connections ended, reused or without a timer"
}
