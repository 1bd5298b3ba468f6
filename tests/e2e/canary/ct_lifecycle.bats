#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Conntrack with a lifecycle on real TCP stacks (docs/conntrack.md): many
# thousands of short connections through the plain path end their entries
# a linger (10 s) after their close, so the table returns to about its idle
# size, while an idle keep-alive connection keeps working.  Before the
# lifecycle the table kept two entries per connection until the LRU took
# them (the check on the table fails there).  That the idle connection's
# entries outlive churn past the table's size is shown on a small table in
# tests/bpf/test_ct_lifecycle.c: here that would take 131,072 connections.

source "$BATS_TEST_DIRNAME/../../lib/e2e.bash"

setup_file() { e2e_setup_file; }
teardown_file() { e2e_teardown_file; }
teardown() { bg_stop_all; }

ct_entries() {
	bpftool -j map dump pinned "$KN_PIN/kanary_ct_v3" | jq length
}

# counter_delta BEFORE_JSON FILTER: how much the counters' FILTER grew since BEFORE_JSON.
counter_delta() {
	echo $(($(kctl -j counters | jq "$2") - $(jq "$2" <<<"$1")))
}

@test "short connections for 6 s: an idle keep-alive connection still works, the ct table shrinks back" {
	local ka=$BATS_TEST_TMPDIR/ka.json json=$BATS_TEST_TMPDIR/wrk.json steps=$BATS_TEST_TMPDIR/steps.json
	local before ka_pid idle n i entries
	before=$(kctl -j counters)

	# One request, idle through the load and past it, then one more on the same connection.
	echo '[{"path": "/"}, {"sleep": 12, "path": "/"}]' >"$steps"
	bg in_ns client /usr/bin/python3 "$KN_LIB_DIR/keepalive_client.py" steps "$KN_VIP" "$KN_VIP_PORT" \
		"$steps" >"$ka"
	ka_pid=$BG_LAST
	sleep 1
	idle=$(ct_entries)

	WRK_EXPECT="safe1 safe2 risky1" wrk_run "$KN_VIP_URL" 6 32 close "$BATS_TEST_TMPDIR/wrk.out" >"$json"
	wrk_expect_clean "$(cat "$json")"
	n=$(jq .requests "$json")
	echo "idle entries $idle; $n short connections ($((n / 6))/s); entries at the end of the load $(ct_entries)"

	wait "$ka_pid" || { cat "$ka"; false; }
	cat "$ka"
	expect_eq "$(jq -s 'map(.lport) | unique | length' "$ka")" 1 "connections the keep-alive client used"
	expect_eq "$(jq -s 'map(select(.status == 200)) | length' "$ka")" 2 "keep-alive requests answered"

	# The linger is 10 s and the sweeper runs every 250 ms, in the kernel, on its own.
	for ((i = 0; i < 30; i++)); do
		entries=$(ct_entries)
		((entries <= idle + 8)) && break
		sleep 1
	done
	echo "entries after the linger $entries; counters: $(kctl -j counters)"
	expect_between "$entries" 0 $((idle + 8)) "ct entries after the linger"
	expect_eq "$(counter_delta "$before" .ct_expiry_full)" 0 "closes not queued (queue full)"
	# Each connection's entries went by its expiry, or a new connection took its tuple first.
	expect_between "$(counter_delta "$before" '.ct_ended + .ct_reused')" "$n" 1e12 \
		"connections ended or whose tuple was reused"
}
