#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Requests that almost carry "x-my-header: dark" take greeting's weighted
# default, here 100/0, so that only the rule can reach risky1: a longer
# value, a longer name, the name inside another, the value in another case,
# the header in the body, and the header split across the first two
# segments (which still gets its whole response).

source "$BATS_TEST_DIRNAME/../../lib/handoff.bash"

setup_file() {
	KN_BIG_MB=0 handoff_setup_file || return 1
	kctl weight set greeting safe 100 risky 0 >/dev/null
}
teardown_file() { e2e_teardown_file; }
teardown() { bg_stop_all; }

# expect_default_route FILE N WHAT: FILE holds N answers, all from safe.
expect_default_route() {
	expect_eq "$(wc -l <"$1")" "$2" "answers, $3"
	expect_eq "$(($(count_lines "$1" safe1) + $(count_lines "$1" safe2)))" "$2" "answers from safe (the 100/0 default), $3"
}

@test "near misses of x-my-header: dark take the default route, the exact header the rule" {
	local n=20 dir=$BATS_TEST_TMPDIR r0 f0
	r0=$(subset_stat greeting risky rule_connections)
	f0=$(handoff_stat greeting beyond_first_flight)
	new_conns "$KN_VIP_URL" $n 8 -H 'x-my-header: darker' >"$dir/darker"
	new_conns "$KN_VIP_URL" $n 8 -H 'x-my-header-2: dark' >"$dir/longer-name"
	new_conns "$KN_VIP_URL" $n 8 -H 'foo-x-my-header: dark' >"$dir/name-inside"
	new_conns "$KN_VIP_URL" $n 8 -H 'x-my-header: Dark' >"$dir/value-case"
	# The body starts right after the blank line, as a header line would.
	new_conns "$KN_VIP_URL" $n 8 --data-binary $'x-my-header: dark\r\n\r\n' >"$dir/in-body"
	new_conns "$KN_VIP_URL" $n 8 -H "$HO_HEADER" >"$dir/exact"

	expect_default_route "$dir/darker" $n "x-my-header: darker"
	expect_default_route "$dir/longer-name" $n "x-my-header-2: dark"
	expect_default_route "$dir/name-inside" $n "foo-x-my-header: dark"
	expect_default_route "$dir/value-case" $n "x-my-header: Dark (values compare case-sensitively)"
	expect_default_route "$dir/in-body" $n "POST with x-my-header: dark in the body"
	# The control: the same requests with the exact header do reach risky1.
	expect_eq "$(count_lines "$dir/exact" risky1)" $n "answers from risky1, exact x-my-header: dark"
	expect_eq "$(($(subset_stat greeting risky rule_connections) - r0))" $n "kanary rule_connections of risky: the exact header's only"
	expect_eq "$(($(handoff_stat greeting beyond_first_flight) - f0))" 0 "kanary handoff.beyond_first_flight (every head came in one segment)"
	expect_ho_drained
}

# split_summary FILE: one probe's answer, as the fields the test checks.
split_summary() {
	jq -er '"status=\(.status) complete=\(.complete) two_writes=\(.sent_in_two_writes)" +
		" data_segments>=2=\(.data_segs_out >= 2) retransmitted=\(.total_retrans > 0)"' "$1" ||
		{ echo "split_summary: no answer in $1: $(cat "$1")" >&2; return 1; }
}

@test "the header split across the first two segments takes the default route, with a complete response" {
	local dir=$BATS_TEST_TMPDIR i pids=() expected body f0
	f0=$(handoff_stat greeting beyond_first_flight)
	expected="status=200 complete=true two_writes=true data_segments>=2=true retransmitted=false"
	# Five at once (each pauses 0.3 s between its writes), "x-my-" | "header: dark".
	for i in $(seq 5); do
		bg probe "$KN_VIP" "$KN_VIP_PORT" --header "$HO_HEADER" --split-at 'header: dark' >"$dir/split.$i"
		pids+=("$BG_LAST")
	done
	bg probe "$KN_VIP" "$KN_VIP_PORT" --path /small.txt --header "$HO_HEADER" --split-at 'header: dark' >"$dir/split-small"
	pids+=("$BG_LAST")
	bg probe "$KN_VIP" "$KN_VIP_PORT" --header "$HO_HEADER" >"$dir/whole"
	pids+=("$BG_LAST")
	for i in "${pids[@]}"; do
		wait "$i" || { echo "FAIL: a probe failed:" >&2; cat "$dir"/split.* "$dir/split-small" "$dir/whole" >&2; return 1; }
	done

	for i in $(seq 5); do
		expect_eq "$(split_summary "$dir/split.$i")" "$expected" "split request $i"
		body=$(jq -r .body "$dir/split.$i")
		[[ $body == safe1 || $body == safe2 ]] ||
			{ echo "FAIL: split request $i answered by '$body', expected safe1 or safe2 (the default)" >&2; return 1; }
	done
	expect_eq "$(split_summary "$dir/split-small")" "$expected" "split request for /small.txt"
	expect_eq "$(jq -r .body_sha256 "$dir/split-small")" "$KN_SMALL_SHA" "sha256 of /small.txt, split request"
	# The control: the same request in one write does match.
	expect_eq "$(jq -r .body "$dir/whole")" risky1 "answer to the header in one write"
	expect_eq "$(($(handoff_stat greeting beyond_first_flight) - f0))" 6 "kanary handoff.beyond_first_flight (one per split request)"
	expect_ho_drained
}
