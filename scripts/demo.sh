#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# make demo: a throwaway cluster in network namespaces, the greeting
# service split 80/20 and then 50/50, then a dark release by header, with
# kanary's stats after each round.
# Removes everything it made on exit, even when interrupted.
set -euo pipefail

cd "$(dirname "$0")/.."
# shellcheck source=tests/lib/cluster.sh
source tests/lib/cluster.sh

ROUND=${DEMO_CONNECTIONS:-1000}

say() { printf '\n==> %s\n' "$*"; }
# Shows a kanaryctl command as an operator would type it, then runs it.
show() {
	printf '    $ kanaryctl %s\n' "$*"
	kctl "$@" 2>&1 | sed "s/^/    /"
}

# One round of new connections from the client, with the given curl
# arguments; tallies who answered.
round() {
	local out
	out=$(mktemp "$KN_TMP/round.XXXXXX")
	say "client: $ROUND new connections (curl, Connection: close${*:+, $*}) to http://$KN_VIP:$KN_VIP_PORT/"
	new_conns "$KN_VIP_URL" "$ROUND" 32 "$@" >"$out"
	echo "    answered by (from the response bodies):"
	sort "$out" | uniq -c | awk -v n="$ROUND" '{ printf "      %-7s %5d  %5.1f %%\n", $2, $1, 100 * $1 / n }'
}

cleanup() {
	say "cleaning up: nginx, namespaces, bpffs"
	cluster_down
}

cluster_check_env
cluster_check_kanaryctl
trap cleanup EXIT
trap 'exit 130' INT TERM

say "building a throwaway cluster: a node and 4 pods (client, safe1, safe2, risky1) in network namespaces"
KN_BIG_MB=0 cluster_up
for pod in client "${KN_SERVER_PODS[@]}"; do
	printf '    %-7s %s  netns %s\n' "$pod" "$(pod_ip "$pod")" "$(ns_of "$pod")"
done
echo "    each server pod runs nginx and answers GET / with its own name"

say "loading kanary and attaching it to the client's host-side veth ($(host_if client))"
show load
show attach "$(host_if client)"
show iface list

say "creating service greeting at $KN_VIP:$KN_VIP_PORT: safe = safe1 + safe2, risky = risky1"
show service add greeting "$KN_VIP:$KN_VIP_PORT"
show backend add greeting safe "$(pod_ip safe1):80"
show backend add greeting safe "$(pod_ip safe2):80"
show backend add greeting risky "$(pod_ip risky1):80"
show weight set greeting safe 80 risky 20
show backend list greeting

round
say "kanary's view"
show stats greeting

say "shifting to 50/50"
show weight set greeting safe 50 risky 50
round
say "kanary's view (cumulative: both rounds)"
show stats greeting

say "dark release: only requests carrying 'x-my-header: dark' reach risky; the rest stay on safe"
show weight set greeting safe 100 risky 0
show route add greeting header x-my-header=dark to risky
echo "    (a service with rules takes the TCP handoff: kanary answers the SYN, reads"
echo "     the first request, then opens the connection to the pod it chose)"
round
round -H "x-my-header: dark"
say "the same curl by hand, without and with the header"
for h in "x-my-header: none" "X-My-Header: dark"; do
	printf "    \$ curl -H '%s' http://%s/  ->  %s\n" "$h" "$KN_VIP" \
		"$(in_ns client curl -s --max-time 5 -H "$h" "http://$KN_VIP/")"
done
say "kanary's view: requests, 5xx share and latency per subset; BY_RULE counts the requests the rule routed"
show stats greeting

say "done"
