# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# shellcheck shell=bash
# kanary's canary path: the service at its VIP, split 80/20 by weight,
# attached to the client's host veth only while kanary is measured.

# kanary_split_service NAME VIP: service NAME at VIP:80 over the split's
# pods, safe and risky, weighted 80/20 (the canary contenders' common setup).
kanary_split_service() {
	local pod
	kctl service add "$1" "$2:80" >/dev/null 2>&1 || return 1
	for pod in "${SPLIT_SAFE[@]}"; do kctl backend add "$1" safe "$(pod_ip "$pod"):80" >/dev/null || return 1; done
	for pod in "${SPLIT_RISKY[@]}"; do kctl backend add "$1" risky "$(pod_ip "$pod"):80" >/dev/null 2>&1 || return 1; done
	kctl weight set "$1" safe 80 risky 20 >/dev/null
}

kanary_up() {
	kctl load >/dev/null && kanary_split_service bench "${CONTENDER_VIP[kanary]}"
}

# kanary_one: the same datapath with one backend, safe1, the pod Direct
# talks to.  Against Direct it isolates the datapath's own cost from what
# spreading the load over three pods costs on two cores (the split
# contenders all pay that).  Its service lives in the same maps as kanary's.
kanary_one_up() {
	kctl service add bench1 "${CONTENDER_VIP[kanary_one]}:80" >/dev/null 2>&1 || return 1
	kctl backend add bench1 safe "$(pod_ip safe1):80" >/dev/null
}
kanary_one_enter() { kanary_enter; }
kanary_one_leave() { kanary_leave; }
kanary_one_url() { echo "http://${CONTENDER_VIP[kanary_one]}/"; }

# kanary_noacct: the canary path as kanary's, with the HTTP accounting off
# (kanaryctl load http-stats off) for its runs only: kanary against it is
# what the accounting costs (docs/http-stats.md).
kanary_noacct_up() { kanary_split_service bench_noacct "${CONTENDER_VIP[kanary_noacct]}"; }
kanary_noacct_enter() { kctl load http-stats off >/dev/null && kanary_enter; }
kanary_noacct_leave() { kanary_leave && kctl load http-stats on >/dev/null; }
kanary_noacct_url() { echo "http://${CONTENDER_VIP[kanary_noacct]}/"; }

# kanary_nosockops: the canary path as kanary's, with TCP health (the
# sockops program on the cgroup v2 root, which sees every socket of the
# node, the other contenders' too) detached for its runs only: kanary
# against it is what TCP health costs (docs/kanaryctl.md).
kanary_nosockops_up() { kanary_split_service bench_nosockops "${CONTENDER_VIP[kanary_nosockops]}"; }
kanary_nosockops_enter() { kctl load cgroup none >/dev/null && kanary_enter; }
# A load without cgroup attaches it again where a first load does (the
# cgroup v2 root, found from inside the node netns's own mounts).
kanary_nosockops_leave() { kanary_leave && kctl load >/dev/null; }
kanary_nosockops_url() { echo "http://${CONTENDER_VIP[kanary_nosockops]}/"; }

# kanary_mirror: the canary path as kanary's, with every request mirrored
# to shadow1 (a subset of weight 0: it takes no live request) by the
# relay, which runs only while it is measured: kanary against it is what a
# 100 % mirror costs the live path on this node, relay and mirror pod
# included (docs/mirror.md).
kanary_mirror_up() {
	kanary_split_service bench_mirror "${CONTENDER_VIP[kanary_mirror]}" &&
		kctl backend add bench_mirror shadow "$(pod_ip shadow1):80" >/dev/null 2>&1 &&
		kctl weight set bench_mirror safe 80 risky 20 shadow 0 >/dev/null &&
		kctl mirror set bench_mirror shadow 100
}
kanary_mirror_enter() { relay_start >/dev/null && kanary_enter; }
kanary_mirror_leave() { kanary_leave; relay_stop; }
kanary_mirror_url() { echo "http://${CONTENDER_VIP[kanary_mirror]}/"; }

kanary_enter() { kctl attach "$(host_if client)" >/dev/null; }
kanary_leave() { kctl detach "$(host_if client)" >/dev/null; }
kanary_url() { echo "http://${CONTENDER_VIP[kanary]}/"; }

# kanary's rule path: the same 80/20 split behind the dark-release rule
# x-my-header=dark -> risky, so every connection takes the TCP handoff
# (the load sends no header: the weights choose for every request, so
# about a third of keep-alive requests switch backend; docs/per-request.md).
kanary_rule_up() { kanary_rule_service bench_rule "${CONTENDER_VIP[kanary_rule]}" 80 20; }

# kanary_rule_service NAME VIP SAFE% RISKY%: the safe and risky pods behind
# the rule x-my-header=dark -> risky.
kanary_rule_service() {
	local pod name=$1 vip=$2
	kctl service add "$name" "$vip:80" >/dev/null 2>&1 || return 1
	for pod in "${SPLIT_SAFE[@]}"; do kctl backend add "$name" safe "$(pod_ip "$pod"):80" >/dev/null || return 1; done
	for pod in "${SPLIT_RISKY[@]}"; do kctl backend add "$name" risky "$(pod_ip "$pod"):80" >/dev/null 2>&1 || return 1; done
	kctl weight set "$name" safe "$3" risky "$4" >/dev/null &&
		kctl route add "$name" header x-my-header=dark to risky >/dev/null
}
kanary_rule_enter() { kanary_enter; }
kanary_rule_leave() { kanary_leave; }
kanary_rule_url() { echo "http://${CONTENDER_VIP[kanary_rule]}/"; }

# kanary_rule_one: the handoff in front of safe1 alone, as kanary_one is
# the canary path's: the rule path's own cost against Direct.
kanary_rule_one_up() {
	kctl service add bench_rule1 "${CONTENDER_VIP[kanary_rule_one]}:80" >/dev/null 2>&1 || return 1
	kctl backend add bench_rule1 safe "$(pod_ip safe1):80" >/dev/null &&
		kctl route add bench_rule1 header x-my-header=dark to safe >/dev/null
}
kanary_rule_one_enter() { kanary_enter; }
kanary_rule_one_leave() { kanary_leave; }
kanary_rule_one_url() { echo "http://${CONTENDER_VIP[kanary_rule_one]}/"; }

# kanary_hdr: header routing alone, on the per-request rule path: safe 100,
# risky 0, x-my-header=dark -> risky.  Plain requests stay on the safe pod
# of their connection, dark ones on risky1, so a load that alternates the
# header switches the connection's backend on every request.
kanary_hdr_up() { kanary_rule_service bench_hdr "${CONTENDER_VIP[kanary_hdr]}" 100 0; }
kanary_hdr_enter() { kanary_enter; }
kanary_hdr_leave() { kanary_leave; }
kanary_hdr_url() { echo "http://${CONTENDER_VIP[kanary_hdr]}/"; }

# The kanary service behind a contender, for its switch counter; empty if none.
declare -A KANARY_SERVICE_OF=([kanary]=bench [kanary_one]=bench1 [kanary_rule]=bench_rule
	[kanary_rule_one]=bench_rule1 [kanary_hdr]=bench_hdr)
kanary_switches() {	# kanary_switches CONTENDER: the service's handoff.switches, or null
	local svc=${KANARY_SERVICE_OF[$1]:-}
	[[ -n $svc ]] || { echo null; return 0; }
	kctl -j stats "$svc" | jq --arg s "$svc" '[.[] | select(.service == $s) | .handoff.switches] | first // null'
}
