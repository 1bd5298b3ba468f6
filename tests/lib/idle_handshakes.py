#!/usr/bin/python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""A hostile pod's flood of idle handshakes: opens N TCP connections to
ADDR:PORT, completes each handshake and sends nothing, holds them all for
SECONDS, then closes them.  Prints one JSON line: how many connected, and
how many failed or were not connected after 10 s.  With READY set to a
path, touches it once every connection is up.

usage: idle_handshakes.py ADDR PORT N SECONDS
"""
import json
import os
import resource
import select
import socket
import sys
import time


def main():
    if len(sys.argv) != 5:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    addr, port, n, hold = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard != resource.RLIM_INFINITY and n + 64 > hard:
        print(f"idle_handshakes.py: {n} connections need {n + 64} open files, the limit is {hard}",
              file=sys.stderr)
        return 2
    resource.setrlimit(resource.RLIMIT_NOFILE, (n + 64, hard))
    pending, up, failed = {}, [], 0
    poller = select.epoll()
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        if s.connect_ex((addr, port)) not in (0, 115):    # 115: EINPROGRESS
            failed += 1
            s.close()
            continue
        pending[s.fileno()] = s
        poller.register(s.fileno(), select.EPOLLOUT)
    deadline = time.monotonic() + 10
    while pending and time.monotonic() < deadline:
        for fd, _ in poller.poll(0.5):
            s = pending.pop(fd)
            poller.unregister(fd)
            if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                failed += 1
                s.close()
            else:
                up.append(s)
    if os.environ.get("READY"):
        open(os.environ["READY"], "w").close()
    time.sleep(hold)
    print(json.dumps({"connected": len(up), "failed": failed, "pending": len(pending)}), flush=True)
    for s in up + list(pending.values()):
        s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
