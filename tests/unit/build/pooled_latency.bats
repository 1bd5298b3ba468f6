#!/usr/bin/env bats
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The bench's latency over the rounds (bench/lib/pooled_latency.py,
# docs/bench.md): its percentiles are those of every request pooled, its
# bootstrap's fast p99 (each round's upper tail only) is the p99 of the
# whole resampled rounds, its intervals tell a slower contender from
# Direct, and the median of the rounds' ratios resists a stalled round.  On
# generated h2load logs; nothing is timed.

setup() {
	cd "$BATS_TEST_DIRNAME/../../.." || return 1
	DIR=$(mktemp -d "${BATS_TMPDIR:-/tmp}/pooled-latency.XXXXXX")
}

teardown() {
	rm -rf "$DIR"
}

# logs NAME SCALE SEED [STALLED_ROUND]: 8 rounds of h2load-like logs,
# ~4,000 requests each, every round's times scaled by its own factor (the
# machine's state) and by SCALE (the contender's cost), and STALLED_ROUND's
# by 5 more (a stall that caught this contender alone).  The round factors
# depend on the round only, as when two contenders ran in the same minutes.
logs() {
	/usr/bin/python3 - "$DIR" "$@" <<'EOF'
import random, sys
d, name, scale, seed = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
stalled = int(sys.argv[5]) if len(sys.argv) > 5 else 0
for rnd in range(1, 9):
    machine = random.Random(rnd).uniform(0.8, 1.3) * (5 if rnd == stalled else 1)
    r = random.Random(seed * 100 + rnd)
    with open(f"{d}/{name}.{rnd}", "w") as f:
        for i in range(4000 + r.randint(-60, 60)):
            f.write(f"{1700000000000000 + i * 500} 200 {int(r.lognormvariate(6.4, 0.3) * machine * scale)}\n")
EOF
}

pooled() {
	/usr/bin/python3 bench/lib/pooled_latency.py "$DIR" direct direct_again slower
}

@test "percentiles are those of every request of every round, sorted together" {
	logs direct 1 1 && logs direct_again 1 2 && logs slower 1.2 3
	run pooled
	echo "$output"
	[ "$status" -eq 0 ]
	for c in direct direct_again slower; do
		want=$(cat "$DIR/$c".* | awk '{ print $3 }' | sort -n | awk '{ v[NR] = $1 }
			function at(p,  i) { i = int(NR * p / 100 + 0.999999); return v[i < 1 ? 1 : i] }
			END { printf "{\"requests\":%d,\"p50\":%d,\"p99\":%d,\"p999\":%d}", NR, at(50), at(99), at(99.9) }')
		jq -e --arg c "$c" --argjson w "$want" '.[$c] | .requests == $w.requests and .p50 == $w.p50
			and .p99 == $w.p99 and .p999 == $w.p999 and .rounds == 8' <<<"$output"
	done
}

@test "the bootstrap's p99 from the rounds' upper tails equals a full sort's" {
	logs slower 1.2 3
	run /usr/bin/python3 - "$DIR" <<'EOF'
import importlib.util, random, sys
spec = importlib.util.spec_from_file_location("pl", "bench/lib/pooled_latency.py")
pl = importlib.util.module_from_spec(spec)
spec.loader.exec_module(pl)
rounds = pl.read_rounds(sys.argv[1], "slower")
ids = sorted(rounds)
tail = pl.UpperTail(rounds, len(ids))
rng = random.Random(7)
for k in range(200):
    draw = [rng.choice(ids) for _ in ids]
    every = sorted(v for r in draw for v in rounds[r])
    want = every[pl.rank(len(every), 99) - 1]
    if tail.p99(draw) != want:
        sys.exit(f"draw {draw}: tail says {tail.p99(draw)}, a full sort {want}")
print("200 draws agree")
EOF
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "the interval holds Direct again near 1 and puts a contender 20 % slower above it" {
	logs direct 1 1 && logs direct_again 1 2 && logs slower 1.2 3
	run pooled
	echo "$output"
	[ "$status" -eq 0 ]
	jq -e '.direct.p99_ratio == 1 and (.direct | has("p99_ratio_ci95") | not)' <<<"$output"
	jq -e '.direct_again.p99_ratio_ci95 as [$lo, $hi] | $lo <= .direct_again.p99_ratio and .direct_again.p99_ratio <= $hi
		and $lo > 0.9 and $hi < 1.1 and $lo < 1 and $hi > 1' <<<"$output"
	jq -e '.slower.p99_ratio_ci95 as [$lo, $hi] | $lo > 1.1 and $hi < 1.3' <<<"$output"
	jq -e '.direct_again.p99_round_ratio_ci95 as [$lo, $hi] | $lo <= .direct_again.p99_round_ratio
		and .direct_again.p99_round_ratio <= $hi and $lo > 0.9 and $hi < 1.1' <<<"$output"
	jq -e '.slower.p99_round_ratio_ci95 as [$lo, $hi] | $lo > 1.1 and $hi < 1.3' <<<"$output"
}

@test "a round stalled for one contender moves the pooled ratio, not the median of the rounds' ratios" {
	logs direct 1 1 3 && logs direct_again 1 2 && logs slower 1.2 3
	run pooled
	echo "$output"
	[ "$status" -eq 0 ]
	jq -e '.direct_again.p99_ratio < 0.5' <<<"$output"
	jq -e '.direct_again.p99_round_ratio > 0.9 and .direct_again.p99_round_ratio < 1.1' <<<"$output"
	jq -e '.slower.p99_round_ratio > 1.1 and .slower.p99_round_ratio < 1.3' <<<"$output"
}

@test "a contender missing a round gets its pooled figures but no ratio by round and no interval" {
	logs direct 1 1 && logs slower 1.2 3
	rm "$DIR/slower.4"
	run pooled
	echo "$output"
	[ "$status" -eq 0 ]
	jq -e '.slower.rounds == 7 and (.slower | has("p99_ratio_ci95") or has("p99_round_ratio") | not) and (has("direct_again") | not)' <<<"$output"
}

@test "a malformed log line is an error naming the file and line" {
	logs direct 1 1
	printf '1 200 300\n2 200 -\n' >"$DIR/direct_again.1"
	run pooled
	echo "$output"
	[ "$status" -ne 0 ]
	[[ $output == *"direct_again.1:2: expected 'start status us'"* ]]
}
