#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# 1 GiB each way through the handoff, with the header (risky1) and without
# (the weighted default), intact by sha256: downloads from nginx on
# greeting, uploads to the sink on bulk.  With the default offloads
# (CHECKSUM_PARTIAL on the veths) and with tx checksum offload off in every
# pod, where receivers verify full checksums.  No receiver counts a bad
# checksum or a PAWS drop.  Both services deleted and made again during
# 1 GiB downloads and keep-alive connections on each path: the downloads
# complete intact and requests are answered while the services are gone
# (issue 13).

source "$BATS_TEST_DIRNAME/../../lib/handoff.bash"

setup_file() {
	KN_BIG_MB=0 handoff_setup_file || return 1
	bulk_up || return 1
	# In the served tree (nginx workers run as nobody); goes with cluster_down.
	GIB_SHA=$(www_random gib 1024) || return 1
	export GIB_SHA GIB_FILE="$KN_TMP/www/gib" GIB_URL="${KN_VIP_URL}gib"
}
teardown_file() { e2e_teardown_file; }

# both download|upload: a download from greeting and an upload to bulk at
# once, the header on the one named; results in $BATS_TEST_TMPDIR/down, /up.
both() {
	local dir=$BATS_TEST_TMPDIR down up dh=() uh=()
	case $1 in
	download) dh=(-H "$HO_HEADER") ;;
	upload) uh=(-H "$HO_HEADER") ;;
	*) echo "both: expected download or upload, got '$1'" >&2; return 1 ;;
	esac
	bg fetch_sha "$GIB_URL" "${dh[@]}" >"$dir/down"
	down=$BG_LAST
	bg upload "$GIB_FILE" "${KN_BULK_URL}up" "${uh[@]}" >"$dir/up"
	up=$BG_LAST
	wait "$down" || { echo "FAIL: download ${dh[*]} failed" >&2; return 1; }
	wait "$up" || { echo "FAIL: upload ${uh[*]} failed" >&2; return 1; }
}

# Two pairs of transfers, then the receivers' counters.  A PAWS drop means
# TCP timestamps got through the handoff, which strips them: plain DNAT does
# see a few here with tx offload off (veth reorders a flow across CPUs).
transfer_round() {
	local pod a0 g0 b0 dir=$BATS_TEST_TMPDIR
	declare -A drops0
	for pod in client "${KN_SERVER_PODS[@]}"; do drops0[$pod]=$(drop_counters "$pod"); done
	g0=$(subset_stat greeting risky rule_connections)
	b0=$(subset_stat bulk risky rule_connections)

	# The uploads go to the sink, not nginx: risky1's nginx sees only the download.
	a0=$(pod_accepts risky1)
	both download
	expect_eq "$(($(pod_accepts risky1) - a0 - 1))" 1 "connections risky1's nginx accepted for the download with the header"
	expect_eq "$(cat "$dir/down")" "$GIB_SHA" "sha256 of 1 GiB downloaded with the header"
	expect_upload "$(cat "$dir/up")" "$GIB_SHA" $((1 << 30)) "1 GiB uploaded without the header"
	both upload
	expect_eq "$(cat "$dir/down")" "$GIB_SHA" "sha256 of 1 GiB downloaded without the header"
	expect_upload "$(cat "$dir/up")" "$GIB_SHA" $((1 << 30)) "1 GiB uploaded with the header" risky1

	for pod in client "${KN_SERVER_PODS[@]}"; do
		expect_eq "$(drop_counters "$pod")" "${drops0[$pod]}" "bad checksums and PAWS drops counted in $pod"
	done
	expect_eq "$(($(subset_stat greeting risky rule_connections) - g0))" 1 "kanary rule_connections of greeting's risky"
	expect_eq "$(($(subset_stat bulk risky rule_connections) - b0))" 1 "kanary rule_connections of bulk's risky"
	expect_handed_off "$KN_VIP" "$KN_VIP_PORT"
	expect_handed_off "$KN_VIP" "$KN_BULK_PORT"
	expect_ho_drained
}

@test "1 GiB down and up through the handoff, with and without the header, default offloads" {
	transfer_round
}

@test "1 GiB down and up through the handoff, with and without the header, tx checksum offload off" {
	cluster_tx_offload off
	local pod
	for pod in client "${KN_SERVER_PODS[@]}"; do
		expect_eq "$(in_ns "$pod" ethtool -k eth0 | awk '$1 == "tx-checksumming:" { print $2 }')" off "tx-checksumming in $pod"
	done
	transfer_round
}

# lines_within FILE N SECS: whether FILE has N lines within SECS.
lines_within() {
	local end=$((SECONDS + $3))
	while (($(wc -l <"$1") < $2)); do
		((SECONDS < end)) || return 1
		sleep 0.1
	done
}

@test "services deleted and made again under downloads and keep-alive connections on each path: nothing broken" {
	local dir=$BATS_TEST_TMPDIR pids=() d0 d1 f
	# A request, one 2 s later (the services gone by then), one 4 s after that (back).
	echo '[{"method":"GET","path":"/"},{"method":"GET","path":"/","sleep":2},{"method":"GET","path":"/","sleep":4}]' >"$dir/steps"
	d0=$(kctl -j counters | jq -er .draining)
	# Paced, so that both still run while the services are gone.
	bg fetch_sha "$GIB_URL" --limit-rate 100M >"$dir/rule"
	pids+=("$BG_LAST")
	bg fetch_sha "http://$KN_PLAIN_VIP:$KN_VIP_PORT/gib" --limit-rate 100M >"$dir/plain"
	pids+=("$BG_LAST")
	bg ka_client steps "$KN_VIP" "$KN_VIP_PORT" "$dir/steps" >"$dir/ka_rule"
	pids+=("$BG_LAST")
	bg ka_client steps "$KN_PLAIN_VIP" "$KN_VIP_PORT" "$dir/steps" >"$dir/ka_plain"
	pids+=("$BG_LAST")
	lines_within "$dir/ka_rule" 1 5 && lines_within "$dir/ka_plain" 1 5 ||
		{ echo "FAIL: the keep-alive clients' first requests were not answered" >&2; return 1; }
	kctl service del greeting >/dev/null
	kctl service del plain >/dev/null
	run in_ns client curl -s -o /dev/null --max-time 1 "http://$KN_PLAIN_VIP:$KN_VIP_PORT/"
	[[ $status -ne 0 ]] || { echo "FAIL: a new connection to the deleted plain service was answered" >&2; return 1; }
	for f in ka_rule ka_plain; do
		lines_within "$dir/$f" 2 6 || { echo "FAIL: $f: no answer on the established connection while its service was gone" >&2; cat "$dir/$f" >&2; return 1; }
	done
	d1=$(kctl -j counters | jq -er .draining)
	kill -0 "${pids[0]}" && kill -0 "${pids[1]}" || { echo "FAIL: a download ended while the services were gone" >&2; return 1; }
	{ greeting_service && kctl route add greeting header x-my-header=dark to risky && plain_service; } >/dev/null
	for f in "${pids[@]}"; do wait "$f" || { echo "FAIL: a transfer failed" >&2; return 1; }; done
	expect_between "$((d1 - d0))" 100 1e12 "client packets counted as draining while the services were gone"
	expect_eq "$(cat "$dir/rule")" "$GIB_SHA" "sha256 of 1 GiB through the rule path"
	expect_eq "$(cat "$dir/plain")" "$GIB_SHA" "sha256 of 1 GiB through the plain path"
	for f in ka_rule ka_plain; do
		expect_eq "$(jq -s '[.[] | select(.status == 200)] | length' "$dir/$f")" 3 "$f: requests answered 200"
		expect_eq "$(jq -s '[.[].lport] | unique | length' "$dir/$f")" 1 "$f: connections used"
	done
	# The services made again take new connections.
	in_ns client curl -sf -o /dev/null --max-time 5 "http://$KN_PLAIN_VIP:$KN_VIP_PORT/"
	in_ns client curl -sf -o /dev/null --max-time 5 -H "$HO_HEADER" "$KN_VIP_URL"
	expect_ho_drained
}
