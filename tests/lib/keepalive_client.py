#!/usr/bin/python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Many HTTP/1.1 requests on ONE keep-alive connection, for the per-request
routing tests: prints one JSON line per request with what came back (status,
the body's first line, which names the pod that answered, its length and
sha256) and the client's local port, which shows that every request went
on the same connection.  The connection is never reopened: a server close
makes the next request fail.

usage:
  keepalive_client.py steps HOST PORT FILE   requests from a JSON list (FILE
      or - for stdin): {"method", "path", "headers", "body" | "body_file",
      "sleep", "after_file"} each (after_file: after its sleep, the step
      waits until that path exists, at most 120 s), or {"wait_eof": SECONDS}:
      the server must close the idle connection within SECONDS (reports
      after how long it did).
  keepalive_client.py mix HOST PORT N SEED   N requests in a random order
      (SEED): a third "GET /" with "x-my-header: dark" (kind dark), a third
      without (get), a third "POST /" without it whose body holds the text
      "x-my-header: dark" (post).
  keepalive_client.py pipeline HOST PORT [--after-one]   three requests
      (dark, plain, dark) written at once, then one plain "GET /" after
      their answers; with --after-one, a plain "GET /" answered first.

Exit status: 0 when every request was answered, 1 otherwise (the last JSON
line says why).
"""
import hashlib
import http.client
import json
import os
import random
import select
import socket
import sys
import time

DARK = {"x-my-header": "dark"}
CHUNK = 1 << 20


def emit(rec):
    print(json.dumps(rec), flush=True)


def body_summary(status, reason, sha, length, first):
    text = first.decode("latin-1").split("\n", 1)[0].strip() if length <= 256 else ""
    return {"status": status, "reason": reason, "pod": text, "length": length, "sha256": sha.hexdigest()}


def read_body(resp):
    sha, length, first = hashlib.sha256(), 0, b""
    while True:
        b = resp.read(CHUNK)
        if not b:
            return sha, length, first
        if length < 256:
            first += b[: 256 - length]
        sha.update(b)
        length += len(b)


def send_step(conn, step):
    headers = dict(step.get("headers", {}))
    body = step.get("body")
    f = None
    if "body_file" in step:
        f = open(step["body_file"], "rb")
        f.seek(0, 2)
        headers["Content-Length"] = str(f.tell())
        f.seek(0)
        body = f
    try:
        conn.request(step.get("method", "GET"), step.get("path", "/"), body=body, headers=headers)
    finally:
        if f:
            f.close()
    resp = conn.getresponse()
    sha, length, first = read_body(resp)
    return body_summary(resp.status, resp.reason, sha, length, first)


def wait_eof(sock, secs):
    t0 = time.monotonic()
    ready, _, _ = select.select([sock], [], [], secs)
    if not ready:
        return {"eof": False, "secs": round(time.monotonic() - t0, 3)}
    data = sock.recv(1, socket.MSG_PEEK)
    return {"eof": data == b"", "unexpected": data.decode("latin-1"), "secs": round(time.monotonic() - t0, 3)}


def wait_file(path, secs):
    deadline = time.monotonic() + secs
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path} did not appear within {secs} s")
        time.sleep(0.05)


def run_steps(host, port, steps):
    conn = http.client.HTTPConnection(host, port, timeout=120, blocksize=CHUNK)
    conn.connect()
    conn.auto_open = 0  # never reconnect behind the test's back
    lport = conn.sock.getsockname()[1]
    for i, step in enumerate(steps):
        rec = {"i": i, "kind": step.get("kind", ""), "lport": lport}
        try:
            if "wait_eof" in step:
                rec.update(wait_eof(conn.sock, step["wait_eof"]))
            else:
                time.sleep(step.get("sleep", 0))
                if "after_file" in step:
                    wait_file(step["after_file"], 120)
                t0 = time.monotonic()
                rec.update(send_step(conn, step))
                rec["secs"] = round(time.monotonic() - t0, 3)
                if conn.sock is not None:
                    rec["lport"] = conn.sock.getsockname()[1]
        except (OSError, http.client.HTTPException) as ex:
            rec["error"] = f"{type(ex).__name__}: {ex}"
            emit(rec)
            return 1
        emit(rec)
    conn.close()
    return 0


def mix_steps(n, seed):
    kinds = ["dark", "get", "post"] * (n // 3) + ["dark", "get", "post"][: n % 3]
    random.Random(seed).shuffle(kinds)
    steps = []
    for k in kinds:
        if k == "dark":
            steps.append({"kind": k, "headers": DARK})
        elif k == "get":
            steps.append({"kind": k})
        else:
            steps.append({"kind": k, "method": "POST", "body": "x-my-header: dark\r\n",
                          "headers": {"Content-Type": "text/plain"}})
    return steps


def raw_request(host, headers):
    head = f"GET / HTTP/1.1\r\nHost: {host}\r\n"
    for k, v in headers.items():
        head += f"{k}: {v}\r\n"
    return (head + "\r\n").encode()


def read_raw_response(rfile):
    """One response framed by Content-Length (nginx's "GET /" answers)."""
    status = rfile.readline()
    if not status:
        raise ConnectionError("the connection closed before a response")
    length = None
    while True:
        line = rfile.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        k, _, v = line.decode("latin-1").partition(":")
        if k.strip().lower() == "content-length":
            length = int(v.strip())
    if length is None:
        raise ValueError(f"no Content-Length in the response {status!r}")
    body = rfile.read(length)
    if len(body) != length:
        raise ConnectionError(f"body cut at {len(body)} of {length} bytes")
    return {"status": int(status.split()[1]), "pod": body.decode("latin-1").strip(), "length": length}


def run_pipeline(host, port, after_one):
    sock = socket.create_connection((host, port), timeout=30)
    rfile = sock.makefile("rb")
    lport = sock.getsockname()[1]
    plans = []
    if after_one:
        plans.append(("plain-first", [{}]))
    plans.append(("pipelined", [DARK, {}, DARK]))
    plans.append(("after", [{}]))
    i = 0
    for what, reqs in plans:
        sock.sendall(b"".join(raw_request(host, h) for h in reqs))
        for h in reqs:
            rec = {"i": i, "kind": "dark" if h else "get", "what": what, "lport": lport}
            try:
                rec.update(read_raw_response(rfile))
            except (OSError, ValueError) as ex:
                rec["error"] = f"{type(ex).__name__}: {ex}"
                emit(rec)
                return 1
            emit(rec)
            i += 1
    sock.close()
    return 0


def main(argv):
    try:
        if len(argv) == 5 and argv[1] == "steps":
            src = sys.stdin if argv[4] == "-" else open(argv[4], encoding="utf-8")
            return run_steps(argv[2], int(argv[3]), json.load(src))
        if len(argv) == 6 and argv[1] == "mix":
            return run_steps(argv[2], int(argv[3]), mix_steps(int(argv[4]), int(argv[5])))
        if len(argv) in (4, 5) and argv[1] == "pipeline" and argv[4:] in ([], ["--after-one"]):
            return run_pipeline(argv[2], int(argv[3]), len(argv) == 5)
    except (OSError, ValueError) as ex:
        emit({"error": f"{type(ex).__name__}: {ex}"})
        return 1
    print(__doc__.split("usage:")[1].split("Exit")[0], file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
