#!/usr/bin/python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""make manifests-check: parses every manifest under deploy/ (or the
directory given) and checks what kanaryd's DaemonSet and RBAC need, and
that kanaryd's container holds no more privilege than that.
Prints each problem as FILE: Kind/name: field: what is wrong; exit 1 if any.
--caps [DIR] prints the kanaryd container's added capabilities instead, one
per line, for the test that runs kanaryd with exactly those."""
import os
import re
import sys

try:
    import yaml
except ImportError:
    sys.exit("manifests-check: python3-yaml is needed (apt-get install python3-yaml)")

# What kanaryd needs, and all it may have (see deploy/daemonset.yaml); the
# mirror relay's likewise.
CAPS = {"BPF", "NET_ADMIN", "NET_RAW", "PERFMON"}
RELAY_CAPS = {"BPF"}
RULES = {("", "pods"), ("", "services"), ("networking.istio.io", "destinationrules"),
         ("networking.istio.io", "virtualservices")}
problems = []


def bad(where, field, msg):
    problems.append("%s: %s: %s" % (where, field, msg))


def load(d):
    docs = []
    for name in sorted(os.listdir(d)):
        if not name.endswith((".yaml", ".yml")):
            continue
        path = os.path.join(d, name)
        try:
            with open(path) as f:
                for doc in yaml.safe_load_all(f):
                    if doc is None:
                        continue
                    where = "%s: %s/%s" % (path, doc.get("kind"), (doc.get("metadata") or {}).get("name"))
                    for k in ("apiVersion", "kind"):
                        if not doc.get(k):
                            bad(where, k, "missing")
                    if not (doc.get("metadata") or {}).get("name"):
                        bad(where, "metadata.name", "missing")
                    docs.append((where, doc))
        except yaml.YAMLError as e:
            bad(path, "YAML", str(e).replace("\n", " "))
    return docs


def get(o, path, default=None):
    for p in path.split("."):
        if not isinstance(o, dict) or p not in o:
            return default
        o = o[p]
    return o


def check_least_privilege(where, c, caps):
    field = "containers[%s].securityContext" % c.get("name")
    sc = c.get("securityContext") or {}
    if sc.get("privileged") is not False:
        bad(where, field + ".privileged", "expected false")
    if "ALL" not in (get(sc, "capabilities.drop", []) or []):
        bad(where, field + ".capabilities.drop", "expected [ALL]")
    add = set(get(sc, "capabilities.add", []) or [])
    if add != caps:
        bad(where, field + ".capabilities.add", "expected exactly %s, got %s" % (sorted(caps), sorted(add)))
    for k, want in (("allowPrivilegeEscalation", False), ("readOnlyRootFilesystem", True)):
        if sc.get(k) is not want:
            bad(where, field + "." + k, "expected %s" % str(want).lower())


def bpffs_mount(where, c, field, propagation):
    for m in c.get("volumeMounts") or []:
        if m.get("mountPath") == "/sys/fs/bpf":
            if m.get("mountPropagation") != propagation:
                bad(where, field + ".volumeMounts[/sys/fs/bpf].mountPropagation", "expected " + propagation)
            return m.get("name")
    bad(where, field + ".volumeMounts", "no mount at /sys/fs/bpf")
    return None


def kanaryd_container(spec):
    cs = [c for c in spec.get("containers") or [] if "--kube" in (c.get("args") or [])]
    return cs[0] if len(cs) == 1 else None


def relay_container(spec):
    cs = [c for c in spec.get("containers") or []
          if any("kanary-mirror" in a for a in (c.get("command") or []) + (c.get("args") or []))]
    return cs[0] if len(cs) == 1 else None


def check_resources(where, c, field):
    for k in ("requests", "limits"):
        r = get(c, "resources." + k) or {}
        if not r.get("cpu") or not r.get("memory"):
            bad(where, "%s.resources.%s" % (field, k), "expected cpu and memory")


def check_relay(where, spec):
    """The mirror relay beside kanaryd: without it a mirror copies into a
    ring nobody reads.  It gets BPF alone and the same bpffs mount."""
    c = relay_container(spec)
    if c is None:
        bad(where, "spec.template.spec.containers", "expected one container running kanary-mirror, the mirror relay")
        return
    field = "containers[%s]" % c.get("name")
    check_least_privilege(where, c, RELAY_CAPS)
    bpffs_mount(where, c, field, "HostToContainer")
    check_resources(where, c, field)


def flag_value(args, flag):
    vals = [a.split("=", 1)[1] for a in args if a.startswith(flag + "=")]
    return vals[0] if vals else None


def listen_port(listen):
    m = re.fullmatch(r"(.*):([0-9]+)", listen or "")
    return (m.group(1), int(m.group(2))) if m else (None, None)


def check_listeners(where, c, field, args):
    """The probes on loopback (anyone on the network could hold the port
    shut, and the kubelet's restarts follow), /metrics on a port of its own
    (a flood there must not starve the probes)."""
    health = flag_value(args, "--health-listen")
    addr, port = listen_port(health) if health is not None else ("127.0.0.1", 9808)
    if addr != "127.0.0.1":
        bad(where, field + ".args", "expected --health-listen=127.0.0.1:PORT (or no --health-listen, the default), got %r" % health)
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        p = c.get(probe) or {}
        if get(p, "httpGet.path") != path:
            bad(where, "%s.%s.httpGet.path" % (field, probe), "expected %s" % path)
        if get(p, "httpGet.host") != "127.0.0.1":
            bad(where, "%s.%s.httpGet.host" % (field, probe), "expected 127.0.0.1, where --health-listen is")
        if port is not None and get(p, "httpGet.port") != port:
            bad(where, "%s.%s.httpGet.port" % (field, probe), "expected %d, the --health-listen port" % port)
    maddr, mport = listen_port(flag_value(args, "--metrics-listen"))
    if mport is None:
        bad(where, field + ".args", "expected --metrics-listen=ADDR:PORT, /metrics on a port of its own")
    elif mport == port:
        bad(where, field + ".args", "--metrics-listen: expected a port other than the probes' %d" % port)
    elif not any(p.get("containerPort") == mport for p in c.get("ports") or []):
        bad(where, field + ".ports", "expected a containerPort %d, the --metrics-listen port" % mport)
    # Flagger's built-in Istio checks, and Istio dashboards, read these.
    if "--istio-metrics" not in args:
        bad(where, field + ".args", "expected --istio-metrics: istio_* families for Flagger's Istio checks")


def check_daemonset(where, ds, accounts):
    spec = get(ds, "spec.template.spec", {})
    if get(ds, "spec.updateStrategy.type") != "RollingUpdate":
        bad(where, "spec.updateStrategy.type", "expected RollingUpdate")
    if spec.get("hostNetwork") is not True:
        bad(where, "spec.template.spec.hostNetwork", "expected true")
    if spec.get("priorityClassName") != "system-node-critical":
        bad(where, "spec.template.spec.priorityClassName", "expected system-node-critical")
    if not any(t.get("operator") == "Exists" and not t.get("key") for t in spec.get("tolerations") or []):
        bad(where, "spec.template.spec.tolerations", "expected one with operator: Exists and no key (all taints)")
    sa = spec.get("serviceAccountName")
    if sa not in accounts:
        bad(where, "spec.template.spec.serviceAccountName", "%r is not a ServiceAccount in these manifests" % sa)
    volumes = {v.get("name"): v for v in spec.get("volumes") or []}
    inits = spec.get("initContainers") or []
    if not any("mount -t bpf" in " ".join(i.get("command") or []) for i in inits):
        bad(where, "spec.template.spec.initContainers", "expected one that mounts bpffs (mount -t bpf)")
    for i in inits:
        if "mount -t bpf" in " ".join(i.get("command") or []):
            # Only it may be privileged: Bidirectional needs that.
            bpffs_mount(where, i, "initContainers[%s]" % i.get("name"), "Bidirectional")
    c = kanaryd_container(spec)
    if c is None:
        bad(where, "spec.template.spec.containers", "expected one container whose args hold --kube")
        return
    field = "containers[%s]" % c.get("name")
    args = c.get("args") or []
    check_least_privilege(where, c, CAPS)
    vol = bpffs_mount(where, c, field, "HostToContainer")
    if vol and get(volumes.get(vol, {}), "hostPath.path") != "/sys/fs/bpf":
        bad(where, "volumes[%s].hostPath.path" % vol, "expected /sys/fs/bpf")
    if not any(a.startswith("--iface=") or a == "--iface" for a in args):
        bad(where, field + ".args", "expected at least one --iface GLOB")
    env = {e.get("name"): e for e in c.get("env") or []}
    if get(env.get("NODE_NAME", {}), "valueFrom.fieldRef.fieldPath") != "spec.nodeName":
        bad(where, field + ".env[NODE_NAME]", "expected valueFrom.fieldRef.fieldPath: spec.nodeName")
    check_listeners(where, c, field, args)
    check_resources(where, c, field)
    check_relay(where, spec)


def check_rbac(docs):
    roles = [(w, d) for w, d in docs if d.get("kind") == "ClusterRole" and get(d, "metadata.name") == "kanaryd"]
    if len(roles) != 1:
        bad("deploy", "ClusterRole/kanaryd", "expected exactly one")
        return
    where, role = roles[0]
    seen = set()
    for i, r in enumerate(role.get("rules") or []):
        if sorted(r.get("verbs") or []) != ["get", "list", "watch"]:
            bad(where, "rules[%d].verbs" % i, "expected get, list, watch and nothing more")
        for g in r.get("apiGroups") or []:
            for res in r.get("resources") or []:
                seen.add((g, res))
    if seen != RULES:
        bad(where, "rules", "expected exactly %s, got %s" % (sorted(RULES), sorted(seen)))
    binds = [d for _, d in docs if d.get("kind") == "ClusterRoleBinding" and get(d, "roleRef.name") == "kanaryd"]
    if not binds or not any(s.get("kind") == "ServiceAccount" and s.get("name") == "kanaryd"
                            for s in binds[0].get("subjects") or []):
        bad("deploy", "ClusterRoleBinding", "expected one binding ClusterRole kanaryd to ServiceAccount kanaryd")


def print_caps(docs):
    for _, doc in docs:
        c = kanaryd_container(get(doc, "spec.template.spec", {})) if doc.get("kind") == "DaemonSet" else None
        if c is not None:
            for cap in get(c, "securityContext.capabilities.add", []) or []:
                print(cap)
            return
    sys.exit("manifests-check: no kanaryd container in a DaemonSet")


def main():
    args = sys.argv[1:]
    caps = bool(args) and args[0] == "--caps"
    if caps:
        args = args[1:]
    d = args[0] if args else os.path.dirname(os.path.abspath(__file__))
    docs = load(d)
    if caps:
        return print_caps(docs)
    accounts = {get(doc, "metadata.name") for _, doc in docs if doc.get("kind") == "ServiceAccount"}
    dss = [(w, doc) for w, doc in docs if doc.get("kind") == "DaemonSet"]
    if not dss:
        bad(d, "DaemonSet", "none found")
    for w, doc in dss:
        check_daemonset(w, doc, accounts)
    check_rbac(docs)
    for p in problems:
        print("manifests-check: " + p, file=sys.stderr)
    if problems:
        sys.exit(1)
    print("manifests-check: %d manifests in %s parsed; DaemonSet and RBAC have what kanaryd needs" % (len(docs), d))


if __name__ == "__main__":
    main()
