#!/usr/bin/env python3
"""Multi-worker live test: four workers on one multi-queue port whose queues the kernel fills.

    [carrier ns] c0 ==veth== out0 (net_af_packet, 4 queues)   in0 (4 queues) ==veth== k0 [core ns]
                                  [dataplane ns: sipwall-dataplane, 4 workers on 2 CPUs]

net_af_packet spreads frames over its queues by the kernel's fanout hash (the 4-tuple) and
rolls them over to another queue under load, so which worker judges a frame is not known. The
traffic is built so that no frame's verdict depends on it: every source is allow-listed or
denied (no per-source bucket), the punt budget is lifted, and the decisions are the ACL, the
validator and a signature. Frames are written onto c0 by tests/tools/send_frames.py; c0 and k0
carry no address, so their kernels send nothing of their own. It checks that:

* every frame sent is judged exactly once, by more than one worker, and the totals per
  verdict and drop reason are the offline run's on the same capture times the rounds sent
  (the lifted punt budget refuses nothing, even to a worker that lost its CPU for over 10 ms:
  see no_budget_refusals);
* rule sets reloaded under traffic (SIGHUP and the control socket, four QSBR readers) judge
  each frame wholly under one set or the other; refused sets leave the old one running;
* SIGTERM while the sender still sends: exit 0 and the final counters balance,
  rx_outside = judged = pass + punt + drop and tx_sent + tx_failed = pass + punt + rx_inside.

Needs root and `ip netns`; skipped with a message otherwise.
  python3 tests/integration/test_multiworker.py --binary build/dataplane/app/sipwall-dataplane
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.dont_write_bytecode = True
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tools"))
import make_captures  # noqa: E402
import test_exception_path as netns  # noqa: E402
from test_live import control  # noqa: E402

SENDER = HERE.parent / "tools" / "send_frames.py"
WORKERS = 4
JUDGE_TIMEOUT_S = 60
FRAMES_PER_ROUND = 500

# Allow-listed sources skip the buckets; the budget is lifted so only the set decides.
BASE_RULES = ("allow t:src 10.0.0.0/8\n"
              "deny t:deny 203.0.113.0/24\n"
              "punt-budget messages=100000000 bytes=100000000000 untrusted-share=30\n")
SET_A = BASE_RULES + "signature t:probe action=drop scope=header:X-Probe pattern=/yes/\n"
SET_B = BASE_RULES  # probes are punted like any clean request
BROKEN = "signature t:bad action=drop scope=body pattern=/(/\n"


def stateless_mix(name: str, n: int = FRAMES_PER_ROUND) -> make_captures.Capture:
    """Frames whose verdict under SET_A depends on the frame alone, with distinct 4-tuples so
    the fanout hash spreads them: clean requests (punt), probes (drop signature under A, punt
    under B), malformed SIP (drop), denied sources (drop acl) and non-SIP transit (pass)."""
    mc = make_captures
    cap = mc.Capture(name, "frames whose verdicts do not depend on the worker")
    for i in range(n):
        src = f"10.{1 + i % 3}.{i // 250 % 250}.{i % 250 + 1}"
        sport = 20000 + i
        kind = i % 10
        if kind < 4:
            frame, exp = mc.sip_udp(src, sport, mc.sip_request("OPTIONS", src, sport)), mc.PUNT
        elif kind < 6:
            msg = mc.sip_request("OPTIONS", src, sport, extra=[("X-Probe", "yes")])
            frame, exp = mc.sip_udp(src, sport, msg), mc.drop("signature", "t:probe")
        elif kind == 6:
            frame = mc.udp_frame(src, mc.SERVER_V4, sport, 5060, b"HELLO sipwall\r\n\r\n")
            exp = mc.drop("malformed_sip")
        elif kind == 7:
            bad = f"203.0.113.{i % 250 + 1}"
            frame = mc.sip_udp(bad, sport, mc.sip_request("OPTIONS", bad, sport))
            exp = mc.drop("acl")
        else:
            frame, exp = mc.udp_frame(src, mc.SERVER_V4, sport, 9, b"\0" * 64), mc.PASS
        cap.add(i * 100, frame, exp, f"kind {kind}")
    return cap


def quiet(ns: netns.Namespaces) -> None:
    """No address and no IPv6 on the outer ends: their kernels send nothing the dataplane
    would count besides the test's frames."""
    for space, dev in ((ns.carrier, "c0"), (ns.core, "k0")):
        netns.run("ip", "-n", space, "addr", "flush", "dev", dev)
        netns.run("ip", "netns", "exec", space, "sysctl", "-qw",
                  f"net.ipv6.conf.{dev}.disable_ipv6=1")


def rx_inside(text: str) -> int:
    """The last counter table's frames from the inside port (a name with spaces)."""
    return int(re.findall(r"^\s+rx_inside \(forwarded out\)\s+(\d+)$", text, re.M)[-1])


def balance(test: unittest.TestCase, c: dict[str, int], text: str) -> None:
    """Every frame received was judged once and every frame let through was sent or counted."""
    test.assertEqual(c["judged"], c["rx_outside"], text)
    test.assertEqual(c["pass"] + c["punt"] + c["drop"], c["judged"], text)
    test.assertEqual(c["tx_sent"] + c["tx_failed"], c["pass"] + c["punt"] + rx_inside(text), text)
    test.assertEqual(sum(c.get(f"worker{w}.judged", 0) for w in range(WORKERS)), c["judged"])


class MultiWorker(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        why = netns.can_run()
        if why:
            raise unittest.SkipTest(why)
        cls.tmp = Path(tempfile.mkdtemp(prefix="sipwall-multiworker-"))
        cls.capture = stateless_mix("mix")
        cls.capture.write(cls.tmp)
        cls.rules = cls.tmp / "mix.rules"
        cls.rules.write_text(SET_A)
        out = cls.tmp / "offline"
        subprocess.run([str(netns.BINARY), "--offline", str(cls.tmp / "mix.pcap"), "--out",
                        str(out), "--rules", str(cls.rules)], check=True, timeout=120,
                       capture_output=True)
        cls.offline = json.loads((out / "summary.json").read_text())
        cls.verdicts = [json.loads(v) for v in (out / "verdicts.jsonl").read_text().splitlines()]

    @classmethod
    def tearDownClass(cls) -> None:
        netns.remove_dpdk_runtime(f"sipwall-*-{os.getpid()}")  # netns.dataplane_cmd's prefix
        if os.environ.get("SIPWALL_KEEP_TMP") != "1":
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self) -> None:
        self.ns = netns.Namespaces()
        self.procs: list[netns.Process] = []
        self.addCleanup(self.check_sanitizers)  # last: once every process has stopped
        self.addCleanup(self.ns.remove)  # after the processes (cleanups run in reverse)
        self.addCleanup(self.stop_all)
        self.ns.create()
        quiet(self.ns)
        self.rules = self.tmp / f"{self._testMethodName}.rules"
        self.rules.write_text(SET_A)
        self.sock = self.tmp / f"{self._testMethodName}.sock"

    def check_sanitizers(self) -> None:
        netns.assert_no_sanitizer_reports(self, self.tmp)

    def stop_all(self) -> None:
        while self.procs:
            self.procs.pop().stop(signal.SIGKILL)

    def start(self, name: str, cmd: list[str]) -> netns.Process:
        p = netns.Process(cmd, self.tmp / f"{self._testMethodName}-{name}.log")
        self.procs.append(p)
        return p

    def start_dataplane(self) -> netns.Process:
        q = f"qpairs={WORKERS}"
        dp = self.start("dataplane", self.ns.exec(self.ns.dp, *netns.dataplane_cmd(
            "multiworker", [f"net_af_packet0,iface=out0,{q}", f"net_af_packet1,iface=in0,{q}",
                            "net_null_punt0,no-rx=1"],
            ["--rules", str(self.rules), "--no-watch-rules", "--control", str(self.sock)],
            workers=WORKERS)))
        self.assertTrue(dp.wait_for(r"sipwall counters", netns.START_TIMEOUT_S), dp.output())
        self.assertIn(f"workers={WORKERS}", dp.output())
        return dp

    def send(self, *args: str) -> netns.Process:
        return self.start("sender", self.ns.exec(
            self.ns.carrier, sys.executable, str(SENDER), "--iface", "c0",
            "--pcap", str(self.tmp / "mix.pcap"), *args))

    def sent(self, sender: netns.Process) -> int:
        self.assertEqual(sender.proc.wait(timeout=JUDGE_TIMEOUT_S), 0, sender.output())
        sender.stop()
        return int(sender.output().split("sent ")[-1])

    def judged(self, dp: netns.Process, want: int) -> dict[str, int]:
        """The periodic counters once `want` frames are judged (fails on a timeout)."""
        deadline = time.monotonic() + JUDGE_TIMEOUT_S
        while True:
            c = netns.parse_counters(dp.output())
            if c.get("judged", 0) >= want or time.monotonic() > deadline:
                self.assertEqual(c.get("judged", 0), want, dp.output())
                return c
            time.sleep(0.2)

    def expected(self, frames: int, kind: str) -> int:
        """How many of the first `frames` frames sent (whole rounds, then a part) offline
        judged as `kind` ('pass', 'drop/acl', ...)."""
        per = [v["verdict"] + (f"/{v['reason']}" if v["verdict"] == "drop" else "")
               for v in self.verdicts]
        rounds, rest = divmod(frames, len(per))
        return rounds * per.count(kind) + per[:rest].count(kind)

    def no_budget_refusals(self, c: dict[str, int], want: dict[tuple[str, ...], int]) -> None:
        """SIP frames reach the shared punt budget, lifted far above the traffic; `want` gives
        how many each group of verdict counters should hold. The budget refuses none of them,
        not even for a worker that lost its CPU for longer than the meters' 10 ms tolerance
        between reading its clock and judging (four workers on two busy CPUs): the budget's
        time is the latest any worker published, and a refusal is checked again at it."""
        self.assertEqual(c.get("drop.punt_budget", 0), 0, "the lifted budget refused traffic")
        got = {keys: sum(c[k] for k in keys) for keys in want}
        self.assertEqual(got, want)

    def test_verdicts_are_the_offline_ones_however_the_queues_are_filled(self) -> None:
        dp = self.start_dataplane()
        rounds = 8
        n = self.sent(self.send("--rounds", str(rounds), "--rate", "3000"))
        self.assertEqual(n, rounds * len(self.verdicts))
        c = self.judged(dp, n)
        self.assertEqual(dp.stop(), 0, dp.output())
        final = netns.parse_counters(dp.output())
        self.assertEqual(final["judged"], n, dp.output())
        balance(self, final, dp.output())
        self.assertEqual(set(self.offline["drop_reasons"]),
                         {"signature", "malformed_sip", "acl"}, self.offline)
        self.assertEqual(final["pass"], rounds * self.offline["pass"])
        self.assertEqual(final["drop.acl"], rounds * self.offline["drop_reasons"]["acl"])
        reasons = self.offline["drop_reasons"]
        self.no_budget_refusals(final, {
            ("punt",): rounds * self.offline["punt"],
            ("drop.signature",): rounds * reasons["signature"],
            ("drop.malformed_sip",): rounds * reasons["malformed_sip"]})
        busy = [w for w in range(WORKERS) if final[f"worker{w}.judged"] > 0]
        self.assertGreater(len(busy), 1, f"the fanout used one queue only:\n{dp.output()}")
        self.assertLessEqual(c["judged"], final["judged"])

    def test_reloads_under_traffic_judge_each_frame_under_one_set(self) -> None:
        dp = self.start_dataplane()
        sender = self.send("--seconds", "8", "--rate", "3000")
        applied = refused = 0
        for i in range(9):
            kind = ("B", "broken", "A")[i % 3]
            self.rules.write_text({"A": SET_A, "B": SET_B, "broken": BROKEN}[kind])
            before = dp.output().count("reload (")
            if i % 2:
                reply = control(self.sock, "reload")
                self.assertTrue(reply.startswith("refused" if kind == "broken" else "ok"), reply)
            else:
                dp.proc.send_signal(signal.SIGHUP)
            deadline = time.monotonic() + 20
            while dp.output().count("reload (") == before:
                self.assertLess(time.monotonic(), deadline, dp.output())
                time.sleep(0.05)
            applied += kind != "broken"
            refused += kind == "broken"
            time.sleep(0.5)
        n = self.sent(sender)
        self.judged(dp, n)
        self.assertEqual(dp.stop(), 0, dp.output())
        text = dp.output()
        c = netns.parse_counters(text)
        self.assertEqual(text.count("): ok"), applied, text)
        self.assertEqual(text.count("): refused"), refused, text)
        balance(self, c, text)
        self.assertEqual(c["judged"], n)
        # Unchanged by either set: exact. Probes: dropped by A's signature or punted by B.
        for kind in ("pass", "drop/acl"):
            self.assertEqual(c[kind.replace("/", ".")], self.expected(n, kind), kind)
        self.no_budget_refusals(c, {
            ("punt", "drop.signature"):
                self.expected(n, "punt") + self.expected(n, "drop/signature"),
            ("drop.malformed_sip",): self.expected(n, "drop/malformed_sip")})
        self.assertEqual(c["signature.t:probe"], c["drop.signature"])
        self.assertGreater(c["drop.signature"], 0)
        self.assertGreater(c["punt"], self.expected(n, "punt"), "B never judged a probe")

    def test_sigterm_with_traffic_in_flight_exits_clean_and_balanced(self) -> None:
        dp = self.start_dataplane()
        sender = self.send("--seconds", "30")
        deadline = time.monotonic() + JUDGE_TIMEOUT_S
        while netns.parse_counters(dp.output()).get("judged", 0) < 2000:
            self.assertLess(time.monotonic(), deadline, dp.output())
            time.sleep(0.1)
        self.assertIsNone(sender.proc.poll(), "the sender must still be sending")
        self.assertEqual(dp.stop(), 0, dp.output())
        self.assertEqual(sender.stop(), 0, sender.output())
        n = int(sender.output().split("sent ")[-1])
        c = netns.parse_counters(dp.output())
        balance(self, c, dp.output())
        self.assertGreaterEqual(c["judged"], 2000)
        self.assertLessEqual(c["rx_outside"], n)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--binary", type=Path, required=True)
    args, rest = ap.parse_known_args()
    netns.BINARY = args.binary.resolve()
    netns.clean_up_on_sigterm(list(netns.Namespaces.NAMES), f"sipwall-*-{os.getpid()}")
    unittest.main(argv=[sys.argv[0], *rest], verbosity=2)


if __name__ == "__main__":
    main()
