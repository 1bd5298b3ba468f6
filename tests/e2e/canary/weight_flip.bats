#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Weights flipped every 200 ms under load never break a connection or a
# response: a change only steers new connections.

source "$BATS_TEST_DIRNAME/../../lib/e2e.bash"

setup_file() { e2e_setup_file; }
teardown_file() { e2e_teardown_file; }
teardown() { bg_stop_all; }

# flip_weights SECONDS: cycles 80/20, 0/100, 100/0 every 200 ms; each
# kanaryctl failure is appended to $FLIP_FAILS.
flip_weights() {
	local end=$((SECONDS + $1)) w
	while ((SECONDS < end)); do
		for w in "80 20" "0 100" "100 0"; do
			kctl weight set greeting safe "${w% *}" risky "${w#* }" >/dev/null 2>>"$FLIP_FAILS" ||
				echo "weight set safe ${w% *} risky ${w#* } failed" >>"$FLIP_FAILS"
			sleep 0.2
		done
	done
}

# curl_checks SECONDS: bursts of new connections with curl; every body must
# be a server's name.  Failures go to $CURL_BAD, checked bodies to $CURL_OK.
curl_checks() {
	local end=$((SECONDS + $1)) body burst="$BATS_TEST_TMPDIR/burst"
	while ((SECONDS < end)); do
		new_conns "$KN_VIP_URL" 20 4 >"$burst" 2>>"$CURL_BAD" ||
			echo "curl burst failed (exit $?)" >>"$CURL_BAD"
		while read -r body; do
			[[ $body == safe1 || $body == safe2 || $body == risky1 ]] ||
				echo "bad body: '$body'" >>"$CURL_BAD"
			echo "$body" >>"$CURL_OK"
		done <"$burst"
	done
}

flips_under_wrk() {
	local mode=$1 json flip_pid curl_pid
	export FLIP_FAILS="$BATS_TEST_TMPDIR/flip.fail" CURL_BAD="$BATS_TEST_TMPDIR/curl.bad" CURL_OK="$BATS_TEST_TMPDIR/curl.ok"
	: >"$FLIP_FAILS"; : >"$CURL_BAD"; : >"$CURL_OK"

	bg flip_weights 15
	flip_pid=$BG_LAST
	bg curl_checks 15
	curl_pid=$BG_LAST
	json=$(WRK_EXPECT="safe1 safe2 risky1" wrk_run "$KN_VIP_URL" 15 32 "$mode" "$BATS_TEST_TMPDIR/wrk.out")
	wait "$flip_pid"
	wait "$curl_pid"
	echo "wrk: $json"

	expect_eq "$(wc -l <"$FLIP_FAILS")" 0 "failed weight changes ($(head -3 "$FLIP_FAILS"))"
	expect_eq "$(wc -l <"$CURL_BAD")" 0 "curl failures or wrong bodies ($(head -3 "$CURL_BAD"))"
	expect_between "$(wc -l <"$CURL_OK")" 1 1e12 "curl responses checked"
	wrk_expect_clean "$json"
	WRK_JSON=$json
}

@test "weight flips under keep-alive wrk load: no error, every body complete" {
	flips_under_wrk keepalive
}

@test "weight flips under Connection: close wrk load: no error, both subsets served" {
	flips_under_wrk close
	# New connections followed the flips: both subsets answered.
	local safe risky
	safe=$(($(json_get "$WRK_JSON" '.bodies.safe1 // 0') + $(json_get "$WRK_JSON" '.bodies.safe2 // 0')))
	risky=$(json_get "$WRK_JSON" '.bodies.risky1 // 0')
	expect_between "$safe" 1 1e12 "responses from safe"
	expect_between "$risky" 1 1e12 "responses from risky"
}
