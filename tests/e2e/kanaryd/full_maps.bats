#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# A full kanary map: kanaryd on pins made for one service id
# (--max-services 1) and the examples' two services.  The one that does not
# fit is reported per service, in the log, `kanaryctl status` and /metrics
# (reason map_full); the one that fits carries traffic; freeing the id lets
# the other in without a restart.

source "$BATS_TEST_DIRNAME/kanaryd.bash"

setup_file() {
	kd_setup_file || return 1
	export MP=$((20000 + RANDOM % 20000))
	KANARY_PIN_PATH="$KN_PIN" ip netns exec "$KN_NODE" "$KANARYD" \
		--manifests "$KD_MANIFESTS" --iface 'h-*' --max-services 1 --metrics-listen "127.0.0.1:$MP" \
		-v 3>&- 2>>"$KD_LOG" &
	echo $! >"$KN_TMP/kanaryd.pid"
}
teardown_file() { kd_teardown_file; }

# metrics: /metrics from the node netns into $BATS_TEST_TMPDIR/metrics.
metrics() {
	ip netns exec "$KN_NODE" curl -sf --max-time 5 -o "$BATS_TEST_TMPDIR/metrics" "http://127.0.0.1:$MP/metrics" ||
		{ echo "FAIL: GET /metrics failed" >&2; return 1; }
}

# wait_log TEXT: until kanaryd's log has TEXT (10 s).
wait_log() {
	for _ in $(seq 100); do
		grep -qF "$1" "$KD_LOG" && return 0
		sleep 0.1
	done
	echo "FAIL: no '$1' in the log:" >&2
	tail -20 "$KD_LOG" >&2
	return 1
}

@test "the service that does not fit is reported per service; the one that fits works" {
	# greeting sorts first and takes the only id.
	wait_log "default/message: not applied: all 1 service ids are in use"
	expect_eq "$(kd_weights "$KD_SERVICE")" "safe=80 risky=20" "greeting's weights"
	expect_eq "$(kd_status '[.problems[] | select(.level == "error" and (.message | startswith("default/message: failed: all 1 service ids are in use")))] | length')" \
		1 "message's problem in kanaryctl status"
	kctl status | grep -q "default/message: failed: all 1 service ids are in use" ||
		{ echo "FAIL: kanaryctl status does not show it:" >&2; kctl status >&2; return 1; }
	metrics
	grep -qx 'kanaryd_service_not_applied{namespace="default",service="message",reason="map_full"} 1' "$BATS_TEST_TMPDIR/metrics" ||
		{ echo "FAIL: /metrics has no map_full row for message:" >&2; grep not_applied "$BATS_TEST_TMPDIR/metrics" >&2; return 1; }
	expect_eq "$(grep -c '^kanaryd_service_not_applied{' "$BATS_TEST_TMPDIR/metrics")" 1 "services not applied"
	expect_eq "$(grep -c 'default/message: not applied' "$KD_LOG")" 1 "log lines about it (said once, retried quietly)"
	measure 500
	expect_eq "$SERVED_TOTAL" 500 "greeting's connections served"
}

@test "greeting's Service gone, its id goes to message" {
	awk 'BEGIN { RS = "---\n"; ORS = "---\n" } !/\n  name: greeting\n/' "$KD_MANIFESTS/services.yaml" \
		>"$KD_MANIFESTS/services.yaml.tmp" && mv "$KD_MANIFESTS/services.yaml.tmp" "$KD_MANIFESTS/services.yaml"
	wait_log "default/message: created"
	metrics
	expect_eq "$(grep -c '^kanaryd_service_not_applied{' "$BATS_TEST_TMPDIR/metrics")" 0 "services not applied"
	expect_eq "$(kd_status '[.problems[] | select(.level == "error")] | length')" 0 "errors in kanaryctl status"
}
