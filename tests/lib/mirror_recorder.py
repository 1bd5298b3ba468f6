#!/usr/bin/python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""A pod that records every request it gets, for the mirroring tests: one
JSON line per request in LOG (method, path, Host, body length and sha256),
written before it answers "NAME\\n" (200).  Any method; the body is read by
its Content-Length, or chunk by chunk (recorded decoded).  With DELAY
(seconds) every answer waits that long: a slow mirror.  With FAIL_PATH, a request for that path (its query aside) is
answered 500 instead: a mirror that disagrees on one path.

usage: mirror_recorder.py NAME ADDR PORT LOG [DELAY [FAIL_PATH]]
"""
import hashlib
import http.server
import json
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
        if (self.headers.get("Transfer-Encoding") or "").strip().lower() == "chunked":
            body = read_chunked(self.rfile)
        else:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
        rec = {"method": self.command, "path": self.path, "host": self.headers.get("Host"),
               "len": len(body), "sha256": hashlib.sha256(body).hexdigest()}
        with self.server.lock:
            self.server.log.write(json.dumps(rec, sort_keys=True) + "\n")
            self.server.log.flush()
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
    if len(sys.argv) not in (5, 6, 7) or not sys.argv[3].isdigit():
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    srv = http.server.ThreadingHTTPServer((sys.argv[2], int(sys.argv[3])), Handler)
    srv.daemon_threads = True
    srv.request_queue_size = 1024
    srv.name = sys.argv[1]
    srv.log = open(sys.argv[4], "a")
    srv.lock = threading.Lock()
    srv.delay = float(sys.argv[5]) if len(sys.argv) >= 6 else 0.0
    srv.fail_path = sys.argv[6] if len(sys.argv) == 7 else None
    srv.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
