#!/usr/bin/env python3
"""Live-mode integration test for sipwall-dataplane.

Starts the real program the way an operator does (EAL options, then its own), with
virtual devices instead of NICs: the outside port reads a generated capture
(net_pcap rx_pcap), the inside and punt ports write what they are sent (tx_pcap).
It waits until the periodic counters show every packet judged, stops the program
with SIGTERM and checks that:

* it exits 0 and prints its final counters;
* the inside port received exactly the packets offline mode passes, and the punt
  port exactly those it punts, with their original bytes and in input order
  (one worker, one queue);
* the counters agree with the offline summary, and so does its Prometheus
  /metrics endpoint, scraped while it runs.

The captures used have no per-source rate to speak of, so the live clock (TSC) and
the offline clock (packet timestamps) must give the same verdicts.

Stand-alone:
  python3 tests/integration/test_live.py --binary build/dataplane/app/sipwall-dataplane
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.dont_write_bytecode = True
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tools"))
sys.path.insert(0, str(HERE.parent / "support"))
import make_captures  # noqa: E402
from netlab import control, parse_counters  # noqa: E402,F401  (test_multiworker imports control from here)
from test_offline import read_pcap  # noqa: E402

BINARY: Path | None = None
CTL: Path | None = None  # sipwallctl
JUDGE_TIMEOUT_S = 60
EXIT_TIMEOUT_S = 30
METRICS_URL = re.compile(r"metrics on (http://\S+/metrics)")
SAMPLE = re.compile(r'^(\w+)\{(\w+)="([^"]*)"\} (\S+)$')
# What ASan, LSan and UBSan print first in a report. UBSan without halt_on_error only prints
# and carries on, so the exit status alone would miss it.
SANITIZER_REPORT = re.compile(r"runtime error:|ERROR: AddressSanitizer|ERROR: LeakSanitizer")


def sanitizer_reports(text: str) -> list[str]:
    """The lines of `text` that start a sanitizer report."""
    return [line for line in text.splitlines() if SANITIZER_REPORT.search(line)]


class SanitizerCheck(unittest.TestCase):
    """Fails a test when a dataplane it ran printed a sanitizer report: every run's output
    (stdout and stderr together) goes to a stdout.txt under the class's `tmp`."""

    tmp: Path
    checked: set[Path]

    def tearDown(self) -> None:
        checked = type(self).__dict__.get("checked")
        if checked is None:
            checked = type(self).checked = set()
        for log in sorted(self.tmp.rglob("stdout.txt")):
            if log in checked:
                continue
            checked.add(log)
            reports = sanitizer_reports(log.read_text(errors="replace"))
            self.assertEqual(reports, [], f"sanitizer report in {log}")


# A control client run as a process of its own (argv: socket, lines, replies to wait for): it
# prints "ready" once it has its replies, then waits to be killed, connection open.
KILLED_CLIENT = """
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(30)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode())
data = b""
while data.count(b"\\n.\\n") < int(sys.argv[3]):
    chunk = s.recv(4096)
    if not chunk:
        sys.exit("closed early")
    data += chunk
print("ready", flush=True)
time.sleep(60)
"""


def parse_metrics(text: str) -> dict[tuple[str, str], float]:
    """(family, label value) -> value, for single-label samples."""
    out: dict[tuple[str, str], float] = {}
    for line in text.splitlines():
        m = SAMPLE.match(line)
        if m:
            out[(m.group(1), m.group(3))] = float(m.group(4))
    return out


LABELLED = re.compile(r'^(\w+)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def metric_sum(text: str, family: str, **labels: str) -> float | None:
    """The sum of `family`'s samples whose labels include `labels` (None: no such sample)."""
    total = None
    for line in text.splitlines():
        m = LABELLED.match(line)
        if not m or m.group(1) != family:
            continue
        have = dict(LABEL.findall(m.group(2) or ""))
        if all(have.get(k) == v for k, v in labels.items()):
            total = (total or 0.0) + float(m.group(3))
    return total


class ThreadStop:
    """Stops one thread of another process, the rest running on (ptrace: PTRACE_SEIZE and
    PTRACE_INTERRUPT of that thread alone), until resume(). A worker frozen this way is what
    a stuck worker looks like from outside."""

    SEIZE, INTERRUPT, DETACH = 0x4206, 0x4207, 17
    WALL = 0x40000000

    def __init__(self, tid: int) -> None:
        import ctypes
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p,
                                     ctypes.c_void_p]
        self.tid = tid
        if self.libc.ptrace(self.SEIZE, tid, None, None) != 0:
            raise PermissionError(ctypes.get_errno(), "PTRACE_SEIZE")
        self.libc.ptrace(self.INTERRUPT, tid, None, None)
        os.waitpid(tid, self.WALL)  # the thread is in its ptrace stop

    def resume(self) -> None:
        self.libc.ptrace(self.DETACH, self.tid, None, None)


def thread_named(pid: int, name: str) -> int:
    for task in Path(f"/proc/{pid}/task").iterdir():
        if (task / "comm").read_text().strip() == name:
            return int(task.name)
    raise LookupError(f"no thread {name} in {pid}")


def eal_args(name: str, lcores: list[str] | None = None) -> list[str]:
    """The program and the EAL options every live run shares: no hugepages, no PCI, a file
    prefix of its own (`name` and this process), then the run's virtual devices follow."""
    return [str(BINARY), *(lcores or ["-l", "0-1"]), "--no-huge", "-m", "512", "--no-pci",
            "--no-shconf", "--no-telemetry", "--log-level=error",
            "--file-prefix", f"sipwall-{name}-{os.getpid()}"]


def stop(proc: subprocess.Popen) -> int:
    """SIGTERM, then the exit status (TimeoutExpired if it hangs: callers kill it then)."""
    proc.send_signal(signal.SIGTERM)
    return proc.wait(timeout=EXIT_TIMEOUT_S)


class SanitizerReports(unittest.TestCase):
    def test_the_reports_of_each_sanitizer_are_recognised(self) -> None:
        ubsan = "pipeline.cc:120:7: runtime error: signed integer overflow"
        asan = "==4711==ERROR: AddressSanitizer: heap-buffer-overflow on address 0x6020"
        lsan = "==4711==ERROR: LeakSanitizer: detected memory leaks"
        text = "\n".join(["sipwall counters", ubsan, "  judged 12", asan, lsan])
        self.assertEqual(sanitizer_reports(text), [ubsan, asan, lsan])
        self.assertEqual(sanitizer_reports("sipwall counters\n  drop.malformed_sip 3\n"), [])


class LiveMode(SanitizerCheck):
    @classmethod
    def setUpClass(cls) -> None:
        cls.tmp = Path(tempfile.mkdtemp(prefix="sipwall-live-"))
        make_captures.main([str(cls.tmp / "captures"), "--only", "scanner", "--only",
                            "malformed", "--only", "fragments"])

    @classmethod
    def tearDownClass(cls) -> None:
        if os.environ.get("SIPWALL_KEEP_TMP") != "1":
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def run_live(self, capture: Path | list[Path], out: Path) -> tuple[int, str]:
        """Runs the program until every packet is judged. A list of captures gives one RX
        queue (and one worker lcore) per capture; queue q of every port then writes
        <port>-q<q>.pcap, where a single capture writes <port>.pcap."""
        out.mkdir(parents=True, exist_ok=True)
        captures = capture if isinstance(capture, list) else [capture]
        expected = sum(len(read_pcap(c).records) for c in captures)

        def tx(port: str) -> str:
            if len(captures) == 1:
                return f"tx_pcap={out / (port + '.pcap')}"
            return ",".join(f"tx_pcap={out / f'{port}-q{q}.pcap'}" for q in range(len(captures)))

        rx = ",".join(f"rx_pcap={c}" for c in captures)
        # Worker lcores share the machine's CPUs (CI has two): lcore 0 is the main one.
        lcores = None if len(captures) == 1 else [
            "--lcores", ",".join(["0@0"] + [f"{q + 1}@{q % 2}" for q in range(len(captures))])]
        cmd = [*eal_args("live", lcores),
               "--vdev", f"net_pcap_out0,{rx},{tx('outside')}",
               "--vdev", f"net_pcap_in0,{tx('inside')}",
               "--vdev", f"net_pcap_punt0,{tx('punt')}",
               "--", "--stats-interval", "1", "--metrics", "127.0.0.1:0"]
        log = out / "stdout.txt"
        with open(log, "w") as stdout:
            proc = subprocess.Popen(cmd, stdout=stdout, stderr=subprocess.STDOUT)
            try:
                deadline = time.monotonic() + JUDGE_TIMEOUT_S
                self.fragments_held_max = 0.0
                while time.monotonic() < deadline and proc.poll() is None:
                    if parse_counters(log.read_text()).get("judged") == expected:
                        break
                    # Fragments of an incomplete datagram stay held until their timeout (5 s):
                    # the fragment table's gauge must show them meanwhile.
                    url = METRICS_URL.search(log.read_text())
                    if url:
                        with urllib.request.urlopen(url.group(1), timeout=10) as resp:
                            held = metric_sum(resp.read().decode(),
                                              "sipwall_fragment_table_datagrams") or 0.0
                        self.fragments_held_max = max(self.fragments_held_max, held)
                    time.sleep(0.2)
                url = METRICS_URL.search(log.read_text())
                if url:
                    with urllib.request.urlopen(url.group(1), timeout=10) as resp:
                        (out / "metrics.txt").write_bytes(resp.read())
                    self.scraped_at = time.time()
                rc = stop(proc)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
        return rc, log.read_text()

    def run_offline(self, capture: Path, out: Path) -> tuple[list[dict], dict]:
        subprocess.run([str(BINARY), "--offline", str(capture), "--out", str(out)], check=True,
                       timeout=120)
        verdicts = [json.loads(line) for line in (out / "verdicts.jsonl").read_text().splitlines()]
        return verdicts, json.loads((out / "summary.json").read_text())

    def check_capture(self, name: str) -> None:
        capture = self.tmp / "captures" / f"{name}.pcap"
        verdicts, summary = self.run_offline(capture, self.tmp / f"{name}-offline")
        rc, text = self.run_live(capture, self.tmp / f"{name}-live")
        self.assertEqual(rc, 0, text)
        counters = parse_counters(text)
        self.assertIn("judged", counters, text)
        for key in ("pass", "punt", "drop"):
            self.assertEqual(counters[key], summary[key], f"{key}:\n{text}")
        for reason, n in summary["drop_reasons"].items():
            self.assertEqual(counters[f"drop.{reason}"], n, reason)
        self.assertEqual(counters["rx_outside"], summary["packets"])
        self.assertEqual(counters["tx_punt"], summary["punt"])

        metrics = parse_metrics((self.tmp / f"{name}-live" / "metrics.txt").read_text())
        for key in ("pass", "punt", "drop"):
            self.assertEqual(metrics[("sipwall_packets_total", key)], summary[key], key)
        for reason, n in summary["drop_reasons"].items():
            self.assertEqual(metrics[("sipwall_drops_total", reason)], n, reason)
        self.assertEqual(metrics[("sipwall_tx_port_packets_total", "punt")], summary["punt"])
        self.assertEqual(metrics[("sipwall_tx_port_packets_total", "inside")], summary["pass"])
        for rule, n in summary["signature_hits"].items():
            self.assertEqual(metrics[("sipwall_signature_hits_total", rule)], n, rule)
        metrics_text = (self.tmp / f"{name}-live" / "metrics.txt").read_text()
        self.check_worker_metrics(metrics_text, summary)
        self.assertRegex(metrics_text, r'sipwall_rules_info\{source="[^"]*default\.rules",'
                                       r'version="fnv1a64:[0-9a-f]+"\} 1')

        frames = [r.data for r in read_pcap(capture).records]
        live_dir = self.tmp / f"{name}-live"
        for verdict, port_file in (("pass", "inside.pcap"), ("punt", "punt.pcap")):
            want = [f for f, v in zip(frames, verdicts) if v["verdict"] == verdict]
            got = [r.data for r in read_pcap(live_dir / port_file).records]
            self.assertEqual(got, want, f"{port_file} does not hold the {verdict} packets")

    def check_worker_metrics(self, text: str, summary: dict) -> None:
        """The per-worker series move with the traffic: the loop had busy iterations (it
        judged packets) and idle ones (it then waited), busy + idle seconds cover about the
        run, the token-bucket table tracks sources, and no TX ring was full."""
        def one(family: str, **labels: str) -> float:
            value = metric_sum(text, family, **labels)
            self.assertIsNotNone(value, f"{family} {labels} missing")
            return value

        self.assertGreater(one("sipwall_worker_polls_total", worker="0", result="busy"), 0)
        self.assertGreater(one("sipwall_worker_polls_total", worker="0", result="idle"), 0)
        busy = one("sipwall_worker_seconds_total", worker="0", mode="busy")
        idle = one("sipwall_worker_seconds_total", worker="0", mode="idle")
        self.assertGreater(busy, 0)
        self.assertGreater(idle, busy, "a few hundred packets cannot keep a core busy")
        self.assertLess(busy + idle, JUDGE_TIMEOUT_S + 10)
        # The loop started right after the start time was taken: together they span the run.
        started = one("sipwall_start_time_seconds")
        self.assertLess(abs(self.scraped_at - started - (busy + idle)), 5)
        self.assertEqual(one("sipwall_bucket_table_capacity", worker="0"), 1 << 20)
        entries = one("sipwall_bucket_table_entries", worker="0")
        if summary["drop_reasons"].get("signature") or summary["punt"]:
            self.assertGreater(entries, 0, "SIP was judged: its sources have buckets")
        self.assertEqual(one("sipwall_bucket_table_inserts_total", worker="0"), entries)
        self.assertEqual(one("sipwall_bucket_table_evictions_total"), 0)
        self.assertEqual(one("sipwall_fragment_table_capacity", worker="0"), 1024)
        self.assertEqual(one("sipwall_tx_port_failed_total"), 0)
        if summary["drop_reasons"].get("fragment"):
            self.assertGreater(self.fragments_held_max, 0, "held fragments never showed")
            self.assertEqual(one("sipwall_fragment_table_datagrams", worker="0"), 0)

    def test_reloads_under_traffic_lose_nothing_and_mix_nothing(self) -> None:
        """Traffic loops through the live program while the rule file is rewritten and
        SIGHUP sent many times, alternating a set that drops every packet by signature (A), a
        set that punts it (B) and broken sets that must be refused. Every packet received is
        judged (none lost), and each was judged wholly by A or by B: punt, or drop by A's
        signature, nothing else. The refused sets leave the old one running and are counted."""
        out = self.tmp / "reload-live"
        out.mkdir(parents=True, exist_ok=True)
        cap = make_captures.Capture("probe", "reload traffic")
        for i in range(2000):  # sources are allow-listed, so no rate limit interferes
            src = f"10.1.{i // 250}.{i % 250 + 1}"
            msg = make_captures.sip_request("OPTIONS", src, 40000 + i % 1000,
                                            extra=[("X-Probe", "yes")])
            cap.add(i, make_captures.sip_udp(src, 40000 + i % 1000, msg), make_captures.PUNT, "")
        cap.write(out)
        rules = out / "live.rules"
        # The loop runs far above the default punt budget: lift it, so that the sets alone decide.
        unbudgeted = ("allow t:src 10.0.0.0/8\n"
                      "punt-budget messages=100000000 bytes=100000000000 untrusted-share=30\n")
        set_a = unbudgeted + "signature t:probe action=drop scope=header:X-Probe pattern=/yes/\n"
        set_b = unbudgeted
        rules.write_text(set_a)
        cmd = [*eal_args("reload"),
               "--vdev", f"net_pcap_out1,rx_pcap={out / 'probe.pcap'},infinite_rx=1",
               "--vdev", "net_null_in1", "--vdev", "net_null_punt1",
               "--", "--rules", str(rules), "--metrics", "127.0.0.1:0", "--no-watch-rules",
               "--control", str(out / "control.sock")]
        log = out / "stdout.txt"
        applied = refused = 0
        with open(log, "w") as stdout:
            proc = subprocess.Popen(cmd, stdout=stdout, stderr=subprocess.STDOUT)
            try:
                deadline = time.monotonic() + JUDGE_TIMEOUT_S
                while "metrics on" not in log.read_text() and time.monotonic() < deadline:
                    time.sleep(0.1)
                for i in range(12):
                    kind = ("A", "broken", "B")[i % 3]
                    if kind == "broken":
                        rules.write_text("signature t:bad action=drop scope=body pattern=/(/\n")
                    else:
                        rules.write_text(set_a if kind == "A" else set_b)
                    before = log.read_text().count("reload (")
                    if i % 2:  # both triggers: SIGHUP and the control socket
                        reply = control(out / "control.sock", "reload")
                        self.assertTrue(reply.startswith("ok" if kind != "broken" else "refused"),
                                        reply)
                    else:
                        proc.send_signal(signal.SIGHUP)
                    while log.read_text().count("reload (") == before:
                        self.assertLess(time.monotonic(), deadline, "no reload reply")
                        self.assertIsNone(proc.poll(), log.read_text())
                        time.sleep(0.05)
                    if kind == "broken":
                        refused += 1
                    else:
                        applied += 1
                    time.sleep(0.2)  # let traffic flow under this set
                url = METRICS_URL.search(log.read_text()).group(1)
                with urllib.request.urlopen(url, timeout=10) as resp:
                    metrics = parse_metrics(resp.read().decode())
                rc = stop(proc)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
        text = log.read_text()
        self.assertEqual(rc, 0, text)
        self.assertEqual(text.count("): ok"), applied, text)
        self.assertEqual(text.count("): refused"), refused, text)
        self.assertEqual(metrics[("sipwall_rules_reloads_total", "applied")], applied)
        self.assertEqual(metrics[("sipwall_rules_reloads_total", "refused")], refused)
        c = parse_counters(text)
        self.assertGreater(c["rx_outside"], 10 * 2000, "traffic must flow through the reloads")
        self.assertEqual(c["judged"], c["rx_outside"], "a packet was lost during a reload")
        self.assertEqual(c["pass"], 0)
        self.assertEqual(c["punt"] + c["drop"], c["judged"])
        self.assertEqual(c["drop"], c["drop.signature"], "only A's signature may drop")
        self.assertEqual(c["signature.t:probe"], c["drop.signature"])
        self.assertGreater(c["punt"], 0)
        self.assertGreater(c["drop"], 0)

    def test_rule_file_changes_are_picked_up_however_they_are_written(self) -> None:
        """The running program reloads when its rule file (or an included file) is replaced
        the way editors and config tools do it: written in place, or written elsewhere and
        renamed over. A broken write is refused and reported on the control socket."""
        out = self.tmp / "watch"
        out.mkdir(parents=True, exist_ok=True)
        (out / "sigs.rules").write_text("")
        rules = out / "site.rules"
        rules.write_text('include "sigs.rules"\n')
        sock = out / "control.sock"
        cmd = [*eal_args("watch"),
               "--vdev", "net_null_out2,no-rx=1", "--vdev", "net_null_in2,no-rx=1",
               "--", "--rules", str(rules), "--metrics", "off", "--control", str(sock)]
        log = out / "stdout.txt"

        def wait_reloads(n: int) -> str:
            deadline = time.monotonic() + 20
            while log.read_text().count("reload (rule file changed)") < n:
                self.assertLess(time.monotonic(), deadline, log.read_text())
                time.sleep(0.05)
            return log.read_text()

        with open(log, "w") as stdout:
            proc = subprocess.Popen(cmd, stdout=stdout, stderr=subprocess.STDOUT)
            try:
                deadline = time.monotonic() + 20
                while not sock.exists():
                    self.assertLess(time.monotonic(), deadline, log.read_text())
                    time.sleep(0.05)
                # An included file rewritten in place.
                (out / "sigs.rules").write_text(
                    "signature w:one action=drop scope=header:X-One pattern=/x/\n")
                text = wait_reloads(1)
                # The root file written elsewhere and renamed over it (vim, sed -i, Ansible).
                tmp = out / ".site.rules.tmp"
                tmp.write_text('include "sigs.rules"\nprofile liberal\n')
                os.rename(tmp, rules)
                text = wait_reloads(2)
                self.assertEqual(text.count("(rule file changed): ok"), 2, text)
                # A broken set: refused, the old one keeps running, the reason is kept.
                tmp.write_text("profile sideways\n")
                os.rename(tmp, rules)
                text = wait_reloads(3)
                status = control(sock, "status")
                if CTL is not None:  # the operator's tool: exit 0 on success, 1 on a refusal
                    ok = subprocess.run([str(CTL), "--socket", str(sock), "status"],
                                        capture_output=True, text=True, timeout=30)
                    self.assertEqual(ok.returncode, 0, ok.stderr)
                    self.assertIn("reloads refused 1", ok.stdout)
                    bad = subprocess.run([str(CTL), "--socket", str(sock), "reload"],
                                         capture_output=True, text=True, timeout=60)
                    self.assertEqual(bad.returncode, 1, bad.stdout)
                    self.assertTrue(bad.stdout.startswith("refused"), bad.stdout)
                rc = stop(proc)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
        self.assertEqual(rc, 0, log.read_text())
        self.assertIn("(rule file changed): refused", text)
        self.assertIn("reloads applied 2", status)
        self.assertIn("reloads refused 1", status)
        self.assertIn(f"{rules}:1:", status)
        self.assertFalse(sock.exists(), "the control socket is removed on exit")

    def test_two_workers_each_judge_their_own_queue(self) -> None:
        """Two worker lcores, each polling its own RX queue of the outside port: every packet is
        judged once, the totals are the sum of both captures' offline results, and what queue q
        passes or punts leaves on queue q of the inside or punt port, in its input order."""
        names = ["scanner", "malformed"]
        captures = [self.tmp / "captures" / f"{n}.pcap" for n in names]
        offline = [self.run_offline(c, self.tmp / f"{n}-offline-2w") for n, c in zip(names, captures)]
        out = self.tmp / "two-workers-live"
        rc, text = self.run_live(captures, out)
        self.assertEqual(rc, 0, text)
        self.assertIn("workers=2", text)
        counters = parse_counters(text)
        self.assertEqual(counters["rx_outside"], sum(s["packets"] for _, s in offline), text)
        for key in ("pass", "punt", "drop"):
            self.assertEqual(counters[key], sum(s[key] for _, s in offline), f"{key}:\n{text}")
        for q, (capture, (verdicts, _)) in enumerate(zip(captures, offline)):
            frames = [r.data for r in read_pcap(capture).records]
            for verdict, port in (("pass", "inside"), ("punt", "punt")):
                want = [f for f, v in zip(frames, verdicts) if v["verdict"] == verdict]
                got = [r.data for r in read_pcap(out / f"{port}-q{q}.pcap").records]
                self.assertEqual(got, want, f"queue {q}: {port} does not hold the {verdict} packets")

    def test_systemd_hears_ready_watchdog_and_stopping(self) -> None:
        """Under systemd (Type=notify, WatchdogSec=) the program says READY=1 once it serves,
        feeds the watchdog while its worker polls (twice per WATCHDOG_USEC), stops feeding it
        while the worker is stuck (its thread stopped alone with ptrace; root) and again once
        it polls, and says STOPPING=1 on SIGTERM."""
        out = self.tmp / "notify"
        out.mkdir(parents=True, exist_ok=True)
        path = out / "notify.sock"
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as systemd:
            systemd.bind(str(path))
            systemd.settimeout(JUDGE_TIMEOUT_S)
            env = dict(os.environ, NOTIFY_SOCKET=str(path), WATCHDOG_USEC="400000")
            env.pop("WATCHDOG_PID", None)
            cmd = [*eal_args("notify"),
                   "--vdev", f"net_pcap_out0,rx_pcap={self.tmp / 'captures' / 'scanner.pcap'}",
                   "--vdev", "net_null_in0", "--", "--metrics", "off"]
            log = out / "stdout.txt"
            with open(log, "w") as stdout:
                proc = subprocess.Popen(cmd, stdout=stdout, stderr=subprocess.STDOUT, env=env)
            try:
                self.assertEqual(systemd.recv(256), b"READY=1\nSTATUS=filtering")
                started = time.monotonic()
                for _ in range(5):
                    self.assertEqual(systemd.recv(256), b"WATCHDOG=1")
                # Five pings at 0.2 s apart (the first may come at once).
                self.assertGreater(time.monotonic() - started, 0.6)
                # A stuck worker: its loop stops advancing, and the watchdog goes hungry (one
                # ping may still count the iterations it made before it stopped).
                try:
                    stopped = ThreadStop(thread_named(proc.pid, "rte-worker-1"))
                except PermissionError:
                    stopped = None  # no ptrace here (not root, ptrace_scope): part skipped
                if stopped:
                    try:
                        systemd.settimeout(0.1)
                        pings = 0
                        deadline = time.monotonic() + 1.5
                        while time.monotonic() < deadline:
                            try:
                                pings += systemd.recv(256) == b"WATCHDOG=1"
                            except socket.timeout:
                                pass
                        self.assertLessEqual(pings, 1, "the watchdog was fed with a stuck worker")
                        self.assertIn("worker 0 stopped polling", log.read_text())
                    finally:
                        stopped.resume()
                    systemd.settimeout(JUDGE_TIMEOUT_S)
                    self.assertEqual(systemd.recv(256), b"WATCHDOG=1", "fed again once it polls")
                proc.send_signal(signal.SIGTERM)
                while (msg := systemd.recv(256)) == b"WATCHDOG=1":
                    pass
                self.assertEqual(msg, b"STOPPING=1")
                self.assertEqual(proc.wait(timeout=EXIT_TIMEOUT_S), 0, log.read_text())
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()

    def test_scanner_capture(self) -> None:
        self.check_capture("scanner")

    def test_malformed_capture(self) -> None:
        self.check_capture("malformed")

    def test_fragments_capture(self) -> None:
        self.check_capture("fragments")

class CommandChannel(SanitizerCheck):
    """State commands on the control socket with two workers (two RX queues, each looping its
    own capture with the same sources, so every source reaches both workers): a ban holds on
    every worker once it is acknowledged, clients that vanish lose nothing acknowledged, and
    the state file carries bans across a restart; clients that misbehave and rule files that
    cannot be used change nothing else. No wall-clock assertion: the loops below only bound how
    long the test waits for traffic."""

    X = "192.0.2.66"  # banned in the tests; its packets and Z's are the only ones that pass
    Z = "192.0.2.77"  # banned in the tests with sipwallctl
    Y = "192.0.2.99"  # filler, denied by the rule file (cheap to drop, never written)

    @classmethod
    def setUpClass(cls) -> None:
        cls.tmp = Path(tempfile.mkdtemp(prefix="sipwall-cmd-"))
        cap = make_captures.Capture("mixed", "transit packets of X and Z among denied filler")
        for i in range(50):  # X and Z are one packet in five each: a burst of 32 holds several
            src = cls.X if i % 5 == 0 else cls.Z if i % 5 == 1 else cls.Y
            cap.add(i, make_captures.udp_frame(src, "203.0.113.1", 7000, 9999, b"x" * 40),
                    make_captures.PASS, src)
        cap.write(cls.tmp)
        cls.rules = cls.tmp / "cmd.rules"
        cls.rules.write_text(f"deny t:filler {cls.Y}/32\n")

    @classmethod
    def tearDownClass(cls) -> None:
        if os.environ.get("SIPWALL_KEEP_TMP") != "1":
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def start(self, name: str, *extra: str,
              rules: Path | None = None) -> tuple[subprocess.Popen, Path, Path]:
        out = self.tmp / name
        out.mkdir(parents=True, exist_ok=True)
        sock = out / "control.sock"
        capture = self.tmp / "mixed.pcap"
        cmd = [*eal_args(name, ["--lcores", "0@0,1@1,2@1"]),
               "--vdev", f"net_pcap_out{name},rx_pcap={capture},rx_pcap={capture},infinite_rx=1",
               "--vdev", f"net_null_in{name}", "--vdev", f"net_null_punt{name}",
               "--", "--rules", str(rules or self.rules), "--metrics", "127.0.0.1:0",
               "--no-watch-rules",
               "--control", str(sock), *extra]
        log = out / "stdout.txt"
        stdout = open(log, "w")
        proc = subprocess.Popen(cmd, stdout=stdout, stderr=subprocess.STDOUT)
        stdout.close()
        self.addCleanup(lambda: (proc.poll() is None) and (proc.kill(), proc.wait()))
        deadline = time.monotonic() + JUDGE_TIMEOUT_S
        while not ("metrics on" in log.read_text() and sock.exists()):
            self.assertIsNone(proc.poll(), log.read_text())
            self.assertLess(time.monotonic(), deadline, log.read_text())
            time.sleep(0.05)
        return proc, sock, log

    def ctl(self, sock: Path, *words: str, json_out: bool = False) -> subprocess.CompletedProcess:
        return subprocess.run([str(CTL), "--socket", str(sock), *(["--json"] if json_out else []),
                               *words], capture_output=True, text=True, timeout=60)

    def counters(self, sock: Path) -> dict[str, int]:
        return parse_counters("sipwall counters\n" + control(sock, "counters"))

    def wait_for(self, sock: Path, done) -> dict[str, int]:
        """Polls the counters until done(counters) (at most JUDGE_TIMEOUT_S)."""
        deadline = time.monotonic() + JUDGE_TIMEOUT_S
        while True:
            c = self.counters(sock)
            if done(c):
                return c
            self.assertLess(time.monotonic(), deadline, c)
            time.sleep(0.05)

    def test_after_the_reply_every_worker_drops_the_banned_source(self) -> None:
        if CTL is None:
            self.skipTest("--ctl not given")
        proc, sock, log = self.start("ban")
        # X and Z reach both workers (they are the only traffic that passes).
        self.wait_for(sock, lambda c: c.get("worker0.pass", 0) > 0 and c.get("worker1.pass", 0) > 0)
        # The operator's tool: once `sipwallctl ban add` has replied, both workers drop Z as
        # `ban`, counted under the ban's id (X still passes on both).
        reply = self.ctl(sock, "ban", "add", f"{self.Z}/32", "ttl=600", "id=live-2")
        self.assertEqual((reply.returncode, reply.stdout), (0, "ok\n"), reply.stderr)
        after_ctl = self.counters(sock)
        later = self.wait_for(sock, lambda c: all(
            c.get(f"worker{w}.ban.live-2", 0) >= after_ctl.get(f"worker{w}.ban.live-2", 0) + 1000
            for w in (0, 1)))
        for w in (0, 1):
            self.assertGreater(later[f"worker{w}.pass"], after_ctl[f"worker{w}.pass"])
        # (Every ban drop carries its ban's id: checked on the final table, after the stop; a
        # running worker's counters are not read as one snapshot.)
        # The ban of X and a counter snapshot on one connection: the socket answers a client's
        # lines in order, so the snapshot is taken right when the ban's reply goes out. From
        # there on, no worker may pass anything again (Z is banned already).
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(30)
            s.connect(str(sock))
            s.sendall(f"ban add {self.X}/32 ttl=600 id=live-1\ncounters\n".encode())
            data = b""
            while data.count(b"\n.\n") < 2:
                chunk = s.recv(65536)
                self.assertTrue(chunk, data)
                data += chunk
        ban_reply, counters_reply = data.decode().split("\n.\n")[:2]
        self.assertEqual(ban_reply, "ok")
        at_reply = parse_counters("sipwall counters\n" + counters_reply)
        later = self.wait_for(sock, lambda c: all(
            c.get(f"worker{w}.ban.live-1", 0) >= at_reply.get(f"worker{w}.ban.live-1", 0) + 1000
            for w in (0, 1)))
        for w in (0, 1):
            self.assertEqual(later[f"worker{w}.pass"], at_reply[f"worker{w}.pass"],
                             f"worker {w} passed the banned source after the reply")
        reply = self.ctl(sock, "ban", "add", "198.51.100.0/24", "ttl=600")
        self.assertEqual((reply.returncode, reply.stdout), (0, "ok\n"), reply.stderr)
        again = self.ctl(sock, "ban", "add", "198.51.100.0/24", "ttl=1200")
        self.assertEqual((again.returncode, again.stdout), (0, "exists: ttl extended\n"))
        listed = self.ctl(sock, "ban", "list", json_out=True)
        self.assertEqual(listed.returncode, 0, listed.stderr)
        doc = json.loads(listed.stdout)
        self.assertEqual(doc["status"], "ok")
        self.assertEqual(doc["fields"]["count"], "3", doc)
        mine = [e for e in doc["entries"] if e.startswith(f"ban add {self.X}/32 ttl=")]
        self.assertEqual(len(mine), 1, doc)
        self.assertIn("id=live-1", mine[0])
        # Refusals have their own exit status; a parse error names its column.
        bad = self.ctl(sock, "ban", "add", "192.0.2.300", "ttl=5")
        self.assertEqual(bad.returncode, 1, bad.stdout)
        self.assertTrue(bad.stdout.startswith("error: 9: "), bad.stdout)
        gone = self.ctl(sock, "ban", "del", "198.51.100.1")
        self.assertEqual((gone.returncode, gone.stdout), (1, "not found\n"))
        ping = self.ctl(sock, "ping", json_out=True)
        self.assertEqual(json.loads(ping.stdout)["status"], "ok", ping.stdout)
        self.assertGreater(int(json.loads(ping.stdout)["fields"]["epoch"]), 1_700_000_000)
        url = METRICS_URL.search(log.read_text()).group(1)
        with urllib.request.urlopen(url, timeout=10) as resp:
            metrics = resp.read().decode()
        self.assertIn('sipwall_commands_applied_total{command="ban add"} 4', metrics)
        self.assertIn('sipwall_dynamic_entries{table="ban"} 3', metrics)
        # Drops by ban id: the operator's ids by name, the rest (here none) as other.
        by_ban = {label: v for (family, label), v in parse_metrics(metrics).items()
                  if family == "sipwall_ban_drops_total"}
        self.assertEqual(set(by_ban), {"other", "live-1", "live-2"}, metrics)
        self.assertGreater(by_ban["live-1"], 2000)
        self.assertGreater(by_ban["live-2"], 2000)
        self.assertEqual(by_ban["other"], 0)
        self.assertRegex(metrics, r"sipwall_command_apply_seconds_count [1-9]")
        self.assertEqual(stop(proc), 0, log.read_text())
        final = parse_counters(log.read_text())
        for w in (0, 1):
            self.assertGreater(final[f"worker{w}.ban.live-1"], 1000, final)
            self.assertEqual(final[f"worker{w}.drop.ban"],
                             final[f"worker{w}.ban.live-1"] + final[f"worker{w}.ban.live-2"], final)

    def killed_client(self, sock: Path, lines: str, replies: int) -> None:
        """A control client in a process of its own: it sends `lines`, reads `replies`
        replies, and is killed (SIGKILL) while it still holds its connection."""
        child = subprocess.Popen([sys.executable, "-c", KILLED_CLIENT, str(sock), lines,
                                  str(replies)], stdout=subprocess.PIPE, text=True)
        try:
            self.assertEqual(child.stdout.readline().strip(), "ready")
        finally:
            child.kill()
            child.wait(timeout=EXIT_TIMEOUT_S)
            child.stdout.close()

    def test_clients_that_vanish_lose_nothing_acknowledged(self) -> None:
        """A client that sends a ban and disconnects before its reply: the ban holds. A client
        process killed in the middle of a sync: nothing of the sync is applied, the entries
        its owner had stay and are enforced on both workers. A reconnecting client's sync
        replaces exactly its own entries, on both workers."""
        proc, sock, log = self.start("vanish")
        self.assertEqual(control(sock, f"ban add {self.X} ttl=600 as=control"), "ok")
        control(sock, "ban add 198.51.100.2 ttl=600")  # the operator's
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.connect(str(sock))
            s.sendall(b"ban add 198.51.100.3 ttl=600\n")
        self.killed_client(sock, "sync begin 4 as=control\nban add 198.51.100.4 ttl=600 "
                                 "as=control\n", 2)
        # Reconnected: the abandoned sync changed nothing; the ban sent without waiting holds.
        deadline = time.monotonic() + JUDGE_TIMEOUT_S
        while "198.51.100.3" not in control(sock, "ban list"):
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.05)
        listed = control(sock, "ban list")
        for addr in (self.X, "198.51.100.2", "198.51.100.3"):
            self.assertIn(addr, listed)
        self.assertNotIn("198.51.100.4", listed)
        # Filtering goes on unchanged: both workers still drop X under the control plane's ban
        # (`other`: the control plane's ids have no series of their own).
        before = self.counters(sock)
        self.wait_for(sock, lambda c: all(
            c.get(f"worker{w}.ban.other", 0) >= before.get(f"worker{w}.ban.other", 0) + 1000
            for w in (0, 1)))
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(30)
            s.connect(str(sock))
            s.sendall(b"sync begin 5 as=control\nban add 198.51.100.5 ttl=600 as=control\n"
                      b"sync end\ncounters\n")
            data = b""
            while data.count(b"\n.\n") < 4:
                chunk = s.recv(65536)
                self.assertTrue(chunk, data)
                data += chunk
        self.assertIn(b"epoch=5", data)
        at_sync = parse_counters("sipwall counters\n" + data.decode().split("\n.\n")[3])
        listed = control(sock, "ban list")
        self.assertNotIn(self.X, listed)  # the control plane's old entry: replaced
        for addr in ("198.51.100.2", "198.51.100.3", "198.51.100.5"):
            self.assertIn(addr, listed)
        # From the reply of `sync end` on, no worker drops X any more: it passes on both.
        later = self.wait_for(sock, lambda c: all(
            c[f"worker{w}.pass"] >= at_sync[f"worker{w}.pass"] + 1000 for w in (0, 1)))
        for w in (0, 1):
            self.assertEqual(later[f"worker{w}.drop.ban"], at_sync[f"worker{w}.drop.ban"])
        self.assertEqual(stop(proc), 0, log.read_text())

    def test_misbehaving_clients_get_an_error_and_stop_nobody(self) -> None:
        """Clients that send nothing, half a line, bytes that are not a command or a line that
        never ends: each gets a clear error or just waits, the endless one is cut off once its
        buffer is full, and meanwhile other clients are served and traffic is judged."""
        proc, sock, log = self.start("clients")
        first = self.wait_for(sock, lambda c: c.get("judged", 0) > 0)

        def connect() -> socket.socket:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(30)
            s.connect(str(sock))
            self.addCleanup(s.close)
            return s

        def reply(s: socket.socket) -> bytes:
            data = b""
            while not (data == b".\n" or data.endswith(b"\n.\n")):
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
            return data

        idle = connect()
        half = connect()
        half.sendall(b"ban add 198.51")
        garbage = connect()
        garbage.sendall(b"\x00\xff\xfe\x01 \x1b[2J\n")
        self.assertTrue(reply(garbage).startswith(b"error"))
        garbage.sendall(b"status\n")  # the connection is still usable
        self.assertIn(b"reloads applied", reply(garbage))
        endless = connect()
        closed = False
        try:  # bounded: the server refuses the line once its buffer is past the line limit
            for _ in range(256):
                endless.sendall(b"x" * 4096)
        except (BrokenPipeError, ConnectionResetError):
            closed = True
        if not closed:
            got = b""
            while chunk := endless.recv(65536):
                got += chunk
            self.assertIn(b"error: line too long", got)
        # Served while the idle and half-line clients hold their connections.
        self.assertIn("reloads applied", control(sock, "status"))
        later = self.wait_for(sock, lambda c: c["judged"] > first["judged"])
        half.sendall(b".100.7 ttl=600\n")  # the rest of its line: now it is a command
        self.assertTrue(reply(half).startswith(b"ok"))
        self.assertIn("198.51.100.7", control(sock, "ban list"))
        idle.close()
        self.assertEqual(stop(proc), 0, log.read_text())
        c = parse_counters(log.read_text())
        self.assertGreaterEqual(c["judged"], later["judged"])
        self.assertEqual(c["pass"] + c["punt"] + c["drop"], c["judged"])

    def test_a_rule_file_that_cannot_be_used_leaves_the_old_set_running(self) -> None:
        """Reloads of a rule file turned binary, huge (over the 16 MiB cap), into a folder or
        removed are refused with the reason, and the set in force keeps judging (its deny rule
        keeps dropping the filler)."""
        rules = self.tmp / "reload-bad" / "site.rules"
        rules.parent.mkdir(parents=True, exist_ok=True)
        rules.write_text(self.rules.read_text())
        proc, sock, log = self.start("reload-bad", rules=rules)
        bad = [("binary", lambda: rules.write_bytes(bytes(range(256)) * 64)),
               ("huge", lambda: rules.write_bytes(b"# padding\n" * (2 << 20))),
               ("folder", lambda: (rules.unlink(), rules.mkdir())),
               ("removed", lambda: rules.rmdir())]
        for n, (what, make) in enumerate(bad, 1):
            make()
            before = self.counters(sock)["drop.acl"]
            answer = control(sock, "reload")
            self.assertTrue(answer.startswith("refused"), f"{what}: {answer}")
            self.assertIn(f"reloads refused {n}", control(sock, "status"), what)
            self.wait_for(sock, lambda c: c["drop.acl"] > before)
        status = control(sock, "status")
        self.assertIn("reloads applied 0", status)
        self.assertIn("larger than 16 MiB", log.read_text())
        self.assertEqual(stop(proc), 0, log.read_text())

    def test_a_restarted_dataplane_keeps_its_bans(self) -> None:
        state = self.tmp / "state" / "dynamic.state"
        state.parent.mkdir(parents=True, exist_ok=True)
        proc, sock, log = self.start("state1", "--state-file", str(state))
        self.assertEqual(control(sock, f"ban add {self.X} ttl=600 id=persist"), "ok")
        self.assertEqual(control(sock, f"ban add {self.Z} ttl=600 id=auth-z as=control"), "ok")
        self.assertEqual(stop(proc), 0, log.read_text())
        self.assertIn(f"ban add {self.X}/32 ttl=", state.read_text())
        proc, sock, log = self.start("state2", "--state-file", str(state))
        self.assertIn("2 entries restored", log.read_text())
        # Restored before the workers started: X and Z never pass, both workers drop them,
        # each ban under its series (the operator's id; the control plane's as other).
        c = self.wait_for(sock, lambda c: all(
            c.get(f"worker{w}.ban.persist", 0) > 1000 and c.get(f"worker{w}.ban.other", 0) > 1000
            for w in (0, 1)))
        self.assertEqual((c["worker0.pass"], c["worker1.pass"]), (0, 0))
        listed = control(sock, "ban list")
        self.assertIn("id=persist", listed)
        self.assertIn("id=auth-z as=control", listed)
        self.assertEqual(stop(proc), 0, log.read_text())
        # A corrupt state file: a clear message, an empty start, no crash.
        state.write_text("# sipwall dynamic state v1\nexpires=x ban add 192.0.2.1 ttl=5\n")
        proc, sock, log = self.start("state3", "--state-file", str(state))
        self.assertIn("state file refused", log.read_text())
        self.assertIn("line 2", log.read_text())
        self.assertIn("count=0", control(sock, "ban list"))
        self.assertEqual(stop(proc), 0, log.read_text())


def main() -> None:
    global BINARY, CTL
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--binary", type=Path, required=True)
    ap.add_argument("--ctl", type=Path, help="sipwallctl, to drive the control socket")
    args, rest = ap.parse_known_args()
    BINARY = args.binary.resolve()
    CTL = args.ctl.resolve() if args.ctl else None
    unittest.main(argv=[sys.argv[0], *rest], verbosity=2)


if __name__ == "__main__":
    main()
