#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# kanaryd --kube --once: one pass once every kind is listed, then exit; a
# bad API object with no good version fails it at once, as a bad file
# fails --manifests --once.

source "$BATS_TEST_DIRNAME/kube.bash"

setup_file() { kube_setup_file; }
teardown_file() { kube_teardown_file; }

# kd_once: kanaryd --kube --once in the node netns; sets status and output.
kd_once() {
	run env KANARY_PIN_PATH="$KN_PIN" timeout 90 ip netns exec "$KN_NODE" "$KANARYD" \
		--kubeconfig "$KAPI_DIR/kubeconfig" --kube-page-size 2 --once 3>&-
}

@test "--once --kube: the API's objects are applied, exit status 0" {
	kd_once
	echo "$output"
	expect_eq "$status" 0 "exit status"
	expect_eq "$(kd_weights "$KD_SERVICE")" "safe=80 risky=20" "weights in the maps"
}

@test "--once --kube: a bad object with no good version fails it, without waiting" {
	local t0
	jq '.metadata.name = "greeting-bad-1" | .spec.containers[0].ports[0].containerPort = 70000' \
		"$KAPI_FIXTURES/pod-greeting-safe-7c9d8b6f4d-2xkqp.json" | kapi_put -
	t0=$SECONDS
	kd_once
	echo "$output"
	kapi_del pods default greeting-bad-1
	expect_eq "$status" 1 "exit status"
	[[ $output == *"api:Pod/default/greeting-bad-1"*"no good version"* ]] ||
		{ echo "expected the bad object named, with no good version" >&2; return 1; }
	[[ $output == *"1 API object is bad with no good version seen since kanaryd started; nothing is applied"* ]] ||
		{ echo "expected nothing applied, as for a bad file" >&2; return 1; }
	(( SECONDS - t0 < 30 )) ||
		{ echo "took $((SECONDS - t0)) s: waited for a readiness it cannot get" >&2; return 1; }
}

# The API source decodes as the files do: one pass shows it (their edits and
# removal are tests/e2e/kanaryd/mirror.bats').
@test "--once --kube: a VirtualService's mirrors[] from the API reach kanary_mirror_v2" {
	jq '.spec.http[0].mirrors = [{destination: {host: "greeting", subset: "risky"}, percentage: {value: 0.25}}]' \
		"$KAPI_FIXTURES/virtualservice-greeting.json" | kapi_put -
	kd_once
	echo "$output"
	kapi_put "$KAPI_FIXTURES/virtualservice-greeting.json"
	expect_eq "$status" 0 "exit status"
	expect_eq "$(kctl -j mirror show "$KD_SERVICE" | jq -c '[.mirrors[] | [.subset, .percent, .backends]]')" \
		'[["risky",0.25,1]]' "mirrors in the maps"
}
