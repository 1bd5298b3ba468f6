#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The rule path's per-source bound on real TCP stacks (docs/conntrack.md,
# "Per-source bound on the rule path"): a pod (safe2, kanary on its veth
# too, as on every pod of a node) holds keep-alive connections to the rule
# service, each with a request answered, past the bound it is loaded with.
# The connections past the bound are reset at their first request and
# counted; the client pod's connections, held and new, rule path and plain,
# all work meanwhile; and once the pod closes its connections its slots are
# free again.  Without the bound every one of the pod's connections is
# answered (the first check fails).

source "$BATS_TEST_DIRNAME/../../lib/e2e.bash"
source "$BATS_TEST_DIRNAME/../../lib/handoff.bash"

HOLDER=safe2
BOUND=20
# The pod's requests go by the rule to risky1: by the weights some would reach
# safe2 itself, a hairpin that this test is not about.
DARK="x-my-header: dark"

setup_file() {
	handoff_setup_file || return 1
	kctl attach "$(host_if "$HOLDER")" >/dev/null ||
		{ echo "source_bound: attaching kanary to $HOLDER's veth failed" >&2; return 1; }
	kctl load ho-per-source "$BOUND" >/dev/null ||
		{ echo "source_bound: kanaryctl load ho-per-source $BOUND failed" >&2; return 1; }
}
teardown_file() { e2e_teardown_file; }
teardown() { bg_stop_all; }

limited() { kctl -j counters | jq .ho_source_limit; }

# held_by POD: the bound connections the datapath counts for POD's address.
held_by() {
	local key
	key=$(pod_ip "$1" | tr . ' ')
	# The value's bytes, a little-endian 64-bit count.
	bpftool -j map lookup pinned "$KN_PIN/kanary_hosrc_v1" key $key 2>/dev/null |
		jq -r '[.value[] | ltrimstr("0x") | explode | map(if . >= 97 then . - 87 else . - 48 end) |
			.[0] * 16 + .[1]] | reverse | reduce .[] as $b (0; . * 256 + $b)' 2>/dev/null | grep . ||
		echo 0
}

@test "a pod past its bound of rule-path connections is reset; its neighbour is not" {
	local ready=$BATS_TEST_TMPDIR/held.ready victim holder before
	before=$(limited)
	jq -nc '[{path: "/", headers: {"x-my-header": "dark"}}, {sleep: 4, path: "/"}]' >"$BATS_TEST_TMPDIR/steps.json"
	bg ka_client steps "$KN_VIP" "$KN_VIP_PORT" "$BATS_TEST_TMPDIR/steps.json" >"$BATS_TEST_TMPDIR/victim"
	victim=$BG_LAST
	bg env READY="$ready" ip netns exec "$(ns_of "$HOLDER")" "$HO_PYTHON" \
		"$KN_LIB_DIR/hold_requests.py" "$KN_VIP" "$KN_VIP_PORT" $((BOUND + 5)) 3 "$DARK" >"$BATS_TEST_TMPDIR/held"
	holder=$BG_LAST
	for _ in $(seq 100); do [[ -e $ready ]] && break; sleep 0.1; done
	[[ -e $ready ]] || { echo "FAIL: the pod's connections had no outcome within 10 s" >&2; return 1; }
	expect_eq "$(held_by "$HOLDER")" "$BOUND" "bound connections counted for $HOLDER"
	neighbour_connects 5 "while the pod held its bound"
	wait "$holder"
	echo "$HOLDER: $(cat "$BATS_TEST_TMPDIR/held")"
	expect_eq "$(jq .answered "$BATS_TEST_TMPDIR/held")" "$BOUND" "$HOLDER's connections answered"
	expect_eq "$(jq .reset "$BATS_TEST_TMPDIR/held")" 5 "$HOLDER's connections reset at their request"
	expect_eq "$(($(limited) - before))" 5 "ho_source_limit"
	wait "$victim" || { cat "$BATS_TEST_TMPDIR/victim"; echo "FAIL: the neighbour's keep-alive connection broke" >&2; return 1; }
	expect_eq "$(jq -s 'map(select(.status == 200)) | length' "$BATS_TEST_TMPDIR/victim")" 2 \
		"requests answered on the neighbour's keep-alive connection"
}

@test "once the pod's connections end, its slots are free again" {
	for _ in $(seq 50); do [[ $(held_by "$HOLDER") == 0 ]] && break; sleep 0.1; done
	expect_eq "$(held_by "$HOLDER")" 0 "bound connections counted for $HOLDER after it closed them"
	ip netns exec "$(ns_of "$HOLDER")" "$HO_PYTHON" "$KN_LIB_DIR/hold_requests.py" \
		"$KN_VIP" "$KN_VIP_PORT" "$BOUND" 0 "$DARK" >"$BATS_TEST_TMPDIR/held"
	expect_eq "$(jq .answered "$BATS_TEST_TMPDIR/held")" "$BOUND" "$HOLDER's connections answered again"
}
