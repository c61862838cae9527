#!/usr/bin/env python3
"""Checks deploy/prometheus/ with the tools Prometheus ships:

* promtool check rules (the alert rules load), promtool test rules (every alert fires on a
  series made to trigger it, and the tests cover every alert the rules define),
* promtool check config (the scrape configuration, with the rule file it names),
* amtool check-config (the Alertmanager configuration), when amtool is installed,
* the PromQL of the Grafana dashboard (deploy/grafana/*.json) parses: each expression, with
  Grafana's variables replaced, goes through promtool check rules as a recording rule.

Exit 77 (meson: skipped) when promtool is missing (Debian package prometheus).
Stand-alone: python3 tests/deploy/check_prometheus.py deploy/prometheus
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

SKIP = 77


def run(cmd: list[str], cwd: Path) -> bool:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=120)
    status = "ok" if proc.returncode == 0 else f"FAILED (exit {proc.returncode})"
    print(f"$ {' '.join(cmd)}: {status}")
    if proc.returncode != 0:
        print(proc.stdout + proc.stderr)
    return proc.returncode == 0


def untested_alerts(rules: str, tests: str) -> list[str]:
    """Alerts of `rules` that no alert_rule_test of `tests` expects to fire."""
    alerts = re.findall(r"^\s*- alert:\s*(\w+)", rules, re.M)
    fired = set()
    # One chunk per alert_rule_test entry: its alertname and what it expects.
    for chunk in re.split(r"^\s*- eval_time:", tests, flags=re.M)[1:]:
        name = re.search(r"alertname:\s*(\w+)", chunk)
        if name and re.search(r"exp_labels:", chunk):
            fired.add(name.group(1))
    return [a for a in alerts if a not in fired]


GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$__range": "1h", "$__interval": "15s",
                     "$instance": ".*"}


def dashboard_rules(dashboard: dict) -> str:
    """A rule file with one recording rule per PromQL expression of the dashboard."""
    exprs: list[str] = []

    def walk(node) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "expr" and isinstance(value, str):
                    exprs.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(dashboard)
    lines = ["groups:", "  - name: dashboard", "    rules:"]
    for n, expr in enumerate(exprs):
        for var, value in GRAFANA_VARIABLES.items():
            expr = expr.replace(var, value)
        lines += [f"      - record: dashboard_expr_{n}", f"        expr: {json.dumps(expr)}"]
    return "\n".join(lines) + "\n"


def main(folder: Path) -> int:
    promtool = shutil.which("promtool")
    if not promtool:
        print("skipped: promtool not found (apt-get install prometheus)")
        return SKIP
    ok = run([promtool, "check", "rules", "sipwall-alerts.yml"], folder)
    ok &= run([promtool, "test", "rules", "sipwall-alerts.test.yml"], folder)
    ok &= run([promtool, "check", "config", "prometheus.yml"], folder)
    missing = untested_alerts((folder / "sipwall-alerts.yml").read_text(),
                              (folder / "sipwall-alerts.test.yml").read_text())
    if missing:
        print(f"alerts without a test that makes them fire: {', '.join(missing)}")
        ok = False
    else:
        print("every alert has a test that makes it fire")
    for dashboard in sorted((folder.parent / "grafana").glob("*.json")):
        with tempfile.TemporaryDirectory(prefix="sipwall-dashboard-") as tmp:
            rules = Path(tmp) / f"{dashboard.stem}.rules.yml"
            rules.write_text(dashboard_rules(json.loads(dashboard.read_text())))
            print(f"{dashboard.name}: its expressions as recording rules:")
            ok &= run([promtool, "check", "rules", str(rules)], folder)
    amtool = shutil.which("amtool")
    if amtool:
        ok &= run([amtool, "check-config", "alertmanager.yml"], folder)
    else:
        print("amtool not found (apt-get install prometheus-alertmanager): alertmanager.yml "
              "not checked")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else
                  Path(__file__).resolve().parents[2] / "deploy" / "prometheus"))
