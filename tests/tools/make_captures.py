#!/usr/bin/env python3
"""Generate the pcap captures and their expected verdicts for sipwall's offline tests.

Usage: make_captures.py OUTDIR [--list]

For every scenario this writes ``OUTDIR/<name>.pcap`` (classic pcap, microsecond
timestamps, DLT_EN10MB) and ``OUTDIR/<name>.expected.jsonl`` with one line per
packet: ``{"n", "verdict", "reason", "rule", "note"}``.  ``rule`` is a substring
the actual rule id must contain (empty: any, but non-empty whenever the reason is
``signature``); ``note`` says what the packet is, for readable failure messages.

The expectations are written down from each scenario's intent (the defaults in
the design: SIP on UDP/TCP 5060, TLS on TCP 5061, media on UDP 10000-20000 by
destination port, token buckets per IPv4 /32 and IPv6 /64), never by running
sipwall.  Every timestamp is explicit, so token-bucket outcomes are exact: legit
traffic is spaced far below the limits and floods are packed so tightly that the
refill during the flood stays below one token.

Frames are built by hand with ``struct`` so the test needs only Debian's python3.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import struct
import sys
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

# --------------------------------------------------------------------------- constants

DLT_EN10MB = 1
PCAP_MAGIC_USEC = 0xA1B2C3D4
SNAPLEN = 65535

ETH_IPV4 = 0x0800
ETH_IPV6 = 0x86DD
ETH_ARP = 0x0806
ETH_VLAN = 0x8100

PROTO_ICMP = 1
PROTO_TCP = 6
PROTO_UDP = 17
PROTO_IPV6_FRAG = 44
PROTO_ICMPV6 = 58
PROTO_HOPOPTS = 0

MAC_CARRIER = bytes.fromhex("020000000001")  # the carrier-side router
MAC_SIPWALL = bytes.fromhex("020000000002")  # sipwall's outside port

# The protected side: a SIP server and its media addresses.
SERVER_V4 = "203.0.113.10"
SERVER_V6 = "2001:db8:5::10"

BASE_TIME_US = 1_700_000_000 * 1_000_000  # 2023-11-14, an arbitrary fixed epoch
MS = 1_000
SECOND = 1_000_000

# TCP flags
FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10

# The default limits (tokens per second, burst) the expectations rely on.
INVITE_BURST = 40
INVITE_RATE = 20
RTP_FLOW_BURST = 400
TCP_SYN_BURST = 40

SCANNER_USER_AGENTS = [
    "friendly-scanner",
    "sipcli/v1.8",
    "VaxSIPUserAgent/3.1",
    "pplsip",
    "sip-scan",
    "iWar",
    "sundayddr",
    "SIVuS",
    "Gulp",
    "smap",
]


# --------------------------------------------------------------------------- checksums


def inet_checksum(data: bytes) -> int:
    """RFC 1071 ones'-complement sum, as IPv4, UDP, TCP and ICMP use it."""
    if len(data) % 2:
        data += b"\x00"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def pseudo_header(src: str, dst: str, proto: int, length: int) -> bytes:
    """The IPv4 or IPv6 pseudo-header that L4 checksums cover."""
    s, d = ipaddress.ip_address(src), ipaddress.ip_address(dst)
    if s.version == 4:
        return s.packed + d.packed + struct.pack("!BBH", 0, proto, length)
    return s.packed + d.packed + struct.pack("!I3xB", length, proto)


# --------------------------------------------------------------------------- L4


def udp(src: str, dst: str, sport: int, dport: int, payload: bytes,
        length: int | None = None) -> bytes:
    """A UDP header plus payload with a correct checksum; ``length`` overrides the
    length field (for malformed cases; the checksum then uses the false length)."""
    real = 8 + len(payload) if length is None else length
    hdr = struct.pack("!HHHH", sport, dport, real, 0)
    csum = inet_checksum(pseudo_header(src, dst, PROTO_UDP, real) + hdr + payload)
    if csum == 0:
        csum = 0xFFFF  # 0 means "no checksum" in UDP
    return struct.pack("!HHHH", sport, dport, real, csum) + payload


def tcp(src: str, dst: str, sport: int, dport: int, payload: bytes = b"", *,
        flags: int = PSH | ACK, seq: int = 1, ack: int = 1,
        data_offset: int | None = None, options: bytes = b"") -> bytes:
    """A TCP segment with a correct checksum; ``data_offset`` overrides the header
    length field (in 32-bit words) for malformed cases."""
    if len(options) % 4:
        options += b"\x00" * (4 - len(options) % 4)
    off = data_offset if data_offset is not None else 5 + len(options) // 4
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, off << 4, flags, 65535, 0, 0)
    seg = hdr + options + payload
    csum = inet_checksum(pseudo_header(src, dst, PROTO_TCP, len(seg)) + seg)
    return seg[:16] + struct.pack("!H", csum) + seg[18:]


def icmp_echo(payload: bytes = b"sipwall-ping") -> bytes:
    hdr = struct.pack("!BBHHH", 8, 0, 0, 0x1234, 1)
    csum = inet_checksum(hdr + payload)
    return struct.pack("!BBHHH", 8, 0, csum, 0x1234, 1) + payload


def icmpv6_echo(src: str, dst: str, payload: bytes = b"sipwall-ping6") -> bytes:
    hdr = struct.pack("!BBHHH", 128, 0, 0, 0x4321, 1)
    csum = inet_checksum(pseudo_header(src, dst, PROTO_ICMPV6, len(hdr) + len(payload))
                         + hdr + payload)
    return struct.pack("!BBHHH", 128, 0, csum, 0x4321, 1) + payload


# --------------------------------------------------------------------------- L3


@dataclass
class Ipv4Overrides:
    """Header fields to falsify for malformed-L3 cases (None: the correct value)."""
    version: int | None = None
    ihl: int | None = None
    total_length: int | None = None


def ipv4(src: str, dst: str, proto: int, payload: bytes, *, ident: int = 0,
         frag_offset: int = 0, more_fragments: bool = False, dont_fragment: bool = False,
         ttl: int = 64, bad: Ipv4Overrides | None = None) -> bytes:
    """An IPv4 header (no options) with a correct header checksum over the given
    fields; ``frag_offset`` is in bytes and must be a multiple of 8."""
    bad = bad or Ipv4Overrides()
    assert frag_offset % 8 == 0
    version = 4 if bad.version is None else bad.version
    ihl = 5 if bad.ihl is None else bad.ihl
    total = 20 + len(payload) if bad.total_length is None else bad.total_length
    flags = (0x2000 if more_fragments else 0) | (0x4000 if dont_fragment else 0)
    hdr = struct.pack("!BBHHHBBH4s4s", (version << 4) | ihl, 0, total, ident,
                      flags | (frag_offset // 8), ttl, proto, 0,
                      ipaddress.IPv4Address(src).packed, ipaddress.IPv4Address(dst).packed)
    csum = inet_checksum(hdr)
    return hdr[:10] + struct.pack("!H", csum) + hdr[12:] + payload


def ipv6(src: str, dst: str, next_header: int, payload: bytes, *,
         payload_length: int | None = None, version: int = 6, hop_limit: int = 64) -> bytes:
    plen = len(payload) if payload_length is None else payload_length
    return (struct.pack("!IHBB", version << 28, plen, next_header, hop_limit)
            + ipaddress.IPv6Address(src).packed + ipaddress.IPv6Address(dst).packed + payload)


def ipv6_frag_header(next_header: int, offset: int, more: bool, ident: int) -> bytes:
    assert offset % 8 == 0
    return struct.pack("!BBHI", next_header, 0, offset | (1 if more else 0), ident)


def ip_packet(src: str, dst: str, proto: int, l4: bytes, **kw) -> bytes:
    """IPv4 or IPv6 by the address family of ``src``."""
    if ipaddress.ip_address(src).version == 4:
        return ipv4(src, dst, proto, l4, **kw)
    return ipv6(src, dst, proto, l4, **kw)


@dataclass
class Fragment:
    offset: int  # bytes into the fragmentable part
    data: bytes
    more: bool


def split_fragments(data: bytes, chunk: int) -> list[Fragment]:
    """Cut a transport datagram into fragments of ``chunk`` bytes (a multiple of 8)."""
    assert chunk % 8 == 0
    out = []
    for off in range(0, len(data), chunk):
        piece = data[off:off + chunk]
        out.append(Fragment(off, piece, off + chunk < len(data)))
    return out


def fragment_ipv4(src: str, dst: str, proto: int, l4: bytes, ident: int,
                  frags: list[Fragment]) -> list[bytes]:
    return [ipv4(src, dst, proto, f.data, ident=ident, frag_offset=f.offset,
                 more_fragments=f.more) for f in frags]


def fragment_ipv6(src: str, dst: str, proto: int, ident: int,
                  frags: list[Fragment]) -> list[bytes]:
    return [ipv6(src, dst, PROTO_IPV6_FRAG,
                 ipv6_frag_header(proto, f.offset, f.more, ident) + f.data) for f in frags]


# --------------------------------------------------------------------------- L2


def ether(payload: bytes, ethertype: int, *, vlan: int | None = None,
          src: bytes = MAC_CARRIER, dst: bytes = MAC_SIPWALL, pad: bool = True) -> bytes:
    """An Ethernet II frame (without FCS), optionally 802.1Q-tagged; short frames are
    zero-padded to the 60-byte minimum as they are on the wire, so the parser must
    trust the IP length fields rather than the frame length."""
    if vlan is None:
        frame = dst + src + struct.pack("!H", ethertype) + payload
    else:
        frame = dst + src + struct.pack("!HHH", ETH_VLAN, vlan & 0x0FFF, ethertype) + payload
    if pad and len(frame) < 60:
        frame += b"\x00" * (60 - len(frame))
    return frame


def ether_ip(ip: bytes, *, vlan: int | None = None) -> bytes:
    """Ethernet around an IP packet, the ethertype chosen by its version nibble."""
    ethertype = ETH_IPV4 if ip[0] >> 4 == 4 else ETH_IPV6
    return ether(ip, ethertype, vlan=vlan)


def udp_frame(src: str, dst: str, sport: int, dport: int, payload: bytes, *,
              vlan: int | None = None) -> bytes:
    """The common case: one well-formed UDP datagram in one Ethernet frame."""
    proto_ip = ip_packet(src, dst, PROTO_UDP, udp(src, dst, sport, dport, payload))
    return ether(proto_ip, ETH_IPV4 if ":" not in src else ETH_IPV6, vlan=vlan)


def tcp_frame(src: str, dst: str, sport: int, dport: int, payload: bytes = b"", **kw) -> bytes:
    seg = tcp(src, dst, sport, dport, payload, **kw)
    return ether_ip(ip_packet(src, dst, PROTO_TCP, seg))


def arp_request(sender_ip: str, target_ip: str) -> bytes:
    body = struct.pack("!HHBBH6s4s6s4s", 1, ETH_IPV4, 6, 4, 1, MAC_CARRIER,
                       ipaddress.IPv4Address(sender_ip).packed, b"\x00" * 6,
                       ipaddress.IPv4Address(target_ip).packed)
    return ether(body, ETH_ARP, dst=b"\xff" * 6)


# --------------------------------------------------------------------------- SIP


def host_part(addr: str) -> str:
    return f"[{addr}]" if ":" in addr else addr


@dataclass
class SipMessage:
    """A SIP message as a start line, an ordered header list and a body, so that
    malformed variants can remove, duplicate or rewrite single headers."""
    start_line: str
    headers: list[tuple[str, str]]
    body: bytes = b""
    content_length: int | None = None  # None: the true body length

    def encode(self) -> bytes:
        lines = [self.start_line]
        lines += [f"{n}: {v}" for n, v in self.headers]
        cl = len(self.body) if self.content_length is None else self.content_length
        lines.append(f"Content-Length: {cl}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + self.body

    def without(self, name: str) -> "SipMessage":
        return SipMessage(self.start_line, [h for h in self.headers if h[0] != name],
                          self.body, self.content_length)

    def with_header(self, name: str, value: str, *, replace: bool = False) -> "SipMessage":
        hs = [h for h in self.headers if not (replace and h[0] == name)]
        return SipMessage(self.start_line, hs + [(name, value)], self.body,
                          self.content_length)

    def header(self, name: str) -> str:
        return next(v for n, v in self.headers if n == name)


def sdp(addr: str, port: int, *, extra_lines: int = 0, session: str = "call") -> bytes:
    """An audio offer; ``extra_lines`` of attributes make the body as big as a real
    multi-codec offer so the datagram has to be fragmented."""
    fam = "IP6" if ":" in addr else "IP4"
    lines = ["v=0", f"o=- 4711 1 IN {fam} {addr}", f"s={session}", f"c=IN {fam} {addr}",
             "t=0 0", f"m=audio {port} RTP/AVP 0 8 18 101",
             "a=rtpmap:0 PCMU/8000", "a=rtpmap:8 PCMA/8000", "a=rtpmap:18 G729/8000",
             "a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-15", "a=ptime:20"]
    lines += [f"a=x-sipwall-padding-{i:03d}:{'abcdefghij' * 4}" for i in range(extra_lines)]
    lines.append("a=sendrecv")
    return ("\r\n".join(lines) + "\r\n").encode()


def sip_request(method: str, src: str, sport: int, *, dst: str = SERVER_V4, user: str = "100",
                seq: int = 1, tag: str = "", ua: str | None = "Linphone/5.2.0 (belle-sip/5.2.0)",
                from_hdr: str | None = None, to_hdr: str | None = None,
                call_id: str | None = None, body: bytes = b"",
                extra: Iterable[tuple[str, str]] = ()) -> SipMessage:
    """A well-formed RFC 3261 request from ``src:sport`` to the protected server."""
    h_src, h_dst = host_part(src), host_part(dst)
    tag = tag or f"t{zlib.crc32(f'{src}|{sport}|{method}|{seq}'.encode()):08x}"
    uri = f"sip:{user}@{h_dst}" if method != "REGISTER" else f"sip:{h_dst}"
    headers = [
        ("Via", f"SIP/2.0/UDP {h_src}:{sport};branch=z9hG4bK{tag}{seq};rport"),
        ("Max-Forwards", "70"),
        ("From", from_hdr or f"<sip:{user}@{h_dst}>;tag={tag}"),
        ("To", to_hdr or f"<sip:{user}@{h_dst}>"),
        ("Call-ID", call_id or f"{tag}-{seq}@{h_src}"),
        ("CSeq", f"{seq} {method}"),
        ("Contact", f"<sip:{user}@{h_src}:{sport}>"),
    ]
    if ua is not None:
        headers.append(("User-Agent", ua))
    if method == "REGISTER":
        headers.append(("Expires", "3600"))
    headers += list(extra)
    if body:
        headers.append(("Content-Type", "application/sdp"))
    return SipMessage(f"{method} {uri} SIP/2.0", headers, body)


def sip_response(req: SipMessage, code: int, reason: str) -> SipMessage:
    """The server's response to ``req``: the dialog headers copied, a To tag added."""
    keep = ("Via", "From", "To", "Call-ID", "CSeq")
    headers = []
    for name, value in req.headers:
        if name in keep:
            if name == "To" and ";tag=" not in value:
                value += ";tag=srv4242"
            headers.append((name, value))
    headers.append(("Server", "sipwall-test-core/1.0"))
    return SipMessage(f"SIP/2.0 {code} {reason}", headers)


# --------------------------------------------------------------------------- RTP / RTCP


def rtp(seq: int, ts: int, ssrc: int, payload: bytes = b"\xd5" * 160, *, pt: int = 0,
        marker: bool = False, csrcs: Iterable[int] = (), extension: bytes | None = None,
        padding: int = 0, version: int = 2, cc: int | None = None,
        ext_words: int | None = None, pad_byte: int | None = None) -> bytes:
    """An RTP packet (RFC 3550 5.1).  ``extension`` is the extension body (a multiple of
    4 bytes, profile 0xBEDE); ``padding`` adds that many padding bytes.  ``cc``,
    ``ext_words`` and ``pad_byte`` falsify the respective fields for invalid cases."""
    csrcs = list(csrcs)
    first = (version << 6) | (0x20 if padding or pad_byte is not None else 0) \
        | (0x10 if extension is not None else 0) | ((len(csrcs) if cc is None else cc) & 0x0F)
    out = struct.pack("!BBHII", first, (0x80 if marker else 0) | pt, seq & 0xFFFF,
                      ts & 0xFFFFFFFF, ssrc)
    out += b"".join(struct.pack("!I", c) for c in csrcs)
    if extension is not None:
        words = len(extension) // 4 if ext_words is None else ext_words
        out += struct.pack("!HH", 0xBEDE, words) + extension
    out += payload
    if padding:
        out += b"\x00" * (padding - 1) + bytes([padding if pad_byte is None else pad_byte])
    elif pad_byte is not None:
        out = out[:-1] + bytes([pad_byte])
    return out


def rtcp_header(pt: int, count: int, body: bytes, *, version: int = 2) -> bytes:
    assert len(body) % 4 == 0
    return struct.pack("!BBH", (version << 6) | count, pt, len(body) // 4) + body


def rtcp_sr(ssrc: int, reports: int = 1) -> bytes:
    body = struct.pack("!IIIIII", ssrc, 0xE8D4A510, 0x10000000, 160_000, 1000, 160_000)
    body += b"".join(struct.pack("!IIIIII", 0x5000 + i, 0, 7, 0, 0, 0) for i in range(reports))
    return rtcp_header(200, reports, body)


def rtcp_rr(ssrc: int, reports: int = 1) -> bytes:
    body = struct.pack("!I", ssrc)
    body += b"".join(struct.pack("!IIIIII", 0x6000 + i, 0, 3, 0, 0, 0) for i in range(reports))
    return rtcp_header(201, reports, body)


def rtcp_sdes(ssrc: int, cname: str) -> bytes:
    chunk = struct.pack("!IBB", ssrc, 1, len(cname)) + cname.encode() + b"\x00"
    chunk += b"\x00" * (-len(chunk) % 4)
    return rtcp_header(202, 1, chunk)


def rtcp_bye(ssrc: int) -> bytes:
    return rtcp_header(203, 1, struct.pack("!I", ssrc))


# ------------------------------------------------- STUN, DTLS, SRTCP on media ports (RFC 7983)

STUN_COOKIE = 0x2112A442


def stun_binding_request(txid: bytes = bytes(range(12)), *, cookie: int = STUN_COOKIE) -> bytes:
    """An ICE connectivity check (RFC 8489 5, RFC 8445 7.1.1): Binding request with
    USERNAME (padded to 4), PRIORITY and ICE-CONTROLLING; the integrity attributes are
    left out, the filter checks only the structure."""
    def attr(kind: int, value: bytes) -> bytes:
        return struct.pack("!HH", kind, len(value)) + value + b"\x00" * (-len(value) % 4)
    attrs = (attr(0x0006, b"evtj:h6vY") + attr(0x0024, struct.pack("!I", 0x6E0001FF))
             + attr(0x802A, bytes(8)))
    return struct.pack("!HHI", 0x0001, len(attrs), cookie) + txid + attrs


def dtls_client_hello(*, record_version: int = 0xFEFF) -> bytes:
    """A DTLS-SRTP ClientHello record (RFC 6347 4.1/4.2.2) offering DTLS 1.2 and the
    use_srtp extension (RFC 5764) with SRTP_AES128_CM_HMAC_SHA1_80."""
    use_srtp = struct.pack("!HHHHB", 0x000E, 5, 2, 0x0001, 0)
    body = (b"\xfe\xfd" + bytes(range(32)) + b"\x00" + b"\x00" + b"\x00\x02\xc0\x2b"
            + b"\x01\x00" + struct.pack("!H", len(use_srtp)) + use_srtp)
    n = len(body).to_bytes(3, "big")
    handshake = b"\x01" + n + b"\x00\x00" + b"\x00\x00\x00" + n + body
    return struct.pack("!BHHHIH", 22, record_version, 0, 0, 0, len(handshake)) + handshake


def srtcp_rr(ssrc: int, index: int) -> bytes:
    """SRTCP (RFC 3711 3.4): an RR whose first 8 octets stay clear, the rest encrypted
    (here: fixed bytes with no RTCP header in them), E flag + index, 80-bit tag."""
    rr = rtcp_rr(ssrc) + rtcp_sdes(ssrc, "x@y")
    ciphertext = bytes((i * 37 + 11) & 0x3F for i in range(len(rr) - 8))
    return rr[:8] + ciphertext + struct.pack("!I", 0x80000000 | index) + b"\x5a" * 10


# --------------------------------------------------------------------------- TLS

# A minimal but well-formed TLS 1.2 ClientHello record (one cipher suite, no
# extensions): only its bytes matter, sipwall punts TCP 5061 without reading it.
_HELLO_BODY = (b"\x03\x03" + bytes(range(32)) + b"\x00" + b"\x00\x02\x13\x01"
               + b"\x01\x00" + b"\x00\x00")
_HANDSHAKE = b"\x01" + len(_HELLO_BODY).to_bytes(3, "big") + _HELLO_BODY
TLS_CLIENT_HELLO = b"\x16\x03\x01" + len(_HANDSHAKE).to_bytes(2, "big") + _HANDSHAKE


# --------------------------------------------------------------------------- captures


@dataclass
class Expected:
    verdict: str
    reason: str = ""
    rule: str = ""
    note: str = ""


PUNT = Expected("punt")
PASS = Expected("pass")


def drop(reason: str, rule: str = "") -> Expected:
    return Expected("drop", reason, rule)


@dataclass
class Capture:
    """A capture being built: frames with explicit timestamps and, for each, the
    verdict the scenario intends."""
    name: str
    description: str
    frames: list[tuple[int, bytes, Expected]] = field(default_factory=list)

    def add(self, t_us: int, frame: bytes, exp: Expected, note: str) -> None:
        self.frames.append((BASE_TIME_US + t_us, frame,
                            Expected(exp.verdict, exp.reason, exp.rule, note)))

    def add_many(self, t_us: int, frames: list[bytes], exp: Expected, note: str,
                 step_us: int = 10) -> None:
        """Fragments of one datagram: all get the datagram's verdict."""
        for i, f in enumerate(frames):
            self.add(t_us + i * step_us, f, exp, f"{note} [fragment {i + 1}/{len(frames)}]")

    def write(self, outdir: Path) -> None:
        ts = [t for t, _, _ in self.frames]
        assert ts == sorted(ts), f"{self.name}: timestamps must not go backwards"
        with open(outdir / f"{self.name}.pcap", "wb") as f:
            f.write(struct.pack("<IHHiIII", PCAP_MAGIC_USEC, 2, 4, 0, 0, SNAPLEN, DLT_EN10MB))
            for t, frame, _ in self.frames:
                f.write(struct.pack("<IIII", t // SECOND, t % SECOND, len(frame), len(frame)))
                f.write(frame)
        with open(outdir / f"{self.name}.expected.jsonl", "w") as f:
            for n, (_, _, e) in enumerate(self.frames, 1):
                f.write(json.dumps({"n": n, "verdict": e.verdict, "reason": e.reason,
                                    "rule": e.rule, "note": e.note}) + "\n")


def v4_source(i: int) -> str:
    """Distinct public-looking IPv4 sources (198.18.0.0/15, benchmarking space)."""
    return f"198.18.{i // 250}.{i % 250 + 1}"


def v6_source(i: int) -> str:
    """Distinct IPv6 sources, each in its own /64."""
    return f"2001:db8:100:{i:x}::{i + 1:x}"


def sip_udp(src: str, sport: int, msg: SipMessage, *, dst: str | None = None,
            dport: int = 5060, vlan: int | None = None) -> bytes:
    dst = dst or (SERVER_V6 if ":" in src else SERVER_V4)
    return udp_frame(src, dst, sport, dport, msg.encode(), vlan=vlan)


def server_reply(req: SipMessage, client: str, cport: int, code: int, reason: str) -> bytes:
    server = SERVER_V6 if ":" in client else SERVER_V4
    return udp_frame(server, client, 5060, cport, sip_response(req, code, reason).encode())


# --------------------------------------------------------------------------- scenarios


def scenario_legit() -> Capture:
    """Normal carrier traffic: nothing may be dropped.

    200 sources (100 IPv4, 100 IPv6 in distinct /64s) each send one request,
    cycling REGISTER/INVITE/OPTIONS/BYE, and the core answers.  Packets are 20 ms
    apart, so even the core (one source for all responses) stays at 25 SIP/s,
    half its all-SIP rate.  Then RTP/RTCP variants, transit and TCP signaling."""
    cap = Capture("legit", scenario_legit.__doc__ or "")
    t = 0
    methods = ["REGISTER", "INVITE", "OPTIONS", "BYE"]
    answers = {"REGISTER": (200, "OK"), "INVITE": (180, "Ringing"),
               "OPTIONS": (200, "OK"), "BYE": (200, "OK")}
    for i in range(200):
        src = v4_source(i) if i % 2 == 0 else v6_source(i)
        method = methods[i % 4]
        sport = 5060 if i % 3 == 0 else 40000 + i  # fixed 5060 and ephemeral ports
        body = sdp(src, 30000 + 2 * i) if method == "INVITE" else b""
        req = sip_request(method, src, sport, dst=SERVER_V6 if ":" in src else SERVER_V4,
                          user=f"{1000 + i}", seq=i + 1, body=body)
        vlan = 100 if i % 10 == 5 else None
        cap.add(t, sip_udp(src, sport, req, vlan=vlan), PUNT,
                f"{method} from {src}:{sport}" + (" (VLAN 100)" if vlan else ""))
        t += 20 * MS
        code, reason = answers[method]
        cap.add(t, server_reply(req, src, sport, code, reason), PUNT,
                f"{code} {reason} to {src}")
        t += 20 * MS

    # A client whose source port lies in the media range: SIP wins on the 5060 side.
    req = sip_request("OPTIONS", "198.51.100.77", 15062, seq=7)
    cap.add(t, sip_udp("198.51.100.77", 15062, req), PUNT,
            "OPTIONS from a source port inside the media range to 5060")
    t += 20 * MS
    # Compact header forms are the same headers (RFC 3261 7.3.3).
    compact = SipMessage("OPTIONS sip:100@203.0.113.10 SIP/2.0", [
        ("v", "SIP/2.0/UDP 198.51.100.78:5060;branch=z9hG4bKcompact1"),
        ("f", "<sip:200@198.51.100.78>;tag=c1"), ("t", "<sip:100@203.0.113.10>"),
        ("i", "compact-1@198.51.100.78"), ("CSeq", "1 OPTIONS"), ("Max-Forwards", "70")])
    cap.add(t, sip_udp("198.51.100.78", 5060, compact), PUNT, "OPTIONS in compact form")
    t += 20 * MS

    # RTP to even media ports, 20 ms apart (50 pkt/s per flow, limit 200).
    ssrc = 0x1000
    flows = [
        ("198.51.100.20", 10000, "plain G.711", dict()),
        ("198.51.100.21", 10002, "2 CSRCs", dict(csrcs=[0xAAAA0001, 0xAAAA0002])),
        ("198.51.100.22", 19998, "header extension", dict(extension=b"\x10\xaa\x00\x00")),
        ("198.51.100.23", 12000, "4 bytes of padding", dict(padding=4)),
        ("2001:db8:200::23", 14000, "IPv6, dynamic PT", dict(pt=111)),
        ("198.51.100.24", 16000, "VLAN-tagged", dict()),
    ]
    for k, (src, dport, what, kw) in enumerate(flows):
        dst = SERVER_V6 if ":" in src else SERVER_V4
        for j in range(10):
            pkt = rtp(100 + j, 160 * j, ssrc + k, marker=(j == 0), **kw)
            vlan = 200 if what == "VLAN-tagged" else None
            cap.add(t, udp_frame(src, dst, 20000 + k * 2, dport, pkt, vlan=vlan), PASS,
                    f"RTP {what} seq {100 + j} to port {dport}")
            t += 2 * MS
    # RTCP compounds to odd media ports.
    rtcps = [
        (10001, rtcp_sr(ssrc) + rtcp_sdes(ssrc, "alice@example.com"), "SR+SDES"),
        (10003, rtcp_rr(ssrc + 1) + rtcp_sdes(ssrc + 1, "bob@example.com"), "RR+SDES"),
        (12001, rtcp_rr(ssrc + 3, reports=0) + rtcp_sdes(ssrc + 3, "c@example.com")
         + rtcp_bye(ssrc + 3), "empty RR+SDES+BYE"),
        (19999, rtcp_sr(ssrc + 2, reports=2) + rtcp_sdes(ssrc + 2, "d@example.com"),
         "SR with 2 report blocks+SDES"),
    ]
    for dport, pkt, what in rtcps:
        cap.add(t, udp_frame("198.51.100.20", SERVER_V4, 20001, dport, pkt), PASS,
                f"RTCP {what} to port {dport}")
        t += 5 * MS

    # Transit: neither SIP nor media.
    dns = bytes.fromhex("abcd01000001000000000000076578616d706c6503636f6d0000010001")
    cap.add(t, udp_frame("198.51.100.30", "203.0.113.53", 40053, 53, dns), PASS,
            "DNS query to UDP 53")
    t += 5 * MS
    cap.add(t, udp_frame("203.0.113.53", "198.51.100.30", 53, 40053, dns), PASS,
            "DNS answer from UDP 53 to an ephemeral port outside the media range")
    t += 5 * MS
    cap.add(t, tcp_frame("198.51.100.31", "203.0.113.80", 45000, 443, flags=SYN, ack=0),
            PASS, "TCP SYN to 443")
    t += 5 * MS
    cap.add(t, tcp_frame("198.51.100.31", "203.0.113.80", 45000, 443, b"\x17\x03\x03" + b"x" * 40),
            PASS, "TCP data to 443")
    t += 5 * MS
    cap.add(t, arp_request("203.0.113.1", "203.0.113.10"), PASS, "ARP request")
    t += 5 * MS
    cap.add(t, ether_ip(ipv4("198.51.100.32", SERVER_V4, PROTO_ICMP, icmp_echo())), PASS,
            "ICMP echo request")
    t += 5 * MS
    cap.add(t, ether_ip(ipv6("2001:db8:200::32", SERVER_V6, PROTO_ICMPV6,
                             icmpv6_echo("2001:db8:200::32", SERVER_V6))), PASS,
            "ICMPv6 echo request")
    t += 5 * MS
    cap.add(t, udp_frame("2001:db8:200::33", SERVER_V6, 40123, 123, b"\x23" + b"\x00" * 47),
            PASS, "NTP over IPv6")
    t += 5 * MS

    # TCP signaling: everything on 5060/5061 goes to the control plane.
    tcp_sig = [
        ("198.51.100.40", 41000, 5060, dict(flags=SYN, ack=0), b"", "TCP SYN to 5060"),
        ("198.51.100.40", 41000, 5060, {},
         sip_request("OPTIONS", "198.51.100.40", 41000, seq=1).encode(), "SIP over TCP 5060"),
        ("198.51.100.41", 41001, 5061, dict(flags=SYN, ack=0), b"", "TCP SYN to 5061"),
        ("198.51.100.41", 41001, 5061, {}, TLS_CLIENT_HELLO,
         "TLS ClientHello bytes to 5061"),
        ("2001:db8:200::42", 41002, 5061, dict(flags=SYN, ack=0), b"", "IPv6 TCP SYN to 5061"),
    ]
    for src, sport, dport, kw, payload, what in tcp_sig:
        dst = SERVER_V6 if ":" in src else SERVER_V4
        cap.add(t, tcp_frame(src, dst, sport, dport, payload, **kw), PUNT, what)
        t += 5 * MS
    cap.add(t, tcp_frame(SERVER_V4, "198.51.100.40", 5060, 41000, flags=SYN | ACK), PUNT,
            "TCP SYN-ACK from 5060")
    return cap


def scenario_flood_single() -> Capture:
    """One IPv4 source sends 300 INVITEs within 10 ms.

    The INVITE bucket (20/s, burst 40) refills 0.2 tokens in 10 ms, so exactly the
    first 40 are punted and 260 dropped as flood.  Another source's traffic in
    between is unaffected.  After 0.525 s 10.5 tokens have come back: of 15 quick
    INVITEs 10 pass, 5 flood.  After 2 s of silence the bucket is full again."""
    cap = Capture("flood_single", scenario_flood_single.__doc__ or "")
    attacker = "192.0.2.66"
    tag = "flood1"
    cap.add(0, sip_udp("198.51.100.9", 5060, sip_request("OPTIONS", "198.51.100.9", 5060)),
            PUNT, "bystander OPTIONS before the flood")

    def invite(k: int) -> bytes:
        req = sip_request("INVITE", attacker, 5070, user=f"{9000 + k}", seq=k + 1, tag=tag,
                          call_id=f"flood-{k}@{attacker}")
        return sip_udp(attacker, 5070, req)

    t0 = 100 * MS
    for k in range(300):
        t = t0 + k * 33  # 300 packets in 9.9 ms
        exp = PUNT if k < INVITE_BURST else drop("flood")
        cap.add(t, invite(k), exp, f"INVITE #{k + 1} of the flood")
        if k % 50 == 25:  # a bystander's request in the middle of the flood
            by = f"198.51.100.{10 + k // 50}"
            cap.add(t + 1, sip_udp(by, 5060, sip_request("INVITE", by, 5060, seq=k)), PUNT,
                    f"bystander INVITE from {by} during the flood")
    # 0.525 s after the flood began: 20/s * 0.525 s = 10.5 tokens.
    t1 = t0 + 525 * MS
    for k in range(15):
        exp = PUNT if k < 10 else drop("flood")
        cap.add(t1 + k * 50, invite(300 + k), exp,
                f"INVITE {k + 1}/15 after 0.525 s (10.5 tokens refilled)")
    # Two seconds of silence refill the bucket completely.
    t2 = t1 + 2 * SECOND
    for k in range(5):
        cap.add(t2 + k * MS, invite(400 + k), PUNT, f"INVITE {k + 1}/5 after 2 s of silence")
    req = sip_request("INVITE", attacker, 5070, seq=999, tag=tag)
    cap.add(t2 + 10 * MS, server_reply(req, attacker, 5070, 486, "Busy Here"), PUNT,
            "the core's response to the attacker (another source)")
    return cap


def scenario_flood_rotating_v6() -> Capture:
    """300 INVITEs from 300 addresses inside one /64 within 10 ms.

    Buckets are keyed by /64, so the addresses share one INVITE bucket: 40 punt,
    260 flood.  Interleaved INVITEs from 20 other /64s (one of them the
    neighbouring 2001:db8:bad:2::/64) are punted."""
    cap = Capture("flood_rotating_v6", scenario_flood_rotating_v6.__doc__ or "")
    t0 = 10 * MS
    others = [f"2001:db8:cafe:{k:x}::1" for k in range(19)] + ["2001:db8:bad:2::1"]
    for k in range(300):
        src = f"2001:db8:bad:1:{k // 256:x}:{k % 256:x}:{k * 7 % 65536:x}:{k + 1:x}"
        req = sip_request("INVITE", src, 5060, user=f"{7000 + k}", seq=1)
        exp = PUNT if k < INVITE_BURST else drop("flood")
        t = t0 + k * 33
        cap.add(t, sip_udp(src, 5060, req), exp, f"INVITE #{k + 1} from {src} (shared /64)")
        if k % 15 == 7:
            other = others[k // 15]
            cap.add(t + 1, sip_udp(other, 5060, sip_request("INVITE", other, 5060)), PUNT,
                    f"INVITE from another /64 {other}")
    return cap


def scenario_syn_flood() -> Capture:
    """One IPv4 source opens 200 TCP connections to 5060/5061 within 10 ms.

    The connection-attempt bucket (20/s, burst 40) lets the first 40 SYNs reach the
    control plane and drops 160 as flood (limit sipwall:limit.tcp-syn).  The source's
    segments of an established connection, a SYN-ACK from the core and another
    source's SYN are punted during the flood; after 2 s the bucket is full again."""
    cap = Capture("syn_flood", scenario_syn_flood.__doc__ or "")
    attacker = "192.0.2.77"
    cap.add(0, tcp_frame(attacker, SERVER_V4, 40000, 5060,
                         sip_request("OPTIONS", attacker, 40000, seq=1).encode()),
            PUNT, "the source's SIP over an established TCP connection")
    t0 = 10 * MS
    for k in range(200):
        t = t0 + k * 50  # 200 SYNs in 10 ms
        exp = PUNT if k < TCP_SYN_BURST else drop("flood", "tcp-syn")
        cap.add(t, tcp_frame(attacker, SERVER_V4, 42000 + k, 5061 if k % 2 else 5060,
                             flags=SYN, ack=0), exp, f"SYN #{k + 1} of the flood")
        if k % 50 == 25:
            cap.add(t + 1, tcp_frame(attacker, SERVER_V4, 40000, 5060, b"\r\n\r\n"), PUNT,
                    "established-connection segment during the flood")
            cap.add(t + 2, tcp_frame(SERVER_V4, attacker, 5060, 42000, flags=SYN | ACK), PUNT,
                    "the core's SYN-ACK")
            other = f"198.51.100.{60 + k // 50}"
            cap.add(t + 3, tcp_frame(other, SERVER_V4, 43000 + k, 5061, flags=SYN, ack=0),
                    PUNT, f"SYN from another source {other}")
    t1 = t0 + 2 * SECOND
    for k in range(5):
        cap.add(t1 + k * MS, tcp_frame(attacker, SERVER_V4, 44000 + k, 5061, flags=SYN, ack=0),
                PUNT, f"SYN {k + 1}/5 after 2 s of silence")
    return cap


def _malformed_l2_l3() -> list[tuple[bytes, Expected, str]]:
    """L2/L3 inconsistencies (the frame cannot be trusted to carry the IP packet it
    claims) -> malformed_l3."""
    src, dst = "198.51.100.60", SERVER_V4
    sip = sip_request("OPTIONS", src, 5060).encode()
    good_udp = udp(src, dst, 5060, 5060, sip)
    good_v4 = ipv4(src, dst, PROTO_UDP, good_udp)
    v6src = "2001:db8:300::60"
    good_udp6 = udp(v6src, SERVER_V6, 5060, 5060, sip)
    good_v6 = ipv6(v6src, SERVER_V6, PROTO_UDP, good_udp6)
    eth_hdr = MAC_SIPWALL + MAC_CARRIER
    l3 = drop("malformed_l3")
    hop_by_hop_long = struct.pack("!BB", PROTO_UDP, 200) + b"\x01\x04" + b"\x00" * 4
    return [
        (eth_hdr[:10], l3, "truncated Ethernet header (10 bytes)"),
        (eth_hdr + struct.pack("!H", ETH_VLAN) + b"\x00", l3, "VLAN tag cut short"),
        (ether(good_v4[:12], ETH_IPV4, pad=False), l3, "IPv4 header cut after 12 bytes"),
        (ether(ipv4(src, dst, PROTO_UDP, good_udp, bad=Ipv4Overrides(version=5)), ETH_IPV4),
         l3, "IPv4 ethertype with IP version 5"),
        (ether_ip(ipv4(src, dst, PROTO_UDP, good_udp, bad=Ipv4Overrides(ihl=4))), l3,
         "IPv4 IHL 4 (< 5)"),
        (ether(ipv4(src, dst, PROTO_UDP, b"\x00" * 20, bad=Ipv4Overrides(ihl=15)), ETH_IPV4,
               pad=False), l3, "IPv4 IHL 15 (60-byte header) longer than the 40-byte packet"),
        (ether_ip(ipv4(src, dst, PROTO_UDP, good_udp,
                       bad=Ipv4Overrides(total_length=20 + len(good_udp) + 100))), l3,
         "IPv4 total length 100 bytes beyond the frame"),
        (ether_ip(ipv4(src, dst, PROTO_UDP, good_udp, bad=Ipv4Overrides(total_length=16))),
         l3, "IPv4 total length 16 (< header length)"),
        (ether(good_v6[:20], ETH_IPV6, pad=False), l3, "IPv6 header cut after 20 bytes"),
        (ether_ip(ipv6(v6src, SERVER_V6, PROTO_UDP, good_udp6,
                       payload_length=len(good_udp6) + 64)), l3,
         "IPv6 payload length 64 bytes beyond the frame"),
        (ether(ipv6(v6src, SERVER_V6, PROTO_UDP, good_udp6, version=4), ETH_IPV6), l3,
         "IPv6 ethertype with IP version 4"),
        (ether_ip(ipv6(v6src, SERVER_V6, PROTO_HOPOPTS, hop_by_hop_long)), l3,
         "IPv6 hop-by-hop header claiming 1608 bytes in an 8-byte payload"),
        (ether_ip(ipv6(v6src, SERVER_V6, PROTO_HOPOPTS, b"\x11\x00\x01")), l3,
         "IPv6 extension chain cut inside the hop-by-hop header"),
    ]


def _malformed_l4() -> list[tuple[bytes, Expected, str]]:
    """L4 header problems inside a consistent IP packet -> malformed_l4."""
    src, dst = "198.51.100.61", SERVER_V4
    sip = sip_request("OPTIONS", src, 5060).encode()
    l4 = drop("malformed_l4")
    v6src = "2001:db8:300::61"
    return [
        (ether_ip(ipv4(src, dst, PROTO_UDP, udp(src, dst, 5060, 5060, sip,
                                                 length=8 + len(sip) + 50))), l4,
         "UDP length 50 bytes beyond the IP payload"),
        (ether_ip(ipv6(v6src, SERVER_V6, PROTO_UDP, udp(v6src, SERVER_V6, 5060, 5060, sip,
                                                         length=8 + len(sip) + 50))), l4,
         "IPv6: UDP length 50 bytes beyond the IP payload"),
        (ether_ip(ipv4(src, dst, PROTO_UDP, udp(src, dst, 5060, 5060, sip, length=4))), l4,
         "UDP length 4 (< 8)"),
        (ether_ip(ipv4(src, dst, PROTO_UDP, b"\x13\xc4\x13\xc4")), l4,
         "UDP header cut to 4 bytes"),
        (ether_ip(ipv4(src, dst, PROTO_TCP, tcp(src, dst, 42000, 5060, sip, data_offset=4))),
         l4, "TCP data offset 4 (< 5) to 5060"),
        (ether_ip(ipv4(src, dst, PROTO_TCP, tcp(src, dst, 42000, 5061, b"", data_offset=15,
                                                 flags=SYN))), l4,
         "TCP data offset 15 (60 bytes) in a 20-byte segment to 5061"),
        (ether_ip(ipv4(src, dst, PROTO_TCP, tcp(src, dst, 42000, 5060, flags=SYN)[:12])), l4,
         "TCP header cut to 12 bytes"),
    ]


def _malformed_sip() -> list[tuple[bytes, Expected, str]]:
    """RFC 3261 violations in otherwise well-formed UDP datagrams -> malformed_sip.
    Each comes from its own source so no bucket is involved."""
    out = []
    counter = iter(range(1, 1000))

    def add(msg: SipMessage | bytes, what: str) -> None:
        src = f"198.51.100.{100 + next(counter)}"
        payload = msg if isinstance(msg, bytes) else msg.encode()
        out.append((udp_frame(src, SERVER_V4, 5060, 5060, payload), drop("malformed_sip"), what))

    base = sip_request("INVITE", "192.0.2.1", 5060, body=sdp("192.0.2.1", 30000))
    opt = sip_request("OPTIONS", "192.0.2.1", 5060)
    add(SipMessage(base.start_line.replace("SIP/2.0", "SIP/3.0"), base.headers, base.body),
        "request line with version SIP/3.0")
    add(SipMessage("SIP/1.0 200 OK", sip_response(opt, 200, "OK").headers),
        "response with version SIP/1.0")
    for name in ("Via", "From", "To", "Call-ID", "CSeq"):
        add(base.without(name), f"INVITE without {name}")
    add(opt.with_header("CSeq", "1 INVITE", replace=True), "OPTIONS with CSeq method INVITE")
    add(opt.with_header("CSeq", "one OPTIONS", replace=True), "CSeq number not a number")
    second = {"From": "<sip:999@192.0.2.1>;tag=dup", "To": "<sip:999@203.0.113.10>",
              "Call-ID": "another-call@192.0.2.1", "CSeq": "2 OPTIONS"}
    for name, value in second.items():
        add(opt.with_header(name, value), f"duplicate {name} (second one differs)")
    add(opt.with_header("f", "<sip:evil@192.0.2.1>;tag=2"),
        "duplicate From, second one in compact form 'f'")
    add(SipMessage(base.start_line, base.headers, base.body,
                   content_length=len(base.body) + 200),
        "Content-Length 200 bytes beyond the datagram")
    add(SipMessage(opt.start_line,
                   [("Via", "SIP/2.0/UDP 255.255.255.255:5060;branch=z9hG4bKbcast")]
                   + opt.without("Via").headers),
        "Via sent-by is the broadcast address 255.255.255.255")
    add(opt.encode().replace(b"Max-Forwards: 70", b"Max-Forwards 70"),
        "header line without a colon")
    add(b"HELLO sipwall\r\n\r\n", "not a SIP start line at all")
    return out


def scenario_malformed() -> Capture:
    """One packet per malformed kind, 100 ms apart from distinct sources, between
    two clean OPTIONS that must still be punted (bad input never stops filtering)."""
    cap = Capture("malformed", scenario_malformed.__doc__ or "")
    t = 0
    ok = sip_request("OPTIONS", "198.51.100.59", 5060)
    cap.add(t, sip_udp("198.51.100.59", 5060, ok), PUNT, "clean OPTIONS before")
    for frame, exp, what in _malformed_l2_l3() + _malformed_l4() + _malformed_sip():
        t += 100 * MS
        cap.add(t, frame, exp, what)
    t += 100 * MS
    ok = sip_request("OPTIONS", "198.51.100.59", 5060, seq=2)
    cap.add(t, sip_udp("198.51.100.59", 5060, ok), PUNT, "clean OPTIONS after")
    return cap


def scenario_fragments() -> Capture:
    """Fragmented signaling: the verdict of the reassembled datagram applies to
    every fragment.  Clean big INVITEs (IPv4 in order and reversed, IPv6) punt; a
    scanner INVITE whose User-Agent sits in the second fragment drops as
    signature; overlapping fragments and never-completed datagrams drop as
    fragment (the end of the capture drains what is still held)."""
    cap = Capture("fragments", scenario_fragments.__doc__ or "")
    t = 0

    def big_invite(src: str, ua: str | None = None, seq: int = 1) -> bytes:
        dst = SERVER_V6 if ":" in src else SERVER_V4
        filler = [(f"X-Sipwall-Pad-{i:02d}", "p" * 60) for i in range(20)]
        req = sip_request("INVITE", src, 5060, dst=dst, seq=seq, ua=None,
                          body=sdp(src, 30000, extra_lines=20), extra=filler)
        if ua is not None:  # after the 1.3 KB of filler: in the second fragment
            req = req.with_header("User-Agent", ua)
        return req.encode()

    # IPv4, 3 fragments in order.
    src = "198.51.100.70"
    payload = big_invite(src)
    assert len(payload) > 1500
    dgram = udp(src, SERVER_V4, 5060, 5060, payload)
    frags = [ether_ip(f) for f in fragment_ipv4(src, SERVER_V4, PROTO_UDP, dgram, 0x0101,
                                                split_fragments(dgram, 1176))]
    assert len(frags) == 3
    cap.add_many(t, frags, PUNT, f"clean INVITE ({len(payload)} B) over IPv4")
    t += 100 * MS
    # IPv4, the same kind of datagram with its fragments arriving last-first.
    src = "198.51.100.71"
    dgram = udp(src, SERVER_V4, 5060, 5060, big_invite(src))
    frags = [ether_ip(f) for f in fragment_ipv4(src, SERVER_V4, PROTO_UDP, dgram, 0x0102,
                                                split_fragments(dgram, 1480))]
    cap.add_many(t, frags[::-1], PUNT, "clean INVITE over IPv4, fragments in reverse order")
    t += 100 * MS
    # IPv6, 2 fragments.
    src6 = "2001:db8:400::70"
    dgram6 = udp(src6, SERVER_V6, 5060, 5060, big_invite(src6))
    frags = [ether_ip(f) for f in fragment_ipv6(src6, SERVER_V6, PROTO_UDP, 0xA0000001,
                                                split_fragments(dgram6, 1232))]
    cap.add_many(t, frags, PUNT, "clean INVITE over IPv6")
    t += 100 * MS
    # Scanner INVITE, the User-Agent only in the second fragment (IPv4 and IPv6).
    src = "198.51.100.72"
    dgram = udp(src, SERVER_V4, 5060, 5060, big_invite(src, ua="friendly-scanner"))
    frags = [ether_ip(f) for f in fragment_ipv4(src, SERVER_V4, PROTO_UDP, dgram, 0x0103,
                                                split_fragments(dgram, 1480))]
    cap.add_many(t, frags, drop("signature", "friendly-scanner"),
                 "scanner INVITE over IPv4, User-Agent in fragment 2")
    t += 100 * MS
    src6 = "2001:db8:400::72"
    dgram6 = udp(src6, SERVER_V6, 5060, 5060, big_invite(src6, ua="friendly-scanner"))
    frags = [ether_ip(f) for f in fragment_ipv6(src6, SERVER_V6, PROTO_UDP, 0xA0000002,
                                                split_fragments(dgram6, 1232))]
    cap.add_many(t, frags, drop("signature", "friendly-scanner"),
                 "scanner INVITE over IPv6, User-Agent in fragment 2")
    t += 100 * MS
    # Overlap: fragment 2 starts 80 bytes before fragment 1 ends (a classic evasion).
    src = "198.51.100.73"
    dgram = udp(src, SERVER_V4, 5060, 5060, big_invite(src))
    overlap = [Fragment(0, dgram[:1480], True), Fragment(1400, dgram[1400:2880], True),
               Fragment(2880, dgram[2880:], False)]
    frags = [ether_ip(f) for f in fragment_ipv4(src, SERVER_V4, PROTO_UDP, dgram, 0x0104,
                                                overlap)]
    cap.add_many(t, frags, drop("fragment"), "IPv4 fragments overlapping by 80 bytes")
    t += 100 * MS
    src6 = "2001:db8:400::73"
    dgram6 = udp(src6, SERVER_V6, 5060, 5060, big_invite(src6))
    overlap = [Fragment(0, dgram6[:1232], True), Fragment(1200, dgram6[1200:2432], True),
               Fragment(2432, dgram6[2432:], False)]
    frags = [ether_ip(f) for f in fragment_ipv6(src6, SERVER_V6, PROTO_UDP, 0xA0000003,
                                                overlap)]
    cap.add_many(t, frags, drop("fragment"), "IPv6 fragments overlapping by 32 bytes (RFC 5722)")
    t += 100 * MS
    # A clean datagram after the bad ones still reassembles.
    src = "198.51.100.74"
    dgram = udp(src, SERVER_V4, 5060, 5060, big_invite(src))
    frags = [ether_ip(f) for f in fragment_ipv4(src, SERVER_V4, PROTO_UDP, dgram, 0x0105,
                                                split_fragments(dgram, 1480))]
    cap.add_many(t, frags, PUNT, "clean INVITE over IPv4 after the overlaps")
    t += 100 * MS
    # First fragments whose rest never comes: held, then drained at the end.
    src = "198.51.100.75"
    dgram = udp(src, SERVER_V4, 5060, 5060, big_invite(src))
    lone = fragment_ipv4(src, SERVER_V4, PROTO_UDP, dgram, 0x0106,
                         split_fragments(dgram, 1480))[0]
    cap.add(t, ether_ip(lone), drop("fragment"), "lone first IPv4 fragment, never completed")
    t += 10 * MS
    src6 = "2001:db8:400::75"
    dgram6 = udp(src6, SERVER_V6, 5060, 5060, big_invite(src6))
    lone6 = fragment_ipv6(src6, SERVER_V6, PROTO_UDP, 0xA0000004,
                          split_fragments(dgram6, 1232))[0]
    cap.add(t, ether_ip(lone6), drop("fragment"), "lone first IPv6 fragment, never completed")
    t += 10 * MS
    # An unfragmented packet after the lone ones is judged normally.
    cap.add(t, sip_udp("198.51.100.76", 5060, sip_request("OPTIONS", "198.51.100.76", 5060)),
            PUNT, "unfragmented OPTIONS at the end")
    return cap


def scenario_scanner() -> Capture:
    """Known scanners: each scanner User-Agent with OPTIONS, REGISTER and INVITE,
    sipvicious' From, and SQL injection in From, To and User-Agent -> signature.
    Every packet from its own source, 50 ms apart.  Look-alike legit messages
    (an apostrophe in a name, an ordinary softphone) are punted."""
    cap = Capture("scanner", scenario_scanner.__doc__ or "")
    t = 0
    n = iter(range(1, 10_000))

    def send(msg: SipMessage, exp: Expected, what: str) -> None:
        nonlocal t
        i = next(n)
        src = f"198.51.{101 + i // 250}.{i % 250 + 1}"
        cap.add(t, sip_udp(src, 5060, msg), exp, what)
        t += 50 * MS

    for ua in SCANNER_USER_AGENTS:
        for method in ("OPTIONS", "REGISTER", "INVITE"):
            body = sdp("192.0.2.200", 30000) if method == "INVITE" else b""
            msg = sip_request(method, "192.0.2.200", 5060, ua=ua, body=body)
            rule = "friendly-scanner" if ua == "friendly-scanner" else ""
            send(msg, drop("signature", rule), f"{method} with User-Agent {ua}")
    sipvicious = '"sipvicious"<sip:100@1.1.1.1>;tag=3833663330'
    send(sip_request("OPTIONS", "192.0.2.201", 5060, ua="Zeeko", from_hdr=sipvicious,
                     to_hdr='"sipvicious"<sip:100@1.1.1.1>'),
         drop("signature", "sipvicious"), "OPTIONS with sipvicious' From/To, UA Zeeko")
    send(sip_request("OPTIONS", "192.0.2.201", 5060, ua=None, from_hdr=sipvicious),
         drop("signature", "sipvicious"), "OPTIONS with sipvicious' From, no User-Agent")
    send(sip_request("INVITE", "192.0.2.202", 5060,
                     from_hdr="\"1' OR '1'='1\" <sip:100@192.0.2.202>;tag=sq1"),
         drop("signature"), "SQL injection in the From display name")
    send(sip_request("INVITE", "192.0.2.202", 5060,
                     to_hdr="\"100' UNION SELECT password FROM subscriber--\" "
                            "<sip:100@203.0.113.10>"),
         drop("signature"), "SQL injection in the To display name")
    send(sip_request("REGISTER", "192.0.2.202", 5060,
                     ua="Agent' UNION SELECT password FROM users--"),
         drop("signature"), "SQL injection in the User-Agent")
    send(sip_request("OPTIONS", "192.0.2.202", 5060,
                     from_hdr="\"x'; DROP TABLE subscriber; --\" <sip:1@192.0.2.202>;tag=sq4"),
         drop("signature"), "SQL injection (DROP TABLE) in the From display name")
    # Look-alikes that are fine.
    send(sip_request("INVITE", "192.0.2.203", 5060,
                     from_hdr="\"Sean O'Brien\" <sip:sean@192.0.2.203>;tag=ob1"), PUNT,
         "an apostrophe in a caller's name is not SQL injection")
    send(sip_request("REGISTER", "192.0.2.204", 5060, ua="Zoiper rv2.10.20.2"), PUNT,
         "ordinary softphone REGISTER")
    send(sip_request("OPTIONS", "192.0.2.205", 5060, ua="Asterisk PBX 20.5.0"), PUNT,
         "ordinary PBX OPTIONS keepalive")
    return cap


def scenario_rtp() -> Capture:
    """Media checks: valid RTP/RTCP pass, broken headers are rtp_invalid, and one
    flow (source address, destination port) sending 450 packets within 1.8 ms
    gets its burst of 400 (refill 0.36) and 50 flood drops, while the same source
    to another port and another source to the same port still pass."""
    cap = Capture("rtp", scenario_rtp.__doc__ or "")
    t = 0
    src, dst = "198.51.100.80", SERVER_V4
    good = rtp(1, 160, 0xCAFE)
    cap.add(t, udp_frame(src, dst, 30000, 10000, good), PASS, "valid RTP")
    invalid = drop("rtp_invalid")
    cases = [
        (10010, rtp(2, 320, 0xCAFE, version=1), "RTP version 1"),
        (10012, good[:8], "RTP header cut to 8 bytes"),
        (10014, rtp(3, 480, 0xCAFE, payload=b"\x00" * 8, cc=15),
         "CSRC count 15 in a 20-byte packet"),
        (10016, rtp(4, 640, 0xCAFE, payload=b"", extension=b"\x10\xaa\x00\x00", ext_words=100),
         "header extension length 100 words beyond the packet"),
        # Padding counts that fit neither RTP nor SRTP: under SRTP the last octet is the
        # authentication tag's, so only a packet too short to carry a tag is refused.
        (10018, rtp(5, 800, 0xCAFE, payload=b"\xd5" * 4, pad_byte=0),
         "padding count 0, no room for an SRTP tag"),
        (10020, rtp(6, 960, 0xCAFE, payload=b"\xd5" * 4, pad_byte=200),
         "padding count 200 larger than the payload, no room for an SRTP tag"),
        (10011, rtcp_header(199, 0, struct.pack("!I", 0xCAFE)), "RTCP packet type 199"),
        (10013, rtcp_sr(0xCAFE)[:-8], "RTCP SR shorter than its length field"),
        (10015, rtcp_header(201, 0, struct.pack("!I", 0xCAFE), version=1),
         "RTCP version 1"),
    ]
    for dport, pkt, what in cases:
        t += 10 * MS
        cap.add(t, udp_frame(src, dst, 30000, dport, pkt), invalid, what)
    t += 10 * MS
    cap.add(t, udp_frame(src, dst, 30001, 10001, rtcp_rr(0xCAFE) + rtcp_sdes(0xCAFE, "x@y")),
            PASS, "valid RTCP RR+SDES")
    # What shares the media 5-tuple (RFC 7983): ICE/consent STUN, DTLS-SRTP, SRTCP.
    for dport, pkt, what in [
        (10030, stun_binding_request(), "STUN Binding request (ICE check) on an RTP port"),
        (10031, stun_binding_request(), "STUN Binding request on an RTCP port"),
        (10030, dtls_client_hello(), "DTLS-SRTP ClientHello record on an RTP port"),
        (10033, srtcp_rr(0xCAFE, 1), "SRTCP: encrypted RR+SDES with index and 80-bit tag"),
        (10036, rtp(7, 1120, 0xCAFE, payload=b"\xd5" * 224 + b"\x00" * 10, pad_byte=0),
         "SRTP padding probe: P set, the last octet is the tag's (0)"),
    ]:
        t += 10 * MS
        cap.add(t, udp_frame(src, dst, 30000, dport, pkt), PASS, what)
    for dport, pkt, what in [
        (10032, stun_binding_request(cookie=0x2112A443), "STUN with a wrong magic cookie"),
        (10032, stun_binding_request()[:-4], "STUN message length beyond the datagram"),
        (10034, dtls_client_hello(record_version=0x0303), "DTLS record with TLS version 0x0303"),
        (10034, dtls_client_hello()[:-1], "DTLS record length beyond the datagram"),
    ]:
        t += 10 * MS
        cap.add(t, udp_frame(src, dst, 30000, dport, pkt), invalid, what)
    # The flow flood: 450 packets, 4 us apart.
    t += 100 * MS
    flood_src = "192.0.2.90"
    for k in range(450):
        exp = PASS if k < RTP_FLOW_BURST else drop("flood")
        cap.add(t + 4 * k, udp_frame(flood_src, dst, 30002, 12000, rtp(k, 160 * k, 0xF100D)),
                exp, f"RTP flood packet {k + 1}/450 to port 12000")
        if k in (420, 440):
            cap.add(t + 4 * k + 1, udp_frame(flood_src, dst, 30004, 12002,
                                             rtp(k, 160 * k, 0xF100E)), PASS,
                    "same source, other destination port (another flow)")
            cap.add(t + 4 * k + 2, udp_frame("192.0.2.91", dst, 30002, 12000,
                                             rtp(k, 160 * k, 0xF100F)), PASS,
                    "other source, same destination port (another flow)")
    t += 2 * SECOND
    cap.add(t, udp_frame(flood_src, dst, 30002, 12000, rtp(999, 0, 0xF100D)), PASS,
            "the flooded flow 2 s later (bucket refilled)")
    return cap


SCENARIOS: dict[str, Callable[[], Capture]] = {
    "legit": scenario_legit,
    "flood_single": scenario_flood_single,
    "flood_rotating_v6": scenario_flood_rotating_v6,
    "syn_flood": scenario_syn_flood,
    "malformed": scenario_malformed,
    "fragments": scenario_fragments,
    "scanner": scenario_scanner,
    "rtp": scenario_rtp,
}


# --------------------------------------------------------------------------- bulk scenarios
#
# Captures of millions of packets (the trust tiers and the punt budget under a distributed
# flood). Each packet gets an expected *class* rather than one verdict (which flood packets
# get the leftover budget is not something intent can say packet by packet): the test checks
# every packet against its class and the classes' totals against the budget. Written to
# OUTDIR/<name>.pcap, <name>.classes (one character per packet) and <name>.rules (the rule
# file to run it with); generated only on request (--bulk), never by default.

RULES_DIR = Path(__file__).resolve().parent.parent.parent / "rules"
PUNT_BUDGET = 50_000  # the default punt budget, messages/s
UNTRUSTED_SHARE = 0.30

# Classes: T trusted request (must be punted), F flood (punt or punt_budget/untrusted),
# H heavy untrusted sender (punt or punt_budget/untrusted), L light untrusted (must be punted).
CLASS_TRUSTED, CLASS_FLOOD, CLASS_HEAVY, CLASS_LIGHT = "T", "F", "H", "L"


@dataclass
class BulkCapture:
    name: str
    rules: str
    duration_s: float
    records: list[tuple[int, bytes, str]] = field(default_factory=list)

    def write(self, outdir: Path) -> dict[str, int]:
        self.records.sort(key=lambda r: r[0])  # stable: equal times keep their order
        counts: dict[str, int] = {}
        with open(outdir / f"{self.name}.pcap", "wb") as f:
            f.write(struct.pack("<IHHiIII", PCAP_MAGIC_USEC, 2, 4, 0, 0, SNAPLEN, DLT_EN10MB))
            chunks = []
            for t, frame, _ in self.records:
                t += BASE_TIME_US
                chunks.append(struct.pack("<IIII", t // SECOND, t % SECOND, len(frame), len(frame)))
                chunks.append(frame)
                if len(chunks) > 100_000:
                    f.write(b"".join(chunks))
                    chunks.clear()
            f.write(b"".join(chunks))
        classes = "".join(c for _, _, c in self.records)
        for c in classes:
            counts[c] = counts.get(c, 0) + 1
        (outdir / f"{self.name}.classes").write_text(classes)
        (outdir / f"{self.name}.rules").write_text(self.rules)
        return counts


def compact_invite(src: str, sport: int, k: int) -> bytes:
    """A small valid INVITE (no body, no User-Agent): about 330 bytes on the wire."""
    return sip_udp(src, sport, sip_request("INVITE", src, sport, seq=k + 1, tag=f"f{k}",
                                           ua=None))


def steady(rate: float, duration_s: float, phase_us: int = 0) -> Iterable[int]:
    """Send times in µs of a sender at ``rate`` messages/s."""
    step = SECOND / rate
    t = float(phase_us)
    while t < duration_s * SECOND:
        yield int(t)
        t += step


def bulk_distributed_flood() -> BulkCapture:
    """A distributed flood: 60,000 IPv4 sources send 1,000,000 INVITEs/s in total for 2 s
    (16.7/s each, under every per-source limit), round-robin, so no per-source bucket ever
    runs dry. Beside it, trusted traffic at its normal rate: 4 carrier trunk addresses
    (198.51.100.1-4, a `trust` prefix with a 4,000/s reserve and raised per-source limits)
    at 2,000 INVITEs/s each, and 1,000 already-trusted subscribers (individually trusted /32s,
    as the control plane would trust them after they registered) at 5 REGISTERs/s each.
    Trusted: 13,000/s, inside the trusted 70% of the 50,000/s punt budget: every one must be
    punted; the flood gets the rest (37,000/s), the other 96% is dropped as punt_budget."""
    duration = 2.0
    subscribers = [f"100.64.{i // 250}.{i % 250 + 1}" for i in range(1000)]
    rules = [f'include "{RULES_DIR / "default.rules"}"',
             "trust site:trunk.carrier-a 198.51.100.0/29 reserve=4000",
             "override site:trunk.carrier-a.sip prefix=198.51.100.0/29 "
             "limit=sipwall:limit.sip rate=5000 burst=10000",
             "override site:trunk.carrier-a.invite prefix=198.51.100.0/29 "
             "limit=sipwall:limit.invite rate=5000 burst=10000"]
    rules += [f"trust site:subscriber.{i} {a}" for i, a in enumerate(subscribers)]
    cap = BulkCapture("distributed_flood", "\n".join(rules) + "\n", duration)
    sources = 60_000
    flood = [compact_invite(v4_source(i), 5060, i) for i in range(sources)]
    rate = 1_000_000
    n = int(rate * duration)
    cap.records = [(k * SECOND // rate, flood[k % sources], CLASS_FLOOD) for k in range(n)]
    for c in range(4):
        trunk = f"198.51.100.{c + 1}"
        for k, t in enumerate(steady(2000, duration, phase_us=c * 125)):
            req = sip_request("INVITE", trunk, 5060, user=f"trunk{k}", seq=k + 1,
                              call_id=f"trunk-{c}-{k}@{trunk}")
            cap.records.append((t, sip_udp(trunk, 5060, req), CLASS_TRUSTED))
    per_sub = {a: sip_udp(a, 5060, sip_request("REGISTER", a, 5060)) for a in subscribers}
    for k, t in enumerate(steady(5 * len(subscribers), duration, phase_us=37)):
        cap.records.append((t, per_sub[subscribers[k % len(subscribers)]], CLASS_TRUSTED))
    return cap


def bulk_heavy_untrusted() -> BulkCapture:
    """Fair share within the untrusted tier: one untrusted source (its per-source limits
    raised by an override, e.g. a big NAT) sends 100,000 OPTIONS/s for 1 s, twice the whole
    punt budget; beside it 200 light untrusted sources send 5/s each (1,000/s). Nobody is
    trusted, so untrusted traffic may use the whole budget (work-conserving): the light
    sources must keep everything they send, the heavy one gets the rest (49,000/s)."""
    duration = 1.0
    heavy = "192.0.2.200"
    rules = [f'include "{RULES_DIR / "default.rules"}"',
             f"override site:nat.big.sip prefix={heavy} limit=sipwall:limit.sip "
             "rate=1000000 burst=1000000",
             f"override site:nat.big.options prefix={heavy} limit=sipwall:limit.options "
             "rate=1000000 burst=1000000"]
    cap = BulkCapture("heavy_untrusted", "\n".join(rules) + "\n", duration)
    frame = sip_udp(heavy, 5060, sip_request("OPTIONS", heavy, 5060, ua=None))
    cap.records = [(t, frame, CLASS_HEAVY) for t in steady(100_000, duration)]
    for i in range(200):
        src = v4_source(1000 + i)
        light = sip_udp(src, 5060, sip_request("OPTIONS", src, 5060, ua=None))
        cap.records += [(t, light, CLASS_LIGHT) for t in steady(5, duration, phase_us=i * 997)]
    return cap


BULK_SCENARIOS: dict[str, Callable[[], BulkCapture]] = {
    "distributed_flood": bulk_distributed_flood,
    "heavy_untrusted": bulk_heavy_untrusted,
}


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("outdir", type=Path)
    ap.add_argument("--only", action="append", choices=sorted(SCENARIOS),
                    help="generate only this scenario (repeatable)")
    ap.add_argument("--bulk", action="append", choices=sorted(BULK_SCENARIOS),
                    help="generate this bulk scenario (repeatable) instead of the others")
    args = ap.parse_args(argv)
    args.outdir.mkdir(parents=True, exist_ok=True)
    for name in args.bulk or []:
        counts = BULK_SCENARIOS[name]().write(args.outdir)
        print(f"{name}: " + ", ".join(f"class {k} {v}" for k, v in sorted(counts.items())))
    if args.bulk:
        return 0
    for name in args.only or SCENARIOS:
        cap = SCENARIOS[name]()
        assert cap.name == name
        cap.write(args.outdir)
        counts: dict[str, int] = {}
        for _, _, e in cap.frames:
            key = e.verdict + (f"/{e.reason}" if e.reason else "")
            counts[key] = counts.get(key, 0) + 1
        print(f"{name}: {len(cap.frames)} packets "
              + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
