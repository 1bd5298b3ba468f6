# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# shellcheck shell=bash
#
# A throwaway "cluster" in network namespaces, sourced by the e2e tests, the
# demo and the bench.  The root namespace is never touched: a node netns
# plays the Kubernetes node, and every pod is a netns with eth0 on a veth
# whose host side lives in the node netns.  Pod i (client = 1) gets
# 10.244.i.2/24, the node's side 10.244.i.1/24, and a default route to it.
#
# Every name carries a per-run id (kn<pid>), so concurrent and crashed runs
# never collide; cluster_down removes everything cluster_up made.
#
# State is exported (KN_*) so bats tests see what setup_file built.

KN_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
KN_REPO=$(cd "$KN_LIB_DIR/../.." && pwd)
export KN_LIB_DIR KN_REPO
: "${KANARYCTL:=$KN_REPO/bin/kanaryctl}"
export KANARYCTL

# shellcheck source=tests/lib/nginx.sh
source "$KN_LIB_DIR/nginx.sh"

# Pods that run nginx; the client runs curl and wrk.
KN_SERVER_PODS=(safe1 safe2 risky1)
KN_VIP=10.96.0.10
KN_VIP_PORT=80

# Index of a pod in the address plan: client 1, servers from 2.
pod_index() {
	local i
	[[ $1 == client ]] && { echo 1; return 0; }
	for i in "${!KN_SERVER_PODS[@]}"; do
		[[ ${KN_SERVER_PODS[$i]} == "$1" ]] && { echo $((i + 2)); return 0; }
	done
	echo "pod_index: unknown pod '$1' (expected client or one of ${KN_SERVER_PODS[*]})" >&2
	return 1
}

pod_ip() {
	local i
	i=$(pod_index "$1") || return 1
	echo "10.244.$i.2"
}

# The netns of a pod, or of the node ("node").
ns_of() { echo "$KN_ID-$1"; }

# The pod's veth as the node sees it (names only need to be unique in the node).
host_if() { echo "h-$1"; }

# Runs a command in a pod's (or the node's) netns: in_ns POD CMD...
in_ns() {
	local pod=$1
	shift
	ip netns exec "$(ns_of "$pod")" "$@"
}

# kanaryctl in the node netns, where the host veths live, on our own pins.
kctl() {
	KANARY_PIN_PATH="$KN_PIN" ip netns exec "$KN_NODE" "$KANARYCTL" "$@"
}

# Fails with the reason when this machine cannot run the cluster.
cluster_check_env() {
	local c missing=()
	[[ $(id -u) == 0 ]] || { echo "cluster: must run as root (network namespaces, bpffs, BPF)" >&2; return 1; }
	for c in ip ethtool nginx curl wrk jq nstat sha256sum; do
		command -v "$c" >/dev/null || missing+=("$c")
	done
	if ((${#missing[@]})); then
		echo "cluster: missing commands: ${missing[*]} (run 'make deps')" >&2
		return 1
	fi
}

# cluster_check_kanaryctl: the CLI the tests drive must exist.
cluster_check_kanaryctl() {
	[[ -x $KANARYCTL ]] || { echo "cluster: $KANARYCTL not built (run 'make')" >&2; return 1; }
}

# Makes one pod: netns, veth into the node, addresses, default route.
pod_create() {
	local pod=$1 i ns hif
	i=$(pod_index "$pod") || return 1
	ns=$(ns_of "$pod")
	hif=$(host_if "$pod")
	ip netns add "$ns" || return 1
	# Both ends are created directly in their namespaces: nothing in root.
	ip -n "$KN_NODE" link add "$hif" type veth peer name eth0 netns "$ns" || return 1
	ip -n "$KN_NODE" addr add "10.244.$i.1/24" dev "$hif" || return 1
	ip -n "$KN_NODE" link set "$hif" up || return 1
	ip -n "$ns" link set lo up || return 1
	ip -n "$ns" addr add "10.244.$i.2/24" dev eth0 || return 1
	ip -n "$ns" link set eth0 up || return 1
	ip -n "$ns" route add default via "10.244.$i.1" || return 1
	# No IPv6 chatter (RS, DAD) on the veths: only the test's traffic flows.
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
}

# Client tuning for many short connections (see verified-here.md):
# TIME_WAIT would otherwise exhaust the ephemeral ports within seconds.
client_tune() {
	in_ns client sysctl -qw net.ipv4.tcp_tw_reuse=1 \
		net.ipv4.ip_local_port_range="1024 65535"
}

# The 100 MB random file every pod serves as /big, made once per cluster.
# KN_BIG_MB=0 skips it (the demo does not need it).
www_create() {
	local mb=${KN_BIG_MB:-100}
	mkdir -p "$KN_TMP/www" || return 1
	head -c 2048 /dev/urandom | base64 >"$KN_TMP/www/small.txt" || return 1
	KN_SMALL_SHA=$(sha256sum <"$KN_TMP/www/small.txt" | cut -d' ' -f1)
	KN_BIG_SHA=
	if ((mb > 0)); then
		head -c "$((mb * 1024 * 1024))" /dev/urandom >"$KN_TMP/www/big" || return 1
		KN_BIG_SHA=$(sha256sum <"$KN_TMP/www/big" | cut -d' ' -f1)
	fi
	export KN_SMALL_SHA KN_BIG_SHA
	# nginx workers run as nobody: the served tree must be readable.
	chmod 755 "$KN_TMP" "$KN_TMP/www" && chmod 644 "$KN_TMP/www"/*
}

# Builds the whole cluster and starts nginx in every server pod.  On any
# failure it removes what it made and returns non-zero with the reason.
cluster_up() {
	cluster_check_env || return 1
	cluster_reap_stale
	# $BASHPID, not $$: in bats, setup_file and tests are different processes.
	local me=$BASHPID
	if [[ -n $(_run_namespaces "kn$me") ]]; then
		echo "cluster_up: this process already has a cluster (kn$me); cluster_down first" >&2
		return 1
	fi
	KN_ID="kn$me"
	KN_NODE="$KN_ID-node"
	KN_TMP=$(mktemp -d "/tmp/kanary-$KN_ID.XXXXXX") || return 1
	KN_PIN="$KN_TMP/bpffs"
	export KN_ID KN_NODE KN_TMP KN_PIN
	echo "$me" >"$KN_TMP/owner"
	if ! _cluster_build; then
		echo "cluster_up: failed; removing what was made" >&2
		cluster_down
		return 1
	fi
}

_cluster_build() {
	local pod
	# bpffs outside /sys: `ip netns exec` remounts /sys, hiding anything there.
	mkdir -p "$KN_PIN" && mount -t bpf bpf "$KN_PIN" || return 1
	ip netns add "$KN_NODE" || return 1
	ip -n "$KN_NODE" link set lo up || return 1
	ip netns exec "$KN_NODE" sysctl -qw net.ipv4.ip_forward=1 \
		net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 || return 1
	for pod in client "${KN_SERVER_PODS[@]}"; do
		pod_create "$pod" || return 1
	done
	client_tune || return 1
	www_create || return 1
	for pod in "${KN_SERVER_PODS[@]}"; do
		nginx_start "$pod" || return 1
	done
	cluster_wait_ready
}

# Every server answers its own name on its pod IP, seen from the client.
cluster_wait_ready() {
	local pod body try
	for pod in "${KN_SERVER_PODS[@]}"; do
		for try in $(seq 50); do
			body=$(in_ns client curl -s --max-time 2 "http://$(pod_ip "$pod")/") && break
			sleep 0.1
		done
		if [[ $body != "$pod" ]]; then
			echo "cluster: $pod at $(pod_ip "$pod") answered '$body', expected '$pod'" >&2
			return 1
		fi
	done
}

# Idempotent: kills what runs in our namespaces, deletes them, unmounts the
# bpffs and removes the temp dir.  Safe to call after a partial cluster_up.
cluster_down() {
	# Best effort to the end: a caller's `set -e` (bats, the demo) must not
	# stop the cleanup at the first process that was already gone.
	local -
	set +e
	[[ -n ${KN_ID:-} ]] || return 0
	local dir ns
	# Everything this run made, whatever KN_SERVER_PODS says now.
	for dir in "${KN_TMP:-/nonexistent}"/pods/*/; do
		[[ -d $dir ]] && nginx_stop "$(basename "$dir")"
	done
	for ns in $(_run_namespaces "$KN_ID"); do
		_ns_remove "$ns"
	done
	[[ -n ${KN_TMP:-} ]] && _tmp_remove "$KN_TMP"
	return 0
}

# The namespaces of run id $1 (kn<pid>), pods before the node.
_run_namespaces() {
	ip netns list | awk -v p="$1-" 'index($1, p) == 1 && $1 ~ /^kn[0-9]+-[A-Za-z0-9]+$/ { print $1 }' |
		sort -t- -k2 | awk '/-node$/ { node = $0; next } { print } END { if (node) print node }'
}

# Kills (by pid) whatever still runs in a netns, then deletes it.
_ns_remove() {
	local -
	set +e
	local ns=$1 pids try sig=TERM
	ip netns list | grep -qE "^$ns( |$)" || return 0
	for try in 1 2 3 4 5 6 7 8 9 10; do
		pids=$(ip netns pids "$ns" 2>/dev/null) || true
		[[ -z $pids ]] && break
		((try > 5)) && sig=KILL
		# shellcheck disable=SC2086 # one pid per word
		kill -s "$sig" $pids 2>/dev/null || true
		sleep 0.2
	done
	ip netns delete "$ns" || echo "cluster: could not delete netns $ns" >&2
	return 0
}

# Unmounts the run's bpffs and removes its temp dir.
_tmp_remove() {
	local -
	set +e
	[[ -d $1 ]] || return 0
	if mountpoint -q "$1/bpffs"; then
		umount "$1/bpffs" || echo "cluster: could not unmount $1/bpffs" >&2
	fi
	rm -rf "$1" || echo "cluster: could not remove $1" >&2
	return 0
}

# Removes what a killed run (whose owner pid is gone) left behind: its
# namespaces, nginx and bpffs mount.  Only touches kn<pid>-* names.
cluster_reap_stale() {
	local -
	set +e
	local ns owner dir
	for ns in $(ip netns list | awk '$1 ~ /^kn[0-9]+-[A-Za-z0-9]+$/ { print $1 }'); do
		owner=${ns%%-*}
		owner=${owner#kn}
		kill -0 "$owner" 2>/dev/null && continue
		echo "cluster: removing $ns left by dead run $owner" >&2
		_ns_remove "$ns"
	done
	for dir in /tmp/kanary-kn*.*; do
		[[ -f $dir/owner ]] || continue
		owner=$(cat "$dir/owner" 2>/dev/null) || continue
		kill -0 "$owner" 2>/dev/null && continue
		echo "cluster: removing $dir left by dead run $owner" >&2
		_tmp_remove "$dir"
	done
	return 0
}

# Sets tx checksum offload (on|off) on eth0 of the client and every server pod.
cluster_tx_offload() {
	local state=$1 pod
	[[ $state == on || $state == off ]] || { echo "cluster_tx_offload: expected on|off, got '$state'" >&2; return 1; }
	for pod in client "${KN_SERVER_PODS[@]}"; do
		in_ns "$pod" ethtool -K eth0 tx "$state" >/dev/null || return 1
	done
}

# TCP segments with a bad checksum received in a pod's netns.
csum_errors() {
	in_ns "$1" nstat -saz TcpInCsumErrors | awk '$1 == "TcpInCsumErrors" { print $2; f = 1 } END { if (!f) exit 1 }'
}

# shellcheck source=tests/lib/traffic.sh
source "$KN_LIB_DIR/traffic.sh"
# shellcheck source=tests/lib/greeting.sh
source "$KN_LIB_DIR/greeting.sh"
