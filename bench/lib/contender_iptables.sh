# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# shellcheck shell=bash
# kube-proxy's iptables mode, in the node netns: KUBE-SERVICES matches the
# cluster IP, KUBE-SVC picks an endpoint with -m statistic --mode random
# (probabilities 0.4, then 0.4/0.6, then the rest), KUBE-SEP DNATs.
# iptables_rules N writes an iptables-restore file with N-1 other services
# ahead of ours, as a cluster with N services has (the scale test uses it).

iptables_unavailable() {
	command -v iptables-restore >/dev/null || echo "iptables-restore not installed (apt-get install iptables)"
}

# iptables_rules SERVICES: the nat table for iptables-restore on stdout.
iptables_rules() {
	local n=${1:-1} i vip=${CONTENDER_VIP[iptables]}
	local -a eps=("${SPLIT_SAFE[@]}" "${SPLIT_RISKY[@]}") probs=(0.40000 0.66667 "")
	echo '*nat'
	echo ':KUBE-SERVICES - [0:0]'
	echo ':KUBE-SVC-BENCH - [0:0]'
	for i in 0 1 2; do echo ":KUBE-SEP-BENCH$i - [0:0]"; done
	awk -v n="$n" 'BEGIN { for (i = 1; i < n; i++) printf ":KUBE-SVC-D%d - [0:0]\n", i }'
	echo '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES'
	# Other services first: ours is found last, the worst case of the linear walk.
	awk -v n="$n" -v be="$(pod_ip safe1)" 'BEGIN {
		for (i = 1; i < n; i++) {
			printf "-A KUBE-SERVICES -d 10.97.%d.%d/32 -p tcp -m tcp --dport 80 -j KUBE-SVC-D%d\n", i / 250, i % 250 + 1, i
			printf "-A KUBE-SVC-D%d -p tcp -m tcp -j DNAT --to-destination %s:80\n", i, be
		} }'
	echo "-A KUBE-SERVICES -d $vip/32 -p tcp -m tcp --dport 80 -j KUBE-SVC-BENCH"
	for i in 0 1 2; do
		if [[ -n ${probs[$i]} ]]; then
			echo "-A KUBE-SVC-BENCH -m statistic --mode random --probability ${probs[$i]} -j KUBE-SEP-BENCH$i"
		else
			echo "-A KUBE-SVC-BENCH -j KUBE-SEP-BENCH$i"
		fi
		echo "-A KUBE-SEP-BENCH$i -p tcp -m tcp -j DNAT --to-destination $(pod_ip "${eps[$i]}"):80"
	done
	echo 'COMMIT'
}

# iptables_install [SERVICES]
iptables_install() {
	iptables_rules "${1:-1}" | in_ns node iptables-restore
}

# Removes the tables themselves, not just their rules: only then do the
# netfilter hooks (and conntrack with them) leave the node netns.
iptables_remove() {
	in_ns node nft flush ruleset 2>/dev/null || in_ns node iptables -t nat -F
}

iptables_enter() { iptables_install 1; }
iptables_leave() { iptables_remove; }
iptables_url() { echo "http://${CONTENDER_VIP[iptables]}/"; }
