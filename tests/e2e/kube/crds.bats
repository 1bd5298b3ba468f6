#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# A cluster without the Istio CRDs: plain Services still work (all ready
# pods at 100 %), and the missing kinds are logged once, not looped on.

source "$BATS_TEST_DIRNAME/kube.bash"

setup_file() {
	kube_setup_file || return 1
	kapi_stop
	kapi_start "$KAPI_DIR" --no-istio || return 1
	kube_kd_start
}
teardown_file() { kube_teardown_file; }

@test "no Istio CRDs: greeting is one default subset with its three pods" {
	expect_eq "$(kd_weights "$KD_SERVICE")" "default=100" "weights"
	expect_eq "$(kd_backends "$KD_SERVICE" default)" 3 "backends"
	measure 600
	expect_between "${SERVED[risky1]}" 1 600 "connections to risky1"
	expect_eq "$(kd_status '.kube.kinds.virtualservices.served')" false "virtualservices served"
}

@test "the missing kinds are said once each" {
	sleep 2
	expect_eq "$(grep -c 'virtualservices: not served' "$KD_LOG")" 1 "log lines about virtualservices"
	expect_eq "$(grep -c 'destinationrules: not served' "$KD_LOG")" 1 "log lines about destinationrules"
	expect_eq "$(kapi_log | jq '[.[] | select(.path == "/apis/networking.istio.io")] | length')" 2 "discovery requests"
}
