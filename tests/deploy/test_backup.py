#!/usr/bin/env python3
"""deploy/sipwall-backup.sh: export and import of an appliance's configuration and state.

* A round trip through a real dataplane: bans added over the control socket of one
  (virtual) dataplane are in its state file at exit; exported with the rule files and the
  credentials, imported into another folder, they come back when a dataplane starts on the
  imported state file. The imported files are byte for byte the exported ones; the files
  replaced are kept in an archive.
* Import refuses, changing nothing: an edited archive (checksum), entries outside the
  archive's folder, links, a rule file that does not compile, a credentials file that does
  not parse; and the state file while a dataplane answers on the control socket (--force:
  all but the state).

Standard library only. Stand-alone:
  python3 tests/deploy/test_backup.py --dataplane build/dataplane/app/sipwall-dataplane \\
      --rules-tool build/rules/sipwall-rules --passwd build/control/sipwall-passwd \\
      --ctl build/control/sipwallctl
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import signal
import stat
import subprocess
import sys
import tarfile
import tempfile
import time
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.dont_write_bytecode = True
sys.path.insert(0, str(HERE.parent / "integration"))
import test_live  # noqa: E402

BACKUP = ROOT / "deploy" / "sipwall-backup.sh"
TOOLS: dict[str, Path] = {}


def files_of(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


class Backup(unittest.TestCase):
    def setUp(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="sipwall-backup-"))
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        # Appliance A: a rule file with an include, a credentials file, a state file.
        self.a = self.tmp / "a"
        etc = self.a / "etc"
        (etc / "inc").mkdir(parents=True)
        (etc / "site.rules").write_text(
            f'include "{ROOT / "rules" / "default.rules"}"\n'
            'include "inc/site-acl.rules"\n'
            "service site:svc.sip-v4 198.51.100.10\n")
        (etc / "inc" / "site-acl.rules").write_text("deny site:acl.x 198.51.100.77/32\n")
        (etc / "dataplane.env").write_text(f"SIPWALL_RULES={etc / 'site.rules'}\n")
        subprocess.run([str(TOOLS["passwd"]), "-c", str(etc / "credentials"),
                        "alice@example.net"], input="Correct-Horse-42\nCorrect-Horse-42\n",
                       text=True, check=True, capture_output=True, timeout=30)
        (self.a / "state").mkdir()
        self.b = self.tmp / "b"

    def env(self, side: Path) -> dict[str, str]:
        return dict(os.environ, SIPWALL_ETC=str(side / "etc"),
                    SIPWALL_STATE=str(side / "state" / "dynamic.state"),
                    SIPWALL_CONTROL=str(side / "control.sock"),
                    SIPWALL_RULES_TOOL=str(TOOLS["rules"]),
                    SIPWALL_PASSWD_TOOL=str(TOOLS["passwd"]), SIPWALLCTL=str(TOOLS["ctl"]))

    def backup(self, side: Path, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["bash", str(BACKUP), *args], env=self.env(side),
                              capture_output=True, text=True, timeout=120)

    def dataplane(self, side: Path, name: str) -> tuple[subprocess.Popen, Path]:
        """A virtual dataplane on `side`'s rules, state file and control socket."""
        test_live.BINARY = TOOLS["dataplane"]
        sock = side / "control.sock"
        log = side / f"{name}.txt"
        cmd = [*test_live.eal_args(f"backup-{name}"),
               "--vdev", "net_null_out0,no-rx=1", "--vdev", "net_null_in0,no-rx=1",
               "--", "--rules", str(side / "etc" / "site.rules"), "--metrics", "off",
               "--no-watch-rules", "--control", str(sock),
               "--state-file", str(side / "state" / "dynamic.state")]
        with open(log, "w") as out:
            proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
        self.addCleanup(lambda: (proc.poll() is None) and (proc.kill(), proc.wait()))
        self.addCleanup(lambda: self.assertEqual(
            test_live.sanitizer_reports(log.read_text()), [], f"sanitizer report in {log}"))
        deadline = time.monotonic() + 60
        while not (sock.exists() and "outside=" in log.read_text()):
            self.assertIsNone(proc.poll(), log.read_text())
            self.assertLess(time.monotonic(), deadline, log.read_text())
            time.sleep(0.05)
        return proc, log

    def export_with_bans(self) -> Path:
        proc, log = self.dataplane(self.a, "a")
        sock = self.a / "control.sock"
        self.assertEqual(test_live.control(sock, "ban add 192.0.2.66 ttl=3600 id=kept"), "ok")
        self.assertEqual(test_live.control(sock, "trust add 203.0.113.0/28 ttl=3600"), "ok")
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(proc.wait(timeout=30), 0, log.read_text())
        self.assertIn("ban add 192.0.2.66/32", (self.a / "state" / "dynamic.state").read_text())
        archive = self.tmp / "a.tar.gz"
        r = self.backup(self.a, "export", str(archive))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(stat.S_IMODE(archive.stat().st_mode), 0o600)
        return archive

    def test_a_round_trip_brings_back_files_and_bans(self) -> None:
        archive = self.export_with_bans()
        listed = self.backup(self.a, "list", str(archive))
        self.assertEqual(listed.returncode, 0, listed.stderr)
        for name in ("etc/site.rules", "etc/inc/site-acl.rules", "etc/credentials",
                     "state/dynamic.state"):
            self.assertIn(name, listed.stdout.splitlines())
        # B has an older rule file of its own: it is kept in an archive, then replaced.
        (self.b / "etc").mkdir(parents=True)
        (self.b / "etc" / "site.rules").write_text("deny site:old 192.0.2.0/24\n")
        (self.b / "etc" / "local-only.txt").write_text("B's own\n")
        r = self.backup(self.b, "import", str(archive))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("rules: site.rules compiles", r.stdout)
        self.assertIn("credentials: parse", r.stdout)
        self.assertIn("left in place (not in the archive): ./local-only.txt", r.stdout)
        got = files_of(self.b / "etc")
        self.assertEqual(got.pop("local-only.txt"), b"B's own\n")
        self.assertEqual(got, files_of(self.a / "etc"))
        self.assertEqual((self.b / "state" / "dynamic.state").read_bytes(),
                         (self.a / "state" / "dynamic.state").read_bytes())
        kept = list(self.b.glob("etc.before-import-*.tar.gz"))
        self.assertEqual(len(kept), 1)
        with tarfile.open(kept[0]) as tar:
            old = tar.extractfile("sipwall-backup/etc/site.rules").read()
        self.assertEqual(old, b"deny site:old 192.0.2.0/24\n")
        # The dataplane on B starts with A's bans and trust entries.
        proc, log = self.dataplane(self.b, "b")
        self.assertIn("2 entries restored", log.read_text())
        self.assertIn("id=kept", test_live.control(self.b / "control.sock", "ban list"))
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(proc.wait(timeout=30), 0, log.read_text())

    def test_the_state_is_not_restored_under_a_running_dataplane(self) -> None:
        archive = self.export_with_bans()
        shutil.copytree(self.a / "etc", self.b / "etc")
        (self.b / "state").mkdir()
        proc, log = self.dataplane(self.b, "b-running")
        r = self.backup(self.b, "import", str(archive))
        self.assertEqual(r.returncode, 1)
        self.assertIn("sipwall-dataplane is running", r.stderr)
        r = self.backup(self.b, "import", str(archive), "--force")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("state file not restored", r.stdout)
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(proc.wait(timeout=30), 0, log.read_text())
        self.assertNotIn("192.0.2.66", (self.b / "state" / "dynamic.state").read_text())

    def repack(self, archive: Path, change) -> Path:
        """A copy of `archive` with change(members: dict name -> (TarInfo, bytes)) applied."""
        members = {}
        with tarfile.open(archive) as tar:
            for info in tar.getmembers():
                data = tar.extractfile(info).read() if info.isfile() else b""
                members[info.name] = (info, data)
        change(members)
        out = self.tmp / f"bad-{len(list(self.tmp.glob('bad-*')))}.tar.gz"
        with tarfile.open(out, "w:gz") as tar:
            for info, data in members.values():
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data) if info.isfile() else None)
        return out

    def test_a_bad_archive_changes_nothing(self) -> None:
        r = self.backup(self.a, "export", str(self.tmp / "a.tar.gz"))
        self.assertEqual(r.returncode, 0, r.stderr)
        archive = self.tmp / "a.tar.gz"

        def edit(members):  # an edit after export, the manifest left as it was
            info, data = members["sipwall-backup/etc/inc/site-acl.rules"]
            members[info.name] = (info, data.replace(b".77/", b".78/"))

        def climb(members):
            info = tarfile.TarInfo("sipwall-backup/../../evil.rules")
            members[info.name] = (info, b"x\n")

        def link(members):
            info = tarfile.TarInfo("sipwall-backup/etc/passwd")
            info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
            members[info.name] = (info, b"")

        def stray(members):
            info = tarfile.TarInfo("elsewhere/site.rules")
            members[info.name] = (info, b"x\n")

        cases = [(edit, "checksums do not match"), (climb, "climbs out"),
                 (link, "links or devices"), (stray, "unexpected entry")]
        # A rule file that does not compile, a credentials file that does not parse: with a
        # manifest that matches (exported that way).
        broken = self.tmp / "broken"
        shutil.copytree(self.a, broken)
        (broken / "etc" / "dataplane.env").write_text(
            f"SIPWALL_RULES={broken / 'etc' / 'site.rules'}\n")
        (broken / "etc" / "inc" / "site-acl.rules").write_text("deny site:acl.x 300.1.1.1/32\n")
        r = self.backup(broken, "export", str(self.tmp / "broken-rules.tar.gz"))
        self.assertEqual(r.returncode, 0, r.stderr)
        shutil.copytree(self.a, self.tmp / "broken2")
        (self.tmp / "broken2" / "etc" / "credentials").write_text("alice MD5=nothex\n")
        r = self.backup(self.tmp / "broken2", "export", str(self.tmp / "broken-cred.tar.gz"))
        self.assertEqual(r.returncode, 0, r.stderr)
        (self.b / "etc").mkdir(parents=True)
        (self.b / "etc" / "site.rules").write_text("# B's rules\n")
        before = files_of(self.b)
        for change, message in cases:
            r = self.backup(self.b, "import", str(self.repack(archive, change)))
            self.assertEqual(r.returncode, 1, (message, r.stdout))
            self.assertIn(message, r.stderr)
        for name, message in (("broken-rules", "rule file does not compile"),
                              ("broken-cred", "credentials file does not parse")):
            r = self.backup(self.b, "import", str(self.tmp / f"{name}.tar.gz"))
            self.assertEqual(r.returncode, 1, (message, r.stdout))
            self.assertIn(message, r.stderr)
        self.assertEqual(files_of(self.b), before, "a refused import changed files")
        self.assertFalse((self.tmp / "evil.rules").exists())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    for name in ("dataplane", "rules-tool", "passwd", "ctl"):
        parser.add_argument(f"--{name}", type=Path, required=True)
    args, rest = parser.parse_known_args()
    TOOLS.update(dataplane=args.dataplane.resolve(), rules=args.rules_tool.resolve(),
                 passwd=args.passwd.resolve(), ctl=args.ctl.resolve())
    unittest.main(argv=[sys.argv[0], *rest], verbosity=2)


if __name__ == "__main__":
    main()
