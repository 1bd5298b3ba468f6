# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# shellcheck shell=bash
#
# kanaryd end-to-end: the netns cluster of tests/lib/cluster.sh, with a
# fourth server pod (risky2) that the manifests do not list at first, and
# kanaryd running in the node netns on a copy of examples/ (whose addresses
# are the cluster's).  Everything lives under the cluster's $KN_TMP and
# goes with cluster_down; kanaryd's own files go to $KN_TMP/run.

# shellcheck source=tests/lib/e2e.bash
source "$BATS_TEST_DIRNAME/../../lib/e2e.bash"
# The cluster's server pods; risky2 runs nginx but is not a backend until a
# test adds its Pod manifest.
KN_SERVER_PODS=(safe1 safe2 risky1 risky2)

: "${KANARYD:=$KN_REPO/bin/kanaryd}"
export KANARYD
export KD_SERVICE=default/greeting

kd_setup_file() {
	[[ -x $KANARYD ]] || { echo "kanaryd e2e: $KANARYD not built (run make)" >&2; return 1; }
	cluster_check_kanaryctl || return 1
	KN_BIG_MB=0 cluster_up || return 1
	export KD_MANIFESTS="$KN_TMP/manifests" KANARY_RUN_DIR="$KN_TMP/run" KD_LOG="$KN_TMP/kanaryd.log"
	mkdir -p "$KD_MANIFESTS" "$KANARY_RUN_DIR" || return 1
	cp "$KN_REPO"/examples/*.yaml "$KD_MANIFESTS"/ || return 1
	: >"$KD_LOG"
}

kd_teardown_file() {
	kd_stop TERM
	cluster_down
}

# kd_start [ARGS...]: kanaryd in the node netns, on our pins, logging to
# $KD_LOG; waits until it has applied the manifests.
kd_start() {
	KANARY_PIN_PATH="$KN_PIN" ip netns exec "$KN_NODE" "$KANARYD" \
		--manifests "$KD_MANIFESTS" --iface 'h-*' -v "$@" 3>&- 2>>"$KD_LOG" &
	KD_PID=$!
	export KD_PID
	echo "$KD_PID" >"$KN_TMP/kanaryd.pid"
	kd_wait_applied
}

# kd_stop [SIGNAL]: signals kanaryd (TERM by default) and waits for it.
kd_stop() {
	local pid sig=${1:-TERM}
	# The pid file first: a kanaryd started in a background subshell set only its own KD_PID.
	pid=$(cat "$KN_TMP/kanaryd.pid" 2>/dev/null) || pid=${KD_PID:-}
	[[ -n $pid ]] || return 0
	kill -s "$sig" "$pid" 2>/dev/null || true
	for _ in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	# A child of this shell is reaped; one started by setup_file is not ours to wait for.
	wait "$pid" 2>/dev/null || true
	if kill -0 "$pid" 2>/dev/null; then
		echo "kd_stop: kanaryd $pid did not exit on SIG$sig" >&2
		return 1
	fi
	KD_PID=
	rm -f "$KN_TMP/kanaryd.pid"
}

# kd_status FILTER: one value from what `kanaryctl status` reports of kanaryd.
# kanaryd writes its status file at most once a second and holds a write
# asked for within the second (docs/kanaryd.md): until the file is 1.1 s
# old, a newer state may be on its way.  At most 2.2 s: a held write lands
# within a second of the one before.
kd_status_settled() {
	local f now mtime
	for _ in $(seq 30); do
		f=$(ls -t "$KANARY_RUN_DIR"/*.status.json 2>/dev/null | head -1)
		[[ -n $f ]] || return 0
		now=$(date +%s%3N)
		mtime=$(stat -c %.3Y "$f" 2>/dev/null | tr -d .) || return 0
		((now - mtime >= 1100)) && return 0
		sleep 0.1
	done
}

kd_status() {
	local doc
	kd_status_settled
	doc=$(kctl -j status) || { echo "kanaryctl status failed: $doc" >&2; return 1; }
	jq -er "$1" <<<"$doc"
}

# Until kanaryd's status says it applied everything (or 20 s have passed,
# then fails showing the status and the log's tail).
kd_wait_applied() {
	for _ in $(seq 200); do
		kill -0 "$KD_PID" 2>/dev/null || { echo "kanaryd exited; log:" >&2; tail -20 "$KD_LOG" >&2; return 1; }
		if [[ $(kd_status '.applied and .pid == '"$KD_PID" 2>/dev/null) == true ]]; then
			return 0
		fi
		sleep 0.1
	done
	echo "kanaryd did not apply the manifests; status and log:" >&2
	kctl -j status >&2 || true
	tail -20 "$KD_LOG" >&2
	return 1
}

# kd_weights SERVICE: "safe=80 risky=20" as the maps hold it now.
kd_weights() {
	kctl -j weight show "$1" | jq -r '[.subsets[] | "\(.name)=\(.weight)"] | join(" ")'
}

# kd_wait_weights SERVICE "safe=50 risky=50": polls the maps (up to 10 s)
# and prints how long the change took to arrive.
kd_wait_weights() {
	local want=$2 got start=$EPOCHREALTIME
	for _ in $(seq 100); do
		got=$(kd_weights "$1" 2>/dev/null) || true	# absent for a moment: keep polling
		if [[ $got == "$want" ]]; then
			echo "ok: $1 weights are '$want' after $(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }') s"
			return 0
		fi
		sleep 0.1
	done
	echo "FAIL: $1 weights are '$got', expected '$want'" >&2
	tail -20 "$KD_LOG" >&2
	return 1
}

# kd_backends SERVICE SUBSET: number of backends of a subset in the maps.
kd_backends() {
	kctl -j weight show "$1" | jq -er --arg s "$2" '.subsets[] | select(.name == $s) | .backends'
}

kd_wait_backends() {	# SERVICE SUBSET N
	local got
	for _ in $(seq 100); do
		got=$(kd_backends "$1" "$2" 2>/dev/null) || true
		[[ $got == "$3" ]] && { echo "ok: $1 $2 has $3 backends"; return 0; }
		sleep 0.1
	done
	echo "FAIL: $1 $2 has '$got' backends, expected $3" >&2
	tail -20 "$KD_LOG" >&2
	return 1
}

# measure N: N new connections to the VIP; sets SERVED[pod] and SERVED_TOTAL.
measure() {
	local n=$1 pod bodies="$BATS_TEST_TMPDIR/bodies.$RANDOM"
	declare -gA SERVED=()
	new_conns "$KN_VIP_URL" "$n" 32 >"$bodies" || { echo "measure: curl failed" >&2; return 1; }
	SERVED_TOTAL=0
	for pod in "${KN_SERVER_PODS[@]}"; do
		SERVED[$pod]=$(count_lines "$bodies" "$pod")
		SERVED_TOTAL=$((SERVED_TOTAL + SERVED[$pod]))
	done
	expect_eq "$SERVED_TOTAL" "$n" "responses naming a pod" || return 1
	echo "served: safe1 ${SERVED[safe1]} safe2 ${SERVED[safe2]} risky1 ${SERVED[risky1]} risky2 ${SERVED[risky2]}"
}

# expect_share PODS LOW HIGH WHAT: the PODS' (space separated) share of the last measure.
expect_share() {
	local sum=0 pod
	for pod in $1; do sum=$((sum + SERVED[$pod])); done
	expect_between "$(pct "$sum" "$SERVED_TOTAL")" "$2" "$3" "$4"
}

# set_weights SAFE RISKY: edits the VirtualService as an editor does (a new
# file renamed over the old one).
set_weights() {
	local f="$KD_MANIFESTS/virtualservice.yaml"
	awk -v s="$1" -v r="$2" '
		/subset: safe/ { sub_ = "safe" } /subset: risky/ { sub_ = "risky" }
		/^      weight:/ { $0 = "      weight: " (sub_ == "safe" ? s : r) }
		{ print }' "$f" >"$f.tmp" && mv "$f.tmp" "$f"
	if ! grep -q "weight: $1\$" "$f" || ! grep -q "weight: $2\$" "$f"; then
		echo "set_weights: edit of $f failed:" >&2
		cat "$f" >&2
		return 1
	fi
}

# pod_manifest NAME VERSION IP: a Running, Ready greeting pod, as kubectl prints it.
pod_manifest() {
	cat <<EOF2
apiVersion: v1
kind: Pod
metadata:
  labels:
    app: greeting
    version: $2
  name: $1
  namespace: default
spec:
  containers:
  - image: ghcr.io/example/greeting:1.5.0-rc.1
    name: greeting
    ports:
    - containerPort: 80
      name: http
      protocol: TCP
status:
  conditions:
  - status: "True"
    type: Ready
  phase: Running
  podIP: $3
EOF2
}

# drop_pod NAME: removes one item from the pods List (kubectl get pods -o yaml).
drop_pod() {
	local f="$KD_MANIFESTS/pods.yaml"
	awk -v drop="name: $1" '
		function flush() { if (buf != "" && index(buf, drop) == 0) printf "%s", buf; buf = "" }
		/^- / { flush(); buf = $0 "\n"; item = 1; next }
		/^[^ #-]/ { flush(); item = 0; print; next }
		item { buf = buf $0 "\n"; next }
		{ print }
		END { flush() }' "$f" >"$f.tmp" && mv "$f.tmp" "$f"
	! grep -q "name: $1\$" "$f" || { echo "drop_pod: $1 is still in $f" >&2; return 1; }
}
