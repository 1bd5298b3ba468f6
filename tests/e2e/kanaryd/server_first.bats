#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# A server-first protocol (tests/lib/greeter.py: it speaks before the
# client, as MySQL and SMTP do) on three more ports of greeting, whose
# VirtualService has the dark-release header rule: "mysql" (3306, declared
# another protocol), an unnamed 3307, and "http-greet" (3308), declared
# HTTP by its name's prefix.  The rule waits for a request, so it applies
# only to the ports declared HTTP; on the others the client is greeted at
# once.  On 3308 the client, silent after its handshake, is bound by the
# weights once kanaryd's detection delay has passed (--server-first-ms,
# 100 ms by default; docs/conntrack.md), and greeted then.

source "$BATS_TEST_DIRNAME/kanaryd.bash"

GREETERS=(safe1 safe2 risky1)

# greeter_start POD PORT: tests/lib/greeter.py in the pod (cluster_down stops it).
greeter_start() {
	ip netns exec "$(ns_of "$1")" python3 "$KN_LIB_DIR/greeter.py" "$1" "$(pod_ip "$1")" "$2" \
		</dev/null >>"$KN_TMP/greeter-$1-$2.log" 2>&1 3>&- &
	for _ in $(seq 50); do
		in_ns client python3 "$KN_LIB_DIR/greeter_client.py" "$(pod_ip "$1")" "$2" 1 >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "greeter_start: $1:$2 does not greet:" >&2
	cat "$KN_TMP/greeter-$1-$2.log" >&2
	return 1
}

# greet PORT: one connection through the VIP; "POD hello|POD got ping|SECONDS".
greet() {
	in_ns client python3 "$KN_LIB_DIR/greeter_client.py" "$KN_VIP" "$1" 3
}

setup_file() {
	kd_setup_file || return 1
	local pod port
	for pod in "${GREETERS[@]}"; do
		for port in 3306 3307 3308; do greeter_start "$pod" "$port" || return 1; done
	done
	awk '
		function flush() {
			if (doc ~ /\n  name: greeting\n/)
				sub(/\n  ports:\n/, "\n  ports:\n  - name: mysql\n    port: 3306\n    protocol: TCP\n    targetPort: 3306\n  - port: 3307\n    protocol: TCP\n    targetPort: 3307\n  - name: http-greet\n    port: 3308\n    protocol: TCP\n    targetPort: 3308\n", doc)
			printf "%s", doc; doc = ""
		}
		/^---$/ { flush(); print; next }
		{ doc = doc $0 "\n" }
		END { flush() }' "$KN_REPO/examples/services.yaml" >"$KD_MANIFESTS/services.yaml" || return 1
	grep -q "port: 3307" "$KD_MANIFESTS/services.yaml" || { echo "no port 3307 in services.yaml" >&2; return 1; }
	kd_start
}
teardown_file() { kd_teardown_file; }

rules_of() { kctl -j route list "default/greeting/$1" | jq '.rules | length'; }

@test "the header rule is on the HTTP port only, and said so for the others" {
	expect_eq "$(rules_of 80)" 1 "rules on port 80 (http)"
	expect_eq "$(rules_of 3306)" 0 "rules on port 3306 (mysql)"
	expect_eq "$(rules_of 3307)" 0 "rules on port 3307 (unnamed)"
	grep -q "not applied to port 3306 of Service default/greeting, which is not declared as HTTP" "$KD_LOG" ||
		{ echo "no warning about port 3306 in the log" >&2; tail -20 "$KD_LOG" >&2; return 1; }
	grep -q "not applied to port 3307 of Service default/greeting, which is not declared as HTTP" "$KD_LOG" ||
		{ echo "no warning about port 3307 in the log" >&2; return 1; }
}

@test "a server-first protocol on the other ports is greeted at once" {
	local port out pod
	for port in 3306 3307; do
		for _ in $(seq 20); do
			out=$(greet "$port") || { echo "FAIL: port $port: $out" >&2; return 1; }
			pod=${out%% *}
			[[ $out == "$pod hello|$pod got ping|"* ]] || { echo "FAIL: port $port answered '$out'" >&2; return 1; }
			[[ " ${GREETERS[*]} " == *" $pod "* ]] || { echo "FAIL: port $port: unknown pod '$pod'" >&2; return 1; }
		done
		echo "port $port: 20 greetings, the last after ${out##*|} s"
	done
}

@test "a server-first protocol on a port declared HTTP is greeted after the detection delay" {
	local out pod before waited
	expect_eq "$(rules_of 3308)" 1 "rules on port 3308 (http-greet)"
	before=$(kctl -j counters | jq .ho_server_first)
	for _ in $(seq 10); do
		out=$(greet 3308) || { echo "FAIL: port 3308: $out" >&2; return 1; }
		pod=${out%% *}
		[[ $out == "$pod hello|$pod got ping|"* ]] || { echo "FAIL: port 3308 answered '$out'" >&2; return 1; }
		[[ " ${GREETERS[*]} " == *" $pod "* ]] || { echo "FAIL: port 3308: unknown pod '$pod'" >&2; return 1; }
		waited=${out##*|}
		# Printed, never asserted: timing is the bench's.
		echo "port 3308: $pod greeted after $waited s"
	done
	expect_eq "$(($(kctl -j counters | jq .ho_server_first) - before))" 10 \
		"connections bound by the weights after the detection delay (ho_server_first)"
}

@test "the dark-release rule still holds on the HTTP port" {
	for _ in 1 2 3 4 5; do
		expect_eq "$(in_ns client curl -sS --max-time 5 -H 'x-my-header: dark' "$KN_VIP_URL")" risky1 \
			"the pod answering a dark request"
	done
}
