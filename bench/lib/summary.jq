# Reduces the raw runs (objects of one contender and repetition or latency
# round; the phases' objects of the same pair are merged first) to, for
# each metric and contender: median, min and max of the value, and of its
# ratio to Direct's value in the same repetition (and to Direct spread's),
# with a 95 % confidence interval of that ratio.  Input: the array of runs.
include "stats";

# metric name, unit, which way is better; val(k) reads it from a run.
def metrics: [
	{ key: "rps_close",     better: "higher", unit: "req/s" },
	{ key: "rps_keepalive", better: "higher", unit: "req/s" },
	{ key: "lat_p50",       better: "lower",  unit: "us" },
	{ key: "lat_p99",       better: "lower",  unit: "us" },
	{ key: "lat_p999",      better: "lower",  unit: "us" },
	{ key: "cpu_per_req",   better: "lower",  unit: "us CPU" },
	{ key: "bulk_1",        better: "higher", unit: "Gbit/s" },
	{ key: "bulk_8",        better: "higher", unit: "Gbit/s" },
	{ key: "ka_noswitch_rps", better: "higher", unit: "req/s" },
	{ key: "ka_noswitch_p99", better: "lower",  unit: "us" },
	{ key: "ka_noswitch_cpu", better: "lower",  unit: "us CPU" },
	{ key: "ka_switch_rps",   better: "higher", unit: "req/s" },
	{ key: "ka_switch_p99",   better: "lower",  unit: "us" },
	{ key: "ka_switch_cpu",   better: "lower",  unit: "us CPU" },
	{ key: "ka_switch_rate",  better: "higher", unit: "switches/req" }
];
def val(k): if k == "rps_close" then .rps_close.rps
	elif k == "rps_keepalive" then .rps_keepalive.rps
	elif k == "lat_p50" then .fixed.latency_us.p50
	elif k == "lat_p99" then .fixed.latency_us.p99
	elif k == "lat_p999" then .fixed.latency_us.p999
	elif k == "cpu_per_req" then .cpu_us_per_request
	elif k == "bulk_1" then .bulk_1.gbit_s
	elif k == "bulk_8" then .bulk_8.gbit_s
	elif k == "ka_noswitch_rps" then .hdr_same.rps
	elif k == "ka_noswitch_p99" then .hdr_same.latency_us.p99
	elif k == "ka_noswitch_cpu" then .hdr_same.cpu.us_per_request
	elif k == "ka_switch_rps" then .hdr_switch.rps
	elif k == "ka_switch_p99" then .hdr_switch.latency_us.p99
	elif k == "ka_switch_cpu" then .hdr_switch.cpu.us_per_request
	elif k == "ka_switch_rate" then .hdr_switch.switch_rate
	else error("unknown metric \(k)") end;

# ratios(runs; mine; base; k): each of mine's values over base's in the same repetition.
def ratios($runs; $mine; $base; k):
	$mine | map(. as $r | ($r | val(k)) as $v
		| ($runs | map(select(.contender == $base and .rep == $r.rep)) | first | if . == null then null else val(k) end) as $d
		| if $v == null or $d == null or $d == 0 then null else $v / $d end);

group_by([.contender, .rep]) | map(add)
| . as $runs
| ($runs | map(.contender) | unique) as $names
| [ metrics[] as $m
    | { metric: $m.key, better: $m.better, unit: $m.unit,
        contenders: ( [ $names[] as $c
          | ($runs | map(select(.contender == $c))) as $mine
          | ($mine | map(val($m.key)) | stats) as $value
          | select($value.n > 0)
          | { key: $c, value: {
                value: $value,
                ratio: (ratios($runs; $mine; "direct"; $m.key) | ratio_stats),
                ratio_spread: (ratios($runs; $mine; "direct_spread"; $m.key) | ratio_stats),
                added: ($mine | map(. as $r | ($r | val($m.key)) as $v
                          | ($runs | map(select(.contender == "direct" and .rep == $r.rep)) | first | if . == null then null else val($m.key) end) as $d
                          | if $v == null or $d == null then null else $v - $d end) | stats) } } ]
          | from_entries ) } ]
| map({ key: .metric, value: . }) | from_entries
