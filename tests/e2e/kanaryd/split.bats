#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# kanaryd on the seed scenario's manifests (examples/): the 80/20 canary
# holds, an edit of the VirtualService moves it, and an operator's
# `kanaryctl weight set` stays until the manifests change.

source "$BATS_TEST_DIRNAME/kanaryd.bash"

setup_file() {
	kd_setup_file || return 1
	kd_start
}
teardown_file() { kd_teardown_file; }

@test "kanaryd loads, attaches and applies the examples: 80/20 holds" {
	expect_eq "$(kd_weights "$KD_SERVICE")" "safe=80 risky=20" "weights in the maps"
	expect_eq "$(kd_backends "$KD_SERVICE" safe)" 2 "safe backends"
	expect_eq "$(kd_backends "$KD_SERVICE" risky)" 1 "risky backends"
	expect_eq "$(kd_status '[.interfaces.attached[] | select(. == "h-client")] | length')" 1 "h-client attached"
	expect_eq "$(kd_status '.services[] | select(.name == "default/greeting") | .state')" created "status of default/greeting"
	measure 2000
	expect_share "risky1 risky2" 16 24 "risky share (%)"
	expect_share "safe1 safe2" 76 84 "safe share (%)"
	expect_eq "${SERVED[risky2]}" 0 "connections to risky2, which the manifests do not list"
}

@test "editing the VirtualService to 50/50 moves the split" {
	set_weights 50 50
	kd_wait_weights "$KD_SERVICE" "safe=50 risky=50"
	measure 2000
	expect_share "risky1" 44 56 "risky share (%)"
	grep -q "default/greeting: updated" "$KD_LOG" || { echo "no 'updated' line in the log" >&2; return 1; }
}

@test "kanaryctl weight set wins until the service's manifests change" {
	kctl weight set "$KD_SERVICE" safe 0 risky 100
	measure 500
	expect_eq "${SERVED[risky1]}" 500 "connections to risky1 after the override"
	# A reload re-reads every manifest; the service's did not change, so it stays.
	kill -HUP "$KD_PID"
	for _ in $(seq 30); do grep -q "SIGHUP: reloading" "$KD_LOG" && break; sleep 0.1; done
	kd_wait_applied
	expect_eq "$(kd_weights "$KD_SERVICE")" "safe=0 risky=100" "weights after SIGHUP"
	expect_eq "$(kd_status '.services[] | select(.name == "default/greeting") | .state')" overridden "status of default/greeting"
	# Its VirtualService changes: the manifests win again.
	set_weights 80 20
	kd_wait_weights "$KD_SERVICE" "safe=80 risky=20"
	measure 2000
	expect_share "risky1" 16 24 "risky share (%)"
}

@test "a full pass rights the rule path's per-address counts that the LRU left wrong" {
	# As if the LRU had evicted five bound connections of 10.9.9.9 unseen.
	bpftool map update pinned "$KN_PIN/kanary_hosrc_v1" key 10 9 9 9 value 5 0 0 0 0 0 0 0 ||
		{ echo "FAIL: cannot write a count" >&2; return 1; }
	kill -HUP "$KD_PID"
	for _ in $(seq 50); do grep -q "per-address counts corrected" "$KD_LOG" && break; sleep 0.1; done
	grep "per-address counts corrected" "$KD_LOG" ||
		{ echo "FAIL: no recount in the log" >&2; tail -5 "$KD_LOG" >&2; return 1; }
	! bpftool map lookup pinned "$KN_PIN/kanary_hosrc_v1" key 10 9 9 9 >/dev/null 2>&1 ||
		{ echo "FAIL: the count of an address that holds nothing is still there" >&2; return 1; }
}

@test "the message service from the examples is there too, and nothing else" {
	expect_eq "$(kctl -j service list | jq -r '[.[].service] | sort | join(" ")')" "default/greeting default/message" "services"
}
