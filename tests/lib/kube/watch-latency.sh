#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# For make bench: time from a VirtualService change at the test API server
# to the new weights in kanary's maps, through kanaryd --kube.  Prints one
# JSON object: {"reps", "p50_ms", "max_ms", "kanaryd_p50_ms"}: the first
# two as kanaryctl sees the maps (polled every 5 ms), the last from
# kanaryd's own "watch event to kernel maps" log lines.  Needs root (bpffs);
# only loopback traffic, private bpffs, everything removed on exit.
# Usage: tests/lib/kube/watch-latency.sh [REPS]
set -u
REPS=${1:-20}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
KANARYD=${KANARYD:-$ROOT/bin/kanaryd}
KANARYCTL=${KANARYCTL:-$ROOT/bin/kanaryctl}
# shellcheck source=tests/lib/kube/kubeapi.bash
source "$ROOT/tests/lib/kube/kubeapi.bash"

[[ $(id -u) == 0 ]] || { echo "watch-latency: needs root (bpffs, BPF)" >&2; exit 1; }
[[ -x $KANARYD && -x $KANARYCTL ]] || { echo "watch-latency: build first (make)" >&2; exit 1; }
kapi_check_env || exit 1
T=$(mktemp -d /tmp/kanary-watch-latency.XXXXXX) || exit 1
KD=
cleanup() {
	[[ -n $KD ]] && { kill "$KD" 2>/dev/null; wait "$KD" 2>/dev/null; }
	kapi_stop
	umount "$T/bpffs" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
mkdir -p "$T/bpffs" "$T/run" && mount -t bpf bpf "$T/bpffs" || exit 1
export KANARY_PIN_PATH="$T/bpffs/kanary" KANARY_RUN_DIR="$T/run"
kapi_start "$T/api" >/dev/null || exit 1
kapi_put "$KAPI_FIXTURES"/*.json || exit 1
"$KANARYD" --kubeconfig "$KAPI_DIR/kubeconfig" --health-listen none 2>"$T/kanaryd.log" &
KD=$!

weights() { "$KANARYCTL" -j weight show default/greeting 2>/dev/null | jq -r '[.subsets[].weight] | join(" ")' 2>/dev/null; }
for _ in $(seq 200); do [[ $(weights) == "80 20" ]] && break; sleep 0.05; done
[[ $(weights) == "80 20" ]] || { echo "watch-latency: kanaryd never applied 80/20" >&2; cat "$T/kanaryd.log" >&2; exit 1; }

samples=()
for i in $(seq "$REPS"); do
	s=$((10 + i % 80))
	start=$EPOCHREALTIME
	kapi_vs_weights "$s" $((100 - s)) || exit 1
	for _ in $(seq 2000); do [[ $(weights) == "$s $((100 - s))" ]] && break; sleep 0.005; done
	[[ $(weights) == "$s $((100 - s))" ]] || { echo "watch-latency: edit $i never arrived" >&2; exit 1; }
	samples+=("$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", (b - a) * 1000 }')")
done
own=$(grep -o 'watch event to kernel maps: [0-9]*' "$T/kanaryd.log" | awk '{ print $NF }' | tail -n "$REPS")
printf '%s\n' "${samples[@]}" | sort -n | awk -v reps="$REPS" -v own="$(sort -n <<<"$own" | tr '\n' ' ')" '
	{ v[NR] = $1 }
	END {
		n = split(own, o, " ")
		printf "{\"reps\": %d, \"p50_ms\": %s, \"max_ms\": %s, \"kanaryd_p50_ms\": %s}\n",
			reps, v[int((NR + 1) / 2)], v[NR], n ? o[int((n + 1) / 2)] : "null"
	}'
