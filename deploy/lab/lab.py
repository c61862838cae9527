#!/usr/bin/env python3
"""sipwall's lab: a carrier, sipwall inline and a SIP core in network namespaces; legitimate
calls with RTP go through while the carrier side attacks; then the same scenario through a
plain kernel bridge for comparison.

    [carrier]  callers 172.30.0.11-12 (sipp, registered, calls with RTP), router .254,
       c0      attacker frames written raw onto c0 (attack.py)
        |
      out0     [sipwall] sipwall-dataplane: net_af_packet ports on out0 (port 0) and in0
      in0      (port 1), net_tap punt port (service address 172.30.0.1)
        |               (or, for the comparison, a Linux bridge of out0 and in0)
       k0
    [core]     kamailio registrar/proxy 172.30.0.2, sipp media server 172.30.0.3 (answers
               with RTP)

Mode filter (the one that exists): sipwall is a transparent SIP firewall in front of the core;
signaling to the core is transit, passed under the pass budget; the callers' prefix is a
`trust` prefix (a carrier trunk). Edge mode (sipwall-control terminating TLS on the service
address) will be another `Mode`.

Run as root:  deploy/lab/lab.py [--mode filter] [--duration S] [--keep] [--no-compare] [--check]
--check makes the run a test: exit 1 unless the calls answered during the attack are at least
99% (as ratios of the calls that ended) of those before it, every attack is counted under
the drop reason it should get, and nothing the lab made is left afterwards.
"""

from __future__ import annotations

import argparse
import csv
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median

sys.dont_write_bytecode = True
HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "tests" / "support"))
from netlab import (DPDK_RUNTIME, Process, control, dataplane_eal, netns_exec,  # noqa: E402
                    parse_counters, remove_dpdk_runtime, run)

LOCK = Path("/run/sipwall-lab.lock")
SUBNET = "172.30.0"
SERVICE, CORE, MEDIA, ROUTER = f"{SUBNET}.1", f"{SUBNET}.2", f"{SUBNET}.3", f"{SUBNET}.254"
CALLERS = [(f"{SUBNET}.11", "1001"), (f"{SUBNET}.12", "1002")]
TRUSTED = f"{SUBNET}.8/29"  # the callers: a carrier trunk
CALL_SECONDS = 4  # RTP per call (call.xml's pause)
MEDIA_PORTS = "10000-20000"  # sipwall's default media ports; sipp's -mp are inside
CALLS_PER_SECOND = 1  # per caller
BUDGET = 1000  # signaling messages/s the core is given: the budget of the mode
SETUP_TIMEOUT_S = 30
# Each attack, its drop reason(s) ("budget": the mode's) and its rate: frames per second (the
# floods' scaled by --attack-scale), sources. The scan and the malformed packets keep under every per-source
# limit and the pass budget, so each is dropped for what it is, not for its rate.
ATTACKS = [
    ("flood", "INVITE/REGISTER flood, one source", ["flood"], 10000, 1),
    ("distributed", "INVITE flood, 4000 sources", ["budget"], 30000, 4000),
    ("scan", "SIPVicious-style scan, 16 sources", ["signature"], 120, 16),
    ("malformed", "malformed L3/L4/SIP, 3000 sources",
     ["malformed_l3", "malformed_l4", "malformed_sip"], 1500, 3000),
]
VOLUMETRIC = ("flood", "distributed")


@dataclass(frozen=True)
class Mode:
    """What differs between the lab's modes. Filter: sipwall in front of the core; signaling to
    the core is transit, passed under the pass budget. Edge (once sipwall-control exists) would
    aim callers and attackers at the service address, start sipwall-control on the tap (TLS,
    digest authentication, relay to the core; callers on baresip), take the punt budget and
    add a password brute force to ATTACKS."""
    name: str
    target: str  # where callers register and attacks aim
    budget: str  # the budget a distributed flood exhausts, its drop reason
    budget_setting: str  # its rule-file statement
    rules: tuple[str, ...]  # statements added to the shipped set


MODES = {
    "filter": Mode("filter", CORE, "pass_budget", "pass-budget",
                   (f"service lab:svc.v4 {SERVICE}", f"trust lab:trunk.callers {TRUSTED}")),
}


class Refused(Exception):
    """The lab cannot start here; the message says why."""


@dataclass
class Phase:
    name: str
    start: float  # seconds after the callers start
    end: float


@dataclass
class Tally:
    """Per phase: calls completed and failed (sipp), dataplane counter deltas, frames sent."""
    ok: int = 0
    failed: int = 0
    counters: dict[str, int] = field(default_factory=dict)
    sent: dict[str, int] = field(default_factory=dict)
    setup_ms: list[float] = field(default_factory=list)  # sipp's mean INVITE->200 per second
    rtp: list[int] = field(default_factory=list)  # RTP packets the core received, per second


def setup_ms(value: str) -> float:
    """sipp's HH:MM:SS:microseconds as milliseconds (0 when absent or out of range)."""
    try:
        h, m, sec, us = (int(x) for x in value.split(":"))
    except ValueError:
        return 0.0
    ms = ((h * 60 + m) * 60 + sec) * 1000 + us / 1000
    return ms if ms < 3_600_000 else 0.0


def stat(pid: int) -> list[str]:
    """/proc/PID/stat after the command name (state first), or [""] when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(") ", 1)[-1].split()
    except OSError:
        return [""]


def start_time(pid: int) -> str:
    """When the process started (clock ticks after boot), "" when it is gone."""
    fields = stat(pid)
    return fields[19] if len(fields) > 19 else ""


def drop_reasons(counters: dict[str, int]) -> list[str]:
    """The drop reasons in a counters report (it lists every one, in the dataplane's order)."""
    return [k[len("drop."):] for k in counters if k.startswith("drop.")]


def fmt(n: float) -> str:
    return f"{n:,.0f}"


class Lab:
    def __init__(self, args: argparse.Namespace, middle: str) -> None:
        self.args = args
        self.mode = MODES[args.mode]
        self.middle = middle  # "sipwall" or "bridge"
        p = args.prefix
        self.ns_car, self.ns_mid, self.ns_core = f"{p}-carrier", f"{p}-middle", f"{p}-core"
        self.namespaces: list[str] = []
        self.procs: list[Process] = []
        self.pids: dict[int, str] = {}  # every process started: PID -> its start time
        self.work = args.workdir / middle
        self.work.mkdir(parents=True, exist_ok=True)
        self.sock = self.work / "dataplane.sock"
        self.file_prefix = f"{p}-{os.getpid()}"
        self.dataplane: Process | None = None
        self.rtp: Process | None = None
        self.rtp_offset = self.rtp_lines = 0
        self.phases = self.schedule(args.duration)
        self.tallies = {ph.name: Tally() for ph in self.phases}
        self.rows_seen: dict[str, int] = {}

    # ------------------------------------------------------------------ topology
    def schedule(self, duration: float) -> list[Phase]:
        """Baseline, the four attacks one after the other, a quiet tail."""
        base = float(max(8, round(duration * 0.25)))
        each = float(max(4, round(duration * 0.15)))
        out = [Phase("before", 0, base)]
        t = base
        for name, *_ in ATTACKS:
            out.append(Phase(name, t, t + each))
            t += each
        out.append(Phase("after", t, t + max(CALL_SECONDS + 2, round(duration - t))))
        return out

    def start(self, name: str, cmd: list[str]) -> Process:
        p = Process(cmd, self.work / f"{name}.log")
        self.procs.append(p)
        self.pids[p.pid] = start_time(p.pid)
        return p

    def build(self) -> None:
        for ns in (self.ns_car, self.ns_mid, self.ns_core):
            run("ip", "netns", "add", ns)
            self.namespaces.append(ns)
            run("ip", "-n", ns, "link", "set", "lo", "up")
        for here, there, ns in (("out0", "c0", self.ns_car), ("in0", "k0", self.ns_core)):
            run("ip", "-n", self.ns_mid, "link", "add", here, "type", "veth", "peer", "name",
                there, "netns", ns)
            # The middle's kernel answers nothing on the bridged ports (the tap is sipwall's
            # host interface).
            run("ip", "netns", "exec", self.ns_mid, "sysctl", "-qw",
                f"net.ipv4.conf.{here}.arp_ignore=8", f"net.ipv6.conf.{here}.disable_ipv6=1")
            run("ip", "-n", self.ns_mid, "link", "set", here, "up")
        for ns, dev, addrs in ((self.ns_car, "c0", [a for a, _ in CALLERS] + [ROUTER]),
                               (self.ns_core, "k0", [CORE, MEDIA])):
            run("ip", "netns", "exec", ns, "sysctl", "-qw", f"net.ipv6.conf.{dev}.disable_ipv6=1")
            for a in addrs:
                run("ip", "-n", ns, "addr", "add", f"{a}/24", "dev", dev)
            run("ip", "-n", ns, "link", "set", dev, "up")
            # Checksums filled in by the sender, not left to an offload af_packet never does.
            run("ip", "netns", "exec", ns, "ethtool", "-K", dev, "tx", "off")
        # Replies to the attack's spoofed sources leave the core by the carrier's router
        # (which does not forward them).
        run("ip", "-n", self.ns_core, "route", "add", "default", "via", ROUTER)
        if self.middle == "bridge":
            run("ip", "-n", self.ns_mid, "link", "add", "br0", "type", "bridge")
            for dev in ("out0", "in0"):
                run("ip", "-n", self.ns_mid, "link", "set", dev, "master", "br0")
            run("ip", "-n", self.ns_mid, "link", "set", "br0", "up")

    def mac(self, ns: str, dev: str) -> str:
        out = run("ip", "-n", ns, "-j", "link", "show", dev).stdout
        return json.loads(out)[0]["address"]

    # ------------------------------------------------------------------ processes
    def rules(self) -> Path:
        """The shipped set with the mode's addresses, trunk and budget (a setting may be
        written once per set, so the shipped file is copied, not included)."""
        shipped = (ROOT / "rules" / "default.rules").read_text()
        lines = []
        for line in shipped.splitlines():
            if line.startswith("include "):
                line = f'include "{ROOT / "rules" / "default-signatures.rules"}"'
            elif line.startswith(f"{self.mode.budget_setting} "):
                line = (f"{self.mode.budget_setting} messages={BUDGET} bytes=10000000 "
                        "untrusted-share=30")
            lines.append(line)
        lines += ["", f"# The lab, {self.mode.name} mode", *self.mode.rules]
        path = self.work / "lab.rules"
        path.write_text("\n".join(lines) + "\n")
        return path

    def start_dataplane(self) -> None:
        # 4,096-frame rings (not 512): a flood of 30,000 frames/s fills 512 in 17 ms, and on
        # two shared CPUs a worker can wait that long for its turn.
        vdevs = ["net_af_packet0,iface=out0,framecnt=4096",
                 "net_af_packet1,iface=in0,framecnt=4096", "net_tap0,iface=swpunt"]
        cmd = [*dataplane_eal(self.args.binary, self.file_prefix, vdevs, "0@(0,1),1@(0,1)"),
               "--rules", str(self.rules()), "--control", str(self.sock),
               "--idle-sleep-us", "200", "--tap-prefix-length", "24/64",
               "--metrics", self.args.metrics, "--no-watch-rules"]
        self.dataplane = self.start("dataplane", netns_exec(self.ns_mid, *cmd))
        deadline = time.monotonic() + SETUP_TIMEOUT_S
        while True:
            if self.dataplane.proc.poll() is not None:
                raise RuntimeError(f"sipwall-dataplane exited:\n{self.dataplane.output()}")
            try:
                if control(self.sock, "ping", timeout=2).startswith("ok"):
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"sipwall-dataplane did not start:\n{self.dataplane.output()}")
            time.sleep(0.2)

    def wait_udp(self, ns: str, addr: str, what: str) -> None:
        deadline = time.monotonic() + SETUP_TIMEOUT_S
        while f"{addr}:5060" not in run(*netns_exec(ns, "ss", "-Hlun")).stdout:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what} does not listen on {addr}:5060")
            time.sleep(0.2)

    def start_core(self) -> None:
        cfg = (HERE / "kamailio.cfg").read_text().replace("@CORE@", CORE).replace("@MEDIA@", MEDIA)
        (self.work / "kamailio.cfg").write_text(cfg)
        self.start("kamailio", netns_exec(self.ns_core, "kamailio", "-DD", "-E", "-m", "64",
                                          "-M", "8", "-w", str(self.work), "-f",
                                          str(self.work / "kamailio.cfg")))
        self.wait_udp(self.ns_core, CORE, "kamailio")
        self.start("media", netns_exec(self.ns_core, "sipp", "-sf", str(HERE / "sipp/answer.xml"),
                                       "-i", MEDIA, "-p", "5060", "-mi", MEDIA, "-mp", "16000",
                                       "-nostdin", "-timeout", f"{self.total() + 60:.0f}s",
                                       "-trace_err", "-error_file",
                                       str(self.work / "media-errors.log")))
        self.wait_udp(self.ns_core, MEDIA, "the media server (sipp)")
        # The callers' RTP that reaches the core: one line per packet, counted as it grows.
        self.rtp = self.start("rtp-to-core", netns_exec(
            self.ns_core, "tcpdump", "-i", "k0", "-l", "-nn", "-q", "-t",
            f"udp and dst host {MEDIA} and dst portrange {MEDIA_PORTS}"))
        self.rtp.wait_for("listening on", SETUP_TIMEOUT_S)

    def register_callers(self) -> None:
        for addr, user in CALLERS:
            deadline = time.monotonic() + SETUP_TIMEOUT_S
            while True:  # the first REGISTER may wait for ARP through the middle
                r = run(*netns_exec(self.ns_car, "sipp", "-sf", str(HERE / "sipp/register.xml"),
                                    "-s", user, f"{self.mode.target}:5060", "-i", addr,
                                    "-p", "5060",
                                    "-m", "1", "-nostdin", "-timeout", "8s"),
                        check=False, timeout=30)
                if r.returncode == 0:
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"caller {user} could not register:\n{r.stdout}")

    def total(self) -> float:
        return self.phases[-1].end

    def start_callers(self) -> None:
        calls = int((self.phases[-1].start + 1) * CALLS_PER_SECOND)
        for i, (addr, user) in enumerate(CALLERS):
            self.start(f"caller-{user}", netns_exec(
                self.ns_car, "sipp", "-sf", str(HERE / "sipp/call.xml"), "-s", user,
                f"{self.mode.target}:5060", "-i", addr, "-p", "5060", "-mi", addr,
                "-mp", str(12000 + 100 * i),
                "-r", str(CALLS_PER_SECOND), "-m", str(calls), "-nostdin",
                "-timeout", f"{self.total() + 30:.0f}s", "-trace_stat", "-stf",
                str(self.work / f"caller-{user}.csv"), "-fd", "1"))

    def start_attack(self, name: str, rate: float, sources: int, at: float,
                     seconds: float) -> Process:
        return self.start(f"attack-{name}", netns_exec(
            self.ns_car, sys.executable, str(HERE / "attack.py"), name, "--iface", "c0",
            "--src-mac", self.mac(self.ns_car, "c0"), "--dst-mac", self.mac(self.ns_core, "k0"),
            "--target", self.mode.target,
            "--rate", str(rate * (self.args.attack_scale if name in VOLUMETRIC else 1)),
            "--seconds", f"{seconds:.2f}", "--sources", str(sources), "--at", f"{at:.3f}"))

    # ------------------------------------------------------------------ observation
    def counters(self) -> dict[str, int]:
        """The dataplane's counters and `lab.rtp_to_core` (RTP packets the core received)."""
        out: dict[str, int] = {}
        if self.dataplane is not None:
            try:
                out = parse_counters(control(self.sock, "counters", timeout=5))
            except (OSError, RuntimeError):
                pass
        if self.rtp is not None:
            with open(self.rtp.log, "rb") as f:
                f.seek(self.rtp_offset)
                chunk = f.read()
            end = chunk.rfind(b"\n") + 1
            self.rtp_lines += chunk[:end].count(b" > ")
            self.rtp_offset += end
            out["lab.rtp_to_core"] = self.rtp_lines
        return out

    def bans(self) -> int:
        if self.dataplane is None:
            return 0
        try:
            reply = control(self.sock, "ban list", timeout=5)
        except (OSError, RuntimeError):
            return 0
        head = reply.splitlines()[0] if reply else ""
        return int(head.split("count=")[-1]) if "count=" in head else 0

    def calls(self, setups: list[float] | None = None) -> tuple[int, int, int]:
        """Calls generated, successful and failed so far, over every caller (sipp's stats);
        appends to `setups` the call setup times (ms) of the stats lines not seen before."""
        gen = ok = bad = 0
        for _, user in CALLERS:
            path = self.work / f"caller-{user}.csv"
            try:
                text = path.read_text()
                text = text[:text.rfind("\n") + 1]  # sipp may be writing the last line
                rows = list(csv.DictReader(text.splitlines(), delimiter=";"))
            except OSError:
                continue
            seen = self.rows_seen.get(user, 0)
            for row in rows[seen:]:
                ms = setup_ms(row.get("ResponseTime1(P)", ""))
                if setups is not None and ms > 0:
                    setups.append(ms)
            if setups is not None:
                self.rows_seen[user] = len(rows)
            if rows:
                last = rows[-1]
                gen += int(last.get("OutgoingCall(C)") or 0)
                ok += int(last.get("SuccessfulCall(C)") or 0)
                bad += int(last.get("FailedCall(C)") or 0)
        return gen, ok, bad

    def status(self, t: float, phase: str, now: dict[str, int], prev: dict[str, int],
               dt: float, calls: tuple[int, int, int]) -> str:
        def rate(key: str) -> float:
            return (now.get(key, 0) - prev.get(key, 0)) / dt if dt > 0 else 0.0

        line = f"{t:5.0f}s {phase:<11}"
        if self.middle == "sipwall":
            drops = [(r, rate(f"drop.{r}")) for r in drop_reasons(now)]
            why = " ".join(f"{r} {fmt(v)}" for r, v in drops if v >= 0.5) or "-"
            line += (f" in {fmt(rate('rx_outside')):>6}/s pass {fmt(rate('pass')):>5}"
                     f" punt {fmt(rate('punt')):>3} drop {fmt(rate('drop')):>6} [{why}]")
        line += (f" | calls {calls[0]} ok {calls[1]} failed {calls[2]}"
                 f" rtp {fmt(rate('lab.rtp_to_core'))}/s")
        if self.middle == "sipwall":
            line += f" | bans {self.bans()}"
        return line

    # ------------------------------------------------------------------ the run
    def scenario(self) -> None:
        """Runs the phases, one status line a second, and fills the tallies. The attackers
        start at once (building their frames takes a moment) and wait for their phase; each
        sends from 0.3 s after its phase starts to 0.7 s before it ends, so the counters
        sampled on the second boundaries give every frame to its own phase."""
        plan = ", ".join(f"{p.name} {p.end - p.start:.0f}s" for p in self.phases)
        print(f"== {self.middle}: {plan}", flush=True)
        attacks = {name: (rate, sources) for name, _, _, rate, sources in ATTACKS}
        t0 = time.monotonic() + 2.0  # the attackers' frames are built by then
        running = {ph.name: self.start_attack(ph.name, *attacks[ph.name], t0 + ph.start + 0.3,
                                               ph.end - ph.start - 1.0)
                   for ph in self.phases if ph.name in attacks}
        while time.monotonic() < t0:
            time.sleep(0.05)
        self.start_callers()
        prev = self.counters()
        prev_t = t0
        ok0 = bad0 = 0
        for ph in self.phases:
            tally = self.tallies[ph.name]
            for tick in range(int(ph.start) + 1, int(ph.end) + 1):
                time.sleep(max(0.0, t0 + tick - time.monotonic()))
                if self.dataplane is not None and self.dataplane.proc.poll() is not None:
                    raise RuntimeError(f"sipwall-dataplane exited:\n{self.dataplane.output()}")
                now_t = time.monotonic()
                now = self.counters()
                calls = self.calls(tally.setup_ms)
                tally.ok += calls[1] - ok0
                tally.failed += calls[2] - bad0
                ok0, bad0 = calls[1], calls[2]
                for k, v in now.items():
                    tally.counters[k] = tally.counters.get(k, 0) + v - prev.get(k, 0)
                tally.rtp.append(now.get("lab.rtp_to_core", 0) - prev.get("lab.rtp_to_core", 0))
                print(self.status(now_t - t0, ph.name, now, prev, now_t - prev_t, calls),
                      flush=True)
                prev, prev_t = now, now_t
        for name, p in running.items():
            p.proc.wait(timeout=30)
            p.stop()
            for line in p.output().splitlines():
                parts = line.split()
                if len(parts) == 3 and parts[0] == "sent":
                    self.tallies[name].sent[parts[1]] = int(parts[2])
        # Calls still in flight end within their timeouts; they count as the tail's.
        deadline = time.monotonic() + 30
        for p in self.procs:
            if p.log.name.startswith("caller-"):
                try:
                    p.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    pass
        time.sleep(1.2)  # sipp's last stats line
        calls = self.calls(self.tallies["after"].setup_ms)
        self.tallies["after"].ok += calls[1] - ok0
        self.tallies["after"].failed += calls[2] - bad0
        now = self.counters()
        for k, v in now.items():
            after = self.tallies["after"].counters
            after[k] = after.get(k, 0) + v - prev.get(k, 0)

    # ------------------------------------------------------------------ results
    def ratio(self, names: list[str]) -> tuple[int, int, float]:
        ok = sum(self.tallies[n].ok for n in names)
        bad = sum(self.tallies[n].failed for n in names)
        return ok, ok + bad, ok / (ok + bad) if ok + bad else 0.0

    def attack_names(self) -> list[str]:
        return [name for name, *_ in ATTACKS]

    def summary(self) -> list[str]:
        out = [f"== {self.middle}: summary"]
        # Calls count in the phase in which they ended (a call that fails ends at its timeout).
        out.append(f"  {'phase':<12} {'calls ok':>8} {'failed':>6} {'answered':>8} "
                   f"{'slowest setup':>13} {'RTP to core/s':>13}")
        for ph in self.phases:
            ok, n, r = self.ratio([ph.name])
            st = self.tallies[ph.name].setup_ms
            setup = f"{max(st):.0f} ms" if st else "-"
            rtp = fmt(median(self.tallies[ph.name].rtp or [0]))
            out.append(f"  {ph.name:<12} {ok:>8} {n - ok:>6} {r:>8.1%} {setup:>13} {rtp:>13}")
        b = self.ratio(["before"])
        d = self.ratio(self.attack_names())
        out.append(f"  calls answered before the attack {b[0]}/{b[1]} ({b[2]:.1%}), during it "
                   f"{d[0]}/{d[1]} ({d[2]:.1%})")
        if self.middle == "sipwall":
            out.append(f"  {'attack':<12} {'frames sent':>11}  dropped, by reason")
            for name, what, reasons, *_ in ATTACKS:
                tally = self.tallies[name]
                sent = sum(v for k, v in tally.sent.items() if "/" not in k)
                drops = {r: tally.counters[f"drop.{r}"] for r in drop_reasons(tally.counters)}
                why = ", ".join(f"{r} {fmt(v)}" for r, v in drops.items() if v)
                out.append(f"  {name:<12} {fmt(sent):>11}  {why or '-'}   ({what})")
        return out

    def check(self) -> list[str]:
        """What the lab promises with sipwall inline, as failures (empty: all kept)."""
        problems: list[str] = []
        if self.middle != "sipwall":
            return problems
        b_ok, b_n, b = self.ratio(["before"])
        d_ok, d_n, d = self.ratio(self.attack_names())
        if b_n < 5:
            problems.append(f"only {b_n} calls ended before the attack")
        if d_n < 5:
            problems.append(f"only {d_n} calls ended during the attack")
        if d < 0.99 * b:
            problems.append(f"calls answered during the attack {d:.1%} < 99% of before ({b:.1%})")
        before = self.tallies["before"].rtp
        rtp_before = median(before[len(before) // 2:])  # once the first calls are up
        for name, _, reasons, *_ in ATTACKS:
            tally = self.tallies[name]
            if median(tally.rtp) < 0.9 * rtp_before:
                problems.append(f"{name}: the core received {median(tally.rtp)} RTP packets/s "
                                f"(median), before the attack {rtp_before}")
            if name == "malformed":
                expected = {f"malformed_{k.split('/')[1]}": n for k, n in tally.sent.items()
                            if "/" in k}
            else:
                sent = tally.sent.get(name, 0)
                # What the buckets and the budget may let through while the attack lasts.
                seconds = next(p.end - p.start for p in self.phases if p.name == name)
                allowance = {"flood": 60 + 30 * seconds, "distributed": BUDGET * seconds,
                             "scan": 0}[name]
                reason = self.mode.budget if reasons[0] == "budget" else reasons[0]
                expected = {reason: max(0, sent - allowance)}
            for reason, want in expected.items():
                got = tally.counters.get(f"drop.{reason}", 0)
                if want <= 0 or got < 0.9 * want:
                    problems.append(f"{name}: drop.{reason} {got}, expected at least 90% of "
                                    f"{want} (frames sent {tally.sent})")
        scan = self.tallies["scan"].counters.get("signature.sipwall:scanner.friendly-scanner", 0)
        if scan < 0.9 * self.tallies["scan"].sent.get("scan", 0):
            problems.append(f"scan: signature.sipwall:scanner.friendly-scanner {scan}")
        return problems

    # ------------------------------------------------------------------ teardown
    def remove(self) -> None:
        """Every process (by PID, then whatever is still in our namespaces), every namespace
        (with its veths and the tap), the DPDK runtime folder."""
        for p in reversed(self.procs):
            p.stop(signal.SIGTERM, timeout=10)
        self.procs.clear()
        for ns in self.namespaces:
            for pid in map(int, run("ip", "netns", "pids", ns, check=False).stdout.split()):
                self.pids[pid] = start_time(pid)
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        while self.namespaces:
            run("ip", "netns", "del", self.namespaces.pop(), check=False)
        remove_dpdk_runtime(self.file_prefix)

    def leftovers(self) -> list[str]:
        left = []
        names = run("ip", "netns", "list", check=False).stdout
        for ns in (self.ns_car, self.ns_mid, self.ns_core):
            if ns in names.split():
                left.append(f"namespace {ns}")
        links = run("ip", "-o", "link", "show", check=False).stdout
        for dev in ("out0", "in0", "c0", "k0", "swpunt", "br0"):
            if f": {dev}@" in links or f": {dev}:" in links:
                left.append(f"interface {dev}")
        for pid, started in self.pids.items():
            # Still ours if it started when ours did (a PID may be reused) and is no zombie.
            if started and start_time(pid) == started and not stat(pid)[0].startswith("Z"):
                left.append(f"process {pid}")
        if (DPDK_RUNTIME / self.file_prefix).exists():
            left.append(str(DPDK_RUNTIME / self.file_prefix))
        return left

    def run(self) -> None:
        self.build()
        if self.middle == "sipwall":
            self.start_dataplane()
        self.start_core()
        self.register_callers()
        self.scenario()


def stop_on(sig: int, _frame: object) -> None:
    raise KeyboardInterrupt(f"signal {sig}")


def preflight(args: argparse.Namespace) -> object:
    """Refuses politely, or returns the held lock."""
    if os.geteuid() != 0:
        raise Refused("the lab needs root (network namespaces, veth pairs, DPDK); "
                      "run it with sudo")
    for tool in ("ip", "ethtool", "sipp", "kamailio", "ss", "tcpdump"):
        if shutil.which(tool) is None:
            raise Refused(f"{tool} is missing: run deploy/install-deps.sh first")
    if not args.binary.exists():
        raise Refused(f"{args.binary} does not exist: build first (ninja -C build/release)")
    lock = open(LOCK, "a+")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.seek(0)
        raise Refused(f"a lab is already running (PID {lock.read().strip() or '?'}, lock "
                      f"{LOCK}); wait for it or stop it with Ctrl-C")
    names = run("ip", "netns", "list", check=False).stdout.split()
    ours = [n for n in names if n.startswith(f"{args.prefix}-")]
    if ours:
        lock.close()
        LOCK.unlink(missing_ok=True)
        raise Refused(f"namespaces {', '.join(ours)} exist (a lab killed without cleanup?); "
                      f"remove them with: " + "; ".join(f"ip netns del {n}" for n in ours))
    lock.seek(0)
    lock.truncate()
    lock.write(f"{os.getpid()}\n")
    lock.flush()
    return lock


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mode", choices=sorted(MODES), default="filter",
                    help="filter: sipwall in front of the core (edge mode needs sipwall-control)")
    ap.add_argument("--duration", type=float, default=60,
                    help="seconds of calls per run (default 60, 30 to 600)")
    ap.add_argument("--keep", action="store_true",
                    help="leave the sipwall lab up after the run until Ctrl-C (no comparison)")
    ap.add_argument("--no-compare", action="store_true",
                    help="skip the same scenario through a plain kernel bridge")
    ap.add_argument("--check", action="store_true", help="exit 1 unless the lab's promises hold")
    ap.add_argument("--binary", type=Path,
                    default=ROOT / "build/release/dataplane/app/sipwall-dataplane")
    ap.add_argument("--prefix", default="swlab", help="namespace name prefix")
    ap.add_argument("--workdir", type=Path, help="logs and configs (default: a temp folder)")
    ap.add_argument("--metrics", default="127.0.0.1:9464",
                    help="the dataplane's /metrics, inside the middle namespace")
    ap.add_argument("--attack-scale", type=float, default=1.0,
                    help="scales the floods' rates (default 1: 10,000 and 30,000 frames/s)")
    args = ap.parse_args(argv)
    if not 30 <= args.duration <= 600:
        ap.error("--duration: 30 to 600 seconds")
    args.binary = args.binary.resolve()
    try:
        lock = preflight(args)
    except Refused as e:
        print(f"lab: {e}", file=sys.stderr)
        return 2
    made_workdir = args.workdir is None
    args.workdir = Path(args.workdir or tempfile.mkdtemp(prefix="sipwall-lab-"))
    signal.signal(signal.SIGTERM, stop_on)
    signal.signal(signal.SIGHUP, stop_on)
    problems: list[str] = []
    labs: list[Lab] = []
    interrupted = False
    try:
        for middle in ["sipwall"] + ([] if args.no_compare or args.keep else ["bridge"]):
            lab = Lab(args, middle)
            labs.append(lab)
            try:
                lab.run()
                for line in lab.summary():
                    print(line, flush=True)
                if args.check:
                    problems += [f"{middle}: {p}" for p in lab.check()]
                if args.keep and middle == "sipwall":
                    print(f"lab kept: ip netns exec {lab.ns_car}|{lab.ns_mid}|{lab.ns_core} "
                          f"COMMAND; sipwallctl --socket {lab.sock} ...; logs in {lab.work}; "
                          "Ctrl-C removes it", flush=True)
                    # Waits for Ctrl-C (or SIGTERM) with both blocked, so that a second one
                    # (`timeout` signals the process and its group) cannot cut the cleanup short.
                    stops = {signal.SIGINT, signal.SIGTERM}
                    signal.pthread_sigmask(signal.SIG_BLOCK, stops)
                    signal.sigwait(stops)
                    print("\nlab: removing the kept lab", flush=True)
            finally:
                lab.remove()
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        interrupted = True
        print("\nlab: interrupted, removing everything it made", file=sys.stderr)
    except (RuntimeError, subprocess.SubprocessError, OSError) as e:
        problems.append(f"lab failed: {e}")
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not stop the cleanup
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for lab in labs:
            lab.remove()
            problems += [f"{lab.middle}: left behind: {x}" for x in lab.leftovers()]
        lock.close()
        LOCK.unlink(missing_ok=True)
    if len(labs) == 2 and not interrupted and not any(p.startswith("lab failed") for p in problems):
        parts = []
        for lab, what in zip(labs, ("with sipwall", "through a plain bridge")):
            ok, n, r = lab.ratio(lab.attack_names())
            setups = [ms for name in lab.attack_names() for ms in lab.tallies[name].setup_ms]
            slowest = f", slowest setup {max(setups):.0f} ms" if setups else ""
            parts.append(f"{what} {ok}/{n} ({r:.1%}{slowest})")
        print(f"== comparison: calls answered during the attack: {parts[0]}; {parts[1]}")
    for p in problems:
        print(f"FAIL {p}", file=sys.stderr)
    if args.check and not problems and not interrupted:
        print("lab check: ok")
    if made_workdir and not problems:
        shutil.rmtree(args.workdir, ignore_errors=True)
    elif problems:
        print(f"logs: {args.workdir}", file=sys.stderr)
    return 1 if problems or interrupted else 0


if __name__ == "__main__":
    sys.exit(main())
