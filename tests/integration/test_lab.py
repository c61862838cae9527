#!/usr/bin/env python3
"""The lab as a test: deploy/lab/lab.py --check, short, without the bridge comparison.

* A run of ~36 s of calls passes its own check (calls answered during the attacks at least
  99% of those before, as ratios of the calls ended; every attack counted under its drop
  reason) and leaves nothing behind: no namespace, no process, no DPDK runtime folder, no lock.
* A second lab started while one runs is refused politely (exit 2) and changes nothing; a
  lab interrupted (SIGINT to its process group, as Ctrl-C) while it runs exits and leaves
  nothing behind either, nor does one sent SIGTERM alone during an attack.
* Not root: refused politely (exit 2).

Needs root, `ip netns`, kamailio and sipp; skipped with a message otherwise.
  python3 tests/integration/test_lab.py --binary build/dataplane/app/sipwall-dataplane
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
LAB = ROOT / "deploy" / "lab" / "lab.py"
sys.dont_write_bytecode = True
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "tests" / "support"))
from netlab import can_run, run  # noqa: E402
from test_live import sanitizer_reports  # noqa: E402

BINARY: Path | None = None
SANITIZER = "none"
LOCK = Path("/run/sipwall-lab.lock")


class Lab(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        why = can_run() or next((f"needs {t} (deploy/install-deps.sh)"
                                 for t in ("kamailio", "sipp", "tcpdump")
                                 if shutil.which(t) is None), "")
        if why:
            raise unittest.SkipTest(why)
        cls.tmp = Path(tempfile.mkdtemp(prefix="sipwall-labtest-"))

    @classmethod
    def tearDownClass(cls) -> None:
        if os.environ.get("SIPWALL_KEEP_TMP") != "1":
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def lab_cmd(self, name: str, *extra: str) -> list[str]:
        self.prefix = f"swlt{os.getpid() % 100000}"
        self.work = self.tmp / name
        # Sanitizer builds are several times slower: lighter floods, the same checks.
        scale = "1" if SANITIZER == "none" else "0.2"
        return [sys.executable, str(LAB), "--binary", str(BINARY), "--prefix", self.prefix,
                "--workdir", str(self.work), "--no-compare", "--attack-scale", scale, *extra]

    def assert_nothing_left(self) -> None:
        names = run("ip", "netns", "list").stdout.split()
        self.assertEqual([n for n in names if n.startswith(self.prefix)], [])
        leftover = []
        for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
            try:
                if str(self.work).encode() in cmdline.read_bytes():
                    leftover.append(cmdline.parent.name)
            except OSError:
                pass
        self.assertEqual(leftover, [], "processes of the lab still running")
        self.assertEqual(list(Path("/var/run/dpdk").glob(f"{self.prefix}-*")), [])
        self.assertFalse(LOCK.exists(), "the lab's lock file was left")
        log = self.work / "sipwall" / "dataplane.log"
        if log.exists():
            self.assertEqual(sanitizer_reports(log.read_text(errors="replace")), [])

    def test_short_run_keeps_its_promises_and_leaves_nothing(self) -> None:
        r = subprocess.run(self.lab_cmd("run", "--check", "--duration", "36"),
                           capture_output=True, text=True, timeout=240)
        out = r.stdout + r.stderr
        self.assertEqual(r.returncode, 0, out)
        self.assertIn("lab check: ok", out)
        # The live status lines and the summary a user sees.
        self.assertRegex(out, r"\n\s+\d+s distributed\s+in\s+[\d,]+/s pass .*pass_budget")
        self.assertIn("calls answered before the attack", out)
        self.assertRegex(out, r"scan\s+[\d,]+\s+signature [\d,]+")
        self.assertNotIn("FAIL", out)
        self.assert_nothing_left()

    def test_a_second_lab_is_refused_and_ctrl_c_cleans_up(self) -> None:
        # Its own process group, so that SIGINT reaches it and everything it started, as
        # Ctrl-C in a terminal does.
        first = subprocess.Popen(self.lab_cmd("interrupted", "--duration", "60"),
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                 start_new_session=True)
        try:
            assert first.stdout is not None
            seen = []
            deadline = time.monotonic() + 90
            for line in first.stdout:  # up to the calls' third second
                seen.append(line)
                if line.lstrip().startswith("3s before") or time.monotonic() > deadline:
                    break
            self.assertTrue(seen and seen[-1].lstrip().startswith("3s before"), "".join(seen))
            second = subprocess.run(self.lab_cmd("second", "--duration", "36"),
                                    capture_output=True, text=True, timeout=60)
            self.assertEqual(second.returncode, 2, second.stdout + second.stderr)
            self.assertIn("a lab is already running", second.stderr)
            self.assertFalse((self.tmp / "second").exists(), "the refused lab made its workdir")
            os.killpg(first.pid, signal.SIGINT)
            rest, _ = first.communicate(timeout=90)
        finally:
            if first.poll() is None:
                first.kill()
                first.wait()
        self.assertEqual(first.returncode, 1, "".join(seen) + rest)
        self.assertIn("interrupted, removing everything it made", rest)
        self.assertNotIn("left behind", rest)
        self.work = self.tmp / "interrupted"
        self.assert_nothing_left()

    def test_sigterm_to_the_lab_alone_cleans_up(self) -> None:
        """SIGTERM to the lab's PID only (as `kill` or a service manager sends it): the lab
        itself must stop what it started."""
        lab = subprocess.Popen(self.lab_cmd("terminated", "--duration", "60"),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)
        try:
            assert lab.stdout is not None
            seen = []
            for line in lab.stdout:  # up to the first attack
                seen.append(line)
                if line.lstrip().startswith("16s flood"):
                    break
            self.assertTrue(seen and seen[-1].lstrip().startswith("16s flood"), "".join(seen))
            lab.send_signal(signal.SIGTERM)
            rest, _ = lab.communicate(timeout=90)
        finally:
            if lab.poll() is None:
                lab.kill()
                lab.wait()
        self.assertEqual(lab.returncode, 1, "".join(seen) + rest)
        self.assertIn("interrupted, removing everything it made", rest)
        self.assertNotIn("left behind", rest)
        self.assert_nothing_left()

    def test_not_root_is_refused(self) -> None:
        def drop_root() -> None:
            os.setgid(65534)
            os.setuid(65534)

        # The system's interpreter: the one running this test may live in root's home.
        python = shutil.which("python3", path="/usr/bin:/bin")
        if python is None:
            self.skipTest("no /usr/bin/python3 for an unprivileged user")
        r = subprocess.run([python, str(LAB), "--binary", str(BINARY)],
                           capture_output=True, text=True, timeout=30, preexec_fn=drop_root)
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn("the lab needs root", r.stderr)


def main() -> None:
    global BINARY, SANITIZER
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--binary", type=Path, required=True)
    ap.add_argument("--sanitizer", default="none")
    args, rest = ap.parse_known_args()
    BINARY = args.binary.resolve()
    SANITIZER = args.sanitizer
    unittest.main(argv=[sys.argv[0], *rest], verbosity=2)


if __name__ == "__main__":
    main()
