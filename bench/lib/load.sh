# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# shellcheck shell=bash
# The load generators, all run in the client pod; each prints one JSON object.
#   load_rps URL SECS close|keepalive   closed loop, wrk (tests/lib/traffic.sh)
#   load_fixed URL SECS RATE            open loop at RATE req/s, h2load: latency
#                                       percentiles and whole-machine CPU
#   load_bulk URL SECS STREAMS          /big over STREAMS keep-alive streams
# Sourced by bench/run after tests/lib/cluster.sh.

# Busy and total jiffies of the whole machine (all CPUs, softirq included).
cpu_jiffies() {
	awk '$1 == "cpu" { t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t; exit }' /proc/stat
}

load_rps() {
	wrk_run "$1" "$2" "$BENCH_CONNS" "$3"
}

# CPU ticks (utime + stime) of every process in the bench's server-side
# namespaces: the pods and the node (where the proxies run).  With tick
# accounting (no IRQ time accounting, as here) softirq work, the packet path
# and the BPF programs included, is charged to the task it interrupted.
ns_ticks() {
	local ns pids
	pids=$(for ns in "${KN_SERVER_PODS[@]}" node; do ip netns pids "$(ns_of "$ns")"; done)
	# shellcheck disable=SC2046,SC2086 # one pid per word
	(cd /proc && cat $(printf '%s/stat ' $pids) 2>/dev/null) |
		awk '{ sub(/^.*\) /, ""); t += $12 + $13 } END { print t + 0 }'
}

# h2load holds FIXED_CLIENTS keep-alive connections, each sending RATE /
# FIXED_CLIENTS requests a second whatever the answers' pace (open loop), and
# logs every request's time; percentiles come from that log.  CPU per
# request is counted two ways: "us_per_request" sums the CPU of every
# process taking part (h2load, pods, proxies, and the softirq work done in
# their context), the figure the goals use; "machine_us_per_request" is the
# whole machine's busy time from /proc/stat, which other processes on a
# shared machine make noisy.
load_fixed() {
	local url=$1 secs=$2 rate=$3 log out b0 t0 b1 t1 n0 n1 client_s hz
	local per=$((rate / FIXED_CLIENTS))
	log=$(mktemp "$KN_TMP/h2load.XXXXXX")
	hz=$(getconf CLK_TCK)
	n0=$(ns_ticks)
	read -r b0 t0 < <(cpu_jiffies)
	# `times` prints the shell's children's user and system time: h2load's.
	client_s=$(timeout --foreground $((secs + 30)) ip netns exec "$(ns_of client)" bash -c '
		h2load --h1 -c "$1" --rps "$2" -D "$3" --log-file "$4" "$5" >"$4.out" 2>&1 || exit 1
		times | awk "NR == 2 { gsub(/[ms]/, \" \"); print \$1 * 60 + \$2 + \$3 * 60 + \$4 }"' \
		_ "$FIXED_CLIENTS" "$per" "$secs" "$log" "$url") || {
		echo "load_fixed: h2load to $url failed:" >&2
		cat "$log.out" >&2
		rm -f "$log" "$log.out"
		return 1
	}
	read -r b1 t1 < <(cpu_jiffies)
	n1=$(ns_ticks)
	# Columns: start (us since epoch), status, microseconds to the end of the response.
	sort -n -k3,3 "$log" | awk -v busy=$((b1 - b0)) -v total=$((t1 - t0)) -v hz="$hz" \
		-v ns=$((n1 - n0)) -v client="$client_s" -v secs="$secs" -v rate="$rate" '
		{ n++; if ($2 == 200) ok++; v[n] = $3 }
		function pct(p,  i) { i = int(n * p / 100 + 0.999999); if (i < 1) i = 1; return v[i] }
		END {
			if (n == 0) exit 1
			printf "{\"rate\":%d,\"seconds\":%d,\"requests\":%d,\"ok\":%d,", rate, secs, n, ok
			printf "\"latency_us\":{\"p50\":%d,\"p99\":%d,\"p999\":%d,\"max\":%d},", pct(50), pct(99), pct(99.9), v[n]
			printf "\"cpu\":{\"client_s\":%.3f,\"servers_s\":%.3f,\"us_per_request\":%.2f,", \
				client, ns / hz, (client + ns / hz) * 1e6 / n
			printf "\"busy_s\":%.3f,\"total_s\":%.3f,\"machine_us_per_request\":%.2f}}\n", \
				busy / hz, total / hz, busy / hz * 1e6 / n
		}' || { echo "load_fixed: h2load to $url logged no request: $(cat "$log.out")" >&2; rm -f "$log" "$log.out"; return 1; }
	rm -f "$log" "$log.out"
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
