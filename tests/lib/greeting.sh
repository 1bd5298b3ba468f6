# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# shellcheck shell=bash
#
# The "greeting" service that the e2e tests and the demo start from:
# kanary attached to the client's host veth, VIP 10.96.0.10:80 split
# safe (safe1, safe2) 80 / risky (risky1) 20.  Sourced after cluster.sh.

export KN_VIP_URL="http://$KN_VIP:$KN_VIP_PORT/"

# KN_CT_SIZE: the conntrack size to load with (the handoff tables follow it); unset: the default.
greeting_up() {
	kctl load ${KN_CT_SIZE:+ct-size "$KN_CT_SIZE"} && kctl attach "$(host_if client)" && greeting_service
}

# greeting_service: the service greeting, 80/20 over safe1, safe2 and risky1.
greeting_service() {
	kctl service add greeting "$KN_VIP:$KN_VIP_PORT" &&
		kctl backend add greeting safe "$(pod_ip safe1):80" &&
		kctl backend add greeting safe "$(pod_ip safe2):80" &&
		kctl backend add greeting risky "$(pod_ip risky1):80" &&
		kctl weight set greeting safe 80 risky 20
}

# subset_stat SERVICE SUBSET FIELD: one number from `kanaryctl -j stats`;
# FIELD may be a path (tcp.retransmits).
subset_stat() {
	local json
	json=$(kctl -j stats "$1") || return 1
	jq -er --arg svc "$1" --arg sub "$2" --arg f "$3" \
		'.[] | select(.service == $svc) | .subsets[] | select(.name == $sub) | getpath($f | split(".")) | numbers' \
		<<<"$json" || {
		echo "subset_stat: no numeric '$3' for subset '$2' of '$1' in: $json" >&2
		return 1
	}
}

# service_stat_sum SERVICE FIELD: FIELD summed over the service's subsets.
service_stat_sum() {
	local json
	json=$(kctl -j stats "$1") || return 1
	jq -er --arg svc "$1" --arg f "$2" \
		'[.[] | select(.service == $svc) | .subsets[] | .[$f] | numbers] | if length > 0 then add else empty end' \
		<<<"$json" || {
		echo "service_stat_sum: no numeric '$2' in the subsets of '$1' in: $json" >&2
		return 1
	}
}
