#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# New connections to the VIP split 80/20 between the subsets, evenly across
# a subset's backends; kanary's connection counts agree with the servers'.

source "$BATS_TEST_DIRNAME/../../lib/e2e.bash"

setup_file() { e2e_setup_file; }
teardown_file() { e2e_teardown_file; }

@test "new connections split 80/20, evenly within safe, and stats match the servers' counts" {
	local n=3000 pod bodies="$BATS_TEST_TMPDIR/bodies"
	declare -A acc0 acc1 served
	for pod in "${KN_SERVER_PODS[@]}"; do acc0[$pod]=$(pod_accepts "$pod"); done
	local k_safe0 k_risky0
	k_safe0=$(subset_stat greeting safe connections)
	k_risky0=$(subset_stat greeting risky connections)

	new_conns "$KN_VIP_URL" "$n" 32 >"$bodies"

	for pod in "${KN_SERVER_PODS[@]}"; do acc1[$pod]=$(pod_accepts "$pod"); done
	local k_safe k_risky
	k_safe=$(($(subset_stat greeting safe connections) - k_safe0))
	k_risky=$(($(subset_stat greeting risky connections) - k_risky0))

	# Who answered, from the bodies: every request got one of the three names.
	for pod in "${KN_SERVER_PODS[@]}"; do served[$pod]=$(count_lines "$bodies" "$pod"); done
	expect_eq "$((served[safe1] + served[safe2] + served[risky1]))" "$n" "responses naming a pod"
	expect_eq "$(wc -l <"$bodies")" "$n" "response lines"

	# Each server's own count of accepted connections (minus our status read)
	# equals the requests it answered: one connection per request.
	for pod in "${KN_SERVER_PODS[@]}"; do
		expect_eq "$((acc1[$pod] - acc0[$pod] - 1))" "${served[$pod]}" "$pod: connections nginx accepted"
	done

	local safe=$((served[safe1] + served[safe2]))
	expect_between "$(pct "${served[risky1]}" "$n")" 17 23 "risky share of connections (%)"
	expect_between "$(pct "$safe" "$n")" 77 83 "safe share of connections (%)"
	expect_between "$(pct "${served[safe1]}" "$safe")" 45 55 "safe1 share within safe (%)"

	# kanary's per-subset connection counts against the servers' (within 1 %:
	# a retransmitted SYN must not count twice).
	echo "kanary connections: safe $k_safe risky $k_risky; servers: safe $safe risky ${served[risky1]}"
	expect_near "$k_safe" "$safe" 1 "kanary safe connections vs servers'"
	expect_near "$k_risky" "${served[risky1]}" 1 "kanary risky connections vs servers'"
}
