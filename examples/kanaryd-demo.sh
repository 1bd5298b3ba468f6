#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The kanaryd part of `make demo`: the seed scenario's manifests (this
# directory) on a throwaway netns cluster, an 80/20 canary with a
# dark-release rule ahead of it, then a live edit of the VirtualService to
# 50/50 that kanaryd applies on its own.
# Removes everything it made on exit, even when interrupted.
set -euo pipefail

cd "$(dirname "$0")/.."
# shellcheck source=tests/lib/cluster.sh
source tests/lib/cluster.sh

ROUND=${DEMO_CONNECTIONS:-1000}
KANARYD=${KANARYD:-$KN_REPO/bin/kanaryd}
KD_PID=

say() { printf '\n==> %s\n' "$*"; }

round() {
	local out
	out=$(mktemp "$KN_TMP/round.XXXXXX")
	say "client: $ROUND new connections to http://$KN_VIP:$KN_VIP_PORT/ (the greeting Service's cluster IP)"
	new_conns "$KN_VIP_URL" "$ROUND" 32 >"$out"
	echo "    answered by (from the response bodies):"
	sort "$out" | uniq -c | awk -v n="$ROUND" '{ printf "      %-7s %5d  %5.1f %%\n", $2, $1, 100 * $1 / n }'
}

# kanaryd's log since the last call, indented.
log_tail() {
	local lines
	lines=$(wc -l <"$KN_TMP/kanaryd.log")
	sed -n "$((${LOG_SEEN:-0} + 1)),${lines}p" "$KN_TMP/kanaryd.log" | grep -v '^libbpf' | sed 's/^/    /'
	LOG_SEEN=$lines
}

wait_log() {	# PATTERN: until kanaryd logs it (10 s at most)
	for _ in $(seq 100); do
		grep -q -- "$1" "$KN_TMP/kanaryd.log" && return 0
		sleep 0.1
	done
	echo "kanaryd did not log '$1'; its log:" >&2
	cat "$KN_TMP/kanaryd.log" >&2
	return 1
}

cleanup() {
	say "cleaning up: kanaryd, nginx, namespaces, bpffs"
	[[ -n $KD_PID ]] && kill "$KD_PID" 2>/dev/null && wait "$KD_PID" 2>/dev/null
	cluster_down
}

[[ -x $KANARYD ]] || { echo "kanaryd-demo: $KANARYD not built (run make)" >&2; exit 1; }
cluster_check_env
cluster_check_kanaryctl
trap cleanup EXIT
trap 'exit 130' INT TERM

say "building a throwaway cluster: a node and 4 pods (client, safe1, safe2, risky1) in network namespaces"
KN_BIG_MB=0 cluster_up
export KANARY_RUN_DIR="$KN_TMP/run"
mkdir -p "$KN_TMP/manifests" "$KANARY_RUN_DIR"
cp examples/*.yaml "$KN_TMP/manifests/"
echo "    the manifests of examples/ describe exactly these pods: message -> greeting,"
echo "    greeting pods labeled version: safe (safe1, safe2) and version: risky (risky1)"

say "starting kanaryd on them, attaching to every pod veth ('h-*')"
printf '    $ kanaryd --manifests %s --iface '"'"'h-*'"'"'\n' "$KN_TMP/manifests"
KANARY_PIN_PATH="$KN_PIN" ip netns exec "$KN_NODE" "$KANARYD" \
	--manifests "$KN_TMP/manifests" --iface 'h-*' 2>"$KN_TMP/kanaryd.log" &
KD_PID=$!
wait_log "default/greeting: created"
log_tail
printf '\n    $ kanaryctl weight show default/greeting\n'
kctl weight show default/greeting | sed 's/^/    /'
echo
echo "    the VirtualService's first route (x-my-header: dark -> risky) is a dark-release rule,"
echo "    tried before the split; this demo's requests do not carry the header"
printf '    $ kanaryctl route list default/greeting\n'
kctl route list default/greeting | sed 's/^/    /'

round

say "editing the VirtualService: weight 80/20 -> 50/50 (as Flagger or Argo Rollouts would)"
sed -i 's/weight: 80$/weight: 50/; s/weight: 20$/weight: 50/' "$KN_TMP/manifests/virtualservice.yaml"
grep -n 'weight:' "$KN_TMP/manifests/virtualservice.yaml" | sed 's/^/    virtualservice.yaml:/'
wait_log "default/greeting: updated"
log_tail

round

say "a broken edit is reported with file and line; the 50/50 split stays"
sed -i 's/^      weight: 50$/      weight: fifty/' "$KN_TMP/manifests/virtualservice.yaml"
wait_log "got 'fifty'"
log_tail
round

say "kanaryd's status"
printf '    $ kanaryctl status\n'
kctl status | sed 's/^/    /'

say "done"
