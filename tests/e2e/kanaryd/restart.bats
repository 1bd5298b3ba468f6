#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# kanaryd killed with SIGKILL and started again under load fails no
# request; attachments stay after it exits unless --detach-on-exit.

source "$BATS_TEST_DIRNAME/kanaryd.bash"

setup_file() {
	kd_setup_file || return 1
	kd_start
}
teardown_file() { kd_teardown_file; }
teardown() { bg_stop_all; }

kill_and_restart() {
	sleep 3
	kd_stop KILL
	sleep 1
	kd_start
}

@test "SIGKILL and restart while wrk runs: zero errors" {
	local json gen0
	gen0=$(kctl -j weight show "$KD_SERVICE" | jq .generation)
	bg kill_and_restart
	local r=$BG_LAST
	json=$(WRK_EXPECT="safe1 safe2 risky1" wrk_run "$KN_VIP_URL" 10 32 close "$BATS_TEST_TMPDIR/wrk.out")
	wait "$r"
	echo "wrk: $json"
	wrk_expect_clean "$json"
	grep -c "kanary loaded" "$KD_LOG"
	expect_eq "$(grep -c 'kanary loaded' "$KD_LOG")" 2 "kanaryd starts in the log"
	# The restart found the maps as it left them: nothing was rewritten.
	expect_eq "$(kctl -j weight show "$KD_SERVICE" | jq .generation)" "$gen0" "service generation"
	expect_eq "$(kd_status '.services[] | select(.name == "default/greeting") | .state')" unchanged "state after restart"
}

@test "SIGTERM leaves the attachments; --detach-on-exit removes them" {
	kd_stop TERM
	expect_eq "$(kctl -j iface list | jq -r '[.[] | select(.name == "h-client")] | length')" 1 "h-client attached after SIGTERM"
	measure 200
	kd_start --detach-on-exit
	kd_stop TERM
	expect_eq "$(kctl -j iface list | jq -r '[.[] | select(.name | startswith("h-"))] | length')" 0 "kanary attachments after --detach-on-exit"
	grep -q "detached from h-client" "$KD_LOG"
}
