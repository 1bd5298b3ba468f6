# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# shellcheck shell=bash
#
# TCP health per subset (sockops, issue 12) as the tests read it: the
# "tcp" object of `kanaryctl -j stats`, the sample count from the pinned
# map, and traffic that must fail or settle first.  Sourced after
# cluster.sh (in_ns, kctl, KN_PIN).

# tcp_stat SERVICE SUBSET FIELD: one field of the subset's "tcp" object in
# `kanaryctl -j stats` (connect_failures, retransmits, srtt_us).
tcp_stat() { subset_stat "$1" "$2" "tcp.$3"; }

# tcp_samples SERVICE SUBSET: connections sampled into the subset's srtt,
# straight from the pinned map (the JSON shows only their mean).
tcp_samples() {
	local id idx k
	id=$(kctl -j service list | jq -er --arg s "$1" '.[] | select(.service == $s) | .id') || return 1
	idx=$(kctl -j weight show "$1" | jq -er --arg s "$2" '.subsets | map(.name) | index($s)') || return 1
	k=$((id * 8 + idx))
	bpftool -j map lookup pinned "$KN_PIN/kanary_tcpstat_v1" \
		key $((k & 255)) $((k >> 8 & 255)) $((k >> 16 & 255)) $((k >> 24 & 255)) |
		jq -er '[.formatted.values[].value.srtt_samples] | add'
}

# nft_drops POD TABLE: packets the counters of the pod's table counted.
nft_drops() {
	in_ns "$1" nft -j list table inet "$2" |
		jq -e '[.nftables[] | .rule? // empty | .expr[] | .counter? // empty | .packets] | add'
}

# tries URL N CURL_ARG...: N curls from the client, one connection each, one
# at a time; prints how many failed.
tries() {
	local url=$1 n=$2 failed=0
	shift 2
	for _ in $(seq "$n"); do
		in_ns client curl -s -o /dev/null --retry 0 "$@" "$url" || failed=$((failed + 1))
	done
	echo "$failed"
}

# client_settled VIP: waits (60 s at most) until the client holds no socket
# to VIP but TIME-WAIT ones: a closing socket may still retransmit its FIN,
# and a connection is sampled as it leaves ESTABLISHED.
client_settled() {
	local out left
	for _ in $(seq 600); do
		out=$(in_ns client ss -Htn dst "$1") || { echo "client_settled: ss failed" >&2; return 1; }
		left=$(awk 'NF && $1 != "TIME-WAIT" { n++ } END { print n + 0 }' <<<"$out")
		((left == 0)) && return 0
		sleep 0.1
	done
	echo "FAIL: the client still has $left sockets to $1 after 60 s:" >&2
	echo "$out" >&2
	return 1
}
