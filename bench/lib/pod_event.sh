# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# shellcheck shell=bash
# Control plane at cluster scale: one pod event with 10,000 Services of
# 10 pods each (100,000 pods), what it costs kanaryd (CPU, and the time
# until the service's backends change in the kernel) and its memory.
# Goal (issue 15): under 50 ms of kanaryd CPU per event, under 512 MiB
# resident.  kanaryd reads files here (no API server can hold 100,000
# pods in the tests' stand-in): the pods are in 1,000 files of 100, and
# an event is one pod of one file turning not ready, then ready again.
# Uses cp_cpu_us, cp_settle and pins_memlock of control_plane.sh.

PE_SERVICES=10000
PE_PODS_PER_SERVICE=10

# pe_manifests DIR: the Services (namespace scale, app: aI) and their pods.
pe_manifests() {
	awk -v dir="$1" -v ns="$PE_SERVICES" -v per="$PE_PODS_PER_SERVICE" 'BEGIN {
		for (i = 0; i < ns; i++) {
			printf "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: svc-%d\n  namespace: scale\nspec:\n  clusterIP: 10.%d.%d.%d\n  ports:\n  - name: http\n    port: 80\n    targetPort: 80\n  selector:\n    app: a%d\n",
				i, 100 + int(i / 65536), int(i / 256) % 256, i % 256, i > (dir "/services.yaml")
			for (p = 0; p < per; p++) {
				n = i * per + p
				printf "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: p-%d\n  namespace: scale\n  labels:\n    app: a%d\n    version: v%d\nstatus:\n  phase: Running\n  podIP: 10.%d.%d.%d\n  conditions:\n  - type: Ready\n    status: \"%s\"\n",
					n, i, p % 2, 200 + int(n / 65536), int(n / 256) % 256, n % 256, "True" > (dir "/pods-" int(n / 100) ".yaml")
			}
		}
	}'
}

# pe_flip DIR POD READY: rewrites POD's Ready condition in its file, renamed into place.
pe_flip() {
	local n=${2#p-} f
	f="$1/pods-$((n / 100)).yaml"
	awk -v pod="$2" -v to="$3" '$0 == "  name: " pod { hit = 1 }
		hit && /^    status: "/ { $0 = "    status: \"" to "\""; hit = 0 } 1' "$f" >"$1/.flip.tmp" &&
		mv "$1/.flip.tmp" "$f"
}

# cp_pod_event REPS: one JSON object; REPS events, alternately a pod going
# not ready and coming back.
cp_pod_event() {
	local reps=$1 pin=$KN_PIN/pod-event dir=$KN_TMP/bench/pod-event log=$KN_TMP/bench/pod-event.log
	local kanaryd=${PE_KANARYD:-$KN_REPO/bin/kanaryd} pid t0 t1 c0 i svc pod want start_ms start_cpu rss
	local wall=() cpu=()
	[[ -x $kanaryd ]] || { echo "bench: $kanaryd not built" >&2; return 1; }
	mkdir -p "$pin" "$dir/manifests" "$dir/run" || return 1
	pe_manifests "$dir/manifests" || return 1
	t0=$(date +%s%N)
	# Two config slots per service, and room for both slots' backends.
	KANARY_RUN_DIR=$dir/run unshare -n bash -c "
		'$KANARYCTL' --pin-path '$pin' load max-services $((PE_SERVICES + 240)) \
			max-backends $((4 * PE_SERVICES * PE_PODS_PER_SERVICE)) cgroup none >/dev/null &&
		exec '$kanaryd' --pin-path '$pin' --manifests '$dir/manifests'" 3>&- >"$log" 2>&1 &
	pid=$!
	echo "$pid" >"$(cp_pidfile)"
	# bash execs kanaryd: the same pid once it runs.
	while ! grep -q "scale/svc-$((PE_SERVICES - 1)): created" "$log" 2>/dev/null; do
		kill -0 "$pid" 2>/dev/null && (($(date +%s%N) - t0 < 300000000000)) ||
			{ echo "bench: kanaryd did not create $PE_SERVICES services within 300 s; log:" >&2
			  tail -5 "$log" >&2; cp_stop; return 1; }
		sleep 0.2
	done
	start_ms=$((($(date +%s%N) - t0) / 1000000))
	cp_settle "$pid"
	start_cpu=$(($(cp_cpu_us "$pid") / 1000))
	printf '    %d services, %d pods: kanaryd started in %d ms (%d ms of its CPU)\n' "$PE_SERVICES" \
		$((PE_SERVICES * PE_PODS_PER_SERVICE)) "$start_ms" "$start_cpu" >&2
	for ((i = 1; i <= reps; i++)); do
		svc=$(((i * 997) % PE_SERVICES))
		pod=p-$((svc * PE_PODS_PER_SERVICE + 3))
		want=$((PE_PODS_PER_SERVICE - 1))
		c0=$(cp_cpu_us "$pid")
		t0=$(date +%s%N)
		pe_flip "$dir/manifests" "$pod" False
		until grep -q "scale/svc-$svc: updated: default 100 \[$want pods\]" "$log"; do
			(($(date +%s%N) - t0 < 60000000000)) ||
				{ echo "bench: svc-$svc never lost $pod in 60 s" >&2; cp_stop; return 1; }
			sleep 0.01
		done
		t1=$(date +%s%N)
		# kanaryd writes its status file at most once a second: past that
		# second, a write held back by this event is counted in it too.
		sleep 1.1
		cp_settle "$pid"
		wall+=($(((t1 - t0) / 1000000)))
		cpu+=($((($(cp_cpu_us "$pid") - c0) / 1000)))
		pe_flip "$dir/manifests" "$pod" True	# back, for the next event's baseline
		sleep 1.1	# and its held status write, out of the next event's figures
		cp_settle "$pid"
	done
	rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")
	printf '    one pod event: to the kernel %s ms; kanaryd CPU %s ms; resident %d MiB\n' \
		"${wall[*]}" "${cpu[*]}" $((rss / 1024)) >&2
	cp_stop
	"$KANARYCTL" --pin-path "$pin" unload >/dev/null 2>&1
	umount "$pin" 2>/dev/null	# the bpffs load mounted there, if unload left it
	rm -rf "$pin" "$dir"
	jq -n --argjson services "$PE_SERVICES" --argjson pods $((PE_SERVICES * PE_PODS_PER_SERVICE)) \
		--argjson start "$start_ms" --argjson start_cpu "$start_cpu" --argjson rss "$rss" \
		--argjson wall "$(printf '%s\n' "${wall[@]}" | jq -s .)" \
		--argjson cpu "$(printf '%s\n' "${cpu[@]}" | jq -s .)" \
		'def med: sort | .[length / 2 | floor];
		 {services: $services, pods: $pods, start_ms: $start, start_cpu_ms: $start_cpu,
		  rss_kib: $rss, to_kernel_ms: $wall, kanaryd_cpu_ms: $cpu,
		  to_kernel_median_ms: ($wall | med), kanaryd_cpu_median_ms: ($cpu | med)}'
}
