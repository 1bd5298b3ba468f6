#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Conntrack with a lifecycle on real TCP stacks (issue 13, docs/conntrack.md):
# at least 300,000 short connections through the plain path (wrk in runs of
# 5 s until then: 40 s at about 8,000/s here) while a keep-alive connection
# idles 60 s (longer if the load takes longer) and is then used on the
# same socket, none of its entries lost (no backend re-derived, no reverse
# entry rebuilt); then, a linger (10 s) after the last close, kanary_ct_v3
# and kanary_ctnew_v1 are back at their idle size.
# Before the lifecycle kanary_ct_v3 kept two entries per tuple until the LRU
# took them: with ct-linger 3,600,000 (closed entries kept an hour) the table
# stayed at 64,512 entries and the check failed.
# Sizes: the default ct-size, 262,144 entries in kanary_ct_v3 and 32,768 in
# kanary_ctnew_v1.  The client has one address and ports 1024-65535 with
# tcp_tw_reuse (tests/lib/cluster.sh); connect() takes the 32,256 ports of
# one parity first, so the connections come round the same ports about
# every 4 s, inside the linger: most reuse their tuple's ended entries
# (ct_reused), and kanary_ct_v3 held about 58,000 entries at the end of the
# load (64,512 without the lifecycle), far below its size: no LRU eviction
# happens here, with or without the lifecycle.  That the idle connection's
# entries outlive churn past the table's size is shown on a small table in
# tests/bpf/test_ct_lifecycle.c.

source "$BATS_TEST_DIRNAME/../../lib/e2e.bash"

CONNS=300000
RUN_SECS=5	# wrk runs of 5 s until CONNS are answered
MAX_RUNS=30	# 150 s: the keep-alive client waits for the load 120 s past its idle
IDLE_SECS=60

setup_file() { e2e_setup_file; }
teardown_file() { e2e_teardown_file; }
teardown() { bg_stop_all; }

# entries MAP: how many entries the pinned map holds.
entries() {
	bpftool -j map dump pinned "$KN_PIN/$1" | jq length
}

# counter_delta BEFORE_JSON FILTER: how much the counters' FILTER grew since BEFORE_JSON.
counter_delta() {
	echo $(($(kctl -j counters | jq "$2") - $(jq "$2" <<<"$1")))
}

@test "300,000 short connections while a keep-alive connection idles 60 s: it still works, the ct tables shrink back" {
	local ka=$BATS_TEST_TMPDIR/ka.json json=$BATS_TEST_TMPDIR/wrk.json steps=$BATS_TEST_TMPDIR/steps.json
	local loaded=$BATS_TEST_TMPDIR/loaded before ka_pid idle idle_new n=0 runs=0 t0 secs conns i ct new
	before=$(kctl -j counters)

	# One request, idle 60 s and through the load, then one more on the same connection.
	jq -nc --argjson s "$IDLE_SECS" --arg f "$loaded" '[{path: "/"}, {sleep: $s, after_file: $f, path: "/"}]' \
		>"$steps"
	bg in_ns client /usr/bin/python3 "$KN_LIB_DIR/keepalive_client.py" steps "$KN_VIP" "$KN_VIP_PORT" \
		"$steps" >"$ka"
	ka_pid=$BG_LAST
	sleep 1
	idle=$(entries kanary_ct_v3)
	idle_new=$(entries kanary_ctnew_v1)

	# Short runs until CONNS, whatever the machine's rate: every one clean.
	t0=$SECONDS
	while ((n < CONNS && runs < MAX_RUNS)); do
		WRK_EXPECT="safe1 safe2 risky1" wrk_run "$KN_VIP_URL" "$RUN_SECS" 32 close "$BATS_TEST_TMPDIR/wrk.out" >"$json"
		wrk_expect_clean "$(cat "$json")" >/dev/null || return 1
		n=$((n + $(jq .requests "$json")))
		runs=$((runs + 1))
	done
	secs=$((SECONDS - t0))
	touch "$loaded"
	# Every tracked SYN: a new tuple or one reused within the linger.
	conns=$(counter_delta "$before" '.ct_new + .ct_reused')
	echo "idle entries $idle and $idle_new; $n short connections in $runs wrk runs, $secs s ($((n / secs))/s)," \
		"$conns SYNs tracked; entries at the end of the load $(entries kanary_ct_v3) and $(entries kanary_ctnew_v1)"
	expect_between "$n" "$CONNS" 1e12 "short connections answered (Connection: close, one request each)"
	expect_between "$conns" "$n" 1e12 "connections tracked from their SYN"

	wait "$ka_pid" || { cat "$ka"; false; }
	cat "$ka"
	expect_eq "$(jq -s 'map(.lport) | unique | length' "$ka")" 1 "connections the keep-alive client used"
	expect_eq "$(jq -s 'map(select(.status == 200)) | length' "$ka")" 2 "keep-alive requests answered"
	expect_eq "$(counter_delta "$before" '.ct_rederived + .ct_rev_rebuilt')" 0 \
		"entries re-derived or rebuilt (lost)"

	# The linger is 10 s and the sweeper runs every 250 ms, in the kernel, on its own:
	# the load ended more than 10 s ago unless wrk ran late.
	for ((i = 0; i < 30; i++)); do
		ct=$(entries kanary_ct_v3)
		new=$(entries kanary_ctnew_v1)
		((ct <= idle + 8 && new <= idle_new + 8)) && break
		sleep 1
	done
	echo "entries after the linger $ct and $new; counters: $(kctl -j counters)"
	expect_between "$ct" 0 $((idle + 8)) "kanary_ct_v3 entries after the linger"
	expect_between "$new" 0 $((idle_new + 8)) "kanary_ctnew_v1 entries after the linger"
	# Past a full queue the oldest close goes early (ct_expired_early, a part of ct_ended):
	# the CI machine's 12,617/s filled it, with stale expiries of reused ports.
	echo "closes expired before their linger: $(counter_delta "$before" .ct_expired_early)"
	expect_eq "$(counter_delta "$before" .ct_expiry_full)" 0 "closes not queued (left to the LRU)"
	# Each connection's entries went by its expiry, or a new connection took its tuple first.
	expect_between "$(counter_delta "$before" '.ct_ended + .ct_reused')" "$n" 1e12 \
		"connections ended or whose tuple was reused"
}
