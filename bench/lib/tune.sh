# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# shellcheck shell=bash
# Sysctls of the bench's own namespaces (never the root namespace's) that
# make new-connection rates repeatable; see docs/bench.md, "Run-to-run swing".
#
# - Server pods keep no TIME_WAIT (tcp_max_tw_buckets=0).  With Connection:
#   close nginx closes first, so every request leaves a TIME_WAIT socket in
#   the pod: 30,000 after a few seconds.  Rates then fell run after run
#   (12k -> 17k -> 12k req/s here, and 4k-17k in earlier sittings), and a
#   client port reused through another address (a VIP DNATed to the same pod,
#   with another TCP timestamp offset) hit a TIME_WAIT that rejects its SYN
#   as old and costs a 1 s retransmission.  With none kept: 18-19.5k, steady.
# - The client already has tcp_tw_reuse=1 and ports 1024-65535 (cluster.sh);
#   the node gets the same, because the proxies are clients of the pods.
# - SYN backlog and somaxconn above wrk's connection count everywhere, so a
#   burst of SYNs is never dropped (ListenOverflows stays 0; checked after).
bench_tune() {
	local pod
	for pod in "${KN_SERVER_PODS[@]}" node; do
		in_ns "$pod" sysctl -qw net.core.somaxconn=8192 net.ipv4.tcp_max_syn_backlog=8192 || return 1
	done
	for pod in "${KN_SERVER_PODS[@]}"; do
		in_ns "$pod" sysctl -qw net.ipv4.tcp_max_tw_buckets=0 || return 1
	done
	in_ns node sysctl -qw net.ipv4.tcp_tw_reuse=1 net.ipv4.ip_local_port_range="1024 65535" \
		net.ipv4.tcp_max_tw_buckets=0
}

# Connections refused or dropped at a listener, summed over the namespaces
# that listen; the bench reports it, a non-zero value flags a bad setup.
listen_drops() {
	local pod sum=0 v
	for pod in "${KN_SERVER_PODS[@]}" node; do
		v=$(in_ns "$pod" nstat -saz TcpExtListenOverflows TcpExtListenDrops |
			awk '{ s += $2 } END { print s + 0 }')
		sum=$((sum + v))
	done
	echo "$sum"
}

# pin_pods CPUS POD...: every thread of the pods' (or the node's)
# processes may run on CPUS only (taskset's list, "0" or "0-1").  The
# mirror phase splits the machine with it; processes started later in a
# pod inherit nothing from it: the caller pins those itself.
pin_pods() {
	local cpus=$1 pod pid
	shift
	for pod in "$@"; do
		for pid in $(ip netns pids "$(ns_of "$pod")"); do
			taskset -a -p -c "$cpus" "$pid" >/dev/null || return 1
		done
	done
}
