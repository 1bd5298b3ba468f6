# The load generators, all run in the client pod; each prints one JSON object.
#   load_rps URL SECS close|keepalive   closed loop, wrk (tests/lib/traffic.sh)
#   load_rps_spread SECS close|keepalive  the same, one wrk per pod with
#                                       SPREAD_SHARE % of the connections, summed
#   load_hdr URL SECS same|switch       keep-alive, one connection per wrk
#                                       thread, every request (same) or every
#                                       other one (switch) with x-my-header:
#                                       dark; CPU per request
#   load_fixed SECS RATE LOG CLIENTS@URL...  open loop at RATE req/s in all,
#                                       h2load per target: latency percentiles
#                                       (every request's time kept in LOG) and CPU
#   load_bulk URL SECS STREAMS          /big over STREAMS keep-alive streams
# Sourced by bench/run after tests/lib/cluster.sh.

# cpu_jiffies [N]: busy and total jiffies of the whole machine (all CPUs,
# softirq included), or of CPU N.
cpu_jiffies() {
	awk -v cpu="cpu${1-}" '$1 == cpu { t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t; exit }' /proc/stat
}

# CPU time in ns of every thread in the bench's server-side namespaces: the
# pods and the node (where the proxies run), from /proc's schedstat (its run
# time, to the ns).  utime + stime were in clock ticks: 10 ms over the 4,000
# requests of a fixed-rate round is 2.5 us a request, a tenth of the figure,
# too coarse for the accounting's 1.03x goal.  Without IRQ time accounting
# (as here) softirq work, the packet path and the BPF programs included,
# runs on the clock of the task it interrupted, so it is counted too.
ns_cpu_ns() {
	local ns pids
	pids=$(for ns in "${KN_SERVER_PODS[@]}" node; do ip netns pids "$(ns_of "$ns")"; done)
	# shellcheck disable=SC2046,SC2086 # one pid per word
	(cd /proc && cat $(printf '%s/task/*/schedstat ' $pids) 2>/dev/null) |
		awk '{ t += $1 } END { printf "%.0f\n", t }'
}

# Run time (ns) and run count of the bench's kanary programs, the ones
# pinned under KN_PIN now, summed: "NS RUNS".  Not every program named
# kanary_*: a load (kanary_noacct's enter and leave) replaces them, and the
# old ones, listed until freed, would leave the sum between two readings.
# The kernel counts only while kernel.bpf_stats_enabled is 1.
bpf_run_ns() {
	local p
	for p in prog_ingress prog_egress prog_sockops; do
		bpftool prog show pinned "$KN_PIN/$p" -j
	done | jq -rs '"\(map(.run_time_ns // 0) | add // 0) \(map(.run_cnt // 0) | add // 0)"'
}

load_rps() {
	wrk_run "$1" "$2" "$BENCH_CONNS" "$3"
}

# Direct spread: the client's connections over the pods as the 80/20
# contenders spread theirs, one wrk (-t2) per pod running at once.
load_rps_spread() {
	local secs=$1 mode=$2 pod conns out=() pids=() i
	for pod in "${!SPREAD_SHARE[@]}"; do
		conns=$(((BENCH_CONNS * SPREAD_SHARE[$pod] + 50) / 100))
		out+=("$(mktemp "$KN_TMP/spread.XXXXXX")")
		wrk_run "http://$(pod_ip "$pod")/" "$secs" "$conns" "$mode" >"${out[-1]}" &
		pids+=($!)
	done
	for i in "${!pids[@]}"; do
		wait "${pids[$i]}" || { echo "load_rps_spread: a wrk failed" >&2; rm -f "${out[@]}"; return 1; }
	done
	jq -cs '{requests: (map(.requests) | add), rps: (map(.rps) | add),
		errors: (map(.errors) | reduce .[] as $e ({}; . as $a | $e | with_entries(.value += ($a[.key] // 0)))),
		latency_us: {p99: (map(.latency_us.p99) | max)}, parts: length}' "${out[@]}"
	rm -f "${out[@]}"
}

# client_timed OUT CMD...: CMD in the client pod, its output in OUT; prints
# CMD's user + system seconds (bash's `times` of its children).
client_timed() {
	local out=$1
	shift
	ip netns exec "$(ns_of client)" bash -c '
		out=$1; shift
		"$@" >"$out" 2>&1 || exit 1
		times | awk "NR == 2 { gsub(/[ms]/, \" \"); print \$1 * 60 + \$2 + \$3 * 60 + \$4 }"' _ "$out" "$@"
}

# Keep-alive with header routing.  One connection per wrk thread (-t N -c
# N): wrk's request() counts per thread, so "switch" strictly alternates the
# header on every connection.  CPU per request is counted as in load_fixed
# (client + every process of the pods and the node), over the whole run.
load_hdr() {
	local url=$1 secs=$2 kind=$3 c=$HDR_CONNS out n0 n1 client_s alt=none
	[[ $kind == switch ]] && alt=1
	[[ $kind == same ]] || [[ $kind == switch ]] || { echo "load_hdr: same or switch, got '$kind'" >&2; return 1; }
	out=$(mktemp "$KN_TMP/hdr.XXXXXX")
	n0=$(ns_cpu_ns)
	client_s=$(WRK_ALTERNATE=$alt client_timed "$out" timeout --foreground $((secs + 30)) \
		wrk -t "$c" -c "$c" -d "${secs}s" --timeout 2s \
		-s "$KN_LIB_DIR/wrk-report.lua" "${url}echo") || {
		echo "load_hdr: wrk to ${url}echo failed:" >&2; cat "$out" >&2; rm -f "$out"; return 1; }
	n1=$(ns_cpu_ns)
	sed -n 's/^WRK_JSON //p' "$out" | jq -c --argjson client "$client_s" --argjson ns "$((n1 - n0))" \
		--argjson conns "$c" \
		'{requests, rps, errors, conns: $conns, latency_us: {p50: .latency_us.p50, p99: .latency_us.p99},
		  cpu: {client_s: $client, servers_s: ($ns / 1e9), us_per_request: (($client + $ns / 1e9) * 1e6 / .requests)}}'
	rm -f "$out"
}

# h2load holds CLIENTS keep-alive connections per target, each sending
# RATE / FIXED_CLIENTS requests a second whatever the answers' pace (open
# loop), and logs every request's time (all targets' in LOG); percentiles
# come from that log, less each h2load's first WARMUP_MS: every connection
# opens there, and its first request waits for that (2.0-2.4 ms where the
# p99 is ~1.1 ms; 20 of a round's 4,000 requests, half the p99's tail).
# Several targets run at once (Direct spread).  CPU per request, over every
# request, is counted two ways: "us_per_request" sums the CPU of every
# process taking part (h2load, pods, proxies, and the softirq work done in
# their context), the figure the goals use; "machine_us_per_request" is the
# whole machine's busy time from /proc/stat, which other processes on a
# shared machine make noisy.
load_fixed() {
	local secs=$1 rate=$2 log=$3 b0 t0 b1 t1 n0 n1 client_s hz t out all
	shift 3
	local per=$((rate / FIXED_CLIENTS)) script='' i=0
	hz=$(getconf CLK_TCK)
	out=$(mktemp "$KN_TMP/h2load.XXXXXX")
	for t in "$@"; do
		script+="h2load --h1 -c ${t%%@*} --rps $per -D $secs --log-file $log.$i ${t#*@} >$out.$i 2>&1 & "
		i=$((i + 1))
	done
	script+='for p in $(jobs -p); do wait $p || exit 1; done'
	n0=$(ns_cpu_ns)
	read -r b0 t0 < <(cpu_jiffies)
	client_s=$(client_timed "$out" timeout --foreground $((secs + 30)) bash -c "$script") || {
		echo "load_fixed: h2load to $* failed:" >&2
		cat "$out"* >&2
		rm -f "$out"* "$log".*
		return 1
	}
	read -r b1 t1 < <(cpu_jiffies)
	n1=$(ns_cpu_ns)
	# Columns: start (us since epoch), status, microseconds to the end of the response.
	all=$(cat "$log".* | wc -l)
	for t in "$log".*; do
		sort -n -k1,1 "$t" | awk -v w=$((WARMUP_MS * 1000)) 'NR == 1 { t0 = $1 } $1 >= t0 + w'
	done >"$log" && rm -f "$log".* "$out"*
	sort -n -k3,3 "$log" | awk -v busy=$((b1 - b0)) -v total=$((t1 - t0)) -v hz="$hz" -v all="$all" \
		-v ns=$((n1 - n0)) -v client="$client_s" -v secs="$secs" -v rate="$rate" -v warm="$WARMUP_MS" '
		{ n++; if ($2 == 200) ok++; v[n] = $3 }
		function pct(p,  i) { i = int(n * p / 100 + 0.999999); if (i < 1) i = 1; return v[i] }
		END {
			if (n == 0) exit 1
			printf "{\"rate\":%d,\"seconds\":%d,\"warmup_ms\":%d,\"requests\":%d,\"measured\":%d,\"ok\":%d,", rate, secs, warm, all, n, ok
			printf "\"latency_us\":{\"p50\":%d,\"p99\":%d,\"p999\":%d,\"max\":%d},", pct(50), pct(99), pct(99.9), v[n]
			printf "\"cpu\":{\"client_s\":%.3f,\"servers_s\":%.3f,\"us_per_request\":%.2f,", \
				client, ns / 1e9, (client + ns / 1e9) * 1e6 / all
			printf "\"busy_s\":%.3f,\"total_s\":%.3f,\"machine_us_per_request\":%.2f}}\n", \
				busy / hz, total / hz, busy / hz * 1e6 / all
		}' || { echo "load_fixed: h2load to $* logged no request" >&2; return 1; }
}

load_bulk() {
	local url=$1 secs=$2 streams=$3 threads=1 text
	((streams > 1)) && threads=2
	text=$(timeout --foreground $((secs + 30)) ip netns exec "$(ns_of client)" \
		wrk -t "$threads" -c "$streams" -d "${secs}s" --timeout 10s \
		-s "$KN_LIB_DIR/wrk-report.lua" "${url}big" 2>&1) || {
		echo "load_bulk: wrk to ${url}big failed:" >&2
		printf '%s\n' "$text" >&2
		return 1
	}
	sed -n 's/^WRK_JSON //p' <<<"$text" | jq -c --argjson streams "$streams" \
		'{streams: $streams, requests, bytes, duration_us, errors,
		  gbit_s: (.bytes * 8 / .duration_us / 1000)}'
}
