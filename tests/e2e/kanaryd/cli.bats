#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# kanaryd's command line: --check on the examples and on a bad file, usage
# errors that say what was wrong, and --max-services on a private bpffs
# (root).  No cluster.

: "${KANARYD:=$BATS_TEST_DIRNAME/../../../bin/kanaryd}"
EXAMPLES="$BATS_TEST_DIRNAME/../../../examples"

setup() {
	[[ -x $KANARYD ]] || { echo "kanaryd not built at $KANARYD (run make)" >&2; return 1; }
}

@test "--check prints the seed scenario's desired state" {
	run "$KANARYD" --manifests "$EXAMPLES" --check
	[ "$status" -eq 0 ]
	echo "$output" | jq -e '.services | map(.name) == ["default/greeting", "default/message"]'
	echo "$output" | jq -e '.services[0].address == "10.96.0.10:80"'
	echo "$output" | jq -e '.services[0].subsets | map("\(.name)=\(.weight)/\(.backends | length)") == ["safe=80/2", "risky=20/1"]'
	echo "$output" | jq -e '[.files[].state] | all(. == "ok")'
	echo "$output" | jq -e '.problems == []'
}

@test "--check on a bad file: exit status 1 and an error with file and line" {
	local dir="$BATS_TEST_TMPDIR/m"
	mkdir -p "$dir"
	cp "$EXAMPLES"/*.yaml "$dir"/
	printf 'apiVersion: v1\nkind: Service\nmetadata:\n  name: broken\n spec: {}\n' >"$dir/broken.yaml"
	run "$KANARYD" --manifests "$dir" --check
	[ "$status" -eq 1 ]
	[[ $output == *"broken.yaml:5:"* ]] || { echo "$output" >&2; false; }
	# The good files are still understood.
	echo "$output" | grep -v '^kanaryd:' | jq -e '.services | length == 2'
}

@test "usage errors exit 2 and say what was expected" {
	run "$KANARYD"
	[ "$status" -eq 2 ]
	[[ $output == *"--manifests PATH is required"* ]]
	run "$KANARYD" --manifests "$EXAMPLES" --ct-size lots
	[ "$status" -eq 2 ]
	[[ $output == *"--ct-size: expected a number of entries 1-67108864, got 'lots'"* ]]
	run "$KANARYD" --manifests "$EXAMPLES" --ct-linger-ms 0
	[ "$status" -eq 2 ]
	[[ $output == *"--ct-linger-ms: expected milliseconds 1-3600000, got '0'"* ]]
	run "$KANARYD" --manifests "$EXAMPLES" --ct-syn-timeout-ms 1h
	[ "$status" -eq 2 ]
	[[ $output == *"--ct-syn-timeout-ms: expected milliseconds 1-3600000, got '1h'"* ]]
	run "$KANARYD" --manifests "$EXAMPLES" --ho-per-source 0
	[ "$status" -eq 2 ]
	[[ $output == *"--ho-per-source: expected a number of connections 1-4294967294 or off, got '0'"* ]]
	run "$KANARYD" --manifests "$EXAMPLES" --server-first-ms soon
	[ "$status" -eq 2 ]
	[[ $output == *"--server-first-ms: expected milliseconds 0-3600000, got 'soon'"* ]]
	run "$KANARYD" --manifests "$EXAMPLES" --frobnicate
	[ "$status" -eq 2 ]
	[[ $output == *"unknown option '--frobnicate'"* ]]
	run "$KANARYD" --help
	[ "$status" -eq 0 ]
	[[ $output == *"--detach-on-exit"* && $output == *"SIGHUP"* ]]
}

@test "--max-services sizes a first load, and says so when the pins keep another size" {
	local pin="$BATS_TEST_TMPDIR/bpffs" run_dir="$BATS_TEST_TMPDIR/run"
	run "$KANARYD" --manifests "$EXAMPLES" --max-services 0
	[ "$status" -eq 2 ]
	[[ $output == *"--max-services: expected a number of services 1-1048576, got '0'"* ]]

	mkdir -p "$pin" "$run_dir"
	mount -t bpf bpf "$pin"
	KANARY_RUN_DIR="$run_dir" run "$KANARYD" --manifests "$EXAMPLES" --pin-path "$pin" --max-services 100 --once
	[ "$status" -eq 0 ] || { echo "$output" >&2; umount "$pin"; false; }
	[ "$(bpftool -j map show pinned "$pin/kanary_svc_v1" | jq .max_entries)" = 100 ] || { umount "$pin"; false; }
	KANARY_RUN_DIR="$run_dir" run "$KANARYD" --manifests "$EXAMPLES" --pin-path "$pin" --max-services 200 --once
	umount "$pin"
	[ "$status" -eq 0 ]
	[[ $output == *"--max-services 200 not applied: the maps at $pin were loaded with 100"* ]] || { echo "$output" >&2; false; }
}
