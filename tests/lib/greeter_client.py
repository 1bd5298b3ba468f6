#!/usr/bin/python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Client of greeter.py: connects, waits (up to TIMEOUT s) for the server
to speak first, sends one line and reads the answer.  Prints
"GREETING|ANSWER|SECONDS-TO-GREETING"; exits 1 saying why when the server
never spoke.

usage: greeter_client.py ADDR PORT TIMEOUT
"""
import socket
import sys
import time


def main():
    addr, port, timeout = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    t0 = time.monotonic()
    with socket.create_connection((addr, port), timeout=timeout) as s:
        f = s.makefile("rb")
        try:
            hello = f.readline().decode().strip()
        except socket.timeout:
            sys.exit("greeter_client: no greeting within %.1f s" % timeout)
        waited = time.monotonic() - t0
        s.sendall(b"ping\n")
        answer = f.readline().decode().strip()
    print("%s|%s|%.3f" % (hello, answer, waited))


if __name__ == "__main__":
    main()
