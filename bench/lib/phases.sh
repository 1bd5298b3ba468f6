# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# shellcheck shell=bash
# The timed phases of bench/run, each appending one JSON object per
# contender and repetition (or round) to RAW; summary.jq merges the objects
# of the same contender and repetition.
#   phase_throughput   wrk: new connections, keep-alive, bulk
#   phase_switching    keep-alive with header routing, no switch and a
#                      switch on every request (HDR contenders)
#   phase_latency      open loop at FIXED_RATE, in rounds; every request's
#                      time kept for pooled percentiles (latency_pooled)
#   phase_accounting   HTTP accounting on against off, in pairs of
#                      fixed-rate runs, the kernel timing the BPF programs
#                      (its own file, ACCT_RAW; accounting.jq sums it up)
# Sourced by bench/run after load.sh and contenders.sh.

# rotated REP LIST...: LIST in the order of repetition REP.  Repetitions go
# in mirrored pairs: 2k+1 is LIST rotated by 2k, 2k+2 the same reversed, so
# each contender is first in some repetitions and last in others, and runs
# as often just after a given neighbour as just before it.  A plain
# rotation kept every neighbour on the same side: Direct again always ran
# just after Direct (and Direct just after HAProxy), and its p99 read
# x0.895 of Direct's (median of the rounds' ratios) over the latency
# rounds of 2026-12-07 22:08.
rotated() {
	local rep=$1 i k
	shift
	local -a l=("$@")
	local n=${#l[@]}
	k=$(((rep - 1) / 2 * 2))
	for ((i = 0; i < n; i++)); do
		if (((rep - 1) % 2 == 0)); then
			echo "${l[$(((i + k) % n))]}"
		else
			echo "${l[$(((k + n - 1 - i) % n))]}"
		fi
	done
}

# Every request of a short alternating run answered by the right subset, and
# the proxies' keep-alive to the pods really on (new pod connections per
# request).  Prints one line for the log; fails when the routing is wrong.
check_alternating() {
	local c=$1 url json a0=0 a1=0 pod n opened plain_ok="safe1 safe2 risky1"
	url=$(contender_url "$c")
	[[ $c == *_hdr ]] && plain_ok="safe1 safe2"
	for pod in "${KN_SERVER_PODS[@]}"; do a0=$((a0 + $(pod_accepts "$pod"))); done
	json=$(WRK_EXPECT="safe1 safe2 risky1" WRK_ALTERNATE=1 \
		wrk_run "${url}echo" 1 4 keepalive "" -t 4) || return 1
	for pod in "${KN_SERVER_PODS[@]}"; do a1=$((a1 + $(pod_accepts "$pod"))); done
	n=$(jq '.requests' <<<"$json")
	opened=$((a1 - a0 - ${#KN_SERVER_PODS[@]}))
	jq -e --arg ok "$plain_ok" '.bad_bodies == 0 and .errors.status == 0 and (.bodies["risky1/dark"] // 0) > 0
		and ([.bodies | to_entries[] | select(.key | endswith("/plain")) | .key | rtrimstr("/plain")]
		     | all(. as $p | $ok | split(" ") | index($p)))' <<<"$json" >/dev/null || {
		echo "bench/run: $c: alternating x-my-header routed wrong: $json" >&2
		return 1
	}
	echo "alternating header: $n requests, each answered by its subset; $opened pod connections opened"
}

phase_throughput() {
	local rep c url close keep bulk1 bulk8 sw0 sw1
	for ((rep = 1; rep <= REPS; rep++)); do
		for c in $(rotated "$rep" "${ACTIVE[@]}"); do
			url=$(contender_url "$c")
			contender_call "$c" enter
			bulk1=null bulk8=null
			if [[ $c == direct_spread ]]; then
				close=$(load_rps_spread "$RPS_SECS" close)
				keep=$(load_rps_spread "$RPS_SECS" keepalive)
			else
				close=$(load_rps "$url" "$RPS_SECS" close)
				sw0=$(kanary_switches "$c")
				keep=$(load_rps "$url" "$RPS_SECS" keepalive)
				sw1=$(kanary_switches "$c")
				keep=$(jq -c --argjson a "$sw0" --argjson b "$sw1" '. + {switches: (if $a == null then null else $b - $a end)}' <<<"$keep")
				if ((BULK_SECS > 0)); then
					bulk1=$(load_bulk "$url" "$BULK_SECS" 1)
					bulk8=$(load_bulk "$url" "$BULK_SECS" 8)
				fi
			fi
			contender_call "$c" leave
			jq -cn --arg c "$c" --argjson rep "$rep" --argjson close "$close" --argjson keep "$keep" \
				--argjson b1 "$bulk1" --argjson b8 "$bulk8" \
				'{contender: $c, rep: $rep, rps_close: $close, rps_keepalive: $keep, bulk_1: $b1, bulk_8: $b8}' >>"$RAW"
			tail -1 "$RAW" | jq -r '"    rep \(.rep) \(.contender | .+ "             " | .[:13]) close \(.rps_close.rps | floor) keep-alive \(.rps_keepalive.rps | floor) req/s\(if .rps_keepalive.switches then " (\(.rps_keepalive.switches) switches)" else "" end)  bulk \(if .bulk_1 then "\(.bulk_1.gbit_s * 10 | floor / 10)/\(.bulk_8.gbit_s * 10 | floor / 10) Gbit/s" else "-" end)"'
		done
	done
}

# hdr_run C KIND: load_hdr with kanary's switch count for the run added.
hdr_run() {
	local c=$1 kind=$2 sw0 sw1 json
	sw0=$(kanary_switches "$c")
	json=$(load_hdr "$(contender_url "$c")" "$HDR_SECS" "$kind") || return 1
	sw1=$(kanary_switches "$c")
	jq -c --argjson a "$sw0" --argjson b "$sw1" \
		'. + {switches: (if $a == null then null else $b - $a end)}
		 | . + {switch_rate: (if .switches == null then null else .switches / .requests end)}' <<<"$json"
}

phase_switching() {
	local rep c same switch
	for ((rep = 1; rep <= HDR_REPS; rep++)); do
		for c in $(rotated "$rep" "${HDR_ACTIVE[@]}"); do
			contender_call "$c" enter
			same=$(hdr_run "$c" same)
			switch=$(hdr_run "$c" switch)
			contender_call "$c" leave
			jq -cn --arg c "$c" --argjson rep "$rep" --argjson same "$same" --argjson switch "$switch" \
				'{contender: $c, rep: $rep, hdr_same: $same, hdr_switch: $switch}' >>"$RAW"
			tail -1 "$RAW" | jq -r 'def f: "\(.rps | floor) req/s p99 \(.latency_us.p99) us cpu \(.cpu.us_per_request * 10 | floor / 10) us/req\(if .switches != null then " switches/req \(.switch_rate * 1000 | floor / 1000)" else "" end)";
				"    rep \(.rep) \(.contender | .+ "             " | .[:13]) no switch \(.hdr_same | f) | alternating \(.hdr_switch | f)"'
		done
	done
}

# fixed_targets C: h2load's CLIENTS@URL targets for a contender.
fixed_targets() {
	local pod
	if [[ $1 == direct_spread ]]; then
		for pod in "${!SPREAD_SHARE[@]}"; do
			echo "$((FIXED_CLIENTS * SPREAD_SHARE[$pod] / 100))@http://$(pod_ip "$pod")/"
		done
	else
		echo "$FIXED_CLIENTS@$(contender_url "$1")"
	fi
}

phase_latency() {
	local round c fixed dir=$KN_TMP/bench/latency
	mkdir -p "$dir"
	for ((round = 1; round <= LAT_ROUNDS; round++)); do
		for c in $(rotated "$round" "${ACTIVE[@]}"); do
			contender_call "$c" enter
			# shellcheck disable=SC2046 # one target per word
			fixed=$(load_fixed "$LAT_SECS" "$FIXED_RATE" "$dir/$c.$round" $(fixed_targets "$c"))
			contender_call "$c" leave
			jq -cn --arg c "$c" --argjson rep "$round" --argjson fixed "$fixed" \
				'{contender: $c, rep: $rep, fixed: $fixed, cpu_us_per_request: $fixed.cpu.us_per_request}' >>"$RAW"
		done
		jq -rs --argjson r "$round" '[.[] | select(.rep == $r and .fixed)] | "    round \($r): p99 " + (map("\(.contender) \(.fixed.latency_us.p99)") | join(", ")) + " us"' "$RAW"
	done
}

# The accounting's cost.  The latency rounds' CPU per request swings ~12 %
# from one run to the next, ten times the accounting's share (~1 %, from
# bin/kanary_bpf_cost), and the throughput phase's keep-alive req/s swings
# as much between its repetitions: pairs of runs back to back (the order
# alternating) cancel the slow drift.  Each run is a fixed-rate run with the
# kernel timing the BPF programs (kernel.bpf_stats_enabled, on for that run
# only), which gives the accounting's added time per request directly, then
# a keep-alive wrk run at saturation with the timing off again, since it
# costs every program run.
phase_accounting() {
	local pair c fixed keep ns0 runs0 ns1 runs1 dir=$KN_TMP/bench/accounting
	mkdir -p "$dir"
	BPF_STATS_WAS=$(sysctl -n kernel.bpf_stats_enabled)
	for ((pair = 1; pair <= ACCT_PAIRS; pair++)); do
		for c in $(rotated "$pair" kanary kanary_noacct); do
			contender_call "$c" enter
			sysctl -qw kernel.bpf_stats_enabled=1
			read -r ns0 runs0 < <(bpf_run_ns)
			# shellcheck disable=SC2046 # one target per word
			fixed=$(load_fixed "$ACCT_SECS" "$FIXED_RATE" "$dir/$c.$pair" $(fixed_targets "$c"))
			read -r ns1 runs1 < <(bpf_run_ns)
			sysctl -qw kernel.bpf_stats_enabled="$BPF_STATS_WAS"
			keep=$(load_rps "$(contender_url "$c")" "$ACCT_SECS" keepalive)
			contender_call "$c" leave
			jq -cn --arg c "$c" --argjson pair "$pair" --argjson fixed "$fixed" --argjson keep "$keep" \
				--argjson ns $((ns1 - ns0)) --argjson runs $((runs1 - runs0)) \
				'{contender: $c, pair: $pair, requests: $fixed.requests, cpu_us_per_request: $fixed.cpu.us_per_request,
				  bpf_runs: $runs, bpf_ns_per_request: ($ns / $fixed.requests),
				  keepalive_rps: $keep.rps, keepalive_errors: ($keep.errors | add // 0)}' >>"$ACCT_RAW"
		done
		jq -rs --argjson p "$pair" '[.[] | select(.pair == $p)] | "    pair \($p): " + (map("\(.contender) \(.cpu_us_per_request) us CPU, BPF \(.bpf_ns_per_request | round) ns a request, keep-alive \(.keepalive_rps | floor) req/s") | join("; "))' "$ACCT_RAW"
	done
	BPF_STATS_WAS=
}

# A 100 % mirror's cost to the live path when the relay and the mirror pod
# have a CPU of their own, as on a node whose kanaryd holds a core and
# whose mirror pod runs elsewhere: the client and the split's pods on CPU
# 0, the relay and shadow1 on CPU 1.  Three runs in each round, in rotated
# order: kanary with CPU 1 idle ("idle"), kanary with CPU 1 kept busy
# ("busy"), and kanary_mirror ("mirror").  Busy is the control: on this VM
# a loop on CPU 1 alone slows CPU 0 by about a tenth (the host shares a
# core between the two), so mirror against busy is what mirroring costs
# the live side's CPU, and busy against idle what the host costs.  Busy
# keeps CPU 1 as busy as the mirror runs so far did (the median of their
# shares, a first mirror run not counted giving the first), since the
# host's cost grows with it.  Keep-alive and new-connection req/s of each.
# The throughput phase measures kanary_mirror with everything sharing both
# CPUs (docs/mirror.md).
MIRROR_LIVE_CPU=0 MIRROR_APART_CPU=1
phase_mirror_apart() {
	local round v
	pin_pods "$MIRROR_LIVE_CPU" "${SPLIT_SAFE[@]}" "${SPLIT_RISKY[@]}" client &&
		pin_pods "$MIRROR_APART_CPU" shadow1 && mirror_apart_run mirror 0 || return 1
	for ((round = 1; round <= MIRROR_ROUNDS; round++)); do
		for v in $(rotated "$round" idle busy mirror); do
			mirror_apart_run "$v" "$round" || return 1
		done
		jq -rs --argjson r "$round" '[.[] | select(.round == $r)] | "    round \($r): " + (map("\(.run) keep-alive \(.keepalive_rps | floor), close \(.close_rps | floor) req/s, CPU 1 \(.cpu1_busy * 100 | round) % busy") | join("; "))' "$MIRROR_RAW"
	done
	pin_pods "0-$(($(nproc) - 1))" "${SPLIT_SAFE[@]}" "${SPLIT_RISKY[@]}" client shadow1
}

# load_on_live_cpu C MODE: load_rps on C from CPU MIRROR_LIVE_CPU (wrk
# inherits the subshell's CPU); run in $(...).
load_on_live_cpu() {
	taskset -p -c "$MIRROR_LIVE_CPU" $BASHPID >/dev/null && load_rps "$(contender_url "$1")" "$MIRROR_SECS" "$2"
}

# mirror_apart_run idle|busy|mirror ROUND: one run of phase_mirror_apart,
# its line appended to MIRROR_RAW (round 0: the first mirror run).
mirror_apart_run() {
	local v=$1 round=$2 c=kanary keep close relay share burner='' j0 j1
	[[ $v == mirror ]] && c=kanary_mirror
	contender_call "$c" enter
	if [[ $v == mirror ]]; then
		relay=$(cat "$KN_TMP/relay.pid") && taskset -a -p -c "$MIRROR_APART_CPU" "$relay" >/dev/null || return 1
	fi
	if [[ $v == busy ]]; then
		share=$(jq -s '[.[] | select(.run == "mirror") | .cpu1_busy] | sort | .[length / 2 | floor]' "$MIRROR_RAW")
		taskset -c "$MIRROR_APART_CPU" bench/lib/cpu_duty.py "$share" &
		burner=$!
	fi
	j0=$(cpu_jiffies "$MIRROR_APART_CPU")
	keep=$(load_on_live_cpu "$c" keepalive) && close=$(load_on_live_cpu "$c" close) || return 1
	j1=$(cpu_jiffies "$MIRROR_APART_CPU")
	[[ -z $burner ]] || { kill "$burner"; wait "$burner" 2>/dev/null || true; }
	contender_call "$c" leave
	jq -cn --arg v "$v" --argjson round "$round" --argjson keep "$keep" --argjson close "$close" \
		--argjson busy0 "${j0% *}" --argjson total0 "${j0#* }" --argjson busy1 "${j1% *}" --argjson total1 "${j1#* }" \
		'{run: $v, round: $round, keepalive_rps: $keep.rps, close_rps: $close.rps,
		  errors: (($keep.errors | add // 0) + ($close.errors | add // 0)),
		  cpu1_busy: (if $total1 > $total0 then ($busy1 - $busy0) / ($total1 - $total0) else null end)}' >>"$MIRROR_RAW"
}

# { contender: {requests, p50, p99, p999, p99_ratio, p99_round_ratio, and
# their _ci95} } over every latency round: the p99's ratio to Direct's,
# pooled and as the median of the rounds', with bootstrap intervals over
# the rounds (bench/lib/pooled_latency.py).
latency_pooled() {
	/usr/bin/python3 bench/lib/pooled_latency.py "$KN_TMP/bench/latency" direct "${ACTIVE[@]}"
}
