#!/usr/bin/python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""A pod that records every request it gets, for the mirroring tests: one
JSON line per request in LOG (method, path, Host, body length and sha256,
and t_ns: when its body was read, the epoch's ns), written before it
answers "NAME\\n" (200).  Any method; the body is read by
its Content-Length, or chunk by chunk (recorded decoded).  A Content-Length
body cut short is recorded as far as it came, with "cut": "eof" when its
sender closed the connection (a careless server would take it for the
body) or "reset" when it reset it; then the connection ends unanswered.
With DELAY (seconds) every answer waits that long: a slow mirror.  With
FAIL_PATH, a request for that path (its query aside) is answered 500
instead: a mirror that disagrees on one path.  With SLOW_READ, the body of
a request whose path holds it is read 32 KiB each 0.1 s, and the pod's
receive buffers are held at 64 KiB, so its sender waits with most of a
large body unsent.  An empty DELAY or FAIL_PATH is none.

usage: mirror_recorder.py NAME ADDR PORT LOG [DELAY [FAIL_PATH [SLOW_READ]]]
"""
import hashlib
import http.server
import json
import socket
import sys
import threading
import time


def read_chunked(f):
    """A chunked body, decoded; its trailers read and left."""
    body = bytearray()
    while True:
        size = int(f.readline(65537).split(b";")[0].strip(), 16)
        if size == 0:
            while f.readline(65537) not in (b"\r\n", b"\n", b""):
                pass
            return bytes(body)
        body += f.read(size)
        f.readline(3)


def read_body(f, length, slow):
    """A Content-Length body (32 KiB each 0.1 s when slow) and how it was
    cut: None when whole, else "eof" or "reset"."""
    body = bytearray()
    while len(body) < length:
        want = min(32768, length - len(body)) if slow else length - len(body)
        try:
            part = f.read(want)
        except ConnectionResetError:
            return bytes(body), "reset"
        body += part
        if len(part) < want:
            return bytes(body), "eof"
        if slow:
            time.sleep(0.1)
    return bytes(body), None


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def handle_one_request(self):
        # Every method, without a do_<METHOD> for each.
        self.raw_requestline = self.rfile.readline(65537)
        if not self.raw_requestline:
            self.close_connection = True
            return
        if not self.parse_request():
            return
        cut = None
        if (self.headers.get("Transfer-Encoding") or "").strip().lower() == "chunked":
            body = read_chunked(self.rfile)
        else:
            slow = bool(self.server.slow_read) and self.server.slow_read in self.path
            body, cut = read_body(self.rfile, int(self.headers.get("Content-Length") or 0), slow)
        rec = {"method": self.command, "path": self.path, "host": self.headers.get("Host"),
               "len": len(body), "sha256": hashlib.sha256(body).hexdigest(), "t_ns": time.time_ns()}
        if cut:
            rec["cut"] = cut
        with self.server.lock:
            self.server.log.write(json.dumps(rec, sort_keys=True) + "\n")
            self.server.log.flush()
        if cut:
            self.close_connection = True
            return
        if self.server.delay:
            time.sleep(self.server.delay)
        data = f"{self.server.name}\n".encode()
        failed = self.path.split("?", 1)[0] == self.server.fail_path
        self.send_response(500 if failed else 200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def log_message(self, fmt, *args):
        pass


def main():
    if len(sys.argv) not in (5, 6, 7, 8) or not sys.argv[3].isdigit():
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    srv = http.server.ThreadingHTTPServer((sys.argv[2], int(sys.argv[3])), Handler)
    srv.daemon_threads = True
    srv.request_queue_size = 1024
    srv.name = sys.argv[1]
    srv.log = open(sys.argv[4], "a")
    srv.lock = threading.Lock()
    srv.delay = float(sys.argv[5] or 0) if len(sys.argv) >= 6 else 0.0
    srv.fail_path = (sys.argv[6] or None) if len(sys.argv) >= 7 else None
    srv.slow_read = sys.argv[7] if len(sys.argv) == 8 else ""
    if srv.slow_read:
        # Inherited by the connections it accepts: no autotuning past it.
        srv.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    srv.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
