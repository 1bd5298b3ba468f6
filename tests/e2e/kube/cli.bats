#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# kanaryd's --kube flags: usage errors say what was expected (exit 2);
# missing credentials are a start-up error (exit 1) that says what is missing.

KANARYD=${KANARYD:-$BATS_TEST_DIRNAME/../../../bin/kanaryd}

setup() {
	[[ -x $KANARYD ]] || { echo "$KANARYD not built (run make)" >&2; return 1; }
	export KANARY_RUN_DIR="$BATS_TEST_TMPDIR/run"
}

expect_usage() {	# NEEDLE ARGS...
	local needle=$1
	shift
	run "$KANARYD" "$@"
	echo "$output"
	[[ $status == 2 ]] || { echo "expected exit status 2, got $status" >&2; return 1; }
	[[ $output == *"$needle"* ]] || { echo "expected a message with '$needle'" >&2; return 1; }
}

@test "--kube and --manifests together" { expect_usage "choose one" --kube --manifests /tmp; }
@test "--kube with --check" { expect_usage "--check reads --manifests only" --kube --check; }
@test "--context without --kubeconfig" { expect_usage "--context needs --kubeconfig" --kube --context x; }
@test "a bad --health-listen" { expect_usage "expected ADDR:PORT" --kube --health-listen 9808; }
@test "a bad --kube-page-size" { expect_usage "expected a number of objects" --kube --kube-page-size 0; }
@test "neither source" { expect_usage "(or --kube: the Kubernetes API server)" --iface 'veth*'; }

@test "--kube outside a pod says so" {
	run env -u KUBERNETES_SERVICE_HOST -u KUBERNETES_SERVICE_PORT "$KANARYD" --kube --pin-path "$BATS_TEST_TMPDIR/pins"
	echo "$output"
	[[ $status == 1 ]]
	[[ $output == *"KUBERNETES_SERVICE_HOST"*"--kubeconfig"* ]]
}

@test "a kubeconfig with an exec plugin is refused with the reason" {
	cat >"$BATS_TEST_TMPDIR/kc" <<'EOF2'
current-context: x
contexts: [{name: x, context: {cluster: c, user: u}}]
clusters: [{name: c, cluster: {server: 'https://127.0.0.1:6443', insecure-skip-tls-verify: true}}]
users: [{name: u, user: {exec: {command: aws}}}]
EOF2
	run "$KANARYD" --kubeconfig "$BATS_TEST_TMPDIR/kc" --pin-path "$BATS_TEST_TMPDIR/pins"
	echo "$output"
	[[ $status == 1 ]]
	[[ $output == *"exec and auth-provider plugins are not supported"* ]]
}
