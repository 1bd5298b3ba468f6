#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# kanaryd's idle sweep on real TCP stacks (docs/conntrack.md, "Idle
# connections"): a keep-alive connection through a Service with no
# VirtualService (the plain path) is aged as hours of silence would leave
# its entry (tests/lib/ct_age.py), and kanaryd's next full pass (SIGHUP
# here; every 5 minutes at most otherwise) deletes both of its entries.
# The client's next request on the same connection is still answered: its
# backend is found again (ct_rederived), the same pod.  An entry aged less
# than the timeout stays.

source "$BATS_TEST_DIRNAME/kanaryd.bash"

STEADY_VIP=10.96.0.20

setup_file() {
	kd_setup_file || return 1
	cat >"$KD_MANIFESTS/steady.yaml" <<EOF2
apiVersion: v1
kind: Service
metadata: {name: steady, namespace: default}
spec:
  clusterIP: $STEADY_VIP
  ports:
  - {name: http, port: 80, protocol: TCP, targetPort: http}
  selector: {app: greeting}
EOF2
	kd_start --ct-idle-timeout-s 3600
}
teardown_file() { kd_teardown_file; }
teardown() { bg_stop_all; }

ct_entries() { bpftool -j map dump pinned "$KN_PIN/kanary_ct_v3" | jq length; }
rederived() { kctl -j counters | jq .ct_rederived; }

# hold STEPS: a keep-alive connection whose entry is aged STEPS steps while it
# waits; then SIGHUP, and its full pass's sweep (logged, with -v, whatever it found).
hold() {
	local ready=$BATS_TEST_TMPDIR/ready aged sweeps
	rm -f "$ready"
	jq -nc --arg r "$ready" '[{path: "/"}, {sleep: 0.5, path: "/", after_file: $r}]' >"$BATS_TEST_TMPDIR/steps.json"
	bg in_ns client python3 "$KN_LIB_DIR/keepalive_client.py" steps "$STEADY_VIP" 80 \
		"$BATS_TEST_TMPDIR/steps.json" >"$BATS_TEST_TMPDIR/ka"
	HOLDER=$BG_LAST
	for _ in $(seq 50); do [[ -s $BATS_TEST_TMPDIR/ka ]] && break; sleep 0.1; done
	aged=$(python3 "$KN_LIB_DIR/ct_age.py" "$KN_PIN" "$(pod_ip client):$(head -1 "$BATS_TEST_TMPDIR/ka" | jq .lport)" \
		"$STEADY_VIP" "$1")
	expect_eq "$aged" 1 "forward entries aged"
	sweeps=$(grep -c "idle sweep" "$KD_LOG" || true)
	kill -HUP "$KD_PID"
	for _ in $(seq 100); do (($(grep -c "idle sweep" "$KD_LOG") > sweeps)) && return 0; sleep 0.1; done
	echo "FAIL: no sweep within 10 s of SIGHUP" >&2
	return 1
}

@test "a connection silent past the timeout loses its entries, and its next request is answered" {
	local before
	before=$(rederived)
	hold 20	# about 92 minutes at 4.6 each: past the hour
	grep -q "idle sweep: 1 connections silent for 3600 s deleted" "$KD_LOG" ||
		{ echo "FAIL: no sweep in the log" >&2; grep -v libbpf "$KD_LOG" | tail -15 >&2; return 1; }
	touch "$BATS_TEST_TMPDIR/ready"
	wait "$HOLDER" || { cat "$BATS_TEST_TMPDIR/ka"; echo "FAIL: the connection broke" >&2; return 1; }
	expect_eq "$(jq -s 'map(select(.status == 200)) | length' "$BATS_TEST_TMPDIR/ka")" 2 "requests answered"
	expect_eq "$(jq -s 'map(.lport) | unique | length' "$BATS_TEST_TMPDIR/ka")" 1 "connections used"
	expect_eq "$(($(rederived) - before))" 1 "the swept connection's backend found again"
}

@test "a connection silent for less than the timeout keeps its entries" {
	local before
	before=$(grep -c "idle sweep: [0-9]" "$KD_LOG" || true)
	hold 5	# about 23 minutes
	grep -q "idle sweep: none silent" "$KD_LOG" || { echo "FAIL: no sweep ran" >&2; return 1; }
	expect_eq "$(grep -c "idle sweep: [0-9]" "$KD_LOG" || true)" "$before" "sweeps that deleted something"
	touch "$BATS_TEST_TMPDIR/ready"
	wait "$HOLDER"
}
