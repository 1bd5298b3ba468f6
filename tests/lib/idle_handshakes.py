#!/usr/bin/python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""A hostile pod's flood of idle handshakes: opens N TCP connections to
ADDR, spread in turn over the PORTs, completes each handshake and sends
nothing, holds them all for SECONDS or until SIGUSR1, then closes them.
Prints one JSON line: how many connected, how many failed or were not
connected after 30 s, and how many were still established when released
(held at once).  With READY set to a path, touches it once every
connection is up.  One address reaches one ADDR:PORT from at most the
netns's ephemeral ports (net.ipv4.ip_local_port_range): more ports, more
connections.  The connections are shared by as many worker processes as
the open files' hard limit asks (it may not be raised without
CAP_SYS_RESOURCE).

usage: idle_handshakes.py ADDR PORT[,PORT...] N SECONDS
"""
import ctypes
import json
import os
import resource
import select
import signal
import socket
import sys
import time

TCP_ESTABLISHED = 1
PR_SET_PDEATHSIG = 1
SPARE_FILES = 64


def connect_all(addr, ports, first, end):
    """Connections first..end-1 (connection i to ports[i % len(ports)]): the
    connected sockets, the failed count, the sockets still pending after 30 s."""
    pending, up, failed = {}, [], 0
    poller = select.epoll()
    for i in range(first, end):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        if s.connect_ex((addr, ports[i % len(ports)])) not in (0, 115):    # 115: EINPROGRESS
            failed += 1
            s.close()
            continue
        pending[s.fileno()] = s
        poller.register(s.fileno(), select.EPOLLOUT)
    deadline = time.monotonic() + 30
    while pending and time.monotonic() < deadline:
        for fd, _ in poller.poll(0.5):
            s = pending.pop(fd)
            poller.unregister(fd)
            if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                failed += 1
                s.close()
            else:
                up.append(s)
    poller.close()
    return up, failed, list(pending.values())


def worker(addr, ports, first, end, hold, out):
    """In a child: connects its share, says so on out, holds until SIGUSR1, reports."""
    resource.setrlimit(resource.RLIMIT_NOFILE, (end - first + SPARE_FILES,) * 2)
    up, failed, pending = connect_all(addr, ports, first, end)
    os.write(out, b"ready\n")
    signal.sigtimedwait({signal.SIGUSR1}, hold)
    held = sum(1 for s in up
               if s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 1)[0] == TCP_ESTABLISHED)
    os.write(out, (json.dumps({"connected": len(up), "failed": failed, "pending": len(pending),
                               "established": held}) + "\n").encode())
    for s in up + pending:
        s.close()


def main():
    if len(sys.argv) != 5:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    addr, n, hold = sys.argv[1], int(sys.argv[3]), float(sys.argv[4])
    ports = [int(p) for p in sys.argv[2].split(",")]
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    per = n if hard == resource.RLIM_INFINITY else max(1, hard - SPARE_FILES)
    # SIGUSR1 releases the hold early; blocked before the workers start, so it is never lost.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
    workers = []
    for first in range(0, n, per):
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            # A parent stopped by the test (teardown) takes its workers with it.
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
            try:
                worker(addr, ports, first, min(n, first + per), hold, w)
            finally:
                os._exit(0)
        os.close(w)
        workers.append((pid, os.fdopen(r)))
    for _, f in workers:
        if f.readline() != "ready\n":
            print("idle_handshakes.py: a worker died before it was ready", file=sys.stderr)
            return 1
    if os.environ.get("READY"):
        open(os.environ["READY"], "w").close()
    signal.sigtimedwait({signal.SIGUSR1}, hold)
    total = {"connected": 0, "failed": 0, "pending": 0, "established": 0}
    for pid, _ in workers:
        os.kill(pid, signal.SIGUSR1)
    for pid, f in workers:
        for k, v in json.loads(f.readline() or "{}").items():
            total[k] += v
        os.waitpid(pid, 0)
    total["workers"] = len(workers)
    print(json.dumps(total), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
