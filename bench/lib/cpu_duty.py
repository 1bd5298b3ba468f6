#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""cpu_duty.py SHARE: keeps the CPU it runs on busy SHARE of the time
(0 to 1), in 10-ms periods of spinning then sleeping, until killed.  The
mirror phase's control (bench/lib/phases.sh) loads the mirror's CPU as
the mirror did."""
import sys
import time

PERIOD = 0.010


def main():
    try:
        share = float(sys.argv[1])
    except (IndexError, ValueError):
        sys.exit("usage: cpu_duty.py SHARE (0 to 1)")
    if not 0 <= share <= 1:
        sys.exit(f"cpu_duty.py: SHARE must be 0 to 1, got {share}")
    while True:
        end = time.monotonic() + share * PERIOD
        while time.monotonic() < end:
            pass
        if share < 1:
            time.sleep((1 - share) * PERIOD)


if __name__ == "__main__":
    main()
