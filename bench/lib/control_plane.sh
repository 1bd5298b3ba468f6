# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# shellcheck shell=bash
# Control plane: how long from a manifest edit to the new weights in the
# kernel, with kanaryd watching the manifests, at 2 and at 10,000 services;
# how long kanaryd takes to create them; and the memory of the pinned maps
# at each size.
#
# Each size gets a kanary instance of its own: a directory in the run's
# bpffs, loaded by kanaryd in an empty network namespace (kanary_load
# re-attaches every kanary filter of its netns, so it must not see the
# contenders' interfaces), and removed afterwards.

# kanaryctl on instance PIN; no netns needed to read the maps.
cp_kctl() {
	local pin=$1
	shift
	"$KANARYCTL" --pin-path "$pin" "$@"
}

# The weights of SERVICE at PIN as the kernel map holds them, "safe=W risky=W".
kernel_weights() {
	cp_kctl "$1" -j weight show "$2" 2>/dev/null |
		jq -r '[.. | objects | select(has("name") and has("weight")) | "\(.name)=\(.weight)"] | join(" ")' 2>/dev/null
}

cp_services() {
	cp_kctl "$1" -j service list 2>/dev/null | jq 'length' 2>/dev/null || echo 0
}

# scale_manifests DIR N: N more Services in namespace scale, each on its own
# cluster IP (10.100.0.0 up) and selecting the same two pods, as kubectl
# prints them minus the fields kanaryd does not read.  Without
# VirtualServices: see docs/bench.md (kanaryd's desired-state build).
scale_manifests() {
	awk -v n="$2" -v dir="$1" 'BEGIN {
		out = dir "/scale-services.yaml"
		for (i = 0; i < n; i++)
			printf "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: svc-%d\n  namespace: scale\nspec:\n  clusterIP: 10.%d.%d.%d\n  ports:\n  - port: 80\n    protocol: TCP\n    targetPort: 80\n  selector:\n    app: filler\n",
				i, 100 + int(i / 65536), int(i / 256) % 256, i % 256 > out
		out = dir "/scale-pods.yaml"
		for (p = 0; p < 2; p++)
			printf "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: filler-%d\n  namespace: scale\n  labels:\n    app: filler\nspec:\n  containers:\n  - name: c\n    ports:\n    - containerPort: 80\nstatus:\n  phase: Running\n  podIP: 10.245.0.%d\n  conditions:\n  - type: Ready\n    status: \"True\"\n", p, p + 2 > out
	}'
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

# cp_instance runs in a command substitution: its kanaryd's pid is kept in
# a file, for bench/run's cleanup when the run is interrupted.
cp_pidfile() {
	echo "${KN_TMP:-/nonexistent}/bench/kanaryd.pid"
}

# CPU time PID has used, in microseconds (precise, unlike utime and stime).
cp_cpu_us() {
	local ns
	read -r ns _ <"/proc/$1/schedstat" 2>/dev/null || { echo 0; return; }
	echo $((ns / 1000))
}

# Until kanaryd (PID) is idle: its pass is over, status and records saved.
cp_settle() {
	local pid=$1 a b i
	b=$(cp_cpu_us "$pid")
	for ((i = 0; i < 600; i++)); do
		sleep 0.1
		a=$b
		b=$(cp_cpu_us "$pid")
		((b - a < 1000)) && return 0
	done
	return 1
}

cp_stop() {
	local pid
	pid=$(cat "$(cp_pidfile)" 2>/dev/null) || return 0
	kill "$pid" 2>/dev/null || true
	while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
	rm -f "$(cp_pidfile)"
}

# cp_instance NAME FILLERS MAX_SERVICES REPS: kanaryd on examples/ (the
# greeting canary and message, 2 services) plus FILLERS more, on a new
# instance sized for MAX_SERVICES (empty: kanaryd's default).  Times from
# kanaryd's start until all of them are in the maps, then REPS edits of
# greeting's VirtualService, each a new file renamed into place, until
# 'kanaryctl weight show' reads the new weights from the map (polled back
# to back).  Also kanaryd's own CPU time for each: on this shared machine,
# wall times follow the other load, CPU times much less.  Prints one JSON
# object.
cp_instance() {
	local name=$1 fillers=$2 max=$3 reps=$4
	local pin=$KN_PIN/$name dir=$KN_TMP/bench/$name log=$KN_TMP/bench/$name.log
	local want=$((fillers + 2)) i w1 w2 t0 t1 c0 got have pid created_ms create_cpu bytes
	local samples=() cpu=()
	local kanaryd=$KN_REPO/bin/kanaryd
	[[ -x $kanaryd ]] || { echo "bench: $kanaryd not built" >&2; return 1; }
	mkdir -p "$pin" "$dir/manifests" "$dir/run" || return 1
	cp "$KN_REPO"/examples/*.yaml "$dir/manifests/" || return 1
	((fillers > 0)) && scale_manifests "$dir/manifests" "$fillers"
	t0=$(date +%s%N)
	# Output to the log: nothing may hold the command substitution's pipe.
	KANARY_RUN_DIR=$dir/run unshare -n "$kanaryd" --pin-path "$pin" ${max:+--max-services "$max"} \
		--manifests "$dir/manifests" 3>&- >"$log" 2>&1 &
	pid=$!
	echo "$pid" >"$(cp_pidfile)"
	have=0
	while ((have < want)) && kill -0 "$pid" 2>/dev/null && (($(date +%s%N) - t0 < 120000000000)); do
		sleep 0.05
		have=$(cp_services "$pin")
	done
	t1=$(date +%s%N)
	if ((have < want)); then
		echo "bench: kanaryd made $have of $want services at $pin within 120 s; log:" >&2
		tail -5 "$log" >&2
		cp_stop
		return 1
	fi
	created_ms=$(((t1 - t0) / 1000000))
	cp_settle "$pid"
	create_cpu=$(($(cp_cpu_us "$pid") / 1000))
	printf '    %5d services: kanaryd created them in %d ms (%d ms of its CPU, first pass)\n' \
		"$want" "$created_ms" "$create_cpu" >&2
	for ((i = 1; i <= reps; i++)); do
		if ((i % 2)); then w1=70 w2=30; else w1=80 w2=20; fi
		got=
		c0=$(cp_cpu_us "$pid")
		t0=$(date +%s%N)
		awk -v a="$w1" -v b="$w2" '/^ *weight: [0-9]+$/ { n++; sub(/[0-9]+$/, n == 1 ? a : b) } 1' \
			"$dir/manifests/virtualservice.yaml" >"$dir/manifests/.vs.tmp" &&
			mv "$dir/manifests/.vs.tmp" "$dir/manifests/virtualservice.yaml"
		while (($(date +%s%N) - t0 < 60000000000)); do
			got=$(kernel_weights "$pin" default/greeting)
			[[ $got == *"=$w1"* && $got == *"=$w2"* ]] && break
		done
		t1=$(date +%s%N)
		if [[ $got != *"=$w1"* || $got != *"=$w2"* ]]; then
			echo "bench: the kernel never showed weights $w1/$w2 at $want services (last: $got)" >&2
			break
		fi
		samples+=($(((t1 - t0) / 1000)))
		cp_settle "$pid"
		cpu+=($(($(cp_cpu_us "$pid") - c0)))
	done
	((${#samples[@]})) && printf '    %5d services: edit -> kernel %s ms; kanaryd CPU per edit %s ms\n' "$want" \
		"$(printf '%s\n' "${samples[@]}" | awk '{ printf "%s%d", (NR > 1 ? " " : ""), $1 / 1000 }')" \
		"$(printf '%s\n' "${cpu[@]}" | awk '{ printf "%s%d", (NR > 1 ? " " : ""), $1 / 1000 }')" >&2
	bytes=$(pins_memlock "$pin")
	# Two config slots per service id.
	max=$(bpftool -j map show pinned "$pin/kanary_cfg_v1" | jq '.max_entries / 2')
	cp_stop
	cp_kctl "$pin" unload >/dev/null 2>&1
	rmdir "$pin" 2>/dev/null
	jq -n --argjson services "$want" --argjson max "$max" --argjson created "$created_ms" \
		--argjson create_cpu "$create_cpu" --argjson bytes "$bytes" \
		--argjson wall "$(printf '%s\n' "${samples[@]}" | jq -s 'map(. / 1000)')" \
		--argjson cpu "$(printf '%s\n' "${cpu[@]}" | jq -s 'map(. / 1000)')" \
		'def med: sort | if length > 0 then .[length / 2 | floor] else null end;
		 {services: $services, max_services: $max, create_ms: $created, create_cpu_ms: $create_cpu,
		  bytes_memlock: $bytes, samples_ms: $wall, median_ms: ($wall | med),
		  max_ms: ($wall | max), kanaryd_cpu_ms: $cpu, kanaryd_cpu_median_ms: ($cpu | med)}'
}

# cp_latency REPS REPS_10K: the control plane at 2 and at 10,000 services,
# a JSON array.
cp_latency() {
	local small big
	small=$(cp_instance cp-small 0 "" "$1") || return 1
	big=$(cp_instance cp-10k 9998 10240 "$2") || return 1
	jq -s . <<<"$small $big"
}
