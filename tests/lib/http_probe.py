#!/usr/bin/python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""One HTTP/1.1 request on one TCP connection, written the way a test needs
it (in two segments with a pause, or followed by a half-close), the answer
read as the test needs it (paced, into a small receive buffer), and what
came back, as one JSON line: status, body (its length, sha256, and its text
when short), whether Content-Length was honoured, the TCP options the
handshake agreed (from TCP_INFO), which tell kanary's handoff (it strips
timestamps and SACK) from the plain DNAT path (the pod's own options), the
client's own counts (writes, data segments sent, retransmissions) and the
time from connect() to the end of the answer.

Exit status: 0 when a response was read, 1 otherwise (the JSON says why).
"""
import argparse
import hashlib
import json
import socket
import struct
import sys
import time

# struct tcp_info (linux/tcp.h): tcpi_options is byte 5; tcpi_total_retrans
# is the u32 at 100, tcpi_data_segs_out the u32 at 156.
TCP_INFO_LEN = 160
TCPI_OPT_TIMESTAMPS, TCPI_OPT_SACK, TCPI_OPT_WSCALE, TCPI_OPT_ECN = 1, 2, 4, 8


def tcp_info(sock):
    raw = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, TCP_INFO_LEN)
    if len(raw) < TCP_INFO_LEN:
        raise OSError(f"TCP_INFO returned {len(raw)} bytes, expected {TCP_INFO_LEN}")
    opts = raw[5]
    return {
        "options": {
            "timestamps": bool(opts & TCPI_OPT_TIMESTAMPS),
            "sack": bool(opts & TCPI_OPT_SACK),
            "wscale": bool(opts & TCPI_OPT_WSCALE),
            "ecn": bool(opts & TCPI_OPT_ECN),
        },
        "total_retrans": struct.unpack_from("=I", raw, 100)[0],
        "data_segs_out": struct.unpack_from("=I", raw, 156)[0],
    }


def build_request(args):
    body = args.body.replace("\\r", "\r").replace("\\n", "\n").encode("latin-1")
    lines = [f"{args.method} {args.path} HTTP/1.1", f"Host: {args.host}"]
    lines += args.header
    if body or args.method in ("POST", "PUT"):
        lines.append(f"Content-Length: {len(body)}")
    lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def parse_response(data):
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        raise ValueError(f"no end of response head in {len(data)} bytes: {data[:80]!r}")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise ValueError(f"bad status line {lines[0]!r}")
    length = None
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    return int(parts[1]), length, body


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("--path", default="/")
    p.add_argument("--method", default="GET")
    p.add_argument("--header", action="append", default=[], help='"Name: value", repeatable')
    p.add_argument("--body", default="", help="request body; \\r \\n escapes allowed")
    p.add_argument("--split-at", default="",
                   help="write the request up to the first occurrence of this text, pause, then the rest")
    p.add_argument("--pause", type=float, default=0.3, help="seconds between the two writes of --split-at")
    p.add_argument("--half-close", action="store_true", help="shutdown(SHUT_WR) once the request is sent")
    p.add_argument("--read-rate", type=int, default=0, help="read at most this many bytes per second")
    p.add_argument("--rcvbuf", type=int, default=0, help="SO_RCVBUF before connecting (bytes)")
    p.add_argument("--timeout", type=float, default=10.0)
    args = p.parse_args()

    out = {"sent_in_two_writes": bool(args.split_at)}
    try:
        req = build_request(args)
        cut = len(req)
        if args.split_at:
            cut = req.find(args.split_at.encode("latin-1"))
            if cut <= 0:
                raise ValueError(f"--split-at {args.split_at!r} is not inside the request")
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.settimeout(args.timeout)
        if args.rcvbuf:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, args.rcvbuf)
        t0 = time.monotonic()
        sock.connect((args.host, args.port))
        # Each write leaves as its own segment: no coalescing by Nagle.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall(req[:cut])
        out["writes"] = 1
        if cut < len(req):
            time.sleep(args.pause)
            sock.sendall(req[cut:])
            out["writes"] = 2
        if args.half_close:
            sock.shutdown(socket.SHUT_WR)
        chunks, got, start = [], 0, time.monotonic()
        step = max(1, min(1 << 16, args.read_rate // 10)) if args.read_rate else 1 << 16
        while True:
            if args.read_rate:
                # Paced: never ahead of read_rate since the first read.
                ahead = got / args.read_rate - (time.monotonic() - start)
                if ahead > 0:
                    time.sleep(ahead)
            b = sock.recv(step)
            if not b:
                break
            chunks.append(b)
            got += len(b)
        out["elapsed_ms"] = round((time.monotonic() - t0) * 1000, 3)
        out.update(tcp_info(sock))
        sock.close()
        status, length, body = parse_response(b"".join(chunks))
        out.update({
            "status": status,
            "content_length": length,
            "body_len": len(body),
            "complete": length is not None and length == len(body),
            "body_sha256": hashlib.sha256(body).hexdigest(),
            "body": body[:200].decode("latin-1") if len(body) <= 200 else None,
        })
    except (OSError, ValueError) as e:
        out["error"] = f"{type(e).__name__}: {e}"
        print(json.dumps(out))
        return 1
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
