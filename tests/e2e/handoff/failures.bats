#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Failures on the handoff path, each against risky1 through greeting's rule
# (the header), and where the comparison means something, the same command
# against plain DNAT to risky1 (service plain).  A backend that refuses or
# never answers, or dies mid-transfer, makes the client fail at once with
# a reset, never a hang; an aborting client, a half-close and a slow reader
# behave as they do without kanary.  The handoff leaves no state behind.

source "$BATS_TEST_DIRNAME/../../lib/handoff.bash"

setup_file() {
	handoff_setup_file || return 1
	SLOW_SHA=$(www_random slow 1) || return 1
	BIG_BYTES=$(stat -c %s "$KN_TMP/www/big") || return 1
	RMEM0=$(in_ns client sysctl -n net.ipv4.tcp_rmem) || return 1
	export SLOW_SHA BIG_BYTES RMEM0
}
teardown_file() { e2e_teardown_file; }
teardown() {
	bg_stop_all
	in_ns client sysctl -qw net.ipv4.tcp_rmem="$RMEM0"
	pod_nft_del risky1 kn_silent
	nginx_ensure risky1
	kctl weight set greeting safe 80 risky 20 >/dev/null
}

# client_small_rcvbuf: a receive buffer no test file fits in, so that a
# slowly reading client closes its window instead of taking the whole file
# into its kernel at once (teardown restores the default).
client_small_rcvbuf() {
	in_ns client sysctl -qw net.ipv4.tcp_rmem="4096 65536 131072"
}

# curl_exit URL [CURL_ARG...]: curl's exit status for one request from the
# client (bounded at 10 s unless CURL_ARG says otherwise).
curl_exit() {
	local url=$1 rc=0
	shift
	in_ns client curl -sS -o /dev/null --retry 0 --max-time 25 -H 'Connection: close' "$@" "$url" || rc=$?
	echo "$rc"
}

# expect_reset EXIT WHAT: curl failed at once on a refused or reset connection.
expect_reset() {
	case $1 in
	7 | 52 | 56) echo "ok: $2: curl exit $1 (refused, empty reply or reset)" ;;
	28) echo "FAIL: $2: curl timed out (exit 28): the client hung instead of being reset" >&2; return 1 ;;
	*) echo "FAIL: $2: curl exit $1, expected a refusal or a reset (7, 52 or 56)" >&2; return 1 ;;
	esac
}

@test "a backend that refuses: the client gets a reset, not a timeout" {
	local r0
	nginx_stop risky1
	expect_eq "$(curl_exit "$KN_PLAIN_URL")" 7 "curl exit with plain DNAT to risky1, nginx stopped (7: refused)"
	r0=$(handoff_stat greeting backend_refused)
	expect_reset "$(curl_exit "$KN_VIP_URL" -H "$HO_HEADER")" "header request while risky1 refuses"
	expect_eq "$(($(handoff_stat greeting backend_refused) - r0))" 1 "kanary handoff.backend_refused"
	expect_ho_drained
}

@test "a backend that never answers: the client gets a reset after bounded tries, not a timeout" {
	local r0
	pod_nft risky1 kn_silent "chain in { type filter hook input priority 0; tcp dport 80 drop; }"
	# The check of the harness: plain DNAT to the silent pod does hang.
	expect_eq "$(curl_exit "$KN_PLAIN_URL" --max-time 3)" 28 "curl exit with plain DNAT to a silent risky1 (28: timed out)"
	r0=$(handoff_stat greeting backend_silent)
	expect_reset "$(curl_exit "$KN_VIP_URL" -H "$HO_HEADER")" "header request while risky1 drops everything"
	expect_eq "$(($(handoff_stat greeting backend_silent) - r0))" 1 "kanary handoff.backend_silent"
	expect_ho_drained
}

# switch_fails COUNTER WHAT: on one keep-alive connection, a request
# answered by safe (weights 100/0), then one with the header, which must
# move to risky1 while risky1 refuses or is silent (as set up by the
# caller): the client's second request fails with a reset within a bounded
# time (the timeout only catches a hang), and COUNTER and switch_failed
# count it.
switch_fails() {
	local counter=$1 what=$2 out=$BATS_TEST_TMPDIR/steps f0 s0 rc=0
	f0=$(handoff_stat greeting switch_failed)
	s0=$(handoff_stat greeting "$counter")
	timeout 30 ip netns exec "$(ns_of client)" "$HO_PYTHON" "$KN_LIB_DIR/keepalive_client.py" \
		steps "$KN_VIP" "$KN_VIP_PORT" - >"$out" <<<'[{"kind": "get", "path": "/"},
		{"kind": "dark", "path": "/", "headers": {"x-my-header": "dark"}}]' || rc=$?
	cat "$out"
	expect_eq "$rc" 1 "keep-alive client's exit (1: a request failed; 124: it hung)"
	[[ $(jq -sr '.[0].pod' "$out") =~ ^safe[12]$ ]] ||
		{ echo "FAIL: the first request was not answered by safe: $(head -1 "$out")" >&2; return 1; }
	expect_eq "$(jq -sr '.[1].error // "none" | test("Reset|RemoteDisconnected|BadStatusLine")' "$out")" true \
		"the request that moved to $what failed with a reset ($(jq -sr '.[1].error // "none"' "$out"))"
	expect_eq "$(($(handoff_stat greeting switch_failed) - f0))" 1 "kanary handoff.switch_failed"
	expect_eq "$(($(handoff_stat greeting "$counter") - s0))" 1 "kanary handoff.$counter"
	expect_ho_drained
}

@test "a request that moves to a backend that refuses: the client gets a reset, not a timeout" {
	kctl weight set greeting safe 100 risky 0 >/dev/null
	nginx_stop risky1
	switch_fails backend_refused "a refusing risky1"
}

@test "a request that moves to a backend that never answers: the client gets a reset after bounded tries" {
	kctl weight set greeting safe 100 risky 0 >/dev/null
	pod_nft risky1 kn_silent "chain in { type filter hook input priority 0; tcp dport 80 drop; }"
	switch_fails backend_silent "a silent risky1"
}

# killed_mid_transfer URL [CURL_ARG...]: downloads /big slowly, into a
# small receive buffer, kills risky1's nginx once 1 MiB has arrived,
# restarts it; sets KILLED_EXIT to curl's exit status and KILLED_BYTES to
# what arrived.
killed_mid_transfer() {
	local url=$1 out="$BATS_TEST_TMPDIR/partial" pid size=0
	shift
	rm -f "$out"
	client_small_rcvbuf
	bg in_ns client curl -sS --retry 0 --max-time 30 --limit-rate 2M -H 'Connection: close' "$@" -o "$out" "${url}big"
	pid=$BG_LAST
	for _ in $(seq 100); do
		size=$(stat -c %s "$out" 2>/dev/null) || size=0
		((size >= 1 << 20)) && break
		sleep 0.1
	done
	((size >= 1 << 20)) || { echo "FAIL: only $size bytes of ${url}big arrived before the kill" >&2; return 1; }
	nginx_kill risky1
	KILLED_EXIT=0
	wait "$pid" || KILLED_EXIT=$?
	KILLED_BYTES=$(stat -c %s "$out")
	nginx_ensure risky1
}

# expect_cut EXIT BYTES WHAT: curl failed on a cut transfer (18: partial,
# 52/56: reset), not a timeout, and did not get the whole file.
expect_cut() {
	case $1 in
	18 | 52 | 56) echo "ok: $3: curl exit $1 after $2 bytes" ;;
	*) echo "FAIL: $3: curl exit $1 after $2 bytes, expected a cut transfer (18, 52 or 56)" >&2; return 1 ;;
	esac
	expect_between "$2" 1 $((BIG_BYTES - 1)) "bytes that arrived, $3"
}

@test "a backend killed mid-transfer: the download is cut, not left hanging, as with plain DNAT" {
	killed_mid_transfer "$KN_PLAIN_URL"
	expect_cut "$KILLED_EXIT" "$KILLED_BYTES" "plain DNAT download, risky1 killed"
	killed_mid_transfer "$KN_VIP_URL" -H "$HO_HEADER"
	expect_cut "$KILLED_EXIT" "$KILLED_BYTES" "download with the header, risky1 killed"
	expect_ho_drained
}

@test "a client that aborts a download: the next requests work, as with plain DNAT" {
	local dir=$BATS_TEST_TMPDIR
	expect_eq "$(curl_exit "${KN_PLAIN_URL}big" --limit-rate 100k --max-time 1)" 28 "curl exit, client aborting (--max-time 1) a plain DNAT download"
	expect_eq "$(curl_exit "${KN_VIP_URL}big" -H "$HO_HEADER" --limit-rate 100k --max-time 1)" 28 "curl exit, client aborting (--max-time 1) a download with the header"
	new_conns "$KN_VIP_URL" 20 4 -H "$HO_HEADER" >"$dir/header"
	new_conns "$KN_VIP_URL" 20 4 >"$dir/none"
	new_conns "$KN_PLAIN_URL" 20 4 >"$dir/plain"
	expect_eq "$(count_lines "$dir/header" risky1)" 20 "answers from risky1 to requests with the header, after the abort"
	expect_eq "$(wc -l <"$dir/none")" 20 "answers to requests without the header, after the abort"
	expect_eq "$(count_lines "$dir/plain" risky1)" 20 "answers from risky1 via plain DNAT, after the abort"
	expect_ho_drained
}

# half_close URL_HOST PATH [PROBE_ARG...]: one request, then shutdown(SHUT_WR), then the whole answer.
half_close() {
	local out
	out=$(probe "$1" "$KN_VIP_PORT" --path "$2" --half-close "${@:3}") || { echo "FAIL: half-closed request to $1$2 ${*:3}: $out" >&2; return 1; }
	jq -er '"status=\(.status) complete=\(.complete) sha256=\(.body_sha256)"' <<<"$out"
}

@test "a half-closed client (request, then FIN) gets its whole answer, as with plain DNAT" {
	local want="status=200 complete=true sha256=$KN_SMALL_SHA"
	expect_eq "$(half_close "$KN_PLAIN_VIP" /small.txt)" "$want" "half-closed request for /small.txt, plain DNAT"
	expect_eq "$(half_close "$KN_VIP" /small.txt --header "$HO_HEADER")" "$want" "half-closed request for /small.txt with the header"
	expect_eq "$(half_close "$KN_VIP" /small.txt)" "$want" "half-closed request for /small.txt without the header"
	expect_eq "$(probe "$KN_VIP" "$KN_VIP_PORT" --half-close --header "$HO_HEADER" | jq -r .body)" risky1 "answer to a half-closed request with the header"
	expect_ho_drained
}

# zero_windows: times the client has advertised a zero window so far.
zero_windows() {
	in_ns client nstat -saz TcpExtTCPToZeroWindowAdv | awk '$1 == "TcpExtTCPToZeroWindowAdv" { print $2; f = 1 } END { if (!f) exit 1 }'
}

# slow_read HOST [PROBE_ARG...]: /slow read at 256 KiB/s into a 32 KiB
# receive buffer, so that the window closes and reopens many times.
slow_read() {
	local out
	out=$(probe "$1" "$KN_VIP_PORT" --path /slow --read-rate 262144 --rcvbuf 32768 "${@:2}") ||
		{ echo "FAIL: slow read from $1 ${*:2}: $out" >&2; return 1; }
	jq -er '"status=\(.status) complete=\(.complete) sha256=\(.body_sha256)"' <<<"$out"
}

# curl --limit-rate averages over seconds and may read a few MiB at full
# speed first, so the paced probe is what makes sure the window closes;
# curl --limit-rate 100k runs beside it, as an operator would try it.
@test "a slow reader gets the whole file, as with plain DNAT" {
	local dir=$BATS_TEST_TMPDIR want="status=200 complete=true sha256=$SLOW_SHA" zw0 p1 p2
	zw0=$(zero_windows)
	expect_eq "$(slow_read "$KN_VIP" --header "$HO_HEADER")" "$want" "1 MiB read slowly with the header"
	expect_between "$(($(zero_windows) - zw0))" 1 1e12 "zero windows the client advertised reading with the header"

	client_small_rcvbuf
	bg fetch_sha "${KN_VIP_URL}slow" -H "$HO_HEADER" --limit-rate 100k >"$dir/curl-header"
	p1=$BG_LAST
	bg fetch_sha "${KN_PLAIN_URL}slow" --limit-rate 100k >"$dir/curl-plain"
	p2=$BG_LAST
	zw0=$(zero_windows)
	expect_eq "$(slow_read "$KN_PLAIN_VIP")" "$want" "1 MiB read slowly, plain DNAT"
	expect_between "$(($(zero_windows) - zw0))" 1 1e12 "zero windows the client advertised reading from plain DNAT (and the curls)"
	wait "$p1" || { echo "FAIL: curl --limit-rate 100k with the header failed" >&2; return 1; }
	wait "$p2" || { echo "FAIL: curl --limit-rate 100k, plain DNAT, failed" >&2; return 1; }
	expect_eq "$(cat "$dir/curl-header")" "$SLOW_SHA" "sha256 of 1 MiB, curl --limit-rate 100k with the header"
	expect_eq "$(cat "$dir/curl-plain")" "$SLOW_SHA" "sha256 of 1 MiB, curl --limit-rate 100k, plain DNAT"
	expect_ho_drained
}
