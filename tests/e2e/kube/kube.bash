# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# shellcheck shell=bash
#
# kanaryd --kube end to end: the netns cluster and the kanaryd helpers of
# tests/e2e/kanaryd, with the test API server (tests/lib/kube/apiserver.py)
# listening on the node netns' loopback, holding the seed scenario's
# objects (tests/lib/kube/fixtures, the examples as the API returns them).

# shellcheck source=tests/e2e/kanaryd/kanaryd.bash
source "$BATS_TEST_DIRNAME/../kanaryd/kanaryd.bash"
# shellcheck source=tests/lib/kube/kubeapi.bash
source "$BATS_TEST_DIRNAME/../../lib/kube/kubeapi.bash"

kube_setup_file() {
	[[ -x $KANARYD ]] || { echo "kanaryd e2e: $KANARYD not built (run make)" >&2; return 1; }
	cluster_check_kanaryctl || return 1
	kapi_check_env || return 1
	KN_BIG_MB=0 cluster_up || return 1
	export KANARY_RUN_DIR="$KN_TMP/run" KD_LOG="$KN_TMP/kanaryd.log" KAPI_NETNS=$KN_NODE
	mkdir -p "$KANARY_RUN_DIR" || return 1
	: >"$KD_LOG"
	kapi_start "$KN_TMP/apiserver" || return 1
	kapi_put "$KAPI_FIXTURES"/*.json || return 1
}

kube_teardown_file() {
	kd_stop TERM
	kapi_stop
	cluster_down
}

# kube_kd_start [ARGS...]: kanaryd --kube in the node netns, on our pins,
# through the kubeconfig (pages of 2, so every list is paginated).
kube_kd_start() {
	KANARY_PIN_PATH="$KN_PIN" ip netns exec "$KN_NODE" "$KANARYD" \
		--kubeconfig "$KAPI_DIR/kubeconfig" --kube-page-size 2 --iface 'h-*' -v "$@" \
		3>&- 2>>"$KD_LOG" &
	KD_PID=$!
	export KD_PID
	echo "$KD_PID" >"$KN_TMP/kanaryd.pid"
	kd_wait_applied
}

# The newest "watch event to kernel maps: N ms" line: printed, never asserted.
kube_latency() {
	grep -o 'watch event to kernel maps: [0-9]* ms' "$KD_LOG" | tail -1
}

# kube_wrk SECONDS FILE: wrk through the VIP (new connection per request),
# its WRK_JSON summary into FILE; run it with bg.
kube_wrk() {
	WRK_EXPECT="safe1 safe2 risky1" wrk_run "$KN_VIP_URL" "$1" 32 close >"$2"
}
