#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# kanaryd with only the capabilities deploy/daemonset.yaml grants it (read
# from the manifest by deploy/check-manifests.py --caps): it loads, attaches
# and writes the maps; without any one of them it fails and says why.  Each
# run gets a bpffs of its own, so an earlier run's pins cannot stand in for
# a load that the capabilities would refuse.

source "$BATS_TEST_DIRNAME/kanaryd.bash"

setup_file() {
	kd_setup_file || return 1
	command -v setpriv >/dev/null || { echo "setpriv (util-linux) is needed" >&2; return 1; }
	KD_CAPS=$(python3 "$KN_REPO/deploy/check-manifests.py" --caps | tr 'A-Z\n' 'a-z ') || return 1
	[[ -n ${KD_CAPS// /} ]] || { echo "the DaemonSet grants kanaryd no capability" >&2; return 1; }
	export KD_CAPS
}

teardown_file() {
	local d
	for d in "$KN_TMP"/caps-*; do
		[[ -d $d ]] || continue
		mountpoint -q "$d" && umount "$d"
		rmdir "$d"
	done
	kd_teardown_file
}

# with_caps NAME CAP...: runs the rest after "--" in the node netns as root
# holding only CAPs, with KANARY_PIN_PATH on a fresh bpffs named after NAME
# and the cgroup v2 root at /sys/fs/cgroup, as the DaemonSet's volume gives
# it (ip netns exec's own /sys has none).
with_caps() {
	local name=$1 bset=-all cap
	shift
	while [[ $1 != -- ]]; do bset+=",+$1"; shift; done
	shift
	local pin="$KN_TMP/caps-$name"
	mkdir "$pin" && mount -t bpf bpf "$pin" || return 1
	# shellcheck disable=SC2016 # for the inner shell
	KANARY_PIN_PATH="$pin" ip netns exec "$KN_NODE" sh -ec 'mount -t cgroup2 cgroup2 /sys/fs/cgroup; exec "$@"' \
		sh setpriv --bounding-set "$bset" --inh-caps -all --no-new-privs -- "$@"
}

kd_once() {	# NAME CAP...: kanaryd --once on the cluster's manifests
	local name=$1
	shift
	with_caps "$name" "$@" -- "$KANARYD" --manifests "$KD_MANIFESTS" --iface 'h-*' --once
}

@test "the capabilities are really all a run holds" {
	# The same setpriv call, reading its own capability sets.
	# shellcheck disable=SC2086
	run with_caps probe $KD_CAPS -- grep -E '^Cap(Eff|Prm|Bnd):' /proc/self/status
	echo "$output"
	[[ $status == 0 ]]
	local want=0 cap n
	for cap in $KD_CAPS; do
		n=$(python3 -c "import sys; print({'bpf': 39, 'perfmon': 38, 'net_admin': 12, 'net_raw': 13}[sys.argv[1]])" "$cap")
		want=$((want | 1 << n))
	done
	for set in CapEff CapPrm CapBnd; do
		expect_eq "$((16#$(awk -v s="$set:" '$1 == s {print $2}' <<<"$output")))" "$want" "$set"
	done
}

@test "kanaryd with the DaemonSet's capabilities loads, attaches and applies" {
	# shellcheck disable=SC2086
	run kd_once granted $KD_CAPS
	echo "$output"
	[[ $status == 0 ]]
	local svc pin="$KN_TMP/caps-granted"
	svc=$(KANARY_PIN_PATH="$pin" ip netns exec "$KN_NODE" "$KANARYCTL" -j service show "$KD_SERVICE")
	echo "$svc"
	expect_eq "$(jq -r '[.subsets[].name] | join(" ")' <<<"$svc")" "safe risky" "subsets written"
	expect_eq "$(KANARY_PIN_PATH="$pin" ip netns exec "$KN_NODE" "$KANARYCTL" -j iface list |
		jq -r --arg i "$(host_if client)" '[.[] | select(.name == $i)] | length')" 1 "client veth attached"
	expect_eq "$(bpftool -j link show pinned "$pin/link_sockops" | jq -r .attach_type)" cgroup_sock_ops \
		"TCP health (sockops) attached"
}

@test "without any one of them kanaryd fails, and says why" {
	local drop cap rest
	for drop in $KD_CAPS; do
		rest=()
		for cap in $KD_CAPS; do [[ $cap == "$drop" ]] || rest+=("$cap"); done
		run kd_once "no-$drop" "${rest[@]}"
		echo "without $drop: status $status: $output"
		[[ $status != 0 ]] || { echo "kanaryd succeeded without $drop: the DaemonSet grants more than it needs" >&2; return 1; }
		[[ $output == *"not permitted"* || $output == *"Permission denied"* ]] ||
			{ echo "without $drop: no permission error in kanaryd's message" >&2; return 1; }
	done
}
