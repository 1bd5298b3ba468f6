# The 100 % mirror's cost to the live side from phase_mirror_apart's runs
# (one object per run: idle, busy or mirror, and round): per round, the
# mirror's req/s over busy's (the mirror's own cost: the goals), busy's
# over idle's (the host's, from CPU 1 being busy at all) and the mirror's
# over idle's (both), keep-alive and new connections.  Input: the array of
# runs.
include "stats";

def ratio(a; b; k): if (b[k] // 0) > 0 and a[k] != null then a[k] / b[k] else null end;
def ratios(a; b): { keepalive: (map(ratio(a; b; "keepalive_rps")) | ratio_stats),
                    close: (map(ratio(a; b; "close_rps")) | ratio_stats) };

group_by(.round)
| map(INDEX(.run))
| map(select(.idle != null and .busy != null and .mirror != null))
| { rounds: length,
    mirror_to_busy: ratios(.mirror; .busy),
    busy_to_idle: ratios(.busy; .idle),
    mirror_to_idle: ratios(.mirror; .idle),
    keepalive_rps: { idle: (map(.idle.keepalive_rps) | stats), busy: (map(.busy.keepalive_rps) | stats),
                     mirror: (map(.mirror.keepalive_rps) | stats) },
    close_rps: { idle: (map(.idle.close_rps) | stats), busy: (map(.busy.close_rps) | stats),
                 mirror: (map(.mirror.close_rps) | stats) },
    cpu1_busy: { busy: (map(.busy.cpu1_busy) | stats), mirror: (map(.mirror.cpu1_busy) | stats) },
    errors: (map(.idle.errors, .busy.errors, .mirror.errors) | add) }
