#!/usr/bin/python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""An upload sink for the e2e tests, since nginx-light cannot store a body:
PUT or POST on any path reads the whole body (Content-Length, any size) and
answers "NAME SHA256 LENGTH\\n"; GET answers "NAME\\n".  Nothing is stored.
The connection stays open for more requests unless the client asks for
"Connection: close" or its body could not be read.

usage: upload_server.py NAME ADDR PORT
"""
import hashlib
import http.server
import sys

CHUNK = 1 << 20


class Handler(http.server.BaseHTTPRequestHandler):
    # HTTP/1.1 so that "Expect: 100-continue" is answered, not waited out.
    protocol_version = "HTTP/1.1"

    def reply(self, code, text, close=False):
        data = text.encode()
        self.close_connection = self.close_connection or close
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self.reply(200, f"{self.server.name}\n")

    def do_PUT(self):
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            self.reply(411, "Content-Length required\n", close=True)
            return
        left, h = int(length), hashlib.sha256()
        while left:
            b = self.rfile.read(min(left, CHUNK))
            if not b:
                # The client went away: nothing to answer.
                self.close_connection = True
                return
            h.update(b)
            left -= len(b)
        self.reply(200, f"{self.server.name} {h.hexdigest()} {length}\n")

    do_POST = do_PUT

    def log_message(self, fmt, *args):
        pass


def main():
    if len(sys.argv) != 4 or not sys.argv[3].isdigit():
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    http.server.ThreadingHTTPServer.request_queue_size = 256
    srv = http.server.ThreadingHTTPServer((sys.argv[2], int(sys.argv[3])), Handler)
    srv.daemon_threads = True
    srv.name = sys.argv[1]
    srv.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
