# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# shellcheck shell=bash
# Prints a results file as tables, then each goal with PASS or MISS, and
# draws one chart per metric (bench/plot.gp).

# The contenders in the order of the tables and charts.
REPORT_ORDER='["direct", "direct_again", "direct_spread", "kanary", "kanary_noacct", "kanary_nosockops", "kanary_mirror", "kanary_one", "kanary_rule", "kanary_rule_one",
	"iptables", "nftables", "nginx", "nginx_mirror", "haproxy", "kanary_hdr", "nginx_hdr", "haproxy_hdr"]'

report_print() {
	local f=$1
	jq -r '
	def r: if . == null then "n/a" else (. * 1000 | round / 1000 | tostring) end;
	def n: if . == null then "n/a" elif . >= 100 then (. | round | tostring) else (. * 100 | round / 100 | tostring) end;
	def ci: if .ci95 == null then "" else " 95% CI \(.ci95[0] | r)..\(.ci95[1] | r)" end;
	.summary | to_entries[] | .key as $m | .value as $v
	| "\($m) (\($v.unit), \($v.better) is better): median [min..max]; ratio to Direct in the same repetition: median [min..max], CI of the geometric mean",
	  ($v.contenders | to_entries[] |
	   "  \(.key | . + "              " | .[:14]) \(.value.value.median | n) [\(.value.value.min | n)..\(.value.value.max | n)]   x\(.value.ratio.median | r) [\(.value.ratio.min | r)..\(.value.ratio.max | r)]\(.value.ratio | ci)\(if .value.ratio_spread.n > 0 and .key != "direct_spread" then "   vs Direct spread x\(.value.ratio_spread.median | r)\(.value.ratio_spread | ci)" else "" end)")' "$f"
	echo "latency pooled over every round (all requests of a contender); p99 to Direct's: pooled, and the median of the rounds' ratios (95% CIs: bootstrap over the rounds):"
	jq -r 'def r: . * 1000 | round / 1000 | tostring;
		def ci: if . then " (\(map(r) | join("..")))" else "" end;
		.latency_pooled | to_entries[] | "  \(.key | . + "              " | .[:14]) \(.value.requests) requests  p50 \(.value.p50)  p99 \(.value.p99)  p99.9 \(.value.p999) us   p99 x\(if .value.p99_ratio then .value.p99_ratio | r else "n/a" end)\(.value.p99_ratio_ci95 | ci)\(if .value.p99_round_ratio then ", by round x\(.value.p99_round_ratio | r)\(.value.p99_round_ratio_ci95 | ci)" else "" end)"' "$f"
	jq -r '.not_measured | to_entries[] | "  \(.key): \(.value)"' "$f"
	jq -r 'def r: . * 1000 | round / 1000 | tostring;
		def spread: "x\(.median | r) [\(.min | r)..\(.max | r)]\(if .ci95 then ", 95% CI \(.ci95[0] | r)..\(.ci95[1] | r)" else "" end)";
		def both(x): "keep-alive \(x.keepalive | spread), new connections \(x.close | spread)";
		(.accounting // empty | "HTTP accounting on against off, \(.pairs) pairs back to back: BPF programs \(.bpf_ns_per_request.on.median | round) ns a request on, \(.bpf_ns_per_request.off.median | round) ns off: the accounting adds \(.bpf_added_ns_per_request.median | round) ns [\(.bpf_added_ns_per_request.min | round)..\(.bpf_added_ns_per_request.max | round)] to \(.off_cpu_us_per_request.median * 10 | round / 10) us of CPU, x\(.ratio_from_bpf | r); whole CPU per request on/off \(.cpu_ratio | spread)\(if .keepalive_ratio.median then "; keep-alive req/s on/off \(.keepalive_ratio | spread) (\(.keepalive_rps.on.median | floor) against \(.keepalive_rps.off.median | floor), \(.keepalive_errors) socket errors)" else "" end)"),
		(.mirror_apart // empty | "100 % mirror, the relay and the mirror pod on CPU 1, the live side on CPU 0, \(.rounds) rounds: the mirror against kanary with CPU 1 busy (a loop; the control): \(both(.mirror_to_busy)); kanary with CPU 1 busy against idle (the host): \(both(.busy_to_idle)); the mirror against idle: \(both(.mirror_to_idle)); keep-alive req/s idle \(.keepalive_rps.idle.median | floor), busy \(.keepalive_rps.busy.median | floor), mirror \(.keepalive_rps.mirror.median | floor); CPU 1 busy \(.cpu1_busy.busy.median * 100 | round) % (loop) and \(.cpu1_busy.mirror.median * 100 | round) % (mirror); \(.errors) socket errors")' "$f"
	echo
	echo "iptables (kube-proxy style), new connections/s by number of services:"
	jq -r '.iptables_scale.rps_median[] | "  \(.services | tostring | . + "      " | .[:6]) \(.rps | round) req/s"' "$f"
	echo "kanary BPF cost per packet, ns (100,000 tracked flows; single runs less an empty program's, median of 5 rounds; in the kernel's loop, warm):"
	jq -r 'def n: . * 10 | round / 10 | tostring;
		if .bpf_cost == null then "  not measured (see above)" else
		.bpf_cost.results[] | "  \(.services | tostring | . + "      " | .[:6]) non-service \(.non_service_ns | n)  established \(.established_ns | n) (loop \(.established_loop_ns | n))  data \(.established_data_ns | n)  reply \(.reply_ns | n) (loop \(.reply_loop_ns | n))  unknown reply \(if .unknown_reply_ns then (.unknown_reply_ns | n) else "n/a" end)  new flow \(.new_flow_ns | n)  rule path: SYN \(.rule_syn_ns | n), first data \(.rule_first_data_ns | n)\(if .request_head_ns then "  HTTP exchange: request head \(.request_head_ns | n) (accounting off \(.request_head_noacct_ns | n)), response head \(.response_head_ns | n) (off \(.response_head_noacct_ns | n)): the accounting adds \(.request_head_ns + .response_head_ns - .request_head_noacct_ns - .response_head_noacct_ns | n) a request" else "" end)" end' "$f"
	jq -r '.bpf_cost.results // [] | last // empty | "  its \(.services) services were made through libkanary in \(.created_ms | round) ms"' "$f"
	echo "control plane (kanaryd on files), by number of services:"
	jq -r 'if .control_plane.by_size == null then "  not measured (see above)" else
		.control_plane.by_size[] | "  \(.services | tostring | . + "      " | .[:6]) started and created in \(.create_ms) ms (kanaryd CPU \(.create_cpu_ms) ms); edit -> kernel \(.median_ms // "n/a") ms median, \(.max_ms // "n/a") ms max of \(.samples_ms | length) edits (kanaryd CPU \(.kanaryd_cpu_median_ms // "n/a") ms median); pinned maps \(.bytes_memlock / 1048576 * 10 | round / 10) MiB (max-services \(.max_services))" end' "$f"
	jq -r '.control_plane.pod_event // empty | "control plane: one pod event at \(.services) services and \(.pods) pods (kanaryd on files): to the kernel \(.to_kernel_median_ms) ms median, kanaryd CPU \(.kanaryd_cpu_median_ms) ms median (\(.kanaryd_cpu_ms | map(tostring) | join(", ")) ms); resident \(.rss_kib / 1024 | round) MiB; start \(.start_ms) ms (CPU \(.start_cpu_ms) ms)"' "$f"
	jq -r '.control_plane.kube_watch_latency // empty | "control plane: API server watch event -> kernel (kanaryd --kube): kanaryd p50 \(.kanaryd_p50_ms) ms; as the test harness sees it p50 \(.p50_ms) ms, max \(.max_ms) ms over \(.reps) changes"' "$f"
	echo
	echo "goals:"
	report_goals "$f" | jq -r '.[] | "  \(if .pass == null then "N/A " elif .pass then "PASS" else "MISS" end)  \(.goal): \(.got)"'
}

# The project's performance targets as [{goal, got, pass}], pass null when
# the figure could not be measured.
report_goals() {
	jq '
	def med(m; c; k): .summary[m].contenders[c][k].median;
	def fmt: if . == null then "n/a" else (. * 1000 | round / 1000 | tostring) end;
	def div(a; b): if a == null or b == null then null else a / b end;
	# c1 against c2 in metric m, through their ratios to Direct in the same repetitions.
	def share(m; c1; c2): div(med(m; c1; "ratio"); med(m; c2; "ratio"));
	. as $r
	| [ { goal: "canary path req/s, new connections >= 0.95 x Direct", v: med("rps_close"; "kanary"; "ratio"), lim: 0.95, dir: "ge" },
	    { goal: "canary path req/s, keep-alive >= 0.95 x Direct", v: med("rps_keepalive"; "kanary"; "ratio"), lim: 0.95, dir: "ge" },
	    { goal: "canary path p99 latency at \(.method.fixed_rate_rps) req/s <= 1.1 x Direct (median over the rounds)", v: med("lat_p99"; "kanary"; "ratio"), lim: 1.1, dir: "le" },
	    { goal: "(datapath alone, one backend) req/s, new connections >= 0.95 x Direct", v: med("rps_close"; "kanary_one"; "ratio"), lim: 0.95, dir: "ge" },
	    { goal: "(datapath alone, one backend) req/s, keep-alive >= 0.95 x Direct", v: med("rps_keepalive"; "kanary_one"; "ratio"), lim: 0.95, dir: "ge" },
	    { goal: "rule path req/s, new connections >= 0.90 x Direct", v: med("rps_close"; "kanary_rule"; "ratio"), lim: 0.90, dir: "ge" },
	    { goal: "rule path req/s, keep-alive >= 0.95 x Direct", v: med("rps_keepalive"; "kanary_rule"; "ratio"), lim: 0.95, dir: "ge" },
	    { goal: "(rule path alone, one backend) req/s, new connections >= 0.90 x Direct", v: med("rps_close"; "kanary_rule_one"; "ratio"), lim: 0.90, dir: "ge" },
	    { goal: "(rule path alone, one backend) req/s, keep-alive >= 0.95 x Direct", v: med("rps_keepalive"; "kanary_rule_one"; "ratio"), lim: 0.95, dir: "ge" },
	    { goal: "CPU per request <= 1.05 x Direct (every process taking part, softirq included)", v: med("cpu_per_req"; "kanary"; "ratio"), lim: 1.05, dir: "le" },
	    { goal: "HTTP accounting on: keep-alive req/s >= 0.97 x off (paired runs)", v: .accounting.keepalive_ratio.median, lim: 0.97, dir: "ge" },
	    { goal: "HTTP accounting on: CPU per request <= 1.03 x off (off CPU + the BPF time it adds, paired runs)", v: .accounting.ratio_from_bpf, lim: 1.03, dir: "le" },
	    { goal: "TCP health (sockops) on: keep-alive req/s >= 0.97 x off", v: share("rps_keepalive"; "kanary"; "kanary_nosockops"), lim: 0.97, dir: "ge" },
	    { goal: "TCP health (sockops) on: new-connection req/s >= 0.97 x off", v: share("rps_close"; "kanary"; "kanary_nosockops"), lim: 0.97, dir: "ge" },
	    { goal: "100 % mirror, the relay and the mirror pod on a CPU of their own: keep-alive req/s >= 0.95 x no mirror (that CPU kept as busy)", v: .mirror_apart.mirror_to_busy.keepalive.median, lim: 0.95, dir: "ge" },
	    { goal: "100 % mirror, the relay and the mirror pod on a CPU of their own: new-connection req/s >= 0.95 x no mirror (that CPU kept as busy)", v: .mirror_apart.mirror_to_busy.close.median, lim: 0.95, dir: "ge" },
	    { goal: "100 % mirror, the relay and the mirror pod sharing the CPUs of the live side: keep-alive req/s >= 0.95 x no mirror", v: share("rps_keepalive"; "kanary_mirror"; "kanary"), lim: 0.95, dir: "ge" },
	    { goal: "100 % mirror, the relay and the mirror pod sharing the CPUs of the live side: new-connection req/s >= 0.95 x no mirror", v: share("rps_close"; "kanary_mirror"; "kanary"), lim: 0.95, dir: "ge" },
	    { goal: "100 % mirror, sharing the CPUs of the live side: kanary keeps at least the share of its keep-alive req/s that nginx keeps with its mirror directive (kanary share / nginx share)", v: div(share("rps_keepalive"; "kanary_mirror"; "kanary"); share("rps_keepalive"; "nginx_mirror"; "nginx")), lim: 1, dir: "ge" },
	    { goal: "100 % mirror, sharing the CPUs of the live side: the same for new-connection req/s", v: div(share("rps_close"; "kanary_mirror"; "kanary"); share("rps_close"; "nginx_mirror"; "nginx")), lim: 1, dir: "ge" },
	    { goal: "80/20 canary path req/s, new connections >= 0.95 x Direct spread", v: med("rps_close"; "kanary"; "ratio_spread"), lim: 0.95, dir: "ge" },
	    { goal: "80/20 canary path req/s, keep-alive >= 0.95 x Direct spread", v: med("rps_keepalive"; "kanary"; "ratio_spread"), lim: 0.95, dir: "ge" },
	    { goal: "(80/20 rule path) req/s, new connections >= 0.95 x Direct spread", v: med("rps_close"; "kanary_rule"; "ratio_spread"), lim: 0.95, dir: "ge" },
	    { goal: "(80/20 rule path) req/s, keep-alive >= 0.95 x Direct spread", v: med("rps_keepalive"; "kanary_rule"; "ratio_spread"), lim: 0.95, dir: "ge" },
	    { goal: "rule path, keep-alive with no switch: req/s >= 0.95 x Direct", v: med("ka_noswitch_rps"; "kanary_hdr"; "ratio"), lim: 0.95, dir: "ge" } ]
	| map(. + { got: (if .v == null then "not measured" else "x\(.v | fmt)" end),
	            pass: (if .v == null then null elif .dir == "ge" then .v >= .lim else .v <= .lim end) })
	+ [ ($r | med("lat_p99"; "kanary"; "added")) as $k | ($r | med("lat_p99"; "nginx"; "added")) as $n
	    | { goal: "p99 added over Direct <= 1/10 of what nginx adds",
	        got: "kanary \(if $k >= 0 then "+" else "" end)\($k | fmt) us, nginx \(if $n >= 0 then "+" else "" end)\($n | fmt) us",
	        pass: (if $k == null or $n == null or $n <= 0 then null else $k <= $n / 10 end) },
	    ($r | med("ka_switch_rps"; "kanary_hdr"; "value")) as $k | ($r | med("ka_switch_rps"; "nginx_hdr"; "value")) as $n
	    | ($r | med("ka_switch_rps"; "haproxy_hdr"; "value")) as $h | ($r | med("ka_switch_rate"; "kanary_hdr"; "value")) as $sw
	    | { goal: "switch on every request: rule path req/s > nginx and > HAProxy",
	        got: "kanary \($k | round? // "n/a"), nginx \($n | round? // "n/a"), HAProxy \($h | round? // "n/a") req/s; kanary switched on \(($sw // 0) * 100 | round) % of requests",
	        pass: (if $k == null or $n == null or $h == null then null else $k > $n and $k > $h end) },
	    ($r | med("ka_switch_cpu"; "kanary_hdr"; "value")) as $k | ($r | med("ka_switch_cpu"; "nginx_hdr"; "value")) as $n
	    | ($r | med("ka_switch_cpu"; "haproxy_hdr"; "value")) as $h
	    | { goal: "switch on every request: rule path CPU per request < nginx and < HAProxy",
	        got: "kanary \($k | fmt), nginx \($n | fmt), HAProxy \($h | fmt) us",
	        pass: (if $k == null or $n == null or $h == null then null else $k < $n and $k < $h end) },
	    ($r.latency_pooled.direct_again // {}) as $p
	    | { goal: "latency method: Direct again / Direct, p99 (median of the rounds), 95% CI within x0.95..x1.05",
	        got: "x\($p.p99_round_ratio | fmt) (95% CI \($p.p99_round_ratio_ci95[0]? | fmt)..\($p.p99_round_ratio_ci95[1]? | fmt)); pooled x\($p.p99_ratio | fmt) (95% CI \($p.p99_ratio_ci95[0]? | fmt)..\($p.p99_ratio_ci95[1]? | fmt))",
	        pass: (if $p.p99_round_ratio_ci95 == null then null else $p.p99_round_ratio_ci95[0] >= 0.95 and $p.p99_round_ratio_ci95[1] <= 1.05 end) },
	    ($r.bpf_cost.results // []) as $b
	    | ($b | map(select(.services == 1)) | first | .established_ns) as $e1
	    | ($b | map(select(.services == 10000)) | first | .established_ns) as $e2
	    | ($b | map(select(.services == 1)) | first | .established_loop_ns) as $l1
	    | { goal: "BPF cost of an established-flow packet <= 100 ns at 1 and at 10,000 services",
	        got: "\($e1 // "n/a") ns and \($e2 // "n/a") ns (single runs; warm in the kernel loop \($l1 // "n/a") ns at 1)",
	        pass: (if $e1 == null or $e2 == null then null else $e1 <= 100 and $e2 <= 100 end) },
	      { goal: "... and the same at both (within 10 % or 5 ns)", got: "\($e1 // "n/a") ns vs \($e2 // "n/a") ns",
	        pass: (if $e1 == null or $e2 == null then null else (($e2 - $e1) | fabs) <= ([0.1 * $e1, 5] | max) end) },
	    ($r.control_plane.by_size // [] | min_by(.services) | .median_ms?) as $cp
	    | { goal: "manifest to kernel within 100 ms, one service", got: "\($cp // "n/a") ms (median)",
	        pass: (if $cp == null then null else $cp <= 100 end) },
	    ($r.control_plane.pod_event // null) as $pe
	    | { goal: "one pod event at 10,000 services and 100,000 pods: kanaryd CPU < 50 ms",
	        got: "\($pe.kanaryd_cpu_median_ms // "n/a") ms (median)",
	        pass: (if $pe == null then null else $pe.kanaryd_cpu_median_ms < 50 end) },
	    { goal: "kanaryd at 10,000 services and 100,000 pods: resident < 512 MiB",
	        got: "\(if $pe == null then "n/a" else $pe.rss_kib / 1024 | round end) MiB",
	        pass: (if $pe == null then null else $pe.rss_kib < 524288 end) } ]
	| map(del(.v, .lim, .dir))' "$1"
}

# report_plots RESULTS STEM: STEM-<metric>.png, ratios to Direct with the
# min..max of the repetitions as error bars.
report_plots() {
	local f=$1 stem=$2 m dat
	for m in $(jq -r '.summary | keys[]' "$f"); do
		dat=$(mktemp)
		jq -r --arg m "$m" "$REPORT_ORDER"' as $order
			| .summary[$m].contenders | to_entries | sort_by(.key as $k | $order | index($k) // 99)[]
			| select(.value.ratio.median != null)
			| "\(.key) \(.value.ratio.median) \(.value.ratio.min) \(.value.ratio.max)"' "$f" >"$dat"
		# A metric that was skipped (bulk in QUICK runs) gets no chart.
		[[ -s $dat ]] || { rm -f "$dat"; continue; }
		gnuplot -e "datafile='$dat'; outfile='$stem-$m.png'; metric='$(jq -r --arg m "$m" \
			'"\($m): \(.summary[$m].unit), \(.summary[$m].better) is better"' "$f")'" bench/plot.gp || { rm -f "$dat"; return 1; }
		rm -f "$dat"
	done
}

# A Markdown table of the medians and ratios (for docs/bench.md): the main
# metrics, the 80/20 contenders against Direct spread, the switching runs.
report_markdown() {
	jq -r "$REPORT_ORDER"' as $order | .summary as $s
	| def r: if . == null then "n/a" else (. * 100 | round / 100 | tostring) end;
	def n: if . == null then "n/a" elif . >= 100 then (. | round | tostring) else (. * 10 | round / 10 | tostring) end;
	def cell: "\(.value.median | n) (x\(.ratio.median | r) [\(.ratio.min | r)..\(.ratio.max | r)])";
	def table($ms):
	  "| contender | " + ($ms | map(. + " (" + $s[.].unit + ")") | join(" | ")) + " |",
	  "| --- |" + ($ms | map(" ---:|") | join("")),
	  ($order[] as $c | select([$ms[] | $s[.].contenders[$c]] | any(. != null))
	   | "| \($c) | " + ($ms | map($s[.].contenders[$c] | if . == null then "" else cell end) | join(" | ")) + " |");
	table(["rps_close", "rps_keepalive", "lat_p50", "lat_p99", "lat_p999", "cpu_per_req", "bulk_1", "bulk_8"]),
	  "",
	  "Against Direct spread: median ratio [min..max] and the 95 % CI of the geometric mean",
	  "",
	  ("| contender | rps_close | rps_keepalive | cpu_per_req |", "| --- | ---:| ---:| ---:|",
	   ($order[] as $c | select($c != "direct_spread" and $s.rps_close.contenders[$c].ratio_spread.n > 0)
	    | "| \($c) | " + (["rps_close", "rps_keepalive", "cpu_per_req"] | map($s[.].contenders[$c].ratio_spread
	        | "x\(.median | r) [\(.min | r)..\(.max | r)] (CI \(.ci95[0] | r)..\(.ci95[1] | r))") | join(" | ")) + " |")),
	  "",
	  table(["ka_noswitch_rps", "ka_noswitch_p99", "ka_noswitch_cpu", "ka_switch_rps", "ka_switch_p99", "ka_switch_cpu", "ka_switch_rate"])' "$1"
}
