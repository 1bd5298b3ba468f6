#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Hostile manifests (issue 15): an alias bomb, nesting thousands deep, a key
# twice.  Each is reported with its file and line and ignored as a whole;
# the file's last good version stays applied, the other files keep being
# applied, and kanaryd's memory stays small (its peak resident size, a
# resource bound, not a timing one).

source "$BATS_TEST_DIRNAME/kanaryd.bash"

setup_file() {
	kd_setup_file || return 1
	# A file with a good version first, so its bombs have something to keep.
	extra_service >"$KD_MANIFESTS/extra.yaml"
	kd_start
}
teardown_file() { kd_teardown_file; }

extra_service() {
	cat <<'EOF'
apiVersion: v1
kind: Service
metadata: {name: extra, namespace: default}
spec:
  clusterIP: 10.96.0.77
  selector: {app: greeting}
  ports:
  - {name: http, port: 80, targetPort: http}
EOF
}

# alias_bomb N: a Pod of N aliases of a container of N aliases of a port
# (those on line 8).  N=2000 is 16 KB: 4 million ports for a decoder that
# expands aliases freely (kanaryd before the limits: 200 MB and 5 s).
alias_bomb() {
	local n=$1
	printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: bomb, namespace: default}\n'
	printf 'x:\n  p: &p {name: http, containerPort: 80}\n  c: &c\n    name: c\n'
	printf '    ports: [*p'; printf ', *p%.0s' $(seq 2 "$n"); printf ']\n'
	printf 'spec:\n  containers: [*c'; printf ', *c%.0s' $(seq 2 "$n"); printf ']\n'
}

# kd_wait_log NEEDLE: until the log has a line containing NEEDLE (10 s).
kd_wait_log() {
	for _ in $(seq 100); do grep -qF -- "$1" "$KD_LOG" && return 0; sleep 0.1; done
	echo "FAIL: no log line with '$1'; the log ends:" >&2
	tail -5 "$KD_LOG" >&2
	return 1
}

# kd_peak_kb: kanaryd's peak resident size so far (VmHWM), in KiB.
kd_peak_kb() {
	awk '/^VmHWM:/ { print $2 }' "/proc/$KD_PID/status"
}

# A bomb written over extra.yaml: the error, the last good version, memory.
expect_bomb_ignored() {	# NEEDLE
	kd_wait_log "$1" || return 1
	kill -0 "$KD_PID" || { echo "FAIL: kanaryd died" >&2; return 1; }
	expect_eq "$(kd_status '.files[] | select(.path | endswith("extra.yaml")) | .state')" bad "extra.yaml's state"
	expect_eq "$(kd_status '.files[] | select(.path | endswith("extra.yaml")) | .in_use')" "last good version" "what is in use"
	expect_eq "$(kctl -j service list | jq -r '[.[].service] | sort | join(" ")')" \
		"default/extra default/greeting default/message" "services in the maps"
	local peak
	peak=$(kd_peak_kb)
	echo "kanaryd's peak resident size: $peak KiB"
	expect_between "$peak" 1 102400 "kanaryd's peak resident size (KiB)"
}

@test "an alias bomb is reported with its line, and kanaryd stays under 100 MB" {
	expect_eq "$(kctl -j service list | jq -r '[.[].service] | sort | join(" ")')" \
		"default/extra default/greeting default/message" "services before the bomb"
	alias_bomb 2000 >"$KD_MANIFESTS/extra.yaml.tmp"
	ls -l "$KD_MANIFESTS/extra.yaml.tmp"
	mv "$KD_MANIFESTS/extra.yaml.tmp" "$KD_MANIFESTS/extra.yaml"
	expect_bomb_ignored "error: $KD_MANIFESTS/extra.yaml:8:"
	grep -F "extra.yaml:8:" "$KD_LOG"
	grep -qF "more than 1000 aliases in one document" "$KD_LOG"
	# The good files are still applied.
	set_weights 70 30
	kd_wait_weights "$KD_SERVICE" "safe=70 risky=30"
}

@test "nesting 200,000 deep (400 KB) is reported with its line, at once" {
	{ printf 'apiVersion: v1\nkind: Service\nmetadata: {name: extra}\nspec: '
	  head -c 200000 /dev/zero | tr '\0' '['; head -c 200000 /dev/zero | tr '\0' ']'; echo; } \
		>"$KD_MANIFESTS/extra.yaml.tmp"
	mv "$KD_MANIFESTS/extra.yaml.tmp" "$KD_MANIFESTS/extra.yaml"
	expect_bomb_ignored "extra.yaml:4:70: nested more than 64 deep"
}

@test "a key twice is rejected as kubectl does, at the second key's line" {
	{ extra_service; echo "  clusterIP: 10.96.0.78"; } >"$KD_MANIFESTS/extra.yaml.tmp"
	mv "$KD_MANIFESTS/extra.yaml.tmp" "$KD_MANIFESTS/extra.yaml"
	expect_bomb_ignored 'extra.yaml:9:3: mapping key "clusterIP" already defined at line 5'
	set_weights 60 40
	kd_wait_weights "$KD_SERVICE" "safe=60 risky=40"
}
