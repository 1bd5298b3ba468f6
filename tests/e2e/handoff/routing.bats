#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The dark-release rule "x-my-header: dark -> risky" on greeting: every
# connection whose first request carries the header (name in any case)
# reaches risky1, every other one follows the weighted default; kanary's
# rule_connections counts exactly the header connections.

source "$BATS_TEST_DIRNAME/../../lib/handoff.bash"

setup_file() { KN_BIG_MB=0 handoff_setup_file; }
teardown_file() { e2e_teardown_file; }
teardown() { bg_stop_all; }

@test "a service with rules is served by the handoff, with and without the header; one without rules is not" {
	expect_handed_off "$KN_VIP" "$KN_VIP_PORT"
	expect_handed_off "$KN_VIP" "$KN_VIP_PORT" --header "$HO_HEADER"
	expect_plain_dnat "$KN_PLAIN_VIP" "$KN_VIP_PORT"
}

# mixed_requests: 1,000 requests to greeting, each on its own connection,
# three kinds at once: 250 with "X-My-Header: dark", 250 with "x-MY-header:
# dark", 500 without.  Bodies go to $BATS_TEST_TMPDIR/header and /none;
# checks that every request was answered and that each nginx accepted one
# connection per answer; sets SERVED_HEADER[pod], SERVED_NONE[pod] and
# RULE_CONNS[subset], CONNS[subset] (kanary's counts for these requests).
mixed_requests() {
	local dir=$BATS_TEST_TMPDIR p1 p2 p3 pod sub
	declare -gA SERVED_HEADER SERVED_NONE RULE_CONNS CONNS
	declare -A acc0 rc0 c0
	for pod in "${KN_SERVER_PODS[@]}"; do acc0[$pod]=$(pod_accepts "$pod"); done
	for sub in safe risky; do
		rc0[$sub]=$(subset_stat greeting "$sub" rule_connections)
		c0[$sub]=$(subset_stat greeting "$sub" connections)
	done

	bg new_conns "$KN_VIP_URL" 250 8 -H 'X-My-Header: dark' >"$dir/header1"
	p1=$BG_LAST
	bg new_conns "$KN_VIP_URL" 250 8 -H 'x-MY-header: dark' >"$dir/header2"
	p2=$BG_LAST
	bg new_conns "$KN_VIP_URL" 500 16 >"$dir/none"
	p3=$BG_LAST
	wait "$p1" || { echo "FAIL: requests with X-My-Header: dark failed" >&2; return 1; }
	wait "$p2" || { echo "FAIL: requests with x-MY-header: dark failed" >&2; return 1; }
	wait "$p3" || { echo "FAIL: requests without the header failed" >&2; return 1; }
	cat "$dir/header1" "$dir/header2" >"$dir/header"

	expect_eq "$(wc -l <"$dir/header")" 500 "answers to requests with the header"
	expect_eq "$(wc -l <"$dir/none")" 500 "answers to requests without the header"
	for pod in "${KN_SERVER_PODS[@]}"; do
		SERVED_HEADER[$pod]=$(count_lines "$dir/header" "$pod")
		SERVED_NONE[$pod]=$(count_lines "$dir/none" "$pod")
		expect_eq "$(($(pod_accepts "$pod") - acc0[$pod] - 1))" "$((SERVED_HEADER[$pod] + SERVED_NONE[$pod]))" \
			"$pod: connections nginx accepted vs requests it answered"
	done
	for sub in safe risky; do
		RULE_CONNS[$sub]=$(($(subset_stat greeting "$sub" rule_connections) - rc0[$sub]))
		CONNS[$sub]=$(($(subset_stat greeting "$sub" connections) - c0[$sub]))
	done
	echo "header: ${SERVED_HEADER[*]@K}; none: ${SERVED_NONE[*]@K}; kanary rule_connections: ${RULE_CONNS[*]@K}, connections: ${CONNS[*]@K}"
}

# The header's requests all reached risky1 and were counted as the rule's.
expect_header_to_risky() {
	expect_eq "${SERVED_HEADER[risky1]}" 500 "requests with the header answered by risky1 (rule x-my-header=dark -> risky)"
	expect_eq "${RULE_CONNS[risky]}" 500 "kanary rule_connections of risky for 500 header requests"
	expect_eq "${RULE_CONNS[safe]}" 0 "kanary rule_connections of safe"
	# connections stays the total, rule-routed or not.
	expect_near "${CONNS[risky]}" "$((SERVED_HEADER[risky1] + SERVED_NONE[risky1]))" 1 "kanary connections of risky vs risky1's answers"
	expect_near "${CONNS[safe]}" "$((SERVED_NONE[safe1] + SERVED_NONE[safe2]))" 1 "kanary connections of safe vs safe's answers"
}

@test "under a 100/0 default: every header request reaches risky1, every other one safe" {
	kctl weight set greeting safe 100 risky 0 >/dev/null
	mixed_requests
	expect_header_to_risky
	expect_eq "${SERVED_NONE[risky1]}" 0 "requests without the header answered by risky1 (default 100/0)"
	expect_between "${SERVED_NONE[safe1]}" 1 500 "requests without the header answered by safe1"
	expect_between "${SERVED_NONE[safe2]}" 1 500 "requests without the header answered by safe2"
	expect_ho_drained
}

@test "under an 80/20 default: every header request reaches risky1, the others split 80/20" {
	kctl weight set greeting safe 80 risky 20 >/dev/null
	mixed_requests
	expect_header_to_risky
	# 500 draws at 20 %: 4 standard deviations either side.
	expect_between "$(pct "${SERVED_NONE[risky1]}" 500)" 12.8 27.2 "risky share of requests without the header (%)"
	expect_between "${SERVED_NONE[safe1]}" 1 500 "requests without the header answered by safe1"
	expect_between "${SERVED_NONE[safe2]}" 1 500 "requests without the header answered by safe2"
	expect_ho_drained
}
