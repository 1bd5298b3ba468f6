# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# shellcheck shell=bash
# Control plane: how long from a manifest edit to the new weights in the
# kernel, with kanaryd watching the manifests; and the memory of the pins.

# The weights of SERVICE as the kernel map holds them, "safe=W risky=W".
kernel_weights() {
	kctl -j weight show "$1" 2>/dev/null |
		jq -r '[.. | objects | select(has("name") and has("weight")) | "\(.name)=\(.weight)"] | join(" ")' 2>/dev/null
}

# cp_latency REPS: kanaryd on examples/ (the greeting canary, 1 service);
# each repetition flips the VirtualService's weights and times until the
# kernel map shows them.  Prints {samples_ms: [...], ...}.
cp_latency() {
	local reps=$1 dir log pid i w1 w2 t0 t1 got samples=()
	local kanaryd=$KN_REPO/bin/kanaryd
	[[ -x $kanaryd ]] || { echo "bench: $kanaryd not built" >&2; return 1; }
	dir=$KN_TMP/bench/manifests
	log=$KN_TMP/bench/kanaryd.log
	mkdir -p "$dir" "$KN_TMP/bench/run" || return 1
	cp "$KN_REPO"/examples/*.yaml "$dir"/ || return 1
	KANARY_RUN_DIR=$KN_TMP/bench/run KANARY_PIN_PATH="$KN_PIN" ip netns exec "$KN_NODE" \
		"$kanaryd" --manifests "$dir" 3>&- 2>"$log" &
	pid=$!
	for _ in $(seq 100); do
		[[ -n $(kernel_weights default/greeting) ]] && break
		sleep 0.1
	done
	if [[ -z $(kernel_weights default/greeting) ]]; then
		echo "bench: kanaryd did not create default/greeting within 10 s; log:" >&2
		tail -5 "$log" >&2
		kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
		return 1
	fi
	for ((i = 1; i <= reps; i++)); do
		if ((i % 2)); then w1=70 w2=30; else w1=80 w2=20; fi
		got=
		t0=$(date +%s%N)
		# A whole new file renamed into place, as kubectl-driven tools write.
		awk -v a="$w1" -v b="$w2" '/^ *weight: [0-9]+$/ { n++; sub(/[0-9]+$/, n == 1 ? a : b) } 1' \
			"$dir/virtualservice.yaml" >"$dir/.vs.tmp" && mv "$dir/.vs.tmp" "$dir/virtualservice.yaml"
		for _ in $(seq 2000); do
			got=$(kernel_weights default/greeting)
			[[ $got == *"=$w1"* && $got == *"=$w2"* ]] && break
		done
		t1=$(date +%s%N)
		if [[ $got != *"=$w1"* || $got != *"=$w2"* ]]; then
			echo "bench: the kernel never showed weights $w1/$w2 (last: $got)" >&2
			break
		fi
		samples+=($(((t1 - t0) / 1000)))
		sleep 0.3
	done
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	printf '%s\n' "${samples[@]}" | jq -s '{samples_ms: map(. / 1000), services: 1,
		median_ms: (sort | if length > 0 then .[length / 2 | floor] / 1000 else null end)}'
}

# Bytes the kernel charges for every pinned map under DIR.
pins_memlock() {
	local f total=0 b
	for f in "$1"/kanary_*; do
		b=$(bpftool -j map show pinned "$f" 2>/dev/null | jq '.bytes_memlock // 0') || b=0
		total=$((total + b))
	done
	echo "$total"
}

# Memory of the pinned maps as loaded by default (4,096 services) and as
# loaded for 10,000 services (max-services 10240), each in a private mount
# and network namespace.  The maps are preallocated: the size is fixed by
# the limits, not by how many services are in them.
cp_memory() {
	local n out=() bytes
	for n in 4096 10240; do
		bytes=$(unshare -m -n --propagation private bash -c '
			d=$(mktemp -d) && mount -t bpf bpf "$d" &&
			"$1" --pin-path "$d" load max-services "$2" max-backends $(( $2 * 4 + 64 )) >/dev/null &&
			source "$3" && pins_memlock "$d"; rc=$?; umount "$d"; rmdir "$d"; exit $rc' _ \
			"$KANARYCTL" "$n" "${BASH_SOURCE[0]}") || { echo "bench: cannot load kanary with max-services $n" >&2; return 1; }
		out+=("{\"max_services\":$n,\"bytes_memlock\":$bytes}")
	done
	printf '%s\n' "${out[@]}" | jq -s .
}
