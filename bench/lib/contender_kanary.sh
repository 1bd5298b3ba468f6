# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# shellcheck shell=bash
# kanary's canary path: the service at its VIP, split 80/20 by weight,
# attached to the client's host veth only while kanary is measured.

kanary_up() {
	local pod vip=${CONTENDER_VIP[kanary]}
	kctl load >/dev/null || return 1
	kctl service add bench "$vip:80" >/dev/null 2>&1 || return 1
	for pod in "${SPLIT_SAFE[@]}"; do kctl backend add bench safe "$(pod_ip "$pod"):80" >/dev/null || return 1; done
	for pod in "${SPLIT_RISKY[@]}"; do kctl backend add bench risky "$(pod_ip "$pod"):80" >/dev/null 2>&1 || return 1; done
	kctl weight set bench safe 80 risky 20 >/dev/null
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

kanary_enter() { kctl attach "$(host_if client)" >/dev/null; }
kanary_leave() { kctl detach "$(host_if client)" >/dev/null; }
kanary_url() { echo "http://${CONTENDER_VIP[kanary]}/"; }

# The rule path (the dark-release handoff) has no datapath yet.
kanary_rule_unavailable() { echo "not yet available: the dark-release rule path has not landed"; }
