#!/usr/bin/env python3
"""Soak: the live dataplane under continuous mixed traffic, rule reloads and control commands.

  sudo python3 tests/soak/soak.py --binary build/release/dataplane/app/sipwall-dataplane \
      [--minutes 10] [--workers 4] [--rate 5000] [--reload-every 3]

Not part of tests/run.sh. Runs in network namespaces it creates and removes (the multi-worker
test's set-up: tests/integration/test_multiworker.py): frames of a mix whose verdicts do not
depend on the worker are written onto a veth whose other end is a multi-queue net_af_packet
port. Every --reload-every seconds the rule file is rewritten (alternately the signature set, the
set without it and a broken set) and reloaded by SIGHUP or the control socket; every second a
control client asks for counters and status and adds a short ban. At the end it asserts:

* packet accounting balances exactly: rx_outside = judged = pass + punt + drop,
  tx_sent + tx_failed = pass + punt + rx_inside, and every frame sent was received;
* no counter ever went backwards between two samples;
* RSS is flat after warm-up (the first fifth of the run, at most a minute): the last sample
  exceeds the first one after warm-up by at most 1 MiB;
* every reload was answered (applied or refused as written) and the program exits 0.
Exit status 0 when all hold. Prints the CPU model, the figures and a one-line verdict.
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.dont_write_bytecode = True
sys.path.insert(0, str(HERE.parent / "integration"))
sys.path.insert(0, str(HERE.parent / "tools"))
import test_exception_path as netns  # noqa: E402
import test_multiworker as mw  # noqa: E402
from test_live import control  # noqa: E402

RSS_SLACK_KIB = 1024


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def counters(sock: Path) -> dict[str, int]:
    return netns.parse_counters("sipwall counters\n" + control(sock, "counters"))


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--binary", type=Path, required=True)
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--rate", type=float, default=5000, help="frames per second sent")
    ap.add_argument("--reload-every", type=float, default=3, help="seconds between reloads")
    args = ap.parse_args()
    why = netns.can_run()
    if why:
        print(f"soak: cannot run: {why}", file=sys.stderr)
        return 2
    netns.BINARY = args.binary.resolve()
    seconds = args.minutes * 60
    warmup = min(60.0, seconds / 5)
    tmp = Path(tempfile.mkdtemp(prefix="sipwall-soak-"))
    mw.stateless_mix("mix").write(tmp)
    rules = tmp / "soak.rules"
    rules.write_text(mw.SET_A)
    sock = tmp / "control.sock"
    ns = netns.Namespaces()
    procs: list[netns.Process] = []
    failures: list[str] = []
    try:
        ns.create()
        mw.quiet(ns)
        q = f"qpairs={args.workers}"
        dp = netns.Process(ns.exec(ns.dp, *netns.dataplane_cmd(
            "soak", [f"net_af_packet0,iface=out0,{q}", f"net_af_packet1,iface=in0,{q}",
                     "net_null_punt0,no-rx=1"],
            ["--rules", str(rules), "--no-watch-rules", "--control", str(sock)],
            workers=args.workers)), tmp / "dataplane.log")
        procs.append(dp)
        if not dp.wait_for(r"sipwall counters", netns.START_TIMEOUT_S):
            print(dp.output(), file=sys.stderr)
            return 1
        sender = netns.Process(ns.exec(
            ns.carrier, sys.executable, str(mw.SENDER), "--iface", "c0", "--pcap",
            str(tmp / "mix.pcap"), "--seconds", str(seconds), "--rate", str(args.rate)),
            tmp / "sender.log")
        procs.append(sender)

        start = time.monotonic()
        next_reload = start + args.reload_every
        last: dict[str, int] = {}
        rss: list[tuple[float, int]] = []
        reloads = {"applied": 0, "refused": 0}
        commands = backwards = 0
        step = 0
        while sender.proc.poll() is None and time.monotonic() - start < seconds + 30:
            now = time.monotonic()
            if now >= next_reload:
                kind = ("B", "broken", "A")[step % 3]
                rules.write_text({"A": mw.SET_A, "B": mw.SET_B, "broken": mw.BROKEN}[kind])
                before = dp.output().count("reload (")
                if step % 2:
                    reply = control(sock, "reload")
                    commands += 1
                    if not reply.startswith("refused" if kind == "broken" else "ok"):
                        failures.append(f"reload of set {kind}: {reply}")
                else:
                    dp.proc.send_signal(signal.SIGHUP)
                deadline = time.monotonic() + 20
                while dp.output().count("reload (") == before and time.monotonic() < deadline:
                    time.sleep(0.05)
                if dp.output().count("reload (") == before:
                    failures.append(f"reload {step} not answered")
                reloads["refused" if kind == "broken" else "applied"] += 1
                step += 1
                next_reload += args.reload_every
            c = counters(sock)
            control(sock, "status")
            control(sock, f"ban add 198.51.100.{commands % 250 + 1} ttl=5")
            commands += 3
            for k, v in last.items():
                if c.get(k, v) < v:
                    backwards += 1
                    failures.append(f"counter {k} went back from {v} to {c.get(k)}")
            last = c
            rss.append((time.monotonic() - start, rss_kib(dp.proc.pid)))
            time.sleep(1)
        if sender.proc.poll() is None:
            failures.append("the sender did not finish in time")
        sender.stop()
        sent = int(sender.output().split("sent ")[-1] or 0)
        deadline = time.monotonic() + 60
        while counters(sock).get("judged", 0) < sent and time.monotonic() < deadline:
            time.sleep(0.2)
        rc = dp.stop()
        text = dp.output()
        final = netns.parse_counters(text)
        elapsed = time.monotonic() - start
    finally:
        for p in reversed(procs):
            p.stop(signal.SIGKILL)
        ns.remove()

    if rc != 0:
        failures.append(f"dataplane exit status {rc}")
    lhs = {"judged": final["judged"], "rx_outside": final["rx_outside"], "sent": sent,
           "pass+punt+drop": final["pass"] + final["punt"] + final["drop"]}
    if len(set(lhs.values())) != 1:
        failures.append(f"accounting does not balance: {lhs}")
    tx = final["tx_sent"] + final["tx_failed"]
    through = final["pass"] + final["punt"] + mw.rx_inside(text)
    if tx != through:
        failures.append(f"tx_sent + tx_failed = {tx}, pass + punt + rx_inside = {through}")
    if text.count("): ok") != reloads["applied"] or text.count("): refused") != reloads["refused"]:
        failures.append(f"reload answers differ from {reloads}")
    steady = [kib for t, kib in rss if t >= warmup]
    if len(steady) >= 2 and steady[-1] - steady[0] > RSS_SLACK_KIB:
        failures.append(f"RSS grew after warm-up: {steady[0]} -> {steady[-1]} KiB")

    print(f"cpu: {cpu_model()}")
    print(f"ran {elapsed:.0f} s, {args.workers} workers, {args.rate:.0f} frames/s offered")
    print(f"frames sent {sent}, judged {final['judged']}, pass {final['pass']}, "
          f"punt {final['punt']}, drop {final['drop']}, tx_failed {final['tx_failed']}")
    print(f"reloads applied {reloads['applied']}, refused {reloads['refused']}; "
          f"control commands {commands}; counter samples {len(rss)}, went backwards {backwards}")
    if steady:
        print(f"RSS after warm-up ({warmup:.0f} s): first {steady[0]} KiB, last {steady[-1]} KiB, "
              f"max {max(steady)} KiB")
    print(json.dumps({k: final[k] for k in sorted(final) if k.startswith("drop.")}))
    for f in failures:
        print(f"FAIL: {f}")
    print("soak: PASS" if not failures else "soak: FAIL")
    if not failures:
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        print(f"logs kept in {tmp}")
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
