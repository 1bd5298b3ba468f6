# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Shared by tests/e2e/cli/*.bats.  Every test gets its own bpffs (a temp dir) and
# its own network namespace; kanaryctl runs inside that namespace through
# nsenter, which keeps our mount namespace so the bpffs stays visible and a
# bpffs that kanaryctl mounts itself outlives the command.
bats_require_minimum_version 1.5.0
# Beware: bats 1.8's run --separate-stderr assigns a global "i" (bats_version_lt),
# so loops around run use other names.

ROOT=$(cd "$BATS_TEST_DIRNAME/../../.." && pwd)
KCTL=${KANARYCTL:-$ROOT/bin/kanaryctl}	# KANARYCTL: test another build

setup_env() {
	[ "$(id -u)" = 0 ] || { echo "needs root: BPF, bpffs and network namespaces" >&2; return 1; }
	[ -x "$KCTL" ] || { echo "$KCTL is not built: run 'make bin/kanaryctl'" >&2; return 1; }
	local t
	for t in jq bpftool nsenter ip tc; do
		command -v "$t" >/dev/null || { echo "$t is not installed (scripts/deps.sh)" >&2; return 1; }
	done
	SUFFIX="$$-${BATS_TEST_NUMBER}-$RANDOM"
	NS="kcli-$SUFFIX"
	EXTRA_NS=()
	EXTRA_MOUNTS=()
	PIN=$(mktemp -d "/tmp/kanary-cli-pin.XXXXXX")
	mount -t bpf bpf "$PIN" || { echo "cannot mount bpffs on $PIN" >&2; return 1; }
	ip netns add "$NS" || { echo "cannot create netns $NS" >&2; return 1; }
	unset KANARY_PIN_PATH
}

teardown_env() {
	local ns m
	for ns in "$NS" "${EXTRA_NS[@]}"; do
		[ -n "$ns" ] && ip netns del "$ns" 2>/dev/null
	done
	for m in "${EXTRA_MOUNTS[@]}" "$PIN"; do
		[ -n "$m" ] || continue
		mountpoint -q "$m" && umount "$m"
		rm -rf "$m"
	done
	return 0
}

# kanaryctl inside the test's netns, on the test's bpffs.
k() {
	nsenter --net="/run/netns/$NS" "$KCTL" --pin-path "$PIN" "$@"
}

# kanaryctl inside netns $1, on the test's bpffs.
k_in() {
	local ns=$1
	shift
	nsenter --net="/run/netns/$ns" "$KCTL" --pin-path "$PIN" "$@"
}

# What every bad input must leave untouched: all services, slots and generations
# (or the "not loaded" error, when nothing is loaded).
snapshot() {
	k -j service list || true
}

# expect_fail MESSAGE ARGS...: kanaryctl ARGS fails, with "Error: ...MESSAGE..."
# on stderr in plain mode and {"error": "...MESSAGE..."} on stdout with -j,
# and the services are exactly as before.
expect_fail() {
	local msg=$1 before after
	shift
	before=$(snapshot)
	run --separate-stderr k "$@"
	if [ "$status" -eq 0 ]; then
		echo "kanaryctl $* exited 0; expected an error saying: $msg"
		return 1
	fi
	if [[ "$stderr" != *"Error: "*"$msg"* ]]; then
		echo "kanaryctl $*: stderr '$stderr' does not say '$msg'"
		return 1
	fi
	run --separate-stderr k -j "$@"
	if [ "$status" -eq 0 ]; then
		echo "kanaryctl -j $* exited 0"
		return 1
	fi
	if ! jq -e --arg m "$msg" '(.error | type == "string") and (.error | contains($m))' \
		<<<"$output" >/dev/null; then
		echo "kanaryctl -j $*: stdout '$output' is not {\"error\": \"...$msg...\"}"
		return 1
	fi
	after=$(snapshot)
	if [ "$before" != "$after" ]; then
		echo "kanaryctl $* changed the services:"
		echo "before: $before"
		echo "after:  $after"
		return 1
	fi
}

# jq_is FILTER EXPECTED [JSON]: jq -r FILTER of JSON (default $output) equals EXPECTED.
jq_is() {
	local got
	got=$(jq -r "$1" <<<"${3-$output}") || { echo "jq '$1' failed on: ${3-$output}"; return 1; }
	if [ "$got" != "$2" ]; then
		echo "jq '$1' gave '$got', expected '$2' in: ${3-$output}"
		return 1
	fi
}

# The config slot the datapath reads, straight from the maps (not through kanaryctl).
map_cfg() {	# SVC_ID -> the live config as JSON
	local ref id slot
	ref=$(bpftool -j map dump pinned "$PIN/kanary_svc_v1") || return 1
	id=$1
	slot=$(jq -r --argjson id "$id" '.[] | select(.formatted.value.id == $id) | .formatted.value.slot' <<<"$ref")
	[ -n "$slot" ] || { echo "no service map entry points to id $id" >&2; return 1; }
	bpftool -j map lookup pinned "$PIN/kanary_cfg_v1" key $((id * 2 + slot)) 0 0 0 |
		jq -c --argjson slot "$slot" '.formatted.value + {slot: $slot}'
}

u64s() {	# V...: each value (0-255) as the 8 little-endian bytes bpftool takes
	local v
	for v; do printf '%d 0 0 0 0 0 0 0 ' "$v"; done
}

possible_cpus() {	# what libbpf_num_possible_cpus() counts
	local n=0 part lo hi
	local -a parts
	IFS=, read -ra parts </sys/devices/system/cpu/possible
	for part in "${parts[@]}"; do
		lo=${part%-*}
		hi=${part#*-}
		n=$((n + hi - lo + 1))
	done
	echo "$n"
}

# A veth pair inside the test's netns: vh0 (the "host" side) and vp0.
make_veth() {
	ip -n "$NS" link add vh0 type veth peer name vp0 &&
		ip -n "$NS" link set vh0 up && ip -n "$NS" link set vp0 up
}
