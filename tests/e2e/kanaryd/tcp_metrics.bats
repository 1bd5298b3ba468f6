#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# kanaryd's /metrics: the clients' TCP health per subset (sockops, issue
# 12) as kanary_tcp_connect_failures_total, kanary_tcp_retransmits_total
# and kanary_tcp_srtt_seconds, labelled namespace, service and subset, and
# equal to what `kanaryctl -j stats` reads.  greeting runs on the canary
# path here (its VirtualService without the dark-release match), on a VIP
# of this run's own: every kanary instance's sockops program sees every
# socket on the host.

source "$BATS_TEST_DIRNAME/kanaryd.bash"
source "$BATS_TEST_DIRNAME/../../lib/tcp_health.bash"

setup_file() {
	kd_setup_file || return 1
	local pid=${KN_ID#kn}
	export TM_VIP="10.100.$((pid >> 8 & 255)).$((pid & 255))" MP=$((20000 + RANDOM % 20000))
	export TM_URL="http://$TM_VIP/" TM_LABELS='namespace="default",service="greeting"'
	sed -i "s/10\.96\.0\.10\$/$TM_VIP/" "$KD_MANIFESTS/services.yaml" || return 1
	grep -q "clusterIP: $TM_VIP\$" "$KD_MANIFESTS/services.yaml" ||
		{ echo "tcp_metrics: no clusterIP $TM_VIP in services.yaml" >&2; return 1; }
	# The weighted route alone: the rule's match (and so the handoff) goes.
	awk '/^  - match:/ { skip = 1; next } skip && /^  - route:/ { skip = 0 } !skip' \
		"$KN_REPO/examples/virtualservice.yaml" >"$KD_MANIFESTS/virtualservice.yaml" || return 1
	! grep -q '^  - match:' "$KD_MANIFESTS/virtualservice.yaml" ||
		{ echo "tcp_metrics: the match is still in virtualservice.yaml" >&2; return 1; }
	kd_start --metrics-listen "127.0.0.1:$MP"
}
teardown_file() { kd_teardown_file; }

# metrics: /metrics from the node netns into $BATS_TEST_TMPDIR/metrics.
metrics() {
	ip netns exec "$KN_NODE" curl -sf --max-time 5 -o "$BATS_TEST_TMPDIR/metrics" "http://127.0.0.1:$MP/metrics" ||
		{ echo "FAIL: GET /metrics failed" >&2; return 1; }
}

# metric NAME SUBSET: the value of NAME for greeting's SUBSET; fails when absent.
metric() {
	awk -v want="$1{$TM_LABELS,subset=\"$2\"}" '$1 == want { print $2; f = 1 } END { exit !f }' \
		"$BATS_TEST_TMPDIR/metrics" || { echo "FAIL: no $1 for subset $2 in /metrics" >&2; return 1; }
}

@test "/metrics: kanary_tcp_* per namespace, service and subset, as kanaryctl stats reads them" {
	local sub srtt_s
	new_conns "$TM_URL" 100 8 >/dev/null || { echo "FAIL: requests to greeting failed" >&2; return 1; }
	client_settled "$TM_VIP"
	metrics
	grep -qx '# TYPE kanary_tcp_connect_failures_total counter' "$BATS_TEST_TMPDIR/metrics"
	grep -qx '# TYPE kanary_tcp_retransmits_total counter' "$BATS_TEST_TMPDIR/metrics"
	grep -qx '# TYPE kanary_tcp_srtt_seconds gauge' "$BATS_TEST_TMPDIR/metrics"
	for sub in safe risky; do
		expect_eq "$(metric kanary_tcp_connect_failures_total "$sub")" 0 "connect failures of $sub"
		expect_eq "$(metric kanary_tcp_retransmits_total "$sub")" "$(tcp_stat "$KD_SERVICE" "$sub" retransmits)" \
			"retransmits of $sub, /metrics and kanaryctl"
		srtt_s=$(metric kanary_tcp_srtt_seconds "$sub")
		expect_between "$srtt_s" 1e-6 10 "mean srtt of $sub (s)"
		# kanaryctl rounds the same mean to whole microseconds.
		expect_eq "$(awk -v s="$srtt_s" 'BEGIN { printf "%.0f\n", s * 1e6 }')" \
			"$(tcp_stat "$KD_SERVICE" "$sub" srtt_us)" "mean srtt of $sub in us, /metrics and kanaryctl"
	done
}

@test "/metrics: a risky pod that refuses counts each failed connect in kanary_tcp_connect_failures_total" {
	local before failed
	metrics
	before=$(metric kanary_tcp_connect_failures_total risky)
	nginx_stop risky1
	kctl weight set "$KD_SERVICE" safe 0 risky 100 >/dev/null
	failed=$(tries "$TM_URL" 8 --max-time 10)
	nginx_start risky1
	expect_eq "$failed" 8 "curls refused by risky1 (nginx stopped)"
	metrics
	expect_eq "$(($(metric kanary_tcp_connect_failures_total risky) - before))" 8 "risky connect failures in /metrics"
	expect_eq "$(metric kanary_tcp_connect_failures_total risky)" "$(tcp_stat "$KD_SERVICE" risky connect_failures)" \
		"risky connect failures, /metrics and kanaryctl"
	expect_eq "$(metric kanary_tcp_connect_failures_total safe)" 0 "safe connect failures in /metrics"
}
