#!/usr/bin/python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""A stand-in Kubernetes API server for kanaryd's tests, over HTTPS.

It speaks the list and watch protocol of the real one for Pods, Services,
DestinationRules and VirtualServices, in the same JSON shapes:
  - LIST with limit/continue (a consistent snapshot per continue token,
    items without kind/apiVersion, metadata.resourceVersion/continue);
  - WATCH from a resourceVersion: chunked {"type","object"} lines, ADDED,
    MODIFIED, DELETED, BOOKMARK (allowWatchBookmarks), and ERROR with a
    Status of code 410 when the version is too old (compacted);
  - Status objects for 401, 404 and 410; API group discovery for Istio.
Bearer tokens are checked against a token the test can change.

Test control, not part of the Kubernetes API, under /_test/ (no auth;
the server binds to loopback of the test's own namespace):
  POST   /_test/objects                 body: an object; added or replaced
  DELETE /_test/objects/RES/NS/NAME     deleted (?silent=1: without a DELETED event)
  POST   /_test/expire                  compacts history: open watches get ERROR 410
  POST   /_test/close                   ends every open watch stream
  POST   /_test/http410                 the next watch request gets HTTP 410
  POST   /_test/token                   body {"token": T}: the only token accepted
  POST   /_test/istio                   body {"served": B}: the Istio group served or
                                        not (404, its watches ended), as while its
                                        CRDs are reinstalled
  GET    /_test/log                     requests seen: [{"method","path","query","code"}]
  GET    /_test/watchers                {"RES": open watch streams}
State (objects, resourceVersion) is saved to --state, so a restarted
server continues where it stopped, as an API server backed by etcd does.
"""
import argparse
import base64
import json
import os
import ssl
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

ISTIO = "networking.istio.io"
ISTIO_VERSIONS = ["v1", "v1beta1", "v1alpha3"]
RESOURCES = {
    "pods": {"group": "", "kind": "Pod"},
    "services": {"group": "", "kind": "Service"},
    "destinationrules": {"group": ISTIO, "kind": "DestinationRule"},
    "virtualservices": {"group": ISTIO, "kind": "VirtualService"},
}
KIND_TO_RES = {v["kind"]: k for k, v in RESOURCES.items()}


def status(code, reason, message):
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}


class State:
    def __init__(self, path, istio):
        self.path = path
        self.istio = istio
        self.cond = threading.Condition()
        self.rv = 1000
        self.compacted = 0          # watches from a version below this get 410
        self.objects = {r: {} for r in RESOURCES}
        self.events = {r: [] for r in RESOURCES}   # (rv, type, object)
        self.token = None
        self.epoch = 0              # bumped by /_test/close and /_test/expire
        self.expire_epoch = 0
        self.http410 = False
        self.snapshots = {}         # continue token -> (rv, remaining keys)
        self.log = []
        self.watchers = {r: 0 for r in RESOURCES}
        if path and os.path.exists(path):
            with open(path) as f:
                saved = json.load(f)
            self.rv = saved["rv"]
            self.compacted = saved["compacted"]
            self.token = saved.get("token")
            for r, objs in saved["objects"].items():
                for o in objs:
                    m = o["metadata"]
                    self.objects[r][(m["namespace"], m["name"])] = o

    def save(self):
        if not self.path:
            return
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"rv": self.rv, "compacted": self.compacted, "token": self.token,
                       "objects": {r: list(o.values()) for r, o in self.objects.items()}}, f)
        os.replace(tmp, self.path)

    def put(self, obj):
        res = KIND_TO_RES.get(obj.get("kind"))
        if res is None:
            raise ValueError("unknown kind %r" % obj.get("kind"))
        with self.cond:
            m = obj.setdefault("metadata", {})
            m.setdefault("namespace", "default")
            key = (m["namespace"], m["name"])
            old = self.objects[res].get(key)
            self.rv += 1
            m["resourceVersion"] = str(self.rv)
            m["uid"] = old["metadata"]["uid"] if old else str(uuid.uuid4())
            m["creationTimestamp"] = (old["metadata"]["creationTimestamp"] if old
                                      else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
            self.objects[res][key] = obj
            self.events[res].append((self.rv, "MODIFIED" if old else "ADDED", obj))
            self.save()
            self.cond.notify_all()
            return res

    def delete(self, res, ns, name, silent=False):
        """silent: no DELETED event, as if it were lost in a compaction; only a relist sees it."""
        with self.cond:
            obj = self.objects[res].pop((ns, name), None)
            if obj is None:
                return False
            self.rv += 1
            if silent:
                self.save()
                return True
            obj = json.loads(json.dumps(obj))
            obj["metadata"]["resourceVersion"] = str(self.rv)
            self.events[res].append((self.rv, "DELETED", obj))
            self.save()
            self.cond.notify_all()
            return True


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "kanary-test-apiserver"

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("apiserver: " + (fmt % args) + "\n")

    # --- plumbing ---------------------------------------------------------
    def record(self, code):
        u = urlsplit(self.path)
        with self.server.state.cond:
            self.server.state.log.append({"method": self.command, "path": u.path,
                                          "query": parse_qs(u.query), "code": code})

    def send_json(self, code, body):
        data = json.dumps(body).encode()
        self.record(code)
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(n) or b"{}")

    def authorized(self):
        st = self.server.state
        want = "Bearer " + (st.token or "")
        if st.token and self.headers.get("Authorization") == want:
            return True
        self.send_json(401, status(401, "Unauthorized", "Unauthorized"))
        return False

    # --- test control -----------------------------------------------------
    def control(self):
        st = self.server.state
        parts = urlsplit(self.path).path.split("/")[2:]
        try:
            if self.command == "POST" and parts == ["objects"]:
                res = st.put(self.body())
                return self.send_json(200, {"resource": res, "resourceVersion": str(st.rv)})
            if self.command == "DELETE" and len(parts) == 4 and parts[0] == "objects":
                silent = parse_qs(urlsplit(self.path).query).get("silent") == ["1"]
                ok = st.delete(parts[1], parts[2], parts[3], silent)
                return self.send_json(200 if ok else 404, {"deleted": ok})
            if self.command == "POST" and parts == ["expire"]:
                with st.cond:
                    st.compacted = st.rv
                    st.snapshots.clear()
                    for r in st.events:
                        st.events[r] = []
                    st.expire_epoch += 1
                    st.save()
                    st.cond.notify_all()
                return self.send_json(200, {"compacted": st.compacted})
            if self.command == "POST" and parts == ["close"]:
                with st.cond:
                    st.epoch += 1
                    st.cond.notify_all()
                return self.send_json(200, {})
            if self.command == "POST" and parts == ["http410"]:
                with st.cond:
                    st.http410 = True
                return self.send_json(200, {})
            if self.command == "POST" and parts == ["istio"]:
                with st.cond:
                    st.istio = bool(self.body()["served"])
                    st.epoch += 1       # open watches end; a served=false one comes back 404
                    st.cond.notify_all()
                return self.send_json(200, {"served": st.istio})
            if self.command == "POST" and parts == ["token"]:
                with st.cond:
                    st.token = self.body()["token"]
                    st.save()
                return self.send_json(200, {})
            if self.command == "GET" and parts == ["log"]:
                with st.cond:
                    return self.send_json(200, list(st.log))
            if self.command == "GET" and parts == ["watchers"]:
                with st.cond:
                    return self.send_json(200, dict(st.watchers))
        except (ValueError, KeyError) as e:
            return self.send_json(400, {"error": str(e)})
        return self.send_json(404, {"error": "unknown control request"})

    # --- the API ----------------------------------------------------------
    def do_DELETE(self):
        if self.path.startswith("/_test/"):
            return self.control()
        self.send_json(405, status(405, "MethodNotAllowed", "read-only test server"))

    def do_POST(self):
        self.do_DELETE()

    def do_GET(self):
        if self.path.startswith("/_test/"):
            return self.control()
        if not self.authorized():
            return
        st = self.server.state
        u = urlsplit(self.path)
        q = {k: v[-1] for k, v in parse_qs(u.query).items()}
        parts = u.path.strip("/").split("/")
        if parts == ["apis", ISTIO]:
            if not st.istio:
                return self.not_found()
            gv = [{"groupVersion": ISTIO + "/" + v, "version": v} for v in ISTIO_VERSIONS]
            return self.send_json(200, {"kind": "APIGroup", "apiVersion": "v1", "name": ISTIO,
                                        "versions": gv, "preferredVersion": gv[0]})
        res, version = None, None
        if len(parts) == 3 and parts[:2] == ["api", "v1"] and RESOURCES.get(parts[2], {}).get("group") == "":
            res, version = parts[2], "v1"
        elif (len(parts) == 4 and parts[:2] == ["apis", ISTIO] and parts[2] in ISTIO_VERSIONS
              and RESOURCES.get(parts[3], {}).get("group") == ISTIO and st.istio):
            res, version = parts[3], parts[2]
        if res is None:
            return self.not_found()
        api = version if RESOURCES[res]["group"] == "" else RESOURCES[res]["group"] + "/" + version
        if q.get("watch") in ("1", "true"):
            return self.watch(res, api, q)
        return self.list(res, api, q)

    def not_found(self):
        data = b"404 page not found\n"
        self.record(404)
        self.send_response(404)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def list(self, res, api, q):
        st = self.server.state
        kind = RESOURCES[res]["kind"]
        with st.cond:
            if "continue" in q:
                snap = st.snapshots.get(q["continue"])
                if snap is None:
                    return self.send_json(410, status(410, "Expired",
                        "The provided continue parameter is too old to display a consistent "
                        "list result. You can start a new list without the continue parameter."))
                rv, items = snap
            else:
                rv = st.rv
                items = [json.loads(json.dumps(st.objects[res][k])) for k in sorted(st.objects[res])]
            limit = int(q.get("limit") or 0)
            meta = {"resourceVersion": str(rv)}
            if limit and len(items) > limit:
                token = base64.b64encode(json.dumps({"rv": rv, "id": str(uuid.uuid4())}).encode()).decode()
                st.snapshots[token] = (rv, items[limit:])
                meta["continue"] = token
                meta["remainingItemCount"] = len(items) - limit
                items = items[:limit]
        for it in items:    # as the real server: list items carry neither
            it.pop("kind", None)
            it.pop("apiVersion", None)
        self.send_json(200, {"kind": kind + "List", "apiVersion": api, "metadata": meta, "items": items})

    def watch(self, res, api, q):
        st = self.server.state
        kind = RESOURCES[res]["kind"]
        try:
            since = int(q.get("resourceVersion") or 0)
        except ValueError:
            return self.send_json(400, status(400, "BadRequest", "invalid resourceVersion"))
        bookmarks = q.get("allowWatchBookmarks") in ("1", "true")
        timeout = int(q.get("timeoutSeconds") or 1800)
        with st.cond:
            if st.http410:
                st.http410 = False
                return self.send_json(410, status(410, "Gone", "too old resource version: %d (%d)" % (since, st.compacted)))
        self.record(200)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        end = time.monotonic() + timeout
        next_bookmark = time.monotonic() + self.server.bookmark_interval
        with st.cond:
            epoch, expire_epoch = st.epoch, st.expire_epoch
            st.watchers[res] += 1
        try:
            if since and since < st.compacted:
                self.chunk({"type": "ERROR", "object": status(410, "Expired",
                            "too old resource version: %d (%d)" % (since, st.compacted))})
                return
            while True:
                with st.cond:
                    out = [(rv, t, o) for rv, t, o in st.events[res] if rv > since]
                    if not out and st.epoch == epoch and st.expire_epoch == expire_epoch:
                        st.cond.wait(0.2)
                        out = [(rv, t, o) for rv, t, o in st.events[res] if rv > since]
                    expired = st.expire_epoch != expire_epoch
                    closed = st.epoch != epoch
                    cur = st.rv
                for rv, t, o in out:
                    self.chunk({"type": t, "object": o})
                    since = rv
                if expired:
                    self.chunk({"type": "ERROR", "object": status(410, "Expired",
                                "too old resource version: %d (%d)" % (since, st.compacted))})
                    return
                if closed or time.monotonic() > end:
                    return
                if bookmarks and time.monotonic() > next_bookmark:
                    since = max(since, cur)
                    self.chunk({"type": "BOOKMARK", "object": {"kind": kind, "apiVersion": api,
                                "metadata": {"resourceVersion": str(since)}}})
                    next_bookmark = time.monotonic() + self.server.bookmark_interval
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            return
        finally:
            with st.cond:
                st.watchers[res] -= 1
            try:
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
            except OSError:
                pass
            self.close_connection = True

    def chunk(self, event):
        data = (json.dumps(event) + "\n").encode()
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()


def make_cert(d, bind):
    cert, key = os.path.join(d, "apiserver.crt"), os.path.join(d, "apiserver.key")
    san = "IP:127.0.0.1,DNS:localhost" + ("" if bind in ("127.0.0.1", "0.0.0.0") else ",IP:" + bind)
    if not os.path.exists(cert):
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                        "-out", cert, "-days", "2", "-subj", "/CN=kanary-test-apiserver",
                        "-addext", "subjectAltName=" + san],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert, key


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", required=True, help="certificate, key and state live here")
    ap.add_argument("--bind", default="127.0.0.1", help="an IPv4 address; also in the certificate")
    ap.add_argument("--port", type=int, default=0, help="0: any free port")
    ap.add_argument("--port-file", help="the port is written here once listening")
    ap.add_argument("--token", help="the bearer token accepted at start")
    ap.add_argument("--no-istio", action="store_true", help="a cluster without the Istio CRDs")
    ap.add_argument("--bookmark-interval", type=float, default=1.0)
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()
    cert, key = make_cert(a.dir, a.bind)
    st = State(os.path.join(a.dir, "state.json"), not a.no_istio)
    if a.token:
        st.token = a.token
    srv = ThreadingHTTPServer((a.bind, a.port), Handler)
    srv.daemon_threads = True
    srv.state, srv.verbose, srv.bookmark_interval = st, a.verbose, a.bookmark_interval
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    if a.port_file:
        with open(a.port_file + ".tmp", "w") as f:
            f.write("%d\n" % srv.server_address[1])
        os.replace(a.port_file + ".tmp", a.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
