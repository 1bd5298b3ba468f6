#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# HTTP accounting per subset (issue 12), against what the pods themselves
# say: nginx pods answer 200, 404, 500 and 503 on chosen paths and log
# every request; a known mix goes over new and keep-alive connections
# through the rule path (greeting, with its dark-release rule) and the
# canary path (split, the same pods with no rule), and every count of
# `kanaryctl -j stats` must equal the access logs', per subset and code.
# Then latency: with the pods' answers held 20 ms by the delay line, the
# datapath's p50 per subset is the client's own p50, within a bucket.

source "$BATS_TEST_DIRNAME/../../lib/handoff.bash"
source "$KN_LIB_DIR/delay.bash"

SPLIT_VIP=10.96.0.12
SLOW_VIP=10.96.0.13
SLOWRULE_VIP=10.96.0.14
CODES=(200 404 500 503)

setup_file() {
	KN_BIG_MB=0 handoff_setup_file || return 1
	local pod dir vip svc
	# /<svc>/<code> answers <code>; the path names the service in the log.
	for pod in "${KN_SERVER_PODS[@]}"; do
		dir=$(nginx_dir "$pod")
		{
			echo "access_log $dir/access.log;"
			# With a body of its own: nginx's own error page for a 500
			# would end the keep-alive connection.
			echo 'default_type text/plain;'
			echo 'location ~ 200$ { return 200 "ok\n"; }'
			echo 'location ~ 404$ { return 404 "not found\n"; }'
			echo 'location ~ 500$ { return 500 "failed\n"; }'
			echo 'location ~ 503$ { return 503 "unavailable\n"; }'
		} >"$dir/server.d/codes.conf" && nginx_reload "$pod" || return 1
	done
	# The same pods behind three more VIPs: split (80/20, no rule: the
	# canary path), slow and slowrule (fresh histograms for the latency test).
	for svc in split:$SPLIT_VIP slow:$SLOW_VIP slowrule:$SLOWRULE_VIP; do
		vip=${svc#*:} svc=${svc%%:*}
		{
			kctl service add "$svc" "$vip:$KN_VIP_PORT" &&
				kctl backend add "$svc" safe "$(pod_ip safe1):80" &&
				kctl backend add "$svc" safe "$(pod_ip safe2):80" &&
				kctl backend add "$svc" risky "$(pod_ip risky1):80" &&
				kctl weight set "$svc" safe 80 risky 20
		} >/dev/null || { echo "setting up service $svc failed" >&2; return 1; }
	done
	kctl route add slowrule header x-my-header=dark to risky >/dev/null || return 1
}
teardown_file() { e2e_teardown_file; }
teardown() { undelay_all; }

# svc_json SERVICE: its entry of `kanaryctl -j stats`.
svc_json() {
	kctl -j stats "$1" | jq -ec --arg s "$1" '.[] | select(.service == $s)'
}

# The mix, per service: 13 requests, some of them with the rule's header.
mix_paths() {
	local p=$1
	printf '%s\n' "/$p/200" "/$p/404" "/$p/200" "/$p/500" "/$p/200" "/$p/503" "/$p/404" \
		"/$p/200" "/$p/500" "/$p/200" "/$p/503" "/$p/404" "/$p/200"
}

# send_mix VIP PREFIX: the mix on new connections (curl, one each, every
# third with the header), then on one keep-alive connection (http.client).
send_mix() {
	local vip=$1 prefix=$2 i=0 path steps
	while read -r path; do
		i=$((i + 1))
		if ((i % 3 == 0)); then
			in_ns client curl -s -o /dev/null --max-time 10 -H "$HO_HEADER" "http://$vip:$KN_VIP_PORT$path"
		else
			in_ns client curl -s -o /dev/null --max-time 10 "http://$vip:$KN_VIP_PORT$path"
		fi || { echo "curl $path through $vip failed" >&2; return 1; }
	done < <(mix_paths "$prefix")
	steps=$(mix_paths "$prefix" | jq -Rnc '[inputs] | to_entries |
		map({path: .value} + (if .key % 3 == 2 then {headers: {"x-my-header": "dark"}} else {} end))')
	in_ns client "$HO_PYTHON" "$KN_LIB_DIR/keepalive_client.py" steps "$vip" "$KN_VIP_PORT" - \
		<<<"$steps" >"$BATS_TEST_TMPDIR/ka-$prefix" ||
		{ echo "keep-alive mix through $vip failed:" >&2; tail -3 "$BATS_TEST_TMPDIR/ka-$prefix" >&2; return 1; }
	# One connection: every request from the same local port.
	expect_eq "$(jq -r .lport "$BATS_TEST_TMPDIR/ka-$prefix" | sort -u | wc -l)" 1 "client ports of the keep-alive mix"
}

# logged PREFIX SUBSET CODE: requests /PREFIX/... the subset's pods logged with CODE.
logged() {
	local prefix=$1 code=$3 pods=() pod n=0 c
	[[ $2 == risky ]] && pods=(risky1) || pods=(safe1 safe2)
	for pod in "${pods[@]}"; do
		c=$(awk -v p="/$prefix/" -v code="$code" '$7 ~ "^" p && $9 == code' "$(nginx_dir "$pod")/access.log" | wc -l)
		n=$((n + c))
	done
	echo "$n"
}

# expect_exact SERVICE PREFIX BEFORE AFTER: per subset, kanary's counts
# (AFTER - BEFORE) against the pods' logs of /PREFIX/ requests.
expect_exact() {
	local svc=$1 prefix=$2 before=$3 after=$4 sub code want got total
	for sub in safe risky; do
		total=0
		for code in "${CODES[@]}"; do
			want=$(logged "$prefix" "$sub" "$code")
			total=$((total + want))
			got=$(stat_delta "$before" "$after" ".subsets[] | select(.name == \"$sub\") | (.responses.codes[\"$code\"] // 0)")
			expect_eq "$got" "$want" "$svc $sub: responses $code (kanary vs access logs)" || return 1
		done
		got=$(stat_delta "$before" "$after" ".subsets[] | select(.name == \"$sub\") | .requests")
		expect_eq "$got" "$total" "$svc $sub: exchanges (kanary vs access logs)" || return 1
		got=$(stat_delta "$before" "$after" ".subsets[] | select(.name == \"$sub\") | .no_response")
		expect_eq "$got" 0 "$svc $sub: exchanges without a response" || return 1
	done
}

stat_delta() {
	jq -ner --argjson a "$1" --argjson b "$2" "(\$b | $3) - (\$a | $3)"
}

@test "every exchange counted once, per subset and code, as the access logs say: rule path and canary path, new and keep-alive connections" {
	local g0 g1 s0 s1 n
	g0=$(svc_json greeting) && s0=$(svc_json split) || return 1
	send_mix "$KN_VIP" g || return 1
	send_mix "$SPLIT_VIP" c || return 1
	g1=$(svc_json greeting) && s1=$(svc_json split) || return 1
	# The mix reached both subsets of each service, or the check proves little.
	for n in "$(logged g safe 200)" "$(logged g risky 404)" "$(logged c safe 200)"; do
		expect_between "$n" 1 26 "requests of a subset and code in the logs" || return 1
	done
	# The rule sent every request with the header to risky.
	expect_between "$(stat_delta "$g0" "$g1" '.subsets[] | select(.name == "risky") | .requests')" 8 26 "greeting risky exchanges (8 had the header)"
	expect_exact greeting g "$g0" "$g1" || return 1
	expect_exact split c "$s0" "$s1" || return 1
	# 5xx share as the logs give it.
	expect_eq "$(jq -r '.subsets[] | select(.name == "safe") | .error_percent | . * 10 | round' <<<"$s1")" \
		"$(awk -v a="$(logged c safe 500)" -v b="$(logged c safe 503)" -v t="$(stat_delta "$s0" "$s1" '.subsets[] | select(.name == "safe") | .requests')" \
			'BEGIN { printf "%d", (a + b) * 1000 / t + 0.5 }')" "split safe: 5xx per mille"
}

# client_times VIP N [CURL_ARG...]: N requests on new connections; per line
# the pod that answered and the client's own request-to-first-byte in ms.
client_times() {
	local vip=$1 n=$2 i
	shift 2
	for i in $(seq "$n"); do
		in_ns client curl -s --max-time 10 "$@" \
			-w ' %{time_starttransfer} %{time_pretransfer}\n' "http://$vip:$KN_VIP_PORT/" ||
			{ echo "curl through $vip failed" >&2; return 1; }
	done | paste -d ' ' - - | awk '{ printf "%s %.3f\n", $1, ($2 - $3) * 1000 }'
}

# expect_p50_near SERVICE SUBSET TIMES: kanary's p50 for the subset within
# a bucket (the histogram's widest step, 1.67x) of the client's median.
expect_p50_near() {
	local got want
	want=$(awk -v pod="$2" '($1 ~ "^" pod) { print $2 }' "$3" | sort -n | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }')
	[[ -n $want ]] || { echo "no client time for $2" >&2; return 1; }
	got=$(svc_json "$1" | jq -r --arg s "$2" '.subsets[] | select(.name == $s) | .latency_ms.p50')
	echo "$1 $2: kanary p50 $got ms, client median $want ms"
	awk -v g="$got" -v w="$want" 'BEGIN { exit !(g >= w / 1.67 && g <= w * 1.67) }' ||
		{ echo "FAIL: $1 $2: kanary p50 $got ms is not within a bucket of the client's $want ms" >&2; return 1; }
}

@test "latency: with the pods 20 ms away, kanary's p50 per subset is the client's, within a bucket, on both paths" {
	local t=$BATS_TEST_TMPDIR/times
	delay_servers 20000 || return 1
	client_times "$SLOW_VIP" 30 >"$t.slow" || return 1
	client_times "$SLOWRULE_VIP" 20 >"$t.rule" || return 1
	client_times "$SLOWRULE_VIP" 10 -H "$HO_HEADER" >>"$t.rule" || return 1
	expect_p50_near slow safe "$t.slow" || return 1
	expect_p50_near slowrule safe "$t.rule" || return 1
	expect_p50_near slowrule risky "$t.rule" || return 1
	# Each took at least the delay, as the datapath saw it too.
	expect_between "$(svc_json slow | jq -r '.subsets[] | select(.name == "safe") | .latency_ms.p50 | floor')" 20 1000 "slow safe p50 (ms)"
}
