#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# kanaryd --kube on the seed scenario served by the test API server: the
# 80/20 canary, a 50/50 edit, a deleted pod, a 410, and the API server
# stopped for 10 s and started again; traffic never fails and the maps
# follow every change.

source "$BATS_TEST_DIRNAME/kube.bash"

setup_file() {
	kube_setup_file || return 1
	kube_kd_start
}
teardown_file() { kube_teardown_file; }
teardown() { bg_stop_all; }

@test "80/20 from the API server's objects" {
	expect_eq "$(kd_weights "$KD_SERVICE")" "safe=80 risky=20" "weights in the maps"
	expect_eq "$(kd_backends "$KD_SERVICE" safe)" 2 "safe backends"
	expect_eq "$(kd_backends "$KD_SERVICE" risky)" 1 "risky backends"
	expect_eq "$(kd_status '.kube.kinds.pods.synced')" true "pods synced"
	expect_eq "$(kd_status '.kube.kinds.virtualservices.api')" "networking.istio.io/v1" "Istio API version used"
	measure 2000
	expect_share "risky1 risky2" 16 24 "risky share (%)"
	expect_eq "${SERVED[risky2]}" 0 "connections to risky2, which the API server does not list"
}

@test "the VirtualService moves to 50/50: the maps follow the watch event" {
	kapi_vs_weights 50 50
	kd_wait_weights "$KD_SERVICE" "safe=50 risky=50"
	echo "$(kube_latency)"
	measure 2000
	expect_share "risky1" 44 56 "risky share (%)"
}

@test "a risky pod deleted: its subset gets no connections; added back, it does" {
	kapi_del pods default greeting-risky-6b4f9d7c8-h9v2c
	kd_wait_backends "$KD_SERVICE" risky 0
	measure 500
	expect_eq "${SERVED[risky1]}" 0 "connections to the deleted pod"
	kapi_put "$KAPI_FIXTURES/pod-greeting-risky-6b4f9d7c8-h9v2c.json"
	kd_wait_backends "$KD_SERVICE" risky 1
	measure 2000
	expect_share "risky1" 44 56 "risky share (%)"
}

@test "410 Gone in the stream under wrk: kanaryd lists again, no request fails" {
	local json before
	before=$(kd_status '[.kube.kinds[].relists_410] | add')
	bg kube_wrk 6 "$BATS_TEST_TMPDIR/wrk.json"
	local w=$BG_LAST
	sleep 2
	kapi_ctl expire
	for _ in $(seq 100); do
		(($(kd_status '[.kube.kinds[].relists_410] | add') >= before + 4)) && break
		sleep 0.1
	done
	expect_eq "$(kd_status '[.kube.kinds[].relists_410] | add')" "$((before + 4))" "410s answered by a new list (4 kinds)"
	wait "$w" || { echo "wrk failed" >&2; return 1; }
	json=$(cat "$BATS_TEST_TMPDIR/wrk.json")
	echo "wrk: $json"
	wrk_expect_clean "$json"
	expect_eq "$(kd_weights "$KD_SERVICE")" "safe=50 risky=50" "weights after the relist"
	# The relist still follows changes.
	kapi_vs_weights 70 30
	kd_wait_weights "$KD_SERVICE" "safe=70 risky=30"
}

@test "the API server stopped for 10 s under wrk: the maps keep their state, then follow again" {
	local json
	bg kube_wrk 16 "$BATS_TEST_TMPDIR/wrk.json"
	local w=$BG_LAST
	sleep 1
	kapi_stop
	sleep 10
	# Nothing was deleted while the server was away, and kanaryd said why.
	expect_eq "$(kd_weights "$KD_SERVICE")" "safe=70 risky=30" "weights while the server is down"
	grep -q "retrying with backoff" "$KD_LOG" || { echo "no backoff line in the log" >&2; return 1; }
	kapi_start "$KAPI_DIR"
	wait "$w" || { echo "wrk failed" >&2; return 1; }
	json=$(cat "$BATS_TEST_TMPDIR/wrk.json")
	echo "wrk: $json"
	wrk_expect_clean "$json"
	kapi_vs_weights 80 20
	kd_wait_weights "$KD_SERVICE" "safe=80 risky=20"
	echo "$(kube_latency)"
	measure 2000
	expect_share "risky1" 16 24 "risky share (%)"
}

@test "a rotated token is picked up" {
	kapi_rotate_token
	kapi_ctl close
	kapi_vs_weights 60 40
	kd_wait_weights "$KD_SERVICE" "safe=60 risky=40"
	grep -q "bearer token changed" "$KD_LOG" || { echo "no 'bearer token changed' line in the log" >&2; return 1; }
}
