#!/usr/bin/python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Ages plain-path connections for the idle sweep's tests: sets the clock
byte (kanary_ct_entry.seen) of the forward entry in PIN/kanary_ct_v3
from CLIENT:PORT to VIP to STEPS steps back (include/kanary/ct_expiry.h), as
that much silence would leave it, through bpftool.  Prints how many.

usage: ct_age.py PIN CLIENT:PORT VIP STEPS
"""
import ipaddress
import json
import subprocess
import sys
import time

SEEN_SHIFT = 38          # KANARY_CT_SEEN_SHIFT
SEEN_OFF = 53            # offsetof(struct kanary_ct_entry, seen)
SRC, DST, SPORT, DIR = 12, 28, 32, 37   # the key's IPv4 (v4-mapped) addresses, port, direction


def main():
    if len(sys.argv) != 5:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    pin, (client, port), vip, steps = sys.argv[1], sys.argv[2].split(":"), sys.argv[3], int(sys.argv[4])
    cl, vp = ipaddress.IPv4Address(client).packed, ipaddress.IPv4Address(vip).packed
    sp = int(port).to_bytes(2, "big")
    now = (time.clock_gettime_ns(time.CLOCK_MONOTONIC) >> SEEN_SHIFT) % 255 + 1
    seen = (now - 1 - steps) % 255 + 1
    m = pin + "/kanary_ct_v3"
    dump = json.loads(subprocess.check_output(["bpftool", "-j", "map", "dump", "pinned", m]))
    n = 0
    for e in dump:
        key = bytes(int(b, 16) for b in e["key"])
        val = bytearray(int(b, 16) for b in e["value"])
        if key[DIR] != 0 or key[SRC:SRC + 4] != cl or key[DST:DST + 4] != vp or \
                key[SPORT:SPORT + 2] != sp:
            continue
        val[SEEN_OFF] = seen
        subprocess.check_call(["bpftool", "map", "update", "pinned", m, "key", "hex"] +
                              ["%02x" % b for b in key] + ["value", "hex"] +
                              ["%02x" % b for b in val] + ["exist"])
        n += 1
    print(n)
    return 0


if __name__ == "__main__":
    sys.exit(main())
