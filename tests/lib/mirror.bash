# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# shellcheck shell=bash
#
# Glue for tests/e2e/mirror: the relay (bin/kanary-mirror) in the node,
# recording pods (mirror_recorder.py), and the counts of
# `kanaryctl -j mirror show`.  Sourced after e2e.bash.

: "${KANARY_MIRROR:=$KN_REPO/bin/kanary-mirror}"
MIRROR_PYTHON=/usr/bin/python3

# relay_start [ARG...]: the relay in the node netns on this run's pins;
# waits until it reads the ring.  cluster_down kills it with the node.
relay_start() {
	local log=$KN_TMP/relay.log
	[[ -x $KANARY_MIRROR ]] || { echo "relay_start: $KANARY_MIRROR not built (make bin/kanary-mirror)" >&2; return 1; }
	KANARY_PIN_PATH="$KN_PIN" ip netns exec "$KN_NODE" "$KANARY_MIRROR" "$@" \
		</dev/null >>"$log" 2>&1 3>&- &
	echo $! >"$KN_TMP/relay.pid"
	for _ in $(seq 50); do
		grep -q 'relaying from' "$log" && return 0
		kill -0 "$(cat "$KN_TMP/relay.pid")" 2>/dev/null || break
		sleep 0.1
	done
	echo "relay_start: the relay did not start:" >&2
	cat "$log" >&2
	return 1
}

relay_stop() {
	local pid
	[[ -f $KN_TMP/relay.pid ]] || return 0
	pid=$(cat "$KN_TMP/relay.pid")
	kill "$pid" 2>/dev/null
	for _ in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	rm -f "$KN_TMP/relay.pid"
}

# recorder_start POD PORT [DELAY [FAIL_PATH [SLOW_READ]]]: mirror_recorder.py
# on the pod's PORT, logging to $(recorder_log POD PORT), answering 500 for
# FAIL_PATH, reading slowly the bodies of paths holding SLOW_READ (empty:
# none of these); waits until it answers.
recorder_log() { echo "$(nginx_dir "$1")/recorder-$2.log"; }
recorder_start() {
	local pod=$1 port=$2 dir body
	dir=$(nginx_dir "$pod")
	shift 2
	ip netns exec "$(ns_of "$pod")" "$MIRROR_PYTHON" "$KN_LIB_DIR/mirror_recorder.py" \
		"$pod" "$(pod_ip "$pod")" "$port" "$(recorder_log "$pod" "$port")" "$@" \
		</dev/null >>"$dir/recorder-$port.err" 2>&1 3>&- &
	echo $! >"$dir/recorder-$port.pid"
	for _ in $(seq 50); do
		body=$(in_ns client curl -s --max-time 4 -H 'Host: probe' "http://$(pod_ip "$pod"):$port/probe") && break
		sleep 0.1
	done
	if [[ $body != "$pod" ]]; then
		echo "recorder_start: the recorder on $pod:$port answered '$body':" >&2
		cat "$dir/recorder-$port.err" >&2
		return 1
	fi
}

# recorded POD PORT [JQ_FILTER]: the recorder's lines, less the probe, filtered.
recorded() {
	jq -c "select(.host != \"probe\") | ${3:-.}" "$(recorder_log "$1" "$2")"
}

# mirror_stat SERVICE FILTER: one number from `kanaryctl -j mirror show SERVICE`.
mirror_stat() {
	local json
	json=$(kctl -j mirror show "$1") || return 1
	jq -er "$2 | numbers" <<<"$json" || {
		echo "mirror_stat: no number at '$2' in: $json" >&2
		return 1
	}
}

# relay_accounted JSON: in `kanaryctl -j mirror show SERVICE`, every request
# copied is sent or dropped by each mirror, and every one sent answered or failed.
relay_accounted() {
	[[ $(jq '.copy.requests as $c | all(.mirrors[]; .sent + ([.dropped[]] | add) == $c and
		.sent == ([.responses[]] | add) + .errors)' <<<"$1") == true ]]
}

# relay_settled SERVICE [POD [PORT]]: until the counts, and the lines of
# the recorder on POD:PORT (or POD's nginx access log), stay the same for
# a second, and every request the datapath copied is accounted for by each
# mirror (sent and answered or failed, or dropped).  A mirror connection
# whose SYN was lost is sent again a second or three later, so stillness
# alone is not enough; after 10 s it is, since requests the relay held
# when it was stopped are never accounted for.  A test that stopped it can
# name in RELAY_SETTLED_IF the command that says, in its stead, that its
# requests are all in (given the JSON too).
relay_settled() {
	local svc=$1 log=/dev/null prev="" now same=0 json i all_in=${RELAY_SETTLED_IF:-relay_accounted}
	[[ $# -eq 2 ]] && log=$(nginx_dir "$2")/access.log
	[[ $# -eq 3 ]] && log=$(recorder_log "$2" "$3")
	for i in $(seq 120); do
		json=$(kctl -j mirror show "$svc")
		now=$(jq -c '[.copy.requests, (.mirrors[] | .sent, .errors, ([.responses[]] | add), ([.dropped[]] | add), .comparison.compared, .comparison.unpaired)]' <<<"$json")
		now="$now $(wc -l <"$log")"
		if [[ $now == "$prev" ]]; then
			((++same >= 3)) && { "$all_in" "$json" || ((i >= 25)); } && return 0
		else
			same=0
		fi
		prev=$now
		sleep 0.4
	done
	echo "relay_settled: the counts of $svc kept moving: $now" >&2
	return 1
}
