#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# TCP health per subset through sockops (issue 12), on the client's real
# TCP stack: a subset whose pod refuses, or drops SYNs, counts each failed
# connect; a subset behind 5 % loss counts the client's retransmissions
# while a clean one counts none; a subset one hop away (the delay line)
# shows it in its srtt; rule-path connections are counted in their subset.
#
# Every service here has a VIP of this run's own (10.97-100.x.y from the
# cluster's pid): the sockops program of every kanary instance on the
# host sees every socket, and counts those whose tuple is in its own
# conntrack, so a VIP that another run's clients also dial could mix in
# their connections.

source "$BATS_TEST_DIRNAME/../../lib/handoff.bash"
source "$BATS_TEST_DIRNAME/../../lib/delay.bash"
source "$BATS_TEST_DIRNAME/../../lib/tcp_health.bash"

# tcp_vip K: this run's VIP number K (0-3).
tcp_vip() {
	local pid=${KN_ID#kn}
	echo "10.$((97 + $1)).$((pid >> 8 & 255)).$((pid & 255))"
}

# tcp_service NAME K SUBSET=ADDR...: service NAME on VIP K, port 80, one
# backend per subset, every weight 0 until `kctl weight set`.
tcp_service() {
	local name=$1 vip sub
	vip=$(tcp_vip "$2")
	shift 2
	kctl service add "$name" "$vip:80" >/dev/null || return 1
	for sub; do
		kctl backend add "$name" "${sub%%=*}" "${sub#*=}" >/dev/null 2>&1 || return 1
	done
}

setup_file() {
	KN_BIG_MB=0 handoff_setup_file || return 1
	{
		tcp_service tcpfail 0 up="$(pod_ip safe1):80" refused="$(pod_ip risky1):81" \
			silent="$(pod_ip risky1):82" &&
			tcp_service tcploss 1 clean="$(pod_ip safe1):80" lossy="$(pod_ip safe2):80" &&
			kctl weight set tcploss clean 50 lossy 50 &&
			tcp_service tcpnear 2 near="$(pod_ip safe1):80" far="$(pod_ip safe2):80" &&
			kctl weight set tcpnear near 50 far 50 &&
			tcp_service tcprule 3 safe="$(pod_ip safe1):80" risky="$(pod_ip risky1):80" &&
			kctl weight set tcprule safe 100 risky 0 &&
			kctl route add tcprule header x-my-header=dark to risky
	} >/dev/null || { echo "tcp_health: setting up the services failed" >&2; return 1; }
}
teardown_file() { e2e_teardown_file; }
teardown() {
	bg_stop_all
	undelay_all
	pod_nft_del risky1 kn_silent
	pod_nft_del safe2 kn_loss
}

@test "a subset whose pod refuses: each failed connect counts once, without retransmissions" {
	local url="http://$(tcp_vip 0)/" failed c0 f0
	kctl weight set tcpfail up 0 refused 100 silent 0 >/dev/null
	c0=$(subset_stat tcpfail refused connections)
	f0=$(tcp_stat tcpfail refused connect_failures)
	failed=$(tries "$url" 12 --max-time 10)
	expect_eq "$failed" 12 "curls that could not connect (nothing listens on risky1:81)"
	expect_eq "$(($(subset_stat tcpfail refused connections) - c0))" 12 "connections kanary steered to refused"
	expect_eq "$(($(tcp_stat tcpfail refused connect_failures) - f0))" "$failed" "tcp.connect_failures of refused"
	expect_eq "$(tcp_stat tcpfail refused retransmits)" 0 "tcp.retransmits of refused (a RST comes at once)"
	expect_eq "$(tcp_stat tcpfail up connect_failures)" 0 "tcp.connect_failures of up (weight 0)"
	expect_eq "$(kctl -j stats tcpfail | jq -c '.[0].subsets[] | select(.name == "refused") | .tcp.srtt_us')" null \
		"tcp.srtt_us of refused (no connection was established)"
}

@test "a subset whose pod drops SYNs: each connect that timed out counts once; every SYN sent again is a retransmission" {
	local url="http://$(tcp_vip 0)/" failed syns f0 r0
	pod_nft risky1 kn_silent "chain in { type filter hook input priority 0; tcp dport 82 counter drop; }"
	kctl weight set tcpfail up 0 refused 0 silent 100 >/dev/null
	f0=$(tcp_stat tcpfail silent connect_failures)
	r0=$(tcp_stat tcpfail silent retransmits)
	failed=$(tries "$url" 3 --connect-timeout 3)
	client_settled "$(tcp_vip 0)"
	syns=$(nft_drops risky1 kn_silent)
	echo "SYNs that reached risky1:82 and were dropped: $syns"
	expect_eq "$failed" 3 "curls that timed out connecting"
	expect_eq "$(($(tcp_stat tcpfail silent connect_failures) - f0))" 3 "tcp.connect_failures of silent"
	expect_between "$syns" 4 1000 "SYNs dropped (3 first SYNs and their retransmissions)"
	expect_eq "$(($(tcp_stat tcpfail silent retransmits) - r0))" "$((syns - 3))" \
		"tcp.retransmits of silent (the SYNs beyond each connect's first)"
}

@test "a subset behind 5 % loss retransmits, a clean one does not; every connection has an srtt sample" {
	local vip out=$BATS_TEST_TMPDIR/answers rs0 rs1 drops
	vip=$(tcp_vip 1)
	rs0=$(retrans_segs client)
	pod_nft safe2 kn_loss "
	chain in { type filter hook input priority 0; meta l4proto tcp numgen random mod 1000 < 50 counter drop; }
	chain out { type filter hook output priority 0; meta l4proto tcp numgen random mod 1000 < 50 counter drop; }"
	conns_each "http://$vip/" 300 20 >"$out" || { echo "FAIL: requests failed under loss" >&2; return 1; }
	client_settled "$vip"
	drops=$(nft_drops safe2 kn_loss)
	pod_nft_del safe2 kn_loss
	rs1=$(retrans_segs client)
	echo "dropped in safe2: $drops; the client's netns retransmitted $((rs1 - rs0)) segments; stats: $(kctl -j stats tcploss | jq -c '[.[0].subsets[] | {name, connections, tcp}]')"
	expect_eq "$(wc -l <"$out")" 300 "answers"
	expect_between "$drops" 1 1e9 "packets the loss rules dropped"
	expect_between "$(tcp_stat tcploss lossy retransmits)" 1 1e9 "tcp.retransmits of lossy"
	expect_eq "$(tcp_stat tcploss clean retransmits)" 0 "tcp.retransmits of clean"
	# Nothing else runs in the client's netns meanwhile: its own count is the reference.
	expect_eq "$(($(tcp_stat tcploss lossy retransmits) + $(tcp_stat tcploss clean retransmits)))" "$((rs1 - rs0))" \
		"tcp.retransmits of both subsets = the segments the client's netns retransmitted (nstat TcpRetransSegs)"
	expect_eq "$(tcp_stat tcploss lossy connect_failures)" 0 "tcp.connect_failures of lossy (every connect got through)"
	expect_between "$(tcp_stat tcploss clean srtt_us)" 1 1e9 "tcp.srtt_us of clean"
	expect_between "$(tcp_stat tcploss lossy srtt_us)" 1 1e9 "tcp.srtt_us of lossy"
	expect_eq "$(($(tcp_samples tcploss clean) + $(tcp_samples tcploss lossy)))" 300 \
		"srtt samples: one per connection"
	expect_eq "$(tcp_samples tcploss clean)" "$(subset_stat tcploss clean connections)" "srtt samples of clean = its connections"
}

@test "a subset one hop away (1 ms delay line) has a mean srtt of at least 1 ms" {
	local vip=$(tcp_vip 2) near far
	delay_pod safe2 1000
	new_conns "http://$vip/" 60 4 >/dev/null || { echo "FAIL: requests to tcpnear failed" >&2; return 1; }
	client_settled "$vip"
	undelay_pod safe2
	near=$(tcp_stat tcpnear near srtt_us)
	far=$(tcp_stat tcpnear far srtt_us)
	echo "mean srtt: near $near us, far $far us"
	# Every RTT sample of far includes the 1 ms its pod's packets were held;
	# the kernel's fixed-point average may round down by a few us.
	expect_between "$far" 990 1e9 "tcp.srtt_us of far"
	expect_between "$near" 1 1e9 "tcp.srtt_us of near"
	expect_eq "$(tcp_samples tcpnear far)" "$(subset_stat tcpnear far connections)" "srtt samples of far = its connections"
}

@test "rule-path connections count in the subset their request went to" {
	local vip n0 s0
	vip=$(tcp_vip 3)
	n0=$(subset_stat tcprule risky rule_connections)
	s0=$(tcp_samples tcprule risky)
	conns_each "http://$vip/" 20 4 -H "$HO_HEADER" >/dev/null || { echo "FAIL: requests to tcprule failed" >&2; return 1; }
	client_settled "$vip"
	expect_eq "$(($(subset_stat tcprule risky rule_connections) - n0))" 20 "rule connections of tcprule's risky"
	expect_eq "$(($(tcp_samples tcprule risky) - s0))" 20 "srtt samples of tcprule's risky"
	expect_eq "$(tcp_samples tcprule safe)" 0 "srtt samples of tcprule's safe (weight 100, but every request had the header)"
	expect_eq "$(tcp_stat tcprule risky retransmits)" 0 "tcp.retransmits of tcprule's risky"
	expect_between "$(tcp_stat tcprule risky srtt_us)" 1 1e9 "tcp.srtt_us of tcprule's risky"
}
