#!/usr/bin/python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Latency over the latency rounds, with intervals for its ratios to Direct.

    pooled_latency.py DIR REFERENCE CONTENDER...

DIR holds one h2load log per contender and round, DIR/CONTENDER.ROUND
(columns: start in us, status, microseconds to the end of the response).
Prints one JSON object: per contender, the percentiles of every request of
every round pooled; its pooled p99 over REFERENCE's (Direct); and the
median over the rounds of its round's p99 over REFERENCE's in that round.
Both ratios have a 95 % bootstrap interval.

One round's p99 moves by tens of percent with the machine's state in the
seconds it ran, and a round caught in a stall (a p99 of 6-7 ms where the
others read 1-2) holds most of a pooled p99's tail by itself: the median
of the rounds' ratios is the figure that such a round cannot move, the
pooled one is printed beside it.  The intervals resample whole rounds
(paired: the same draw for both contenders, which ran in the same
minutes), which keeps the time-correlated noise that resampling single
requests would hide.
"""
import json
import math
import random
import sys
from pathlib import Path

RESAMPLES = 2000
SEED = 1  # a figure the same data always gives the same interval for


def median(values):
    v = sorted(values)
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


def interval(samples):
    """The 95 % percentile interval of bootstrap samples."""
    s = sorted(samples)
    return [s[int(0.025 * len(s))], s[int(0.975 * len(s)) - 1]]


def rank(n, pct):
    """1-based ascending rank of the pct percentile of n values, as
    load_fixed's awk takes it."""
    return max(1, math.ceil(n * pct / 100 - 1e-9))


def read_rounds(directory, contender):
    rounds = {}
    for path in Path(directory).glob(contender + ".*"):
        suffix = path.name[len(contender) + 1:]
        if not suffix.isdigit():
            continue
        times = []
        with open(path) as log:
            for lineno, line in enumerate(log, 1):
                cols = line.split()
                if len(cols) != 3 or not cols[2].isdigit():
                    sys.exit(f"pooled_latency.py: {path}:{lineno}: expected 'start status us', got {line!r}")
                times.append(int(cols[2]))
        if times:
            rounds[int(suffix)] = sorted(times)
    return rounds


def percentile(ascending, pct):
    return ascending[rank(len(ascending), pct) - 1]


def pooled(rounds):
    values = sorted(v for times in rounds.values() for v in times)
    return {"requests": len(values), "rounds": len(rounds),
            **{name: percentile(values, pct) for name, pct in (("p50", 50), ("p99", 99), ("p999", 99.9))}}


class UpperTail:
    """The p99 of any multiset of whole rounds, from each round's top values
    only: the j-th largest of a union is within its own round's j largest."""

    def __init__(self, rounds, draw_size):
        self.count = {r: len(t) for r, t in rounds.items()}
        most = draw_size * max(self.count.values())
        keep = most - rank(most, 99) + 1
        self.top = {r: t[::-1][:keep] for r, t in rounds.items()}

    def p99(self, draw):
        n = sum(self.count[r] for r in draw)
        tail = sorted((v for r in draw for v in self.top[r]), reverse=True)
        return tail[n - rank(n, 99)]


def main(argv):
    if len(argv) < 3:
        sys.exit("usage: pooled_latency.py DIR REFERENCE CONTENDER...")
    directory, reference, contenders = argv[1], argv[2], argv[3:]
    data = {c: read_rounds(directory, c) for c in dict.fromkeys([reference] + contenders)}
    ref = data[reference]
    if not ref:
        sys.exit(f"pooled_latency.py: no latency log for {reference} in {directory}")
    rng = random.Random(SEED)
    ids = sorted(ref)
    draws = [[rng.choice(ids) for _ in ids] for _ in range(RESAMPLES)]
    ref_tail = UpperTail(ref, len(ids))
    ref_p99 = [ref_tail.p99(d) for d in draws]
    out = {}
    for c, rounds in data.items():
        if not rounds:
            continue
        out[c] = pooled(rounds)
        out[c]["p99_ratio"] = out[c]["p99"] / out[reference]["p99"] if c != reference else 1
        # Rounds both ran in; a contender that missed a round is left out of
        # the intervals rather than compared with other minutes' Direct.
        if c != reference and set(rounds) == set(ids):
            tail = UpperTail(rounds, len(ids))
            out[c]["p99_ratio_ci95"] = interval(tail.p99(d) / p for d, p in zip(draws, ref_p99))
            by_round = {r: percentile(rounds[r], 99) / percentile(ref[r], 99) for r in ids}
            out[c]["p99_round_ratio"] = median(by_round.values())
            out[c]["p99_round_ratio_ci95"] = interval(median(by_round[r] for r in d) for d in draws)
    json.dump(out, sys.stdout, separators=(",", ":"))
    print()


if __name__ == "__main__":
    main(sys.argv)
