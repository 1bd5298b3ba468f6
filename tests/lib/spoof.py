#!/usr/bin/python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Blind teardown attempts against one live connection, for the spoof tests
(tests/e2e/*/spoof.bats).  Run in the node's netns:

  spoof.py IFACE ATTACKER_NETNS CLIENT_IP VIP:PORT BACKEND_IP:PORT wrong|exact

It watches IFACE (the victim's host veth) until the victim's connection to
VIP:PORT has exchanged data and been idle for 0.3 s, so it knows the
sequence numbers both sides are at; then, from the attacker pod's netns,
with raw sockets and the victim's address and port as source:

  wrong  RSTs near and far from the client's next sequence (never at it),
         and at random ones; SYNs with new ISNs, to the VIP and to the
         backend's own address; RSTs "from the backend" near and far from
         its next sequence as the client sees it, and at random ones.
  exact  one RST|ACK at the client's exact next sequence, as a client that
         aborts its connection sends it.

Prints one JSON object: the victim's port, the sequences seen, how many
segments of each kind were sent.  With SPOOF_READY set in the environment,
it creates that file once it watches IFACE, so the victim can wait for it:
an exchange it missed would leave it spoofing after the connection ended.  Exits 1 with the reason if it saw no
exchange within 20 s.
"""
import ctypes
import json
import os
import random
import socket
import struct
import sys
import time

CLONE_NEWNET = 0x40000000
ETH_P_ALL = 0x0003  # ETH_P_IP would see only what IFACE receives, not what it sends
FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10
NEAR = (1, -1, 1000, -1000, 70000, -70000, 1 << 20, 1 << 31)


def setns(name):
    fd = os.open(f"/var/run/netns/{name}", os.O_RDONLY)
    if ctypes.CDLL(None, use_errno=True).setns(fd, CLONE_NEWNET):
        sys.exit(f"spoof.py: setns {name}: {os.strerror(ctypes.get_errno())}")
    os.close(fd)


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def segment(src, sport, dst, dport, seq, ack, flags):
    s, d = socket.inet_aton(src), socket.inet_aton(dst)
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                      5 << 4, flags, 65535, 0, 0)
    c = csum(s + d + struct.pack("!BBH", 0, socket.IPPROTO_TCP, len(tcp)) + tcp)
    tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), random.getrandbits(16), 0, 64,
                     socket.IPPROTO_TCP, 0, s, d)
    return ip + tcp


def watch(sock, client, vip, vport, deadline):
    """The victim's port, and each side's next sequence once the connection idles."""
    cport = cnxt = cack = snxt = None
    sock.settimeout(0.3)
    while time.monotonic() < deadline:
        try:
            frame = sock.recv(65535)
        except socket.timeout:
            if cnxt is not None and snxt is not None:
                return cport, cnxt, cack, snxt
            continue
        ip = frame[14:]
        if frame[12:14] != b"\x08\x00" or len(ip) < 40 or ip[9] != socket.IPPROTO_TCP:
            continue
        ihl = (ip[0] & 0xF) * 4
        tot = struct.unpack("!H", ip[2:4])[0]
        src, dst = socket.inet_ntoa(ip[12:16]), socket.inet_ntoa(ip[16:20])
        sp, dp, seq, ack, off, fl = struct.unpack("!HHIIBB", ip[ihl:ihl + 14])
        end = seq + tot - ihl - (off >> 4) * 4 + (1 if fl & (SYN | FIN) else 0)
        if src == client and dst == vip and dp == vport:
            if cport is None and tot - ihl - (off >> 4) * 4 > 0:
                cport = sp
            if sp == cport:
                cnxt, cack = end & 0xFFFFFFFF, ack
        elif src == vip and sp == vport and dst == client and dp == cport:
            snxt = end & 0xFFFFFFFF
    sys.exit("spoof.py: saw no exchange of the victim's within 20 s")


def main():
    if len(sys.argv) != 7 or sys.argv[6] not in ("wrong", "exact"):
        sys.exit(__doc__)
    iface, attacker, client = sys.argv[1:4]
    vip, vport = sys.argv[4].rsplit(":", 1)
    backend, bport = sys.argv[5].rsplit(":", 1)
    vport, bport, mode = int(vport), int(bport), sys.argv[6]

    sniff = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    sniff.bind((iface, 0))
    if os.environ.get("SPOOF_READY"):
        open(os.environ["SPOOF_READY"], "w").close()
    cport, cnxt, cack, snxt = watch(sniff, client, vip, vport, time.monotonic() + 20)
    setns(attacker)
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    sent = {}

    def send(kind, src, sport, dst, dport, seq, ack, flags):
        raw.sendto(segment(src, sport, dst, dport, seq, ack, flags), (dst, 0))
        sent[kind] = sent.get(kind, 0) + 1

    rnd = random.Random(cport)
    if mode == "exact":
        send("client_rst_exact", client, cport, vip, vport, cnxt, cack, RST | ACK)
    else:
        for d in NEAR:
            send("client_rst_near", client, cport, vip, vport, cnxt + d, cack, RST | ACK)
            send("client_rst_near", client, cport, vip, vport, cnxt + d, 0, RST)
            send("backend_rst_near", backend, bport, client, cport, snxt + d, 0, RST)
        for _ in range(50):
            seq = rnd.getrandbits(32)
            if seq != cnxt:
                send("client_rst_random", client, cport, vip, vport, seq, 0, RST)
            seq = rnd.getrandbits(32)
            if seq != snxt:
                send("backend_rst_random", backend, bport, client, cport, seq, 0, RST)
        for _ in range(20):
            send("client_syn_vip", client, cport, vip, vport, rnd.getrandbits(32), 0, SYN)
            send("client_syn_backend", client, cport, backend, bport, rnd.getrandbits(32), 0, SYN)
    print(json.dumps({"cport": cport, "client_nxt": cnxt, "client_ack": cack,
                      "server_nxt": snxt, "sent": sent}), flush=True)


main()
