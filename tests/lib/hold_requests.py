#!/usr/bin/python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""A pod holding bound rule-path connections: opens N connections to
ADDR:PORT one after another, sends one "GET /" on each (with the header
HEADER, "name: value", when given) and reads its answer's status line, keeps every connection open for SECONDS, then closes
them.  Prints one JSON line: how many were answered, how many were reset,
and how many ended otherwise (with the first such error).  With READY set to
a path, touches it once every connection has its outcome.

usage: hold_requests.py ADDR PORT N SECONDS [HEADER]
"""
import json
import os
import socket
import sys
import time


def request(addr, port, header):
    """A connected socket with its request answered, or the reason it is not."""
    s = socket.create_connection((addr, port), timeout=5)
    try:
        s.sendall(b"GET / HTTP/1.1\r\nHost: greeting\r\n" + header + b"\r\n")
        head = s.recv(4096)
    except OSError:
        s.close()
        raise
    if not head.startswith(b"HTTP/1.1 200"):
        s.close()
        raise OSError(f"answered {head[:40]!r}")
    return s


def main():
    if len(sys.argv) not in (5, 6):
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    addr, port, n, hold = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    header = (sys.argv[5] + "\r\n").encode() if len(sys.argv) == 6 else b""
    held, reset, other, first_error = [], 0, 0, None
    for _ in range(n):
        try:
            held.append(request(addr, port, header))
        except ConnectionResetError:
            reset += 1
        except OSError as e:
            other += 1
            first_error = first_error or str(e)
    if os.environ.get("READY"):
        open(os.environ["READY"], "w").close()
    time.sleep(hold)
    for s in held:
        s.close()
    print(json.dumps({"answered": len(held), "reset": reset, "other": other,
                      "first_error": first_error}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
