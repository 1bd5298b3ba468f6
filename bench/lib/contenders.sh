# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# shellcheck shell=bash
#
# The contenders: every one does the same job, an 80/20 split of one
# address between the safe pods (safe1, safe2: 40 + 40) and the risky pod
# (risky1: 20), except "direct", which is the client talking to safe1, and
# "kanary_one" and "kanary_rule_one", kanary's two paths with safe1 as their
# only backend, "direct_again", Direct a second time (the method's own noise:
# its ratio to Direct should be 1), and "direct_spread", where the client
# itself spreads its connections over the three pods 40/40/20 (the baseline
# of the 80/20 contenders: the same pods doing the same work).
# HDR_CONTENDERS route by header only, for the keep-alive switching runs:
# plain requests to the safe pods, "x-my-header: dark" to risky1.
# Each NAME provides:
#   NAME_up / NAME_down     once per bench run (configs, daemons)
#   NAME_enter / NAME_leave around every timed run (attach, rules)
#   NAME_url                the URL the client loads
# enter/leave keep every contender's machinery out of the others' runs: kanary
# is attached only for its own runs, and the netfilter tables (which make the
# node netns track every connection) exist only during theirs.
# Sourced by bench/run after tests/lib/cluster.sh.

BENCH_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
for f in "$BENCH_LIB"/contender_*.sh; do
	# shellcheck source=/dev/null
	source "$f"
done

# Every contender in the order of the first repetition.
CONTENDERS=(direct direct_again direct_spread kanary kanary_noacct kanary_nosockops kanary_mirror kanary_one kanary_rule kanary_rule_one iptables nftables nginx nginx_mirror haproxy)
# Run only in the switching runs (direct and these), after the others are up.
HDR_CONTENDERS=(direct kanary_hdr nginx_hdr haproxy_hdr)
declare -A CONTENDER_LABEL=(
	[direct]="Direct (client -> safe1)"
	[direct_again]="Direct again: the method's noise (ratio to Direct should be 1)"
	[direct_spread]="Direct spread: the client's own connections 40/40/20 over safe1, safe2, risky1"
	[kanary_hdr]="kanary rule path, header routing only (safe 100, risky 0, dark -> risky)"
	[nginx_hdr]="nginx, header routing only (map, upstream keep-alive)"
	[haproxy_hdr]="HAProxy, header routing only (ACL, http-reuse)"
	[kanary]="kanary canary path (tc DNAT)"
	[kanary_noacct]="kanary canary path, HTTP accounting off: what the accounting costs"
	[kanary_nosockops]="kanary canary path, TCP health (sockops) detached: what it costs"
	[kanary_mirror]="kanary canary path, every request mirrored to shadow1 (kanary-mirror)"
	[kanary_one]="kanary, one backend (safe1): the datapath alone"
	[kanary_rule]="kanary rule path (dark-release TCP handoff)"
	[kanary_rule_one]="kanary rule path, one backend (safe1): the handoff alone"
	[iptables]="iptables DNAT, statistic random (kube-proxy style)"
	[nftables]="nftables DNAT, numgen random"
	[nginx]="nginx L7 proxy (split_clients + map)"
	[nginx_mirror]="nginx L7 proxy, 80/20, every request mirrored to shadow1 (mirror directive)"
	[haproxy]="HAProxy (weighted servers + header ACL)"
)

# One address per contender, so no contender's flows or TIME_WAIT state
# land on another's tuples at the node.
declare -A CONTENDER_VIP=(
	[kanary]=10.96.0.11 [iptables]=10.96.0.12 [nftables]=10.96.0.13
	[nginx]=10.96.0.14 [haproxy]=10.96.0.15 [kanary_one]=10.96.0.16
	[kanary_rule]=10.96.0.17 [kanary_rule_one]=10.96.0.18
	[kanary_hdr]=10.96.0.19 [nginx_hdr]=10.96.0.20 [haproxy_hdr]=10.96.0.21
	[kanary_noacct]=10.96.0.22 [kanary_mirror]=10.96.0.23 [kanary_nosockops]=10.96.0.24 [nginx_mirror]=10.96.0.25
)

SPLIT_SAFE=(safe1 safe2)
SPLIT_RISKY=(risky1)

# Empty when the contender can run here, else why not.
contender_unavailable() {
	local fn="${1}_unavailable"
	if declare -F "$fn" >/dev/null; then "$fn"; fi
}

contender_url() { "${1}_url"; }
contender_call() {	# contender_call NAME up|down|enter|leave
	local fn="${1}_$2"
	if declare -F "$fn" >/dev/null; then "$fn"; fi
}

direct_url() { echo "http://$(pod_ip safe1)/"; }
direct_again_url() { direct_url; }

# direct_spread has no single URL: its loads (load.sh) run one generator
# per pod, with SPREAD_SHARE percent of the connections each.
declare -A SPREAD_SHARE=([safe1]=40 [safe2]=40 [risky1]=20)
direct_spread_url() { echo "http://$(pod_ip safe1)/"; }

# nginx_hdr and haproxy_hdr are a second address of the same processes.
nginx_hdr_url() { echo "http://${CONTENDER_VIP[nginx_hdr]}/"; }
# nginx_mirror too: nginx_up configures it.
nginx_mirror_url() { echo "http://${CONTENDER_VIP[nginx_mirror]}/"; }
haproxy_hdr_unavailable() { haproxy_unavailable; }
haproxy_hdr_url() { echo "http://${CONTENDER_VIP[haproxy_hdr]}/"; }
