#!/usr/bin/python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""A server-first protocol, as MySQL or SMTP speak: on connect it sends
"NAME hello\\n" before reading anything, then answers each line with
"NAME got LINE\\n" until the client closes.

usage: greeter.py NAME ADDR PORT
"""
import socket
import sys
import threading


def serve(conn, name):
    with conn:
        conn.sendall(("%s hello\n" % name).encode())
        for line in conn.makefile("rb"):
            conn.sendall(b"%s got %s" % (name.encode(), line))


def main():
    name, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    s = socket.create_server((addr, port), backlog=128)
    while True:
        conn, _ = s.accept()
        threading.Thread(target=serve, args=(conn, name), daemon=True).start()


if __name__ == "__main__":
    main()
