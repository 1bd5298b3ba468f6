# Reduces the raw runs (one object per contender and repetition) to, for
# each metric and contender: median, min and max of the value, and of its
# ratio to Direct's value in the same repetition.  Input: the array of runs.
def median: sort | if length == 0 then null elif length % 2 == 1 then .[length / 2 | floor]
	else (.[length / 2 - 1] + .[length / 2]) / 2 end;
def stats: map(select(. != null)) | { median: median, min: min, max: max, n: length };

# metric name, unit, which way is better; val(k) reads it from a run.
def metrics: [
	{ key: "rps_close",     better: "higher", unit: "req/s" },
	{ key: "rps_keepalive", better: "higher", unit: "req/s" },
	{ key: "lat_p50",       better: "lower",  unit: "us" },
	{ key: "lat_p99",       better: "lower",  unit: "us" },
	{ key: "lat_p999",      better: "lower",  unit: "us" },
	{ key: "cpu_per_req",   better: "lower",  unit: "us CPU" },
	{ key: "bulk_1",        better: "higher", unit: "Gbit/s" },
	{ key: "bulk_8",        better: "higher", unit: "Gbit/s" }
];
def val(k): if k == "rps_close" then .rps_close.rps
	elif k == "rps_keepalive" then .rps_keepalive.rps
	elif k == "lat_p50" then .fixed.latency_us.p50
	elif k == "lat_p99" then .fixed.latency_us.p99
	elif k == "lat_p999" then .fixed.latency_us.p999
	elif k == "cpu_per_req" then .cpu_us_per_request
	elif k == "bulk_1" then .bulk_1.gbit_s
	elif k == "bulk_8" then .bulk_8.gbit_s
	else error("unknown metric \(k)") end;

. as $runs
| ($runs | map(.contender) | unique) as $names
| [ metrics[] as $m
    | { metric: $m.key, better: $m.better, unit: $m.unit,
        contenders: ( [ $names[] as $c
          | ($runs | map(select(.contender == $c))) as $mine
          | { key: $c, value: {
                value: ($mine | map(val($m.key)) | stats),
                ratio: ($mine | map(. as $r | ($r | val($m.key)) as $v
                          | ($runs | map(select(.contender == "direct" and .rep == $r.rep)) | first | val($m.key)) as $d
                          | if $v == null or $d == null or $d == 0 then null else $v / $d end) | stats),
                added: ($mine | map(. as $r | ($r | val($m.key)) as $v
                          | ($runs | map(select(.contender == "direct" and .rep == $r.rep)) | first | val($m.key)) as $d
                          | if $v == null or $d == null then null else $v - $d end) | stats) } } ]
          | from_entries ) } ]
| map({ key: .metric, value: . }) | from_entries
