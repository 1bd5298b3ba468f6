#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The bench's mirror phase on a CPU of its own (bench/lib/mirror_apart.jq,
# bench/lib/cpu_duty.py; docs/mirror.md "Cost"): the goal's ratio is the
# mirror's req/s over the control's (CPU 1 as busy), each round with its
# own, and a round missing a run counts for nothing.  On crafted runs;
# nothing is timed.

setup() {
	cd "$BATS_TEST_DIRNAME/../../.." || return 1
}

# run_line RUN ROUND KEEPALIVE CLOSE: one phase_mirror_apart line.
run_line() {
	jq -cn --arg v "$1" --argjson r "$2" --argjson k "$3" --argjson c "$4" \
		'{run: $v, round: $r, keepalive_rps: $k, close_rps: $c, errors: 0, cpu1_busy: (if $v == "idle" then 0.01 else 0.6 end)}'
}

summary() {
	jq -L bench/lib -s -f bench/lib/mirror_apart.jq
}

@test "the mirror is compared with the control of its own round, not with idle" {
	local out
	# The machine's speed changes from round to round; the rounds' ratios
	# (mirror/busy 0.9, 0.95, 1.0) have the median 0.95, where the ratio of
	# the medians over the rounds would be 1000/1000.
	out=$( { run_line idle 1 1000 100; run_line busy 1 800 80; run_line mirror 1 720 80
		run_line idle 2 2000 200; run_line busy 2 1600 160; run_line mirror 2 1520 160
		run_line idle 3 1250 125; run_line busy 3 1000 100; run_line mirror 3 1000 100
		run_line mirror 0 5 5; } | summary)
	[ "$(jq '.rounds' <<<"$out")" = 3 ]
	[ "$(jq '.mirror_to_busy.keepalive.median * 1000 | round' <<<"$out")" = 950 ]
	[ "$(jq '.mirror_to_busy.close.median * 1000 | round' <<<"$out")" = 1000 ]
	[ "$(jq '.busy_to_idle.keepalive.median * 1000 | round' <<<"$out")" = 800 ]
	[ "$(jq '.mirror_to_idle.keepalive.median * 1000 | round' <<<"$out")" = 760 ]
}

@test "a round without its three runs is left out" {
	local out
	out=$( { run_line idle 1 1000 100; run_line busy 1 1000 100; run_line mirror 1 500 50
		run_line idle 2 1000 100; run_line mirror 2 1000 100; } | summary)
	[ "$(jq '.rounds' <<<"$out")" = 1 ]
	[ "$(jq '.mirror_to_busy.keepalive.median' <<<"$out")" = 0.5 ]
}

@test "a run that completed nothing gives no ratio, not a division by zero" {
	local out
	out=$( { run_line idle 1 1000 100; run_line busy 1 0 0; run_line mirror 1 900 90; } | summary)
	[ "$(jq '.mirror_to_busy.keepalive.n' <<<"$out")" = 0 ]
	[ "$(jq '.busy_to_idle.keepalive.n' <<<"$out")" = 0 ]
	[ "$(jq '.mirror_to_idle.keepalive.median * 10 | round' <<<"$out")" = 9 ]
}

@test "the control's load takes a share from 0 to 1 only" {
	run bench/lib/cpu_duty.py 1.5
	[ "$status" -ne 0 ]
	[[ $output == *"SHARE must be 0 to 1, got 1.5"* ]]
	run bench/lib/cpu_duty.py half
	[ "$status" -ne 0 ]
	[[ $output == *usage* ]]
}
