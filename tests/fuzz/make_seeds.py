#!/usr/bin/env python3
"""Write the generated seed corpora of the fuzz targets (one directory per target).

Usage: make_seeds.py --corpus DIR --captures-tool make_captures.py --out DIR [--stamp FILE]

Sources: the shared corpus (RFC 4475/5118 messages, the attack captures under pcap/) and the
scenarios of tests/tools/make_captures.py (legit calls, floods, fragments, scanners, media),
plus the shipped rule files. Frame sequences use the record format of frame_records.h; the
pipeline and policy targets get their set-up octets in front (see pipeline_driver.h and
fuzz_policy.cc). Seeds are deduplicated and capped per source, so replaying them stays quick.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import math
import struct
import sys
from pathlib import Path

MAX_SEEDS = 200  # per target and source
CHUNK = 12       # frames per sequence seed
SIP_STARTS = (b"SIP/2.0 ", b"INVITE ", b"REGISTER ", b"OPTIONS ", b"ACK ", b"BYE ", b"CANCEL ",
              b"MESSAGE ", b"SUBSCRIBE ", b"NOTIFY ", b"INFO ", b"PRACK ", b"UPDATE ", b"REFER ",
              b"PUBLISH ")


def read_pcap(path: Path) -> list[tuple[int, bytes]]:
    """(time in microseconds, frame) of a classic pcap with Ethernet frames; [] otherwise."""
    data = path.read_bytes()
    if len(data) < 24:
        return []
    magic = data[:4]
    formats = {bytes.fromhex("d4c3b2a1"): ("<", 1), bytes.fromhex("a1b2c3d4"): (">", 1),
               bytes.fromhex("4d3cb2a1"): ("<", 1000), bytes.fromhex("a1b23c4d"): (">", 1000)}
    if magic not in formats:
        return []
    order, per_us = formats[magic]
    if struct.unpack(order + "I", data[20:24])[0] != 1:  # DLT_EN10MB only
        return []
    out, i = [], 24
    while i + 16 <= len(data):
        sec, frac, incl, _ = struct.unpack(order + "IIII", data[i:i + 16])
        frame = data[i + 16:i + 16 + incl]
        out.append((sec * 1_000_000 + frac // per_us, frame))
        i += 16 + incl
    return out


def udp_of(frame: bytes) -> tuple[int, int, bytes] | None:
    """(source port, destination port, payload) of an unfragmented UDP frame."""
    i, etype = 14, int.from_bytes(frame[12:14], "big") if len(frame) >= 14 else 0
    while etype in (0x8100, 0x88A8) and len(frame) >= i + 4:
        etype, i = int.from_bytes(frame[i + 2:i + 4], "big"), i + 4
    if etype == 0x0800 and len(frame) >= i + 20:
        ihl = (frame[i] & 0x0F) * 4
        if frame[i + 9] != 17 or int.from_bytes(frame[i + 6:i + 8], "big") & 0x3FFF:
            return None
        i += ihl
    elif etype == 0x86DD and len(frame) >= i + 40:
        if frame[i + 6] != 17:
            return None
        i += 40
    else:
        return None
    if len(frame) < i + 8:
        return None
    sport, dport, length = struct.unpack(">HHH", frame[i:i + 6])
    return sport, dport, frame[i + 8:i + max(length, 8)]


def records(frames: list[tuple[int, bytes]]) -> bytes:
    """frame_records.h: u16 length, u8 clock step (step^2 x 100 us), frame."""
    out, last = bytearray(), frames[0][0] if frames else 0
    for t, frame in frames:
        step = min(255, round(math.sqrt(max(0, t - last) / 100)))
        last = t
        frame = frame[:0xFFFF]
        out += struct.pack(">HB", len(frame), step) + frame
    return bytes(out)


class Seeds:
    def __init__(self, out: Path):
        self.out = out
        self.seen: set[str] = set()
        self.count: dict[str, int] = {}

    def add(self, target: str, data: bytes) -> None:
        h = hashlib.sha1(target.encode() + b"\0" + data).hexdigest()
        if h in self.seen:
            return
        self.seen.add(h)
        d = self.out / target
        d.mkdir(parents=True, exist_ok=True)
        (d / h).write_bytes(data)
        self.count[target] = self.count.get(target, 0) + 1


def spread(items: list, cap: int) -> list:
    """At most `cap` items, evenly spread over the list."""
    if len(items) <= cap:
        return items
    step = len(items) / cap
    return [items[int(k * step)] for k in range(cap)]


def add_capture(seeds: Seeds, frames: list[tuple[int, bytes]]) -> None:
    if not frames:
        return
    chunks = [frames[k:k + CHUNK] for k in range(0, len(frames), CHUNK)]
    setup = bytes(12)  # no ban, no pinhole, burst sizes from seed 0
    for n, chunk in enumerate(spread(chunks, MAX_SEEDS // 2)):
        body = records(chunk)
        seeds.add("packet", bytes([n % 256]) + body)
        seeds.add("pipeline", bytes([n & 1]) + setup + body)
        seeds.add("policy", bytes([0]) + setup + body)
        # The same frames under a few rule statements picked by hashed octets (fuzz_policy.cc).
        count = 1 + n % 15
        picks = hashlib.sha256(bytes([n % 256])).digest() * 2
        seeds.add("policy", bytes([count]) + picks[:3 * count] + setup + body)
    sip, media = [], []
    for _, frame in frames:
        u = udp_of(frame)
        if u is None:
            continue
        sport, dport, payload = u
        if payload.startswith(SIP_STARTS):
            sip.append(payload)
        elif 10000 <= dport <= 20000 or (payload and payload[0] < 64):
            media.append(struct.pack(">H", dport) + payload)
    for p in spread(sip, MAX_SEEDS):
        for target in ("sip", "sip_diff", "signatures"):
            seeds.add(target, p)
    for p in spread(media, MAX_SEEDS):
        seeds.add("media", p)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, required=True)
    ap.add_argument("--captures-tool", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--stamp", type=Path)
    args = ap.parse_args(argv)
    seeds = Seeds(args.out)

    messages = []
    for sub in ("rfc4475", "rfc5118"):
        for f in sorted((args.corpus / sub).glob("*")):
            if f.is_file() and f.name not in ("MANIFEST.tsv", "SHA256SUMS"):
                messages.append(f.read_bytes())
                for target in ("sip", "sip_diff", "signatures"):
                    seeds.add(target, f.read_bytes())
    # stream (fuzz_stream.cc): an octet of options, 7 read sizes, then two messages back to
    # back with a keepalive between.
    for i, (a, b) in enumerate(zip(messages, messages[1:])):
        head = bytes([i & 1]) + bytes((i * 37 + k * 11) & 0xFF for k in range(7))
        seeds.add("stream", head + a + (b"\r\n\r\n", b"\r\n", b"")[i % 3] + b)
    for f in sorted((args.corpus / "pcap").rglob("*.pcap")):
        add_capture(seeds, read_pcap(f))

    spec = importlib.util.spec_from_file_location("make_captures", args.captures_tool)
    captures = importlib.util.module_from_spec(spec)
    sys.modules["make_captures"] = captures  # dataclasses look their module up by name
    spec.loader.exec_module(captures)
    for name, make in captures.SCENARIOS.items():
        add_capture(seeds, [(t, frame) for t, frame, _ in make().frames])

    rules_dir = Path(__file__).resolve().parents[2] / "rules"
    for f in sorted(rules_dir.glob("*.rules")):
        seeds.add("rules", f.read_bytes())
    for f in sorted((rules_dir.parent / "tests" / "unit" / "rules" / "data").glob("*.rules")):
        seeds.add("rules", f.read_bytes())

    for target, n in sorted(seeds.count.items()):
        print(f"{target}: {n} seeds")
    if args.stamp:
        args.stamp.write_text("".join(f"{t} {n}\n" for t, n in sorted(seeds.count.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
