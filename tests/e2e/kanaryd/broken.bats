#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# A broken manifest is reported with its file and line and ignored as a
# whole: the last good split keeps working, kanaryd keeps running, and the
# next good version is applied.

source "$BATS_TEST_DIRNAME/kanaryd.bash"

setup_file() {
	kd_setup_file || return 1
	kd_start
}
teardown_file() { kd_teardown_file; }

@test "a YAML syntax error: the old split stays and the error names file and line" {
	local f="$KD_MANIFESTS/virtualservice.yaml" line last
	cp "$f" "$BATS_TEST_TMPDIR/good.yaml"
	# The split's risky destination (the last one) loses one space of indentation: invalid YAML.
	last=$(grep -c '^    - destination:' "$BATS_TEST_TMPDIR/good.yaml")
	awk -v last="$last" '/^    - destination:/ { n++ } n == last && /^    - destination:/ { sub(/^    /, "   ") } { print }' \
		"$BATS_TEST_TMPDIR/good.yaml" >"$f.tmp"
	# Written as a half-applied 50/50 edit would be, so applying it would show.
	sed -i 's/weight: 80/weight: 50/; s/weight: 20/weight: 50/' "$f.tmp"
	mv "$f.tmp" "$f"
	line=$(grep -n '^   - destination:' "$f" | cut -d: -f1)
	[[ -n $line ]] || { echo "the broken line is not in $f" >&2; return 1; }

	for _ in $(seq 100); do grep -q "virtualservice.yaml:" "$KD_LOG" && break; sleep 0.1; done
	grep "virtualservice.yaml:" "$KD_LOG"
	grep -q "error: .*virtualservice.yaml:$line:" "$KD_LOG" ||
		{ echo "FAIL: no error naming virtualservice.yaml:$line in the log" >&2; tail -5 "$KD_LOG" >&2; return 1; }
	expect_eq "$(kd_status '.files[] | select(.path | endswith("virtualservice.yaml")) | .state')" bad "file state in the status"
	expect_eq "$(kd_status '.files[] | select(.path | endswith("virtualservice.yaml")) | .in_use')" "last good version" "what is in use"
	kill -0 "$KD_PID"
	expect_eq "$(kd_weights "$KD_SERVICE")" "safe=80 risky=20" "weights in the maps"
	measure 2000
	expect_share "risky1" 16 24 "risky share (%)"

	# A good version again: applied.
	sed 's/weight: 80/weight: 50/; s/weight: 20/weight: 50/' "$BATS_TEST_TMPDIR/good.yaml" >"$f"
	kd_wait_weights "$KD_SERVICE" "safe=50 risky=50"
}

@test "a wrong field: the error names file, line, object and field" {
	local f="$KD_MANIFESTS/virtualservice.yaml" line
	sed -i 's/weight: 50$/weight: fifty/' "$f"
	line=$(grep -n 'weight: fifty' "$f" | head -1 | cut -d: -f1)
	for _ in $(seq 100); do grep -q "weight: expected an integer" "$KD_LOG" && break; sleep 0.1; done
	grep -q "virtualservice.yaml:$line: VirtualService default/greeting: spec.http\[1\].route\[0\].weight: expected an integer 0-1000000, got 'fifty'" "$KD_LOG" ||
		{ echo "FAIL: no such error in the log:" >&2; tail -5 "$KD_LOG" >&2; return 1; }
	expect_eq "$(kd_weights "$KD_SERVICE")" "safe=50 risky=50" "weights in the maps"
}

@test "kanaryd started while a file is bad applies nothing until it is fixed" {
	kd_stop TERM
	kctl weight set "$KD_SERVICE" safe 100 risky 0
	KANARY_PIN_PATH="$KN_PIN" ip netns exec "$KN_NODE" "$KANARYD" \
		--manifests "$KD_MANIFESTS" --iface 'h-*' 3>&- 2>>"$KD_LOG" &
	KD_PID=$!
	echo "$KD_PID" >"$KN_TMP/kanaryd.pid"
	for _ in $(seq 100); do [[ $(kd_status '.pid' 2>/dev/null) == "$KD_PID" ]] && break; sleep 0.1; done
	expect_eq "$(kd_status '.pid')" "$KD_PID" "pid in the status file"
	expect_eq "$(kd_status '.applied')" false "applied while a file is bad"
	expect_eq "$(kd_weights "$KD_SERVICE")" "safe=100 risky=0" "weights kept in the maps"
	# Fixed, with new weights: the manifests changed, so they are applied.
	sed -i '0,/weight: fifty$/s//weight: 60/; s/weight: fifty$/weight: 40/' "$KD_MANIFESTS/virtualservice.yaml"
	kd_wait_applied
	kd_wait_weights "$KD_SERVICE" "safe=60 risky=40"
}
