#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Flagger's canary analysis on kanary's figures, with a real Prometheus
# (Debian's) scraping kanaryd --istio-metrics every second: the PromQL of
# Flagger's built-in Istio checks (request success rate, request duration
# p99) gives the right answers per workload, and examples/canary-rollout.sh
# steps the VirtualService 10 -> 20 -> 50 and promotes a healthy canary,
# and rolls back one whose pods fail.
#
# Traffic: keep-alive connections of 50 (or 10) requests each, /api?i=1..N;
# the risky pod, when failing, answers 500 to every i ending in 0: exactly
# 10% of each connection it serves, so its success rate is 90%, not about 90%.

source "$BATS_TEST_DIRNAME/kube.bash"

setup_file() {
	command -v prometheus >/dev/null || { echo "prometheus is not installed (make deps)" >&2; return 1; }
	kube_setup_file || return 1
	local pod
	for pod in safe1 safe2; do
		echo 'location = /api { default_type text/plain; return 200 "ok\n"; }' \
			>"$(nginx_dir "$pod")/server.d/api.conf" && nginx_reload "$pod" || return 1
	done
	risky_failing no || return 1
	export MP=$((20000 + RANDOM % 10000)) PP=$((30000 + RANDOM % 10000))
	kube_kd_start --metrics-listen "127.0.0.1:$MP" --istio-metrics || return 1
	prom_start || return 1
}
teardown_file() {
	[[ -f $KN_TMP/prometheus.pid ]] && kill "$(cat "$KN_TMP/prometheus.pid")" 2>/dev/null
	kube_teardown_file
}
teardown() { bg_stop_all; }

# risky_failing yes|no: risky1's /api answers 500 to every i ending in 0, or never.
risky_failing() {
	local conf
	conf="$(nginx_dir risky1)/server.d/api.conf"
	if [[ $1 == yes ]]; then
		echo 'location = /api { default_type text/plain; if ($arg_i ~ "0$") { return 500 "failed\n"; } return 200 "ok\n"; }' >"$conf"
	else
		echo 'location = /api { default_type text/plain; return 200 "ok\n"; }' >"$conf"
	fi
	nginx_reload risky1
}

# Prometheus in the node netns, scraping kanaryd's /metrics every second.
prom_start() {
	local dir=$KN_TMP/prometheus
	mkdir -p "$dir/data" || return 1
	cat >"$dir/prometheus.yml" <<EOF
global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: kanaryd
    static_configs: [{targets: ["127.0.0.1:$MP"]}]
EOF
	ip netns exec "$KN_NODE" prometheus --config.file="$dir/prometheus.yml" \
		--storage.tsdb.path="$dir/data" --web.listen-address="127.0.0.1:$PP" \
		3>&- >"$dir/log" 2>&1 &
	echo $! >"$KN_TMP/prometheus.pid"
	for _ in $(seq 100); do
		[[ $(prom_query 'up{job="kanaryd"}') == 1 ]] && return 0
		sleep 0.2
	done
	echo "prometheus never scraped kanaryd:" >&2
	tail -20 "$dir/log" >&2
	return 1
}

# prom_query PROMQL: the instant value ("" when none).
prom_query() {
	ip netns exec "$KN_NODE" curl -sS --max-time 5 "http://127.0.0.1:$PP/api/v1/query" \
		--data-urlencode "query=$1" 2>/dev/null | jq -r '.data.result[0].value[1] // empty'
}

# conns N [REQS]: N keep-alive connections of REQS (a multiple of 10,
# default 50) requests each to greeting.
conns() {
	local steps
	steps=$(jq -nc --argjson n "${2:-50}" '[range(1; $n + 1) | {path: "/api?i=\(.)"}]')
	for _ in $(seq "$1"); do
		in_ns client /usr/bin/python3 "$KN_LIB_DIR/keepalive_client.py" steps "$KN_VIP" 80 - \
			<<<"$steps" >/dev/null || { echo "a keep-alive connection failed" >&2; return 1; }
	done
}

# Flagger's request-success-rate and request-duration templates for a workload, window W.
success_q() {
	local sel="reporter=\"destination\",destination_workload_namespace=\"default\",destination_workload=~\"$1\""
	echo "sum(rate(istio_requests_total{$sel,response_code!~\"5.*\"}[$2])) / sum(rate(istio_requests_total{$sel}[$2])) * 100"
}
p99_q() {
	local sel="reporter=\"destination\",destination_workload_namespace=\"default\",destination_workload=~\"$1\""
	echo "histogram_quantile(0.99, sum(rate(istio_request_duration_milliseconds_bucket{$sel}[$2])) by (le))"
}

@test "Flagger's success-rate query: a risky pod failing 10% of requests is at 90% +- 1, safe at 100%; p99 from the histogram" {
	local t0 w sr_r sr_s p99
	kapi_vs_weights 50 50
	kd_wait_weights "$KD_SERVICE" "safe=50 risky=50"
	risky_failing yes
	# Every series exists, with a full count, before the window opens.
	conns 10 || return 1
	sleep 3
	t0=$EPOCHREALTIME
	conns 40 || return 1
	sleep 3
	w=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%ds", b - a + 1 }')
	sr_r=$(prom_query "$(success_q greeting-risky "$w")")
	sr_s=$(prom_query "$(success_q greeting-safe "$w")")
	p99=$(prom_query "$(p99_q greeting-risky "$w")")
	echo "window $w: success greeting-risky $sr_r%, greeting-safe $sr_s%, risky p99 $p99 ms"
	expect_between "$sr_r" 89 91 "greeting-risky success rate (%)"
	expect_eq "$(awk -v v="$sr_s" 'BEGIN { printf "%.3f", v }')" 100.000 "greeting-safe success rate (%)"
	expect_between "$p99" 0.001 60000 "greeting-risky p99 (ms)"
}

# set_weight W: the VirtualService with risky at W%, through the test API
# server, and the maps holding it: the rollout script's SET_WEIGHT.
write_set_weight() {
	cat >"$BATS_TEST_TMPDIR/set-weight" <<EOF
#!/usr/bin/env bash
source "$KN_LIB_DIR/kube/kubeapi.bash"
KAPI_NETNS=$KAPI_NETNS KAPI_DIR=$KAPI_DIR KAPI_URL=$KAPI_URL
kapi_vs_weights \$((100 - \$1)) \$1 || exit 1
for _ in \$(seq 100); do
	[[ \$(KANARY_PIN_PATH=$KN_PIN ip netns exec $KN_NODE $KANARYCTL -j weight show $KD_SERVICE | jq -r '[.subsets[] | "\(.name)=\(.weight)"] | join(" ")') == "safe=\$((100 - \$1)) risky=\$1" ]] && exit 0
	sleep 0.1
done
echo "set-weight: the maps never held risky=\$1" >&2
exit 1
EOF
	chmod +x "$BATS_TEST_TMPDIR/set-weight"
}

# Short connections, so that even a 10% canary gets some in every window.
traffic_loop() {
	while :; do conns 1 10 || return 1; done
}

# rollout: examples/canary-rollout.sh under traffic; its output in $BATS_TEST_TMPDIR/rollout.
rollout() {
	write_set_weight || return 1
	bg traffic_loop
	SET_WEIGHT="$BATS_TEST_TMPDIR/set-weight" STEPS="10 20 50" INTERVAL=8 MIN_SUCCESS=99 \
		MAX_P99_MS=1000 ip netns exec "$KN_NODE" "$BATS_TEST_DIRNAME/../../../examples/canary-rollout.sh" \
		"http://127.0.0.1:$PP" default greeting-risky >"$BATS_TEST_TMPDIR/rollout" 2>&1
}

@test "the example rollout promotes a healthy canary: 10 -> 20 -> 50 -> 100" {
	risky_failing no
	local rc=0
	rollout || rc=$?
	cat "$BATS_TEST_TMPDIR/rollout"
	expect_eq "$rc" 0 "the rollout's exit status (0: promoted)"
	expect_eq "$(grep -c '^step' "$BATS_TEST_TMPDIR/rollout")" 3 "steps taken"
	expect_eq "$(kd_weights "$KD_SERVICE")" "safe=0 risky=100" "weights after the promotion"
}

@test "the example rollout rolls back a canary whose pod fails 10% of requests, at its first step" {
	risky_failing yes
	local rc=0
	rollout || rc=$?
	cat "$BATS_TEST_TMPDIR/rollout"
	expect_eq "$rc" 1 "the rollout's exit status (1: rolled back)"
	grep -q '^rolled back at 10%' "$BATS_TEST_TMPDIR/rollout"
	expect_eq "$(kd_weights "$KD_SERVICE")" "safe=100 risky=0" "weights after the rollback"
}
