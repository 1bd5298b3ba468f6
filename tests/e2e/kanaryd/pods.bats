#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Traffic follows the Pod manifests: a new risky pod gets its share of the
# risky subset, a deleted safe pod gets nothing.

source "$BATS_TEST_DIRNAME/kanaryd.bash"

setup_file() {
	kd_setup_file || return 1
	kd_start
}
teardown_file() { kd_teardown_file; }

@test "a risky pod added to the manifests takes half of the risky share" {
	# In place, as `kubectl get pod -o yaml > file` writes it.
	pod_manifest greeting-risky-6b4f9d7c8-k2w9z risky "$(pod_ip risky2)" >"$KD_MANIFESTS/pod-risky2.yaml"
	kd_wait_backends "$KD_SERVICE" risky 2
	measure 2000
	expect_share "risky1 risky2" 16 24 "risky share (%)"
	expect_between "$(pct "${SERVED[risky2]}" "$((${SERVED[risky1]} + ${SERVED[risky2]}))")" 35 65 "risky2 within risky (%)"
}

@test "a safe pod deleted from the manifests gets no new connections" {
	drop_pod greeting-safe-7c9d8b6f4d-m5r8t	# safe2
	kd_wait_backends "$KD_SERVICE" safe 1
	measure 2000
	expect_eq "${SERVED[safe2]}" 0 "connections to the deleted safe2"
	expect_share "safe1" 76 84 "safe1 share (%)"
}

@test "a pod that stops being Ready leaves, and comes back when Ready" {
	local f="$KD_MANIFESTS/pod-risky2.yaml" partial
	partial=$(kd_status '.passes.partial')
	sed -i 's/status: "True"/status: "False"/' "$f"
	kd_wait_backends "$KD_SERVICE" risky 1
	# Applied by a partial pass: only greeting compared (docs/kanaryd.md).
	expect_eq "$(kd_status ".passes.partial > $partial")" true "a partial pass ran for the pod event"
	grep -q "partial pass: 1 service compared" "$KD_LOG" ||
		{ echo "FAIL: no partial pass of one service in the log" >&2; tail -5 "$KD_LOG" >&2; return 1; }
	# And built by a partial build: only the Services the pod's file touches.
	grep -Eq "partial build: [1-9][0-9]* services? built" "$KD_LOG" ||
		{ echo "FAIL: no partial build in the log" >&2; tail -5 "$KD_LOG" >&2; return 1; }
	measure 500
	expect_eq "${SERVED[risky2]}" 0 "connections to the unready risky2"
	sed -i 's/status: "False"/status: "True"/' "$f"
	kd_wait_backends "$KD_SERVICE" risky 2
}
