#!/usr/bin/env python3
"""Every metric the alert rules (deploy/prometheus/sipwall-alerts.yml) and the Grafana
dashboard (deploy/grafana/sipwall-dataplane.json) name is exported by a running
sipwall-dataplane, with the label values they select on.

Starts the real program as tests/integration/test_live.py does (no hugepages, no PCI, virtual
ports: a generated capture in, null ports out), adds a ban, a trusted source and a pinhole
over its control socket (so the per-command series exist), scrapes /metrics and compares:

* every `sipwall_*` name in a PromQL expression is an exported family (or a histogram's
  _bucket/_sum/_count series);
* every `label="value"` matcher on it (and `label=~"regex"`) matches an exported sample,
  except on the labels Prometheus adds (instance, job) and Grafana variables ($instance);
* every recording rule (`sipwall:...`) the dashboard uses is defined in the alert rules.

Standard library only. Stand-alone:
  python3 tests/deploy/test_metric_names.py --binary build/dataplane/app/sipwall-dataplane
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.dont_write_bytecode = True
sys.path.insert(0, str(HERE.parent / "integration"))
sys.path.insert(0, str(HERE.parent / "tools"))
import make_captures  # noqa: E402
import test_live  # noqa: E402

RULES = ROOT / "deploy" / "prometheus" / "sipwall-alerts.yml"
DASHBOARD = ROOT / "deploy" / "grafana" / "sipwall-dataplane.json"
START_TIMEOUT_S = 60

SELECTOR = re.compile(r"\b(sipwall_[A-Za-z0-9_]+)\s*(\{([^}]*)\})?")
MATCHER = re.compile(r'(\w+)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"')
RECORDED = re.compile(r"\b(sipwall:[A-Za-z0-9_:]+)")
SAMPLE = re.compile(r"^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})? \S+$")
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')
ADDED_BY_PROMETHEUS = {"instance", "job"}


def exported(text: str) -> dict[str, list[dict[str, str]]]:
    """Sample name -> the label sets of its samples; histograms also under their family name."""
    out: dict[str, list[dict[str, str]]] = {}
    histograms = set(re.findall(r"^# TYPE (\w+) histogram$", text, re.M))
    for line in text.splitlines():
        m = SAMPLE.match(line)
        if not m:
            continue
        labels = dict(LABEL.findall(m.group(2) or ""))
        out.setdefault(m.group(1), []).append(labels)
        for h in histograms:
            if m.group(1) in (h + "_bucket", h + "_sum", h + "_count"):
                out.setdefault(h, []).append({k: v for k, v in labels.items() if k != "le"})
    return out


def expressions_of_dashboard(dashboard: dict) -> list[str]:
    """Every PromQL string of the dashboard: panel targets and templating queries."""
    found: list[str] = []

    def walk(node) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("expr", "query", "definition") and isinstance(value, str):
                    found.append(value)
                elif key == "query" and isinstance(value, dict):
                    found.append(value.get("query", ""))
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(dashboard)
    return found


def problems(expressions: list[str], series: dict[str, list[dict[str, str]]]) -> list[str]:
    """What the expressions name that the scrape does not have."""
    out = []
    for expr in expressions:
        for m in SELECTOR.finditer(expr):
            name, matchers = m.group(1), m.group(3) or ""
            if name not in series:
                out.append(f"{name}: not exported (in {expr.strip()!r})")
                continue
            for label, op, value in MATCHER.findall(matchers):
                if label in ADDED_BY_PROMETHEUS or "$" in value or op in ("!=", "!~"):
                    continue
                if op == "=":
                    ok = any(s.get(label) == value for s in series[name])
                else:
                    ok = any(re.fullmatch(value, s.get(label, "")) for s in series[name])
                if not ok:
                    values = sorted({s.get(label, "") for s in series[name]})
                    out.append(f'{name}{{{label}{op}"{value}"}}: no such series '
                               f"(exported {label} values: {values})")
    return out


class MetricNames(unittest.TestCase):
    binary: Path
    text: str

    @classmethod
    def setUpClass(cls) -> None:
        cls.tmp = Path(tempfile.mkdtemp(prefix="sipwall-metric-names-"))
        make_captures.main([str(cls.tmp / "captures"), "--only", "scanner"])
        sock = cls.tmp / "control.sock"
        test_live.BINARY = cls.binary
        cmd = [*test_live.eal_args("names"),
               "--vdev", f"net_pcap_out0,rx_pcap={cls.tmp / 'captures' / 'scanner.pcap'}",
               "--vdev", "net_null_in0", "--vdev", "net_null_punt0",
               "--", "--metrics", "127.0.0.1:0", "--no-watch-rules", "--control", str(sock),
               "--state-file", str(cls.tmp / "dynamic.state")]
        log = cls.tmp / "stdout.txt"
        with open(log, "w") as stdout:
            proc = subprocess.Popen(cmd, stdout=stdout, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + START_TIMEOUT_S
            while not (test_live.METRICS_URL.search(log.read_text()) and sock.exists()):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the dataplane did not start:\n{log.read_text()}")
                time.sleep(0.05)
            for command in ("ban add 192.0.2.200 ttl=600 id=names-test",
                            "trust add 198.51.100.0/24 ttl=600",
                            "pinhole open 203.0.113.5 10000 ttl=600 call=names"):
                reply = test_live.control(sock, command)
                if reply != "ok":
                    raise RuntimeError(f"{command}: {reply}")
            url = test_live.METRICS_URL.search(log.read_text()).group(1)
            with urllib.request.urlopen(url, timeout=10) as resp:
                cls.text = resp.read().decode()
            if test_live.stop(proc) != 0:
                raise RuntimeError(f"the dataplane exited badly:\n{log.read_text()}")
            reports = test_live.sanitizer_reports(log.read_text())
            if reports:
                raise RuntimeError(f"sanitizer report from the dataplane: {reports}")
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        cls.series = exported(cls.text)

    @classmethod
    def tearDownClass(cls) -> None:
        if os.environ.get("SIPWALL_KEEP_TMP") != "1":
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_the_checker_finds_what_is_missing(self) -> None:
        """The comparison itself: a name, a label value and a regex that are not exported."""
        found = problems(['rate(sipwall_no_such_total[1m])',
                          'sipwall_drops_total{reason="no_such_reason"}',
                          'sipwall_drops_total{reason=~"flood|ban", instance="$instance"}',
                          'sipwall_command_apply_seconds_bucket',
                          'sipwall_rx_packets_total{port=~"nowhere.*"}'], self.series)
        self.assertEqual(len(found), 3, found)
        self.assertIn("sipwall_no_such_total", found[0])
        self.assertIn("no_such_reason", found[1])
        self.assertIn("nowhere", found[2])

    def test_the_alert_rules_name_only_exported_metrics(self) -> None:
        text = RULES.read_text()
        exprs = re.findall(r"^\s*expr:\s*(?:>\s*\n((?:\s{10,}.*\n)+)|(.+))", text, re.M)
        exprs = [a or b for a, b in exprs]
        self.assertGreaterEqual(len(exprs), 15)
        names = {m.group(1) for e in exprs for m in SELECTOR.finditer(e)}
        self.assertGreaterEqual(len(names), 12, names)
        self.assertEqual(problems(exprs, self.series), [])

    def test_the_dashboard_names_only_exported_metrics(self) -> None:
        dashboard = json.loads(DASHBOARD.read_text())
        exprs = expressions_of_dashboard(dashboard)
        self.assertGreaterEqual(len(exprs), 20)
        self.assertEqual(problems(exprs, self.series), [])
        recorded = set(re.findall(r"^\s*- record:\s*(\S+)", RULES.read_text(), re.M))
        used = {m.group(1) for e in exprs for m in RECORDED.finditer(e)}
        self.assertEqual(used - recorded, set(), "recording rules the dashboard uses")

    def test_the_dashboard_covers_what_operators_ask_for(self) -> None:
        """Panels for traffic and verdicts, drops by reason, top signatures, workers' busy
        ratio, bans/trust/pinholes and the punt budget; each panel with a unique id."""
        dashboard = json.loads(DASHBOARD.read_text())
        panels = [p for p in dashboard["panels"]]
        ids = [p["id"] for p in panels]
        self.assertEqual(len(ids), len(set(ids)), "panel ids repeat")
        text = json.dumps(dashboard)
        for family in ("sipwall_packets_total", "sipwall_drops_total",
                       "sipwall_signature_hits_total", "sipwall_worker_seconds_total",
                       "sipwall_dynamic_entries", "sipwall_budget_messages_total",
                       "sipwall_bucket_table_entries", "sipwall_fragment_table_datagrams"):
            self.assertIn(family, text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", type=Path, required=True)
    args, rest = parser.parse_known_args()
    MetricNames.binary = args.binary.resolve()
    unittest.main(argv=[sys.argv[0], *rest], verbosity=2)


if __name__ == "__main__":
    main()
