#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The handoff with its backends one hop away (issue 10, "a trap to remove
# first"): every server pod's outgoing packets go through the delay line
# (tests/lib/delay.bash) at 300 us, then at 1 ms, so the rule path's
# backend SYN-ACK comes back late, as from another node.  A client that
# writes a POST as head, then body, must not lose its second segment while
# the handoff binds, and a keep-alive connection whose requests move from
# pod to pod must not wait either: the assertion is that the client's netns
# retransmits nothing (each retransmission there is a client that waited
# for an RTO), not a time.  Times are printed as information.

source "$BATS_TEST_DIRNAME/../../lib/handoff.bash"
source "$BATS_TEST_DIRNAME/../../lib/delay.bash"

# Service plainbulk: the upload sink on risky1 behind the plain VIP, no
# rules (plain DNAT), beside bulk (same sink, with the rule: the handoff).
REMOTE_PLAIN_BULK="$KN_PLAIN_VIP:$KN_BULK_PORT"
REMOTE_ANY_POD='(safe1|safe2|risky1)'

setup_file() {
	KN_BIG_MB=0 handoff_setup_file || return 1
	bulk_up || return 1
	{
		kctl service add plainbulk "$REMOTE_PLAIN_BULK" &&
			kctl backend add plainbulk risky "$(pod_ip risky1):$KN_BULK_PORT"
	} >/dev/null || { echo "remote: setting up service plainbulk failed" >&2; return 1; }
}
teardown_file() { e2e_teardown_file; }
teardown() {
	bg_stop_all
	undelay_all
}

# delay_line_works USEC: delays every server pod by USEC; the least TCP
# connect time from the client to each is then at least USEC (a check of
# the bench, not of kanary).
delay_line_works() {
	local usec=$1 pod rtt
	declare -A before
	for pod in "${KN_SERVER_PODS[@]}"; do
		before[$pod]=$(connect_rtt_us "$pod") || return 1
	done
	delay_servers "$usec" || return 1
	for pod in "${KN_SERVER_PODS[@]}"; do
		rtt=$(connect_rtt_us "$pod") || return 1
		echo "# $pod: least connect time ${before[$pod]} us direct, $rtt us behind the $usec us delay line" >&3
		expect_between "$rtt" "$usec" 1e9 "least connect time (us) from the client to $pod behind the delay line" || return 1
	done
}

# probe_batch N WHAT ANSWER WRITES PROBE_ARG...: N requests from the
# client, one after another, each on its own connection (http_probe.py).
# Each answer must match the regex ANSWER, and each request must have left
# the client as WRITES segments (its own count: writes, data segments sent
# less retransmitted).  Then the client's netns must have retransmitted
# nothing.  Prints the times and retransmissions as information.
probe_batch() {
	local n=$1 what=$2 want=$3 writes=$4 out r0 r1 sum json=$BATS_TEST_TMPDIR/probes.json
	shift 4
	: >"$json"
	r0=$(retrans_segs client) || return 1
	for _ in $(seq "$n"); do
		out=$(probe "$@") || echo "# $what: a request failed: $out" >&3
		echo "$out" >>"$json"
	done
	r1=$(retrans_segs client) || return 1
	sum=$(jq -sc --arg want "$want" --argjson w "$writes" '
		(map(.elapsed_ms // empty) | sort) as $t | {
			n: length,
			wrong: map(select(.status != 200 or ((.body // "") | rtrimstr("\n") | test($want) | not))),
			split: map(select(.writes != $w or (.data_segs_out - .total_retrans) != $w)),
			retrans: (map(.total_retrans // 0) | add),
			retrans_conns: map(select((.total_retrans // 0) > 0)) | length,
			ms: (if ($t | length) > 0 then "\($t[0]) / \($t[($t | length) / 2 | floor]) / \($t[-1])" else "none" end)
		}' "$json") || { echo "FAIL: cannot read the probes' answers:" >&2; cat "$json" >&2; return 1; }
	echo "# $what: $(jq -r '"\(.n) requests, \(.ms) ms (min / median / max), client retransmissions: \(.retrans) segments on \(.retrans_conns) connections"' <<<"$sum"); client netns TcpRetransSegs +$((r1 - r0))" >&3
	expect_eq "$(jq '.n' <<<"$sum")" "$n" "$what: requests that reported a result" || return 1
	expect_eq "$(jq '.wrong | length' <<<"$sum")" 0 "$what: requests without the right answer (want /$want/; first: $(jq -c '.wrong[0]' <<<"$sum"))" || return 1
	expect_eq "$(jq '.split | length' <<<"$sum")" 0 "$what: requests the client did not send as $writes segment(s) (first: $(jq -c '.split[0]' <<<"$sum"))" || return 1
	expect_eq "$((r1 - r0))" 0 "$what: segments the client's netns retransmitted (nstat TcpRetransSegs; each is a client that waited for an RTO)"
}

# gets_answer_right USEC: single-segment GETs, rule path (with and without
# the header) and plain path, with every server USEC away.
gets_answer_right() {
	delay_servers "$1" || return 1
	probe_batch 10 "$1 us, GET, rule path with $HO_HEADER" '^risky1$' 1 \
		"$KN_VIP" "$KN_VIP_PORT" --header "$HO_HEADER" || return 1
	probe_batch 10 "$1 us, GET, rule path without the header" "^$REMOTE_ANY_POD\$" 1 \
		"$KN_VIP" "$KN_VIP_PORT" || return 1
	probe_batch 10 "$1 us, GET, plain path" '^risky1$' 1 "$KN_PLAIN_VIP" "$KN_VIP_PORT"
}

# two_segment_posts USEC PATH: 20 POSTs (40 on the rule path: 20 with the
# header, 20 without), each written as head then body, two send()s with
# TCP_NODELAY, to the upload sink; every server USEC away.
two_segment_posts() {
	local usec=$1 body sha
	body="kanary-two-segment-body:$(printf 'b%.0s' $(seq 600))"
	sha=$(printf '%s' "$body" | sha_stdin)
	delay_servers "$usec" || return 1
	local post=(--method POST --path /upload --body "$body" --split-at "$body" --pause 0)
	case $2 in
	plain)
		probe_batch 20 "$usec us, two-segment POST, plain path" "^risky1 $sha ${#body}\$" 2 \
			"$KN_PLAIN_VIP" "$KN_BULK_PORT" "${post[@]}"
		;;
	rule)
		# Both batches run, so that a failure shows both.
		local rc=0
		probe_batch 20 "$usec us, two-segment POST, rule path with $HO_HEADER" "^risky1 $sha ${#body}\$" 2 \
			"$KN_VIP" "$KN_BULK_PORT" --header "$HO_HEADER" "${post[@]}" || rc=1
		probe_batch 20 "$usec us, two-segment POST, rule path without the header" "^$REMOTE_ANY_POD $sha ${#body}\$" 2 \
			"$KN_VIP" "$KN_BULK_PORT" "${post[@]}" || rc=1
		return "$rc"
		;;
	esac
}

# keepalive_switches USEC: 150 requests on one keep-alive connection
# (keepalive_client.py mix: with the header, without, and POSTs written as
# head then body), so that legs open to pods USEC away again and again:
# each answered by its request's subset, one client connection, kanary
# switched, and the client's netns retransmitted nothing.
keepalive_switches() {
	local usec=$1 out=$BATS_TEST_TMPDIR/mix r0 sw0 t0
	delay_servers "$usec" || return 1
	r0=$(retrans_segs client) || return 1
	sw0=$(handoff_stat greeting switches) || return 1
	t0=$(date +%s%N)
	ip netns exec "$(ns_of client)" "$HO_PYTHON" "$KN_LIB_DIR/keepalive_client.py" \
		mix "$KN_VIP" "$KN_VIP_PORT" 150 11 >"$out" ||
		{ echo "FAIL: the keep-alive client failed: $(tail -1 "$out")" >&2; return 1; }
	echo "# $usec us: 150 requests on one connection in $((($(date +%s%N) - t0) / 1000000)) ms," \
		"$(($(handoff_stat greeting switches) - sw0)) switches" >&3
	expect_eq "$(jq -s '[.[] | select(.status == 200)] | length' "$out")" 150 "answers 200" || return 1
	expect_eq "$(jq -s '[.[] | select(.kind == "dark" and .pod != "risky1")] | length' "$out")" 0 \
		"requests with the header not answered by risky1" || return 1
	expect_eq "$(jq -s '[.[].lport] | unique | length' "$out")" 1 "client connections" || return 1
	expect_between "$(($(handoff_stat greeting switches) - sw0))" 1 1e12 "kanary switches" || return 1
	expect_eq "$(($(retrans_segs client) - r0))" 0 "segments the client retransmitted"
}

@test "the delay line holds every server pod's packets 300 us" {
	delay_line_works 300
}

@test "300 us away: single-segment GETs reach the right pod on the rule path and the plain path, no client retransmission" {
	gets_answer_right 300
}

@test "300 us away: two-segment POSTs on the plain path are answered right, the client retransmits nothing" {
	two_segment_posts 300 plain
}

@test "300 us away: two-segment POSTs on the rule path are answered right, the client retransmits nothing" {
	two_segment_posts 300 rule
}

@test "300 us away: 150 requests on one keep-alive connection switch legs, each answered right, no client retransmission" {
	keepalive_switches 300
}

@test "the delay line holds every server pod's packets 1 ms" {
	delay_line_works 1000
}

@test "1 ms away: single-segment GETs reach the right pod on the rule path and the plain path, no client retransmission" {
	gets_answer_right 1000
}

@test "1 ms away: two-segment POSTs on the plain path are answered right, the client retransmits nothing" {
	two_segment_posts 1000 plain
}

@test "1 ms away: two-segment POSTs on the rule path are answered right, the client retransmits nothing" {
	two_segment_posts 1000 rule
}

@test "1 ms away: 150 requests on one keep-alive connection switch legs, each answered right, no client retransmission" {
	keepalive_switches 1000
}
