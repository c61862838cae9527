#!/usr/bin/env python3
"""Prometheus with the shipped configuration (deploy/prometheus/prometheus.yml and
sipwall-alerts.yml) scrapes a running sipwall-dataplane: the target is up, every recording
and alert rule evaluates without error on the real exposition, and the worker busy ratio
(sipwall:worker_busy_ratio:rate1m) comes out of the real counters: near 1 for a worker
whose port always has packets (a capture looped by net_pcap's infinite_rx).

Only the intervals (1 s instead of 5-15 s) and the addresses are changed. Skipped when
the prometheus binary is missing (Debian package prometheus). Standard library only.
  python3 tests/deploy/test_prometheus_scrape.py --binary build/dataplane/app/sipwall-dataplane
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.dont_write_bytecode = True
sys.path.insert(0, str(HERE.parent / "integration"))
sys.path.insert(0, str(HERE.parent / "tools"))
import make_captures  # noqa: E402
import test_live  # noqa: E402

PROMETHEUS_DIR = ROOT / "deploy" / "prometheus"
WAIT_S = 60


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrometheusScrape(unittest.TestCase):
    binary: Path

    def setUp(self) -> None:
        self.prometheus = shutil.which("prometheus")
        if not self.prometheus:
            self.skipTest("prometheus not found (apt-get install prometheus)")
        self.tmp = Path(tempfile.mkdtemp(prefix="sipwall-prometheus-"))
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)

    def start(self, cmd: list[str], log: Path) -> subprocess.Popen:
        with open(log, "w") as out:
            proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
        self.addCleanup(lambda: (proc.poll() is None) and (proc.terminate(), proc.wait(30)))
        return proc

    def query(self, port: int, path: str, **params: str) -> dict:
        url = f"http://127.0.0.1:{port}/api/v1/{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        with urllib.request.urlopen(url, timeout=10) as resp:
            body = json.loads(resp.read())
        self.assertEqual(body["status"], "success", body)
        return body["data"]

    def test_the_shipped_configuration_scrapes_and_evaluates(self) -> None:
        make_captures.main([str(self.tmp / "captures"), "--only", "scanner"])
        test_live.BINARY = self.binary
        capture = self.tmp / "captures" / "scanner.pcap"
        dp_log = self.tmp / "dataplane.txt"
        dataplane = self.start([*test_live.eal_args("prometheus"),
                                "--vdev", f"net_pcap_out0,rx_pcap={capture},infinite_rx=1",
                                "--vdev", "net_null_in0", "--vdev", "net_null_punt0",
                                "--", "--metrics", "127.0.0.1:0"], dp_log)
        deadline = time.monotonic() + WAIT_S
        while not (url := test_live.METRICS_URL.search(dp_log.read_text())):
            self.assertIsNone(dataplane.poll(), dp_log.read_text())
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.05)
        target = urllib.parse.urlparse(url.group(1)).netloc

        config = (PROMETHEUS_DIR / "prometheus.yml").read_text()
        config = re.sub(r"(scrape|evaluation)_interval: \d+s", r"\1_interval: 1s", config)
        config = config.replace("127.0.0.1:9464", target)
        self.assertIn(target, config)
        (self.tmp / "prometheus.yml").write_text(config)
        shutil.copy(PROMETHEUS_DIR / "sipwall-alerts.yml", self.tmp)
        port = free_port()
        prom_log = self.tmp / "prometheus.txt"
        prometheus = self.start([self.prometheus, f"--config.file={self.tmp / 'prometheus.yml'}",
                                 f"--storage.tsdb.path={self.tmp / 'data'}",
                                 f"--web.listen-address=127.0.0.1:{port}"], prom_log)

        def busy_ratio() -> list:
            try:
                return self.query(port, "query", query="sipwall:worker_busy_ratio:rate1m")["result"]
            except OSError:
                return []  # not listening yet

        deadline = time.monotonic() + WAIT_S
        while not (ratio := busy_ratio()):
            self.assertIsNone(prometheus.poll(), prom_log.read_text())
            self.assertLess(time.monotonic(), deadline, prom_log.read_text())
            time.sleep(0.5)
        self.assertEqual(len(ratio), 1, ratio)
        self.assertEqual(ratio[0]["metric"]["worker"], "0")
        self.assertGreater(float(ratio[0]["value"][1]), 0.9, "a port that always has packets")

        up = self.query(port, "query", query='up{job="sipwall-dataplane"}')["result"]
        self.assertEqual([r["value"][1] for r in up], ["1"])
        drops = self.query(port, "query", query='sipwall_drops_total{reason="signature"}')
        self.assertGreater(float(drops["result"][0]["value"][1]), 0)
        time.sleep(2)  # every group evaluated at least once more on the real series
        groups = self.query(port, "rules")["groups"]
        rules = [r for g in groups for r in g["rules"]]
        self.assertGreaterEqual(len(rules), 18)
        self.assertEqual([(r["name"], r.get("lastError")) for r in rules if r["health"] != "ok"],
                         [])
        self.assertEqual(test_live.sanitizer_reports(dp_log.read_text()), [])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", type=Path, required=True)
    args, rest = parser.parse_known_args()
    PrometheusScrape.binary = args.binary.resolve()
    unittest.main(argv=[sys.argv[0], *rest], verbosity=2)


if __name__ == "__main__":
    main()
