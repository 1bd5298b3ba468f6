# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# shellcheck shell=bash
#
# Shared by tests/e2e/*/*.bats: one cluster with the greeting service per
# file (setup_file), removed by teardown_file, which bats runs even when
# setup_file failed half way.  Checks print what they saw, then fail.

# shellcheck source=tests/lib/cluster.sh
source "$(dirname "${BASH_SOURCE[0]}")/cluster.sh"

e2e_setup_file() {
	cluster_check_kanaryctl || return 1
	cluster_up || return 1
	greeting_up || { echo "e2e: setting up the greeting service with kanaryctl failed" >&2; return 1; }
}

e2e_teardown_file() {
	cluster_down
}

# expect_eq ACTUAL EXPECTED WHAT
expect_eq() {
	if [[ $1 != "$2" ]]; then
		echo "FAIL: $3: got '$1', expected '$2'" >&2
		return 1
	fi
	echo "ok: $3 = $1"
}

# expect_between VALUE LOW HIGH WHAT (decimals allowed)
expect_between() {
	if ! awk -v v="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(v >= lo && v <= hi) }'; then
		echo "FAIL: $4: got $1, expected between $2 and $3" >&2
		return 1
	fi
	echo "ok: $4 = $1 (in [$2, $3])"
}

# expect_near ACTUAL REFERENCE PERCENT WHAT: within PERCENT % of REFERENCE.
expect_near() {
	local lo hi
	lo=$(awk -v r="$2" -v p="$3" 'BEGIN { print r * (1 - p / 100) }')
	hi=$(awk -v r="$2" -v p="$3" 'BEGIN { print r * (1 + p / 100) }')
	expect_between "$1" "$lo" "$hi" "$4 (reference $2, +-$3 %)"
}

# pct PART WHOLE: PART as a percentage of WHOLE, two decimals.
pct() {
	awk -v p="$1" -v w="$2" 'BEGIN { if (w == 0) exit 1; printf "%.2f\n", 100 * p / w }'
}

# json_get JSON FILTER: one value from a JSON object (jq -e: absent fails).
json_get() {
	jq -er "$2" <<<"$1"
}

# wrk_expect_clean JSON: no socket error, no non-2xx, no bad body, some requests.
wrk_expect_clean() {
	local j=$1 e
	for e in connect read write timeout status; do
		expect_eq "$(json_get "$j" ".errors.$e")" 0 "wrk $e errors" || return 1
	done
	expect_eq "$(json_get "$j" '.bad_bodies')" 0 "responses with a wrong or incomplete body ($(json_get "$j" .bad_sample))" || return 1
	expect_between "$(json_get "$j" '.requests')" 1 1e12 "wrk completed requests"
}

# bg CMD...: runs CMD in the background with bats' fd 3 closed (else bats
# waits for it) and remembers its pid in BG_LAST and BG_PIDS, so teardown
# can stop it when a check failed before the test waited for it.
BG_PIDS=()
bg() {
	"$@" 3>&- &
	BG_LAST=$!
	BG_PIDS+=("$BG_LAST")
}

bg_stop_all() {
	local p
	for p in "${BG_PIDS[@]}"; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	BG_PIDS=()
	return 0
}
