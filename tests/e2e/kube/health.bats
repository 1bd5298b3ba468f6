#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# --health-listen: /healthz answers while the API server is away, /readyz
# only once the first sync is in the maps, /metrics has the per-subset
# counters and the watch's own state.

source "$BATS_TEST_DIRNAME/kube.bash"

setup_file() {
	kube_setup_file || return 1
	export HL="127.0.0.1:$((20000 + RANDOM % 20000))"
	kapi_stop	# kanaryd starts before the API server is reachable
	KANARY_PIN_PATH="$KN_PIN" ip netns exec "$KN_NODE" "$KANARYD" \
		--kubeconfig "$KAPI_DIR/kubeconfig" --iface 'h-*' --health-listen "$HL" -v \
		3>&- 2>>"$KD_LOG" &
	KD_PID=$!
	export KD_PID
	echo "$KD_PID" >"$KN_TMP/kanaryd.pid"
}
teardown_file() { kube_teardown_file; }

# u32le V / u64le V...: values as the little-endian bytes bpftool takes.
u32le() { printf '%d %d %d %d' $(($1 & 255)) $(($1 >> 8 & 255)) $(($1 >> 16 & 255)) $(($1 >> 24 & 255)); }
u64le() {
	local v
	for v; do printf '%s 0 0 0 0 ' "$(u32le "$v")"; done
}

# hget PATH: "CODE BODY" from the health endpoint, seen from the node netns.
hget() {
	ip netns exec "$KN_NODE" curl -s -o "$BATS_TEST_TMPDIR/body" -w '%{http_code}' "http://$HL$1"
}

@test "without the API server: alive, not ready, and says why" {
	local code
	for _ in $(seq 50); do code=$(hget /healthz) && break; sleep 0.1; done
	expect_eq "$code" 200 "/healthz"
	expect_eq "$(hget /readyz)" 503 "/readyz before the first sync"
	grep -q "waiting for the first list" "$BATS_TEST_TMPDIR/body" || { cat "$BATS_TEST_TMPDIR/body" >&2; return 1; }
	expect_eq "$(hget /nope)" 404 "an unknown path"
}

@test "the API server comes: ready once the maps hold the split" {
	kapi_start "$KAPI_DIR"
	for _ in $(seq 150); do [[ $(hget /readyz) == 200 ]] && break; sleep 0.1; done
	expect_eq "$(hget /readyz)" 200 "/readyz after the first sync"
	expect_eq "$(kd_weights "$KD_SERVICE")" "safe=80 risky=20" "weights in the maps once ready"
}

@test "kanaryctl status names the API server as the source" {
	local server
	server=$(awk '$1 == "server:" { print $2; exit }' "$KAPI_DIR/kubeconfig")
	[[ -n $server ]] || { echo "no server: line in $KAPI_DIR/kubeconfig" >&2; return 1; }
	run kctl status
	[ "$status" -eq 0 ] || { echo "$output"; return 1; }
	[[ "$output" == *"source: Kubernetes API $server ("* ]] || { echo "$output"; return 1; }
}

@test "/metrics: subset counters follow the traffic, and the watch's state is there" {
	local before after
	expect_eq "$(hget /metrics)" 200 "/metrics"
	before=$(sed -n 's/^kanary_subset_connections_total{service="default\/greeting",subset="risky"} //p' "$BATS_TEST_TMPDIR/body")
	[[ -n $before ]] || { echo "no risky connections metric:" >&2; cat "$BATS_TEST_TMPDIR/body" >&2; return 1; }
	measure 500
	hget /metrics >/dev/null
	after=$(sed -n 's/^kanary_subset_connections_total{service="default\/greeting",subset="risky"} //p' "$BATS_TEST_TMPDIR/body")
	expect_eq "$((after - before))" "${SERVED[risky1]}" "risky connections counted by /metrics"
	grep -qx 'kanaryd_kube_objects{resource="pods"} 4' "$BATS_TEST_TMPDIR/body"
	grep -qx 'kanaryd_kube_synced{resource="virtualservices"} 1' "$BATS_TEST_TMPDIR/body"
	grep -qx 'kanaryd_ready 1' "$BATS_TEST_TMPDIR/body"
	grep -qx 'kanary_subset_weight{service="default/greeting",subset="safe"} 80' "$BATS_TEST_TMPDIR/body"
	grep -q '^# TYPE kanary_subset_connections_total counter$' "$BATS_TEST_TMPDIR/body"
	grep -q '^kanary_subset_rule_connections_total{service="default/greeting",subset="risky"} [0-9][0-9]*$' "$BATS_TEST_TMPDIR/body"
	grep -q '^kanary_handoff_failures_total{service="default/greeting",reason="backend_refused"} 0$' "$BATS_TEST_TMPDIR/body"
}

@test "/metrics: request, switch and pinned counters, by the names of kanaryctl stats" {
	local id ncpu b=$BATS_TEST_TMPDIR/body
	id=$(kctl -j service list | jq -r '.[] | select(.service == "default/greeting") | .id')
	[[ $id =~ ^[0-9]+$ ]] || { echo "no id for default/greeting: '$id'" >&2; return 1; }
	ncpu=$(bpftool -j map lookup pinned "$KN_PIN/kanary_hostat_v2" key $(u32le "$id") | jq '.values | length')
	# struct kanary_subset_stats of subset 0 (KANARY_STATS_INDEX: id * 8 + 0):
	# requests 17, rule_requests 19 per CPU.  Handoff counters: backend_silent 4,
	# switches 6, switch_failed 8, pinned[] 99 in the unused slot 0, pipelined 9,
	# unframed 10.
	bpftool map update pinned "$KN_PIN/kanary_stat_v3" key $(u32le $((id * 8))) value \
		$(u64le 0 0 0 0 0 0 17 19)
	bpftool map update pinned "$KN_PIN/kanary_hostat_v2" key $(u32le "$id") value \
		$(u64le 0 4 0 0 0 0 6 8 99 9 0 0 0 0 0 10)
	expect_eq "$(hget /metrics)" 200 "/metrics"
	local sub
	sub=$(kctl -j stats default/greeting | jq -r '.[0].subsets[0].name')
	grep -qx "kanary_subset_requests_total{service=\"default/greeting\",subset=\"$sub\"} $((17 * ncpu))" "$b"
	grep -qx "kanary_subset_rule_requests_total{service=\"default/greeting\",subset=\"$sub\"} $((19 * ncpu))" "$b"
	grep -qx '# TYPE kanary_subset_requests_total counter' "$b"
	grep -qx "kanary_handoff_failures_total{service=\"default/greeting\",reason=\"backend_silent\"} $((4 * ncpu))" "$b"
	grep -qx "kanary_handoff_switches_total{service=\"default/greeting\"} $((6 * ncpu))" "$b"
	grep -qx "kanary_handoff_switch_failures_total{service=\"default/greeting\"} $((8 * ncpu))" "$b"
	grep -qx "kanary_handoff_pinned_total{service=\"default/greeting\",reason=\"pipelined\"} $((9 * ncpu))" "$b"
	grep -qx "kanary_handoff_pinned_total{service=\"default/greeting\",reason=\"head_split\"} 0" "$b"
	grep -qx "kanary_handoff_pinned_total{service=\"default/greeting\",reason=\"unframed\"} $((10 * ncpu))" "$b"
	# Only the six failure reasons are failures; slot 0 of pinned[] is never shown.
	expect_eq "$(grep -c '^kanary_handoff_failures_total{service="default/greeting"' "$b")" 6 "failure reasons"
	expect_eq "$(grep -c '^kanary_handoff_pinned_total{service="default/greeting"' "$b")" 7 "pinned reasons"
	! grep -q " $((99 * ncpu))\$" "$b"
}
