#!/usr/bin/env python3
"""The lab's attacker: writes prebuilt Ethernet frames onto an interface (an AF_PACKET socket,
sendmmsg in batches), paced to a rate, for a bounded time. Run it in the namespace that holds
the interface; needs root. Frames come from tests/tools/make_captures.py's builders.

  attack.py KIND --iface c0 --src-mac MAC --dst-mac MAC --target IP --rate PPS --seconds S
            [--sources N] [--at MONOTONIC]

KIND:
  flood        INVITEs and REGISTERs from one source (sipwall: drop reason flood)
  distributed  INVITEs from N sources, each far below every per-source limit (pass_budget)
  scan         SIPVicious-style: OPTIONS sweeping the target's /24 and REGISTERs enumerating
               extensions, User-Agent friendly-scanner, from N sources (signature)
  malformed    from N sources in turn: an IPv4 total length beyond the frame (malformed_l3),
               a UDP length beyond the datagram (malformed_l4), a request without Call-ID
               (malformed_sip)

Prints `sent KIND N` and, for malformed, `sent KIND/SUBKIND N` per sub-kind on exit (frames the
kernel accepted), also when stopped by SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import ctypes
import ipaddress
import signal
import socket
import sys
import time
from pathlib import Path

sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "tools"))
import make_captures as mk  # noqa: E402

ETH_P_ALL = 0x0003
MAX_BATCH = 64
FLOOD_SOURCE = "203.0.113.66"
SCAN_UA = "friendly-scanner"
stopping = False


def on_signal(_sig: int, _frame: object) -> None:
    global stopping
    stopping = True


def frame(src: str, dst: str, sport: int, payload: bytes, macs: tuple[bytes, bytes], *,
          udp_length: int | None = None, ip_total: int | None = None) -> bytes:
    l4 = mk.udp(src, dst, sport, 5060, payload, length=udp_length)
    bad = mk.Ipv4Overrides(total_length=ip_total) if ip_total is not None else None
    return mk.ether(mk.ipv4(src, dst, mk.PROTO_UDP, l4, bad=bad), mk.ETH_IPV4,
                    src=macs[0], dst=macs[1])


def distributed_source(i: int) -> str:
    """Sources 198.18.0.0/15 (benchmarking space), none of them on the lab's subnets."""
    return f"198.{18 + i // 62500}.{i // 250 % 250}.{i % 250 + 1}"


def build(kind: str, target: str, sources: int, macs: tuple[bytes, bytes]
          ) -> list[tuple[str, bytes]]:
    """The frames of one round, each with its sub-kind; sent in order, round after round."""
    out: list[tuple[str, bytes]] = []
    if kind == "flood":
        for i in range(256):
            method = "INVITE" if i % 2 == 0 else "REGISTER"
            body = mk.sdp(FLOOD_SOURCE, 40000) if method == "INVITE" else b""
            msg = mk.sip_request(method, FLOOD_SOURCE, 5060, dst=target, user=f"9{i:04d}",
                                 seq=i + 1, ua="flooder", body=body)
            out.append(("flood", frame(FLOOD_SOURCE, target, 5060, msg.encode(), macs)))
    elif kind == "distributed":
        for i in range(sources):
            src = distributed_source(i)
            msg = mk.sip_request("INVITE", src, 5060, dst=target, user=f"8{i % 10000:04d}",
                                 ua="Z 5.5.14 v2.10.20.2", body=mk.sdp(src, 40000))
            out.append(("distributed", frame(src, target, 5060 + i % 1000, msg.encode(), macs)))
    elif kind == "scan":
        net = ipaddress.ip_network(f"{target}/24", strict=False)
        hosts = [str(h) for h in net.hosts()]
        for i in range(max(len(hosts), 256)):
            src = f"192.0.2.{i % sources + 10}"
            if i % 2 == 0:  # svmap: who answers OPTIONS on this subnet
                dst = hosts[i // 2 % len(hosts)]
                msg = mk.sip_request("OPTIONS", src, 5060, dst=dst, user="100", seq=i + 1,
                                     ua=SCAN_UA)
            else:  # svwar: which extensions exist (REGISTER to the registrar)
                dst = target
                msg = mk.sip_request("REGISTER", src, 5060, dst=dst, user=f"{100 + i}",
                                     seq=i + 1, ua=SCAN_UA)
            out.append(("scan", frame(src, dst, 5060, msg.encode(), macs)))
    elif kind == "malformed":
        for i in range(sources):
            src = f"100.64.{i // 250 % 250}.{i % 250 + 1}"
            sub = ("l3", "l4", "sip")[i % 3]
            msg = mk.sip_request("OPTIONS", src, 5060, dst=target, seq=i + 1)
            if sub == "l3":  # IPv4 total length 100 bytes beyond the frame
                payload = msg.encode()
                f = frame(src, target, 5060, payload, macs, ip_total=20 + 8 + len(payload) + 100)
            elif sub == "l4":  # UDP length 50 bytes beyond the IP payload
                payload = msg.encode()
                f = frame(src, target, 5060, payload, macs, udp_length=8 + len(payload) + 50)
            else:
                f = frame(src, target, 5060, msg.without("Call-ID").encode(), macs)
            out.append((f"malformed/{sub}", f))
    else:
        raise ValueError(f"unknown kind {kind}")
    return out


class Iovec(ctypes.Structure):
    _fields_ = [("iov_base", ctypes.c_void_p), ("iov_len", ctypes.c_size_t)]


class Msghdr(ctypes.Structure):
    _fields_ = [("msg_name", ctypes.c_void_p), ("msg_namelen", ctypes.c_uint32),
                ("msg_iov", ctypes.POINTER(Iovec)), ("msg_iovlen", ctypes.c_size_t),
                ("msg_control", ctypes.c_void_p), ("msg_controllen", ctypes.c_size_t),
                ("msg_flags", ctypes.c_int)]


class Mmsghdr(ctypes.Structure):
    _fields_ = [("msg_hdr", Msghdr), ("msg_len", ctypes.c_uint)]


class Batches:
    """The round's frames as sendmmsg vectors of BATCH frames, built once."""

    def __init__(self, frames: list[bytes]) -> None:
        self.buffers = [ctypes.create_string_buffer(f, len(f)) for f in frames]
        self.iovs = (Iovec * len(frames))()
        for i, b in enumerate(self.buffers):
            self.iovs[i].iov_base = ctypes.addressof(b)
            self.iovs[i].iov_len = len(frames[i])
        self.msgs = (Mmsghdr * len(frames))()
        for i in range(len(frames)):
            self.msgs[i].msg_hdr.msg_iov = ctypes.pointer(self.iovs[i])
            self.msgs[i].msg_hdr.msg_iovlen = 1
        self.count = len(frames)

    def at(self, start: int) -> ctypes.c_void_p:
        return ctypes.byref(self.msgs, start * ctypes.sizeof(Mmsghdr))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("kind", choices=("flood", "distributed", "scan", "malformed"))
    ap.add_argument("--iface", required=True)
    ap.add_argument("--src-mac", required=True)
    ap.add_argument("--dst-mac", required=True)
    ap.add_argument("--target", required=True, help="the SIP server attacked (IPv4)")
    ap.add_argument("--rate", type=float, required=True, help="frames per second")
    ap.add_argument("--seconds", type=float, required=True)
    ap.add_argument("--sources", type=int, default=1000)
    ap.add_argument("--at", type=float, default=0,
                    help="start at this CLOCK_MONOTONIC time (frames are built before)")
    args = ap.parse_args(argv)
    macs = (bytes.fromhex(args.src_mac.replace(":", "")),
            bytes.fromhex(args.dst_mac.replace(":", "")))
    round_ = build(args.kind, args.target, max(1, args.sources), macs)
    kinds = [k for k, _ in round_]
    batches = Batches([f for _, f in round_])
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    libc = ctypes.CDLL(None, use_errno=True)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((args.iface, 0))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    # Batches of ~2 ms of traffic: a flood arrives as a stream, not in bursts of 64 frames
    # that a 10 ms budget burst could not take whatever the rate.
    batch = max(1, min(MAX_BATCH, int(args.rate / 500)))
    sent: dict[str, int] = {}
    total = 0
    pos = 0
    print("ready", flush=True)
    while not stopping and time.monotonic() < args.at:
        time.sleep(min(0.05, args.at - time.monotonic()))
    start = time.monotonic()
    while not stopping:
        now = time.monotonic()
        if now - start >= args.seconds:
            break
        ahead = start + total / args.rate - now  # paced against the start
        if ahead > 0:
            time.sleep(min(ahead, 0.05))
            continue
        n = min(batch, batches.count - pos)
        got = libc.sendmmsg(s.fileno(), batches.at(pos), n, 0)
        if got <= 0:  # ENOBUFS/EAGAIN under load: nothing sent, try again shortly
            time.sleep(0.001)
            continue
        for k in kinds[pos:pos + got]:
            sent[k] = sent.get(k, 0) + 1
        total += got
        pos = (pos + got) % batches.count
    print(f"sent {args.kind} {total}", flush=True)
    for k, n in sorted(sent.items()):
        if "/" in k:
            print(f"sent {k} {n}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
