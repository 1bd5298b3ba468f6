#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The partial build's bench (bin/kanaryd_partial_cost, docs/bench.md) at a
# size that takes a fraction of a second: in --kube's shape, a set per
# object, every pod event is a partial build that changes exactly one
# service (it exits 1 otherwise), and each size gets its figures.  No
# timing is asserted.

setup() {
	cd "$BATS_TEST_DIRNAME/../../.." || return 1
	[ -x bin/kanaryd_partial_cost ] || { echo "bin/kanaryd_partial_cost is not built (make)" >&2; return 1; }
}

@test "each pod event is a partial build of one service, at each size" {
	run bin/kanaryd_partial_cost --services 20,50 --events 6
	echo "$output"
	[ "$status" -eq 0 ]
	jq -e '.sizes | length == 2 and .[0].sets == 220 and .[1].sets == 550 and
		all(.[]; (.event_us | length == 6 and all(type == "number")) and
			(.event_median_us | type == "number"))' <<<"$output"
}
