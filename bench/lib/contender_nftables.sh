# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# shellcheck shell=bash
# The same split in native nftables: numgen random mod 100 into a map of
# pod addresses, 0-39 safe1, 40-79 safe2, 80-99 risky1.

nftables_unavailable() {
	command -v nft >/dev/null || echo "nft not installed (apt-get install nftables)"
}

nftables_enter() {
	in_ns node nft -f - <<EOF2
table ip kbench {
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		ip daddr ${CONTENDER_VIP[nftables]} tcp dport 80 dnat to numgen random mod 100 map { 0-39 : $(pod_ip safe1), 40-79 : $(pod_ip safe2), 80-99 : $(pod_ip risky1) }
	}
}
EOF2
}

nftables_leave() { in_ns node nft flush ruleset; }
nftables_url() { echo "http://${CONTENDER_VIP[nftables]}/"; }
