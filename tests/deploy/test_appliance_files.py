#!/usr/bin/env python3
"""The files an operator installs on a bare-metal appliance (deploy/):

* the systemd units pass `systemd-analyze verify` without a word of complaint (their
  /usr/local paths replaced by where the build put the programs); skipped with a message
  when systemd-analyze is missing;
* deploy/setup-host.sh: a dry run changes nothing and prints each step; bad settings are
  refused; a NIC whose interface is up with addresses is refused without --force (against a
  made-up /sys, so the test needs no NIC and touches nothing);
* the examples agree with each other and with the programs: site.rules passes
  `sipwall-rules check`, the unit's CPUAffinity holds every lcore of dataplane.env, and
  host.conf isolates exactly the worker lcores.

Standard library only. Stand-alone:
  python3 tests/deploy/test_appliance_files.py --dataplane build/dataplane/app/sipwall-dataplane \\
      --rules-tool build/rules/sipwall-rules
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.dont_write_bytecode = True
sys.path.insert(0, str(ROOT / "tests" / "integration"))
sys.path.insert(0, str(ROOT / "tests" / "tools"))
from test_live import sanitizer_reports  # noqa: E402
DEPLOY = ROOT / "deploy"
SETUP = DEPLOY / "setup-host.sh"
DATAPLANE: Path
RULES_TOOL: Path


def cpu_list(text: str) -> set[int]:
    """'1-3,5' -> {1, 2, 3, 5}"""
    cpus: set[int] = set()
    for part in text.split(","):
        first, _, last = part.partition("-")
        cpus.update(range(int(first), int(last or first) + 1))
    return cpus


def env_file(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            out[key.strip()] = value.strip().strip('"')
    return out


class SystemdUnits(unittest.TestCase):
    def test_the_units_verify_cleanly(self) -> None:
        analyze = shutil.which("systemd-analyze")
        if not analyze:
            self.skipTest("systemd-analyze not found (Debian package systemd): units not verified")
        units = sorted((DEPLOY / "systemd").glob("*.service"))
        self.assertGreaterEqual(len(units), 2)
        paths = {"/usr/local/bin/sipwall-dataplane": str(DATAPLANE),
                 "/usr/local/bin/sipwall-rules": str(RULES_TOOL),
                 "/usr/local/sbin/sipwall-setup-host": str(SETUP)}
        with tempfile.TemporaryDirectory(prefix="sipwall-units-") as tmp:
            for unit in units:
                text = unit.read_text()
                for installed, built in paths.items():
                    text = text.replace(installed, built)
                self.assertNotIn("/usr/local/bin/", text, f"{unit.name}: a program not built here")
                (Path(tmp) / unit.name).write_text(text)
            proc = subprocess.run([analyze, "verify", *[f"./{u.name}" for u in units]], cwd=tmp,
                                  capture_output=True, text=True, timeout=60)
        # verify exits 0 on unknown keys and other warnings: any word about our units fails.
        complaints = [line for line in (proc.stdout + proc.stderr).splitlines()
                      if any(u.name in line for u in units)]
        self.assertEqual((proc.returncode, complaints), (0, []), proc.stdout + proc.stderr)

    def test_the_dataplane_unit_restarts_and_watches(self) -> None:
        unit = (DEPLOY / "systemd" / "sipwall-dataplane.service").read_text()
        for line in ("Type=notify", "Restart=always", "Requires=sipwall-host-setup.service",
                     "ExecReload=/bin/kill -HUP $MAINPID"):
            self.assertIn(line, unit.splitlines())
        after = re.search(r"^After=(.*)$", unit, re.M).group(1).split()
        self.assertIn("sipwall-host-setup.service", after)
        watchdog = re.search(r"^WatchdogSec=(\d+)s$", unit, re.M)
        self.assertIsNotNone(watchdog)
        restart = re.search(r"^RestartSec=(\d+)s$", unit, re.M)
        self.assertLessEqual(int(restart.group(1)), 5, "restarted within seconds")


class SetupHost(unittest.TestCase):
    def setUp(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="sipwall-setup-host-"))
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        sysfs = self.tmp / "sys"
        pages = sysfs / "kernel/mm/hugepages/hugepages-2048kB"
        pages.mkdir(parents=True)
        (pages / "nr_hugepages").write_text("64\n")
        (sysfs / "kernel/iommu_groups/7").mkdir(parents=True)
        drivers = sysfs / "bus/pci/drivers"
        (drivers / "vfio-pci").mkdir(parents=True)
        (drivers / "ixgbe").mkdir(parents=True)
        devices = sysfs / "bus/pci/devices"
        # 3b:00.0: a NIC on its kernel driver, interface down; 3b:00.1 already on vfio-pci;
        # 00:1f.6 on its kernel driver as "lo": up, with addresses (as a management link is).
        for nic, driver, iface, state in (("0000:3b:00.0", "ixgbe", "enp59s0f0", "down"),
                                          ("0000:3b:00.1", "vfio-pci", None, None),
                                          ("0000:00:1f.6", "ixgbe", "lo", "up")):
            dev = devices / nic
            dev.mkdir(parents=True)
            (dev / "driver").symlink_to(drivers / driver)
            if iface:
                (dev / "net" / iface).mkdir(parents=True)
                (dev / "net" / iface / "operstate").write_text(state + "\n")
        self.cmdline = self.tmp / "cmdline"
        self.cmdline.write_text("BOOT_IMAGE=/vmlinuz root=/dev/sda1 quiet\n")
        self.env = dict(os.environ, SIPWALL_SYSFS=str(sysfs), SIPWALL_CMDLINE=str(self.cmdline))
        for key in ("HUGEPAGES_2M", "HUGE_MOUNT", "NICS", "DRIVER", "ISOLATED_CPUS"):
            self.env.pop(key, None)
        self.sysfs = sysfs

    def run_setup(self, *args: str, **settings: str) -> subprocess.CompletedProcess:
        env = dict(self.env, **settings)
        if not shutil.which("dpdk-devbind.py"):
            self.skipTest("dpdk-devbind.py not found (Debian package dpdk)")
        return subprocess.run(["bash", str(SETUP), "--config", str(self.tmp / "none.conf"),
                               *args], env=env, capture_output=True, text=True, timeout=60)

    def test_a_dry_run_prints_every_step_and_changes_nothing(self) -> None:
        proc = self.run_setup(HUGEPAGES_2M="512", NICS="0000:3b:00.0 0000:3b:00.1",
                              ISOLATED_CPUS="2-5", HUGE_MOUNT=str(self.tmp / "huge"))
        self.assertEqual(proc.returncode, 0, proc.stderr)
        out = proc.stdout
        pages = self.sysfs / "kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"
        self.assertIn(f"would run: sh -c echo 512 > {pages}", out)
        self.assertIn(f"would run: mount -t hugetlbfs -o pagesize=2M nodev {self.tmp / 'huge'}",
                      out)
        self.assertIn("would run: ip link set dev enp59s0f0 down", out)
        self.assertIn("would run: dpdk-devbind.py --bind=vfio-pci 0000:3b:00.0", out)
        self.assertIn("0000:3b:00.1: already bound to vfio-pci", out)
        self.assertNotIn("--bind=vfio-pci 0000:3b:00.1", out)
        self.assertIn("not on the kernel command line: isolcpus=2-5 nohz_full=2-5 rcu_nocbs=2-5",
                      out)
        self.assertIn("(dry run: nothing changed", out)
        self.assertEqual(pages.read_text(), "64\n")
        self.assertFalse((self.tmp / "huge").exists())

    def test_what_is_done_already_is_not_done_again(self) -> None:
        self.cmdline.write_text("quiet isolcpus=2-5 nohz_full=2-5 rcu_nocbs=2-5\n")
        proc = self.run_setup(HUGEPAGES_2M="32", ISOLATED_CPUS="2-5")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertNotIn("nr_hugepages", proc.stdout)  # 64 reserved already
        self.assertIn("kernel command line isolates 2-5", proc.stdout)

    def test_the_management_link_is_not_taken_without_force(self) -> None:
        proc = self.run_setup(NICS="0000:00:1f.6")
        self.assertEqual(proc.returncode, 2)
        self.assertIn("0000:00:1f.6 is lo, up with addresses", proc.stderr)
        proc = self.run_setup("--force", NICS="0000:00:1f.6")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("would run: dpdk-devbind.py --bind=vfio-pci 0000:00:1f.6", proc.stdout)

    def test_bad_settings_are_refused_with_the_reason(self) -> None:
        for settings, message in (({"NICS": "3b:00.0"}, "'3b:00.0' is not a PCI address"),
                                  ({"NICS": "0000:99:00.0"}, "0000:99:00.0: no such PCI device"),
                                  ({"HUGEPAGES_2M": "lots"}, "HUGEPAGES_2M must be a number"),
                                  ({"DRIVER": "ixgbe"}, "DRIVER 'ixgbe'"),
                                  ({"ISOLATED_CPUS": "2-5;reboot"}, "ISOLATED_CPUS '2-5;reboot'")):
            proc = self.run_setup(**settings)
            self.assertEqual(proc.returncode, 2, settings)
            self.assertIn(message, proc.stderr)
        proc = self.run_setup("--frobnicate")
        self.assertEqual(proc.returncode, 2)
        self.assertIn("unknown argument '--frobnicate'", proc.stderr)
        if os.geteuid() != 0:
            proc = self.run_setup("--apply")
            self.assertEqual(proc.returncode, 2)


class Examples(unittest.TestCase):
    def test_the_site_rules_compile(self) -> None:
        text = (DEPLOY / "examples" / "site.rules").read_text()
        self.assertIn('include "/usr/local/share/sipwall/default.rules"', text)
        with tempfile.TemporaryDirectory(prefix="sipwall-site-") as tmp:
            rules = Path(tmp) / "site.rules"
            rules.write_text(text.replace("/usr/local/share/sipwall/default.rules",
                                          str(ROOT / "rules" / "default.rules")))
            proc = subprocess.run([str(RULES_TOOL), "check", str(rules)], capture_output=True,
                                  text=True, timeout=120)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertIn("2 acl entries", proc.stdout)

    def test_cores_agree_between_the_env_the_unit_and_the_host(self) -> None:
        env = env_file(DEPLOY / "examples" / "dataplane.env")
        eal = env["SIPWALL_EAL"].split()
        lcores = cpu_list(eal[eal.index("-l") + 1])
        main = int(eal[eal.index("--main-lcore") + 1])
        unit = (DEPLOY / "systemd" / "sipwall-dataplane.service").read_text()
        affinity = cpu_list(re.search(r"^CPUAffinity=(\S+)$", unit, re.M).group(1))
        self.assertEqual(affinity, lcores, "the unit's CPUAffinity= and the EAL lcores")
        host = env_file(DEPLOY / "examples" / "host.conf")
        self.assertEqual(cpu_list(host["ISOLATED_CPUS"]), lcores - {main},
                         "host.conf isolates the worker lcores")
        nics = host["NICS"].split()
        self.assertEqual([eal[i + 1] for i, a in enumerate(eal) if a == "-a"], nics,
                         "dataplane.env uses the NICs host.conf binds, carrier first")
        self.assertIn("SIPWALL_RULES", env)
        self.assertIn("--metrics 127.0.0.1:9464", env["SIPWALL_OPTIONS"])

    def test_the_unit_starts_the_dataplane_with_the_example_settings(self) -> None:
        """The unit's ExecStart with dataplane.env's options, as systemd expands them: only
        the EAL part (real NICs, a tap) is replaced by virtual ports, and the paths by
        temporary ones. The program accepts every option, serves, and stops cleanly."""
        unit = (DEPLOY / "systemd" / "sipwall-dataplane.service").read_text()
        exec_start = re.search(r"^ExecStart=((?:.*\\\n)*.*)$", unit, re.M).group(1)
        words = shlex.split(exec_start.replace("\\\n", " "))
        env = env_file(DEPLOY / "examples" / "dataplane.env")
        self.assertEqual(words[1:3], ["$SIPWALL_EAL", "--"])
        with tempfile.TemporaryDirectory(prefix="sipwall-unit-start-") as tmp:
            rules = Path(tmp) / "site.rules"
            rules.write_text((DEPLOY / "examples" / "site.rules").read_text().replace(
                "/usr/local/share/sipwall/default.rules", str(ROOT / "rules" / "default.rules")))
            options = []
            for word in words[3:]:
                if word == "$SIPWALL_OPTIONS":
                    options += env["SIPWALL_OPTIONS"].split()
                else:
                    options.append(word.replace("${SIPWALL_RULES}", env["SIPWALL_RULES"]))
            options = [tmp + w[len("/run/sipwall"):] if w.startswith("/run/sipwall/") else
                       tmp + w[len("/var/lib/sipwall"):] if w.startswith("/var/lib/sipwall/") else
                       str(rules) if w == env["SIPWALL_RULES"] else
                       "127.0.0.1:0" if w == "127.0.0.1:9464" else
                       "root" if w == "sipwall" else w for w in options]
            eal = [str(DATAPLANE), "-l", "0-1", "--no-huge", "-m", "512", "--no-pci",
                   "--no-shconf", "--no-telemetry", "--log-level=error",
                   "--file-prefix", f"sipwall-unit-{os.getpid()}",
                   "--vdev", "net_null_out0,no-rx=1", "--vdev", "net_null_in0,no-rx=1",
                   "--vdev", "net_null_punt0,no-rx=1"]
            log = Path(tmp) / "stdout.txt"
            with open(log, "w") as out:
                proc = subprocess.Popen([*eal, "--", *options], stdout=out,
                                        stderr=subprocess.STDOUT)
            try:
                deadline = time.monotonic() + 60
                while "metrics on" not in log.read_text():
                    self.assertIsNone(proc.poll(), log.read_text())
                    self.assertLess(time.monotonic(), deadline, log.read_text())
                    time.sleep(0.05)
                self.assertTrue((Path(tmp) / "control.sock").exists())
                proc.send_signal(signal.SIGTERM)
                self.assertEqual(proc.wait(timeout=30), 0, log.read_text())
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
            self.assertTrue((Path(tmp) / "dynamic.state").exists(), log.read_text())
            self.assertEqual(sanitizer_reports(log.read_text()), [], log.read_text())


def main() -> None:
    global DATAPLANE, RULES_TOOL
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataplane", type=Path, required=True)
    parser.add_argument("--rules-tool", type=Path, required=True)
    args, rest = parser.parse_known_args()
    DATAPLANE, RULES_TOOL = args.dataplane.resolve(), args.rules_tool.resolve()
    unittest.main(argv=[sys.argv[0], *rest], verbosity=2)


if __name__ == "__main__":
    main()
