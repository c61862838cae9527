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
import signal
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
import make_captures  # noqa: E402
from test_offline import read_pcap  # noqa: E402

BINARY: Path | None = None
JUDGE_TIMEOUT_S = 60
EXIT_TIMEOUT_S = 30
COUNTER = re.compile(r"^\s+(\S+)\s+(\d+)$")
METRICS_URL = re.compile(r"metrics on (http://\S+/metrics)")
SAMPLE = re.compile(r'^(\w+)\{(\w+)="([^"]*)"\} (\S+)$')


def parse_metrics(text: str) -> dict[tuple[str, str], float]:
    """(family, label value) -> value, for single-label samples."""
    out: dict[tuple[str, str], float] = {}
    for line in text.splitlines():
        m = SAMPLE.match(line)
        if m:
            out[(m.group(1), m.group(3))] = float(m.group(4))
    return out


def parse_counters(text: str) -> dict[str, int]:
    """The last counter table the program printed."""
    tables = text.split("sipwall counters\n")
    counters: dict[str, int] = {}
    for line in tables[-1].splitlines():
        m = COUNTER.match(line)
        if m:
            counters[m.group(1)] = int(m.group(2))
    return counters


class LiveMode(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.tmp = Path(tempfile.mkdtemp(prefix="sipwall-live-"))
        make_captures.main([str(cls.tmp / "captures"), "--only", "scanner", "--only",
                            "malformed", "--only", "fragments"])

    def run_live(self, capture: Path, out: Path) -> tuple[int, str]:
        out.mkdir(parents=True, exist_ok=True)
        expected = len(read_pcap(capture).records)
        cmd = [str(BINARY), "-l", "0-1", "--no-huge", "-m", "512", "--no-pci", "--no-shconf",
               "--no-telemetry", "--log-level=error", "--file-prefix", f"sipwall-live-{os.getpid()}",
               "--vdev", f"net_pcap_out0,rx_pcap={capture},tx_pcap={out / 'outside.pcap'}",
               "--vdev", f"net_pcap_in0,tx_pcap={out / 'inside.pcap'}",
               "--vdev", f"net_pcap_punt0,tx_pcap={out / 'punt.pcap'}",
               "--", "--stats-interval", "1", "--metrics", "127.0.0.1:0"]
        log = out / "stdout.txt"
        with open(log, "w") as stdout:
            proc = subprocess.Popen(cmd, stdout=stdout, stderr=subprocess.STDOUT)
            try:
                deadline = time.monotonic() + JUDGE_TIMEOUT_S
                while time.monotonic() < deadline and proc.poll() is None:
                    if parse_counters(log.read_text()).get("judged") == expected:
                        break
                    time.sleep(0.2)
                url = METRICS_URL.search(log.read_text())
                if url:
                    with urllib.request.urlopen(url.group(1), timeout=10) as resp:
                        (out / "metrics.txt").write_bytes(resp.read())
                proc.send_signal(signal.SIGTERM)
                rc = proc.wait(timeout=EXIT_TIMEOUT_S)
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

        metrics = parse_metrics((self.tmp / f"{name}-live" / "metrics.txt").read_text())
        for key in ("pass", "punt", "drop"):
            self.assertEqual(metrics[("sipwall_packets_total", key)], summary[key], key)
        for reason, n in summary["drop_reasons"].items():
            self.assertEqual(metrics[("sipwall_drops_total", reason)], n, reason)
        for rule, n in summary["signature_hits"].items():
            self.assertEqual(metrics[("sipwall_signature_hits_total", rule)], n, rule)
        metrics_text = (self.tmp / f"{name}-live" / "metrics.txt").read_text()
        self.assertRegex(metrics_text, r'sipwall_rules_info\{source="[^"]*default\.rules",'
                                       r'version="fnv1a64:[0-9a-f]+"\} 1')

        frames = [r.data for r in read_pcap(capture).records]
        live_dir = self.tmp / f"{name}-live"
        for verdict, port_file in (("pass", "inside.pcap"), ("punt", "punt.pcap")):
            want = [f for f, v in zip(frames, verdicts) if v["verdict"] == verdict]
            got = [r.data for r in read_pcap(live_dir / port_file).records]
            self.assertEqual(got, want, f"{port_file} does not hold the {verdict} packets")

    def test_scanner_capture(self) -> None:
        self.check_capture("scanner")

    def test_malformed_capture(self) -> None:
        self.check_capture("malformed")

    def test_fragments_capture(self) -> None:
        self.check_capture("fragments")


def main() -> None:
    global BINARY
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--binary", type=Path, required=True)
    args, rest = ap.parse_known_args()
    BINARY = args.binary.resolve()
    unittest.main(argv=[sys.argv[0], *rest], verbosity=2)


if __name__ == "__main__":
    main()
