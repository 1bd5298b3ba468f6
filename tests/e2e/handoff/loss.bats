#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Packet loss on every pod link, both ways, while small requests and 16 MiB
# transfers (down and up) go through the handoff with and without the
# header: every one completes, without curl retrying, and arrives intact.
#
# This kernel has no sch_netem (CONFIG_NET_SCH_NETEM is not set), so
# nftables drops TCP packets at random inside each pod: 2.5 % of what the
# pod sends (output hook) and 2.5 % of what it receives (input hook).  A
# packet crosses its sender's output and its receiver's input, so each
# direction of each leg loses about 5 %, whichever way kanary emits its
# own packets (the SYN-ACK it answers, the SYN it sends to the backend, the
# first data it replays).  No added delay or reordering beyond what the
# retransmissions cause.

source "$BATS_TEST_DIRNAME/../../lib/handoff.bash"

LOSS_PERMILLE=25

setup_file() {
	KN_BIG_MB=16 handoff_setup_file || return 1
	bulk_up
}
teardown_file() { e2e_teardown_file; }
teardown() {
	local pod
	bg_stop_all
	for pod in client "${KN_SERVER_PODS[@]}"; do pod_nft_del "$pod" kn_loss; done
}

loss_on() {
	pod_nft "$1" kn_loss "
	chain in { type filter hook input priority 0; meta l4proto tcp numgen random mod 1000 < $LOSS_PERMILLE counter drop; }
	chain out { type filter hook output priority 0; meta l4proto tcp numgen random mod 1000 < $LOSS_PERMILLE counter drop; }"
}

# loss_drops POD: packets the pod's loss rules dropped so far.
loss_drops() {
	in_ns "$1" nft -j list table inet kn_loss |
		jq -e '[.nftables[] | .rule? // empty | .expr[] | .counter? // empty | .packets] | add'
}

@test "with ~5 % loss each way on every link, requests and transfers through the handoff complete intact" {
	local dir=$BATS_TEST_TMPDIR pod g0 b0 what pid
	declare -A tasks drops
	g0=$(subset_stat greeting risky rule_connections)
	b0=$(subset_stat bulk risky rule_connections)
	for pod in client "${KN_SERVER_PODS[@]}"; do loss_on "$pod"; done

	# All at once, so that losses hit handshakes and bulk data together.
	bg conns_each "$KN_VIP_URL" 100 20 -H "$HO_HEADER" >"$dir/header"
	tasks[requests with the header]=$BG_LAST
	bg conns_each "$KN_VIP_URL" 100 20 >"$dir/none"
	tasks[requests without the header]=$BG_LAST
	bg fetch_sha "${KN_VIP_URL}big" -H "$HO_HEADER" >"$dir/down-header"
	tasks[download with the header]=$BG_LAST
	bg fetch_sha "${KN_VIP_URL}big" >"$dir/down-none"
	tasks[download without the header]=$BG_LAST
	bg upload "$KN_TMP/www/big" "${KN_BULK_URL}up" -H "$HO_HEADER" >"$dir/up-header"
	tasks[upload with the header]=$BG_LAST
	bg upload "$KN_TMP/www/big" "${KN_BULK_URL}up" >"$dir/up-none"
	tasks[upload without the header]=$BG_LAST
	for what in "${!tasks[@]}"; do
		pid=${tasks[$what]}
		wait "$pid" || { echo "FAIL: $what failed under loss (exit $?)" >&2; return 1; }
	done
	for pod in client "${KN_SERVER_PODS[@]}"; do drops[$pod]=$(loss_drops "$pod"); done
	for pod in client "${KN_SERVER_PODS[@]}"; do pod_nft_del "$pod" kn_loss; done

	echo "packets dropped: ${drops[*]@K}; SYN retransmissions in client: $(in_ns client nstat -saz TcpExtTCPSynRetrans | awk 'NR > 1 { print $2 }')"
	for pod in client "${KN_SERVER_PODS[@]}"; do
		expect_between "${drops[$pod]}" 1 1e12 "TCP packets the loss rules dropped in $pod"
	done
	expect_eq "$(wc -l <"$dir/header")" 100 "answers to requests with the header"
	expect_eq "$(count_lines "$dir/header" risky1)" 100 "answers from risky1 to requests with the header"
	expect_eq "$(wc -l <"$dir/none")" 100 "answers to requests without the header"
	expect_eq "$(($(count_lines "$dir/none" safe1) + $(count_lines "$dir/none" safe2) + $(count_lines "$dir/none" risky1)))" 100 \
		"answers naming a pod, requests without the header"
	expect_eq "$(cat "$dir/down-header")" "$KN_BIG_SHA" "sha256 of 16 MiB downloaded with the header"
	expect_eq "$(cat "$dir/down-none")" "$KN_BIG_SHA" "sha256 of 16 MiB downloaded without the header"
	expect_upload "$(cat "$dir/up-header")" "$KN_BIG_SHA" $((16 << 20)) "16 MiB uploaded with the header" risky1
	expect_upload "$(cat "$dir/up-none")" "$KN_BIG_SHA" $((16 << 20)) "16 MiB uploaded without the header"

	expect_eq "$(($(subset_stat greeting risky rule_connections) - g0))" 101 "kanary rule_connections of greeting's risky (100 requests, 1 download)"
	expect_eq "$(($(subset_stat bulk risky rule_connections) - b0))" 1 "kanary rule_connections of bulk's risky"
	expect_handed_off "$KN_VIP" "$KN_VIP_PORT"
	expect_handed_off "$KN_VIP" "$KN_BULK_PORT"
	# Connections that ended under loss may still be retransmitting a FIN.
	expect_ho_drained 15
}

# Per-request routing under loss: the requests, the new legs' SYNs and
# SYN-ACKs, the stashes and the first bytes of answers are all lost at
# times, and every request still gets its own subset's answer, on the one
# connection the client opened.
@test "with ~5 % loss each way, 200 mixed requests on one keep-alive connection: each from its request's subset" {
	local out=$BATS_TEST_TMPDIR/mix pod sw0 n
	sw0=$(handoff_stat greeting switches)
	for pod in client "${KN_SERVER_PODS[@]}"; do loss_on "$pod"; done
	timeout 600 ip netns exec "$(ns_of client)" "$HO_PYTHON" "$KN_LIB_DIR/keepalive_client.py" \
		mix "$KN_VIP" "$KN_VIP_PORT" 200 7 >"$out" ||
		{ echo "FAIL: the keep-alive client failed under loss: $(tail -1 "$out")" >&2; return 1; }
	for pod in client "${KN_SERVER_PODS[@]}"; do pod_nft_del "$pod" kn_loss; done
	n=$(($(handoff_stat greeting switches) - sw0))
	echo "switches under loss: $n; handoff counters: $(kctl -j stats greeting | jq -c '.[0].handoff')"
	expect_eq "$(jq -s 'length' "$out")" 200 "answers"
	expect_eq "$(jq -s '[.[] | select(.status != 200)] | length' "$out")" 0 "answers other than 200"
	expect_eq "$(jq -s '[.[] | select(.kind == "dark" and .pod != "risky1")] | length' "$out")" 0 \
		"requests with the header not answered by risky1"
	expect_eq "$(jq -s '[.[] | select(.kind != "dark" and (.pod | IN("safe1", "safe2", "risky1") | not))] | length' "$out")" 0 \
		"other requests answered by no pod of greeting"
	expect_eq "$(jq -s '[.[].lport] | unique | length' "$out")" 1 "client connections"
	expect_between "$n" 1 1e12 "kanary switches"
	expect_ho_drained
}
