# The HTTP accounting's cost from phase_accounting's runs (one object per
# contender and pair): per pair, CPU per request on over off, and the BPF
# programs' run time per request (timed by the kernel) on less off.  The
# goal's ratio adds the median of the latter to accounting-off CPU per
# request: the accounting is work in the BPF programs and nowhere else, and
# the kernel's timing of them is exact where the whole CPU figure swings
# ~12 % from one run to the next.  The keep-alive goal reads the median of
# the pairs' req/s ratios, on over off.  Input: the array of runs.
include "stats";

group_by(.pair)
| map({ on: (map(select(.contender == "kanary")) | first),
        off: (map(select(.contender == "kanary_noacct")) | first) })
| map(select(.on != null and .off != null))
| ( map(.off.cpu_us_per_request) | stats) as $off_cpu
| ( map(.on.bpf_ns_per_request - .off.bpf_ns_per_request) | stats) as $added
| { pairs: length,
    cpu_ratio: (map(.on.cpu_us_per_request / .off.cpu_us_per_request) | ratio_stats),
    keepalive_ratio: (map(if .on.keepalive_rps == null or .off.keepalive_rps == null then null
                          else .on.keepalive_rps / .off.keepalive_rps end) | ratio_stats),
    keepalive_rps: { on: (map(.on.keepalive_rps) | stats), off: (map(.off.keepalive_rps) | stats) },
    keepalive_errors: (map(.on.keepalive_errors, .off.keepalive_errors) | add),
    off_cpu_us_per_request: $off_cpu,
    bpf_ns_per_request: { on: (map(.on.bpf_ns_per_request) | stats), off: (map(.off.bpf_ns_per_request) | stats) },
    bpf_added_ns_per_request: $added,
    ratio_from_bpf: (if $added.median == null or ($off_cpu.median // 0) <= 0 then null
                     else 1 + $added.median / 1000 / $off_cpu.median end) }
