"""Helpers for running sipwall-dataplane and its peers in network namespaces: shared by the
namespace integration tests (tests/integration/test_exception_path.py, test_multiworker.py)
and the lab (deploy/lab/lab.py). Python 3 standard library only.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

EXIT_TIMEOUT_S = 30
DPDK_RUNTIME = Path("/var/run/dpdk")  # EAL makes a folder per --file-prefix, even --no-shconf
COUNTER = re.compile(r"^\s+(\S+)\s+(\d+)$")


def run(*cmd: str, check: bool = True, timeout: float = 20) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=check, timeout=timeout, capture_output=True, text=True)


def can_run() -> str:
    """Empty when this machine can build namespaces with veth pairs, else why not."""
    if os.geteuid() != 0:
        return "needs root (network namespaces, veth pairs, net_tap)"
    if shutil.which("ip") is None:
        return "needs iproute2 (`ip netns`)"
    probe = f"swprobe{os.getpid()}"
    try:
        run("ip", "netns", "add", probe)
    except (subprocess.SubprocessError, OSError) as e:
        return f"`ip netns` is unavailable: {e}"
    run("ip", "netns", "del", probe, check=False)
    if shutil.which("ethtool") is None:
        return "needs ethtool (deploy/install-deps.sh) to turn off veth TX checksum offload"
    return ""


def netns_exec(ns: str, *cmd: str) -> list[str]:
    return ["ip", "netns", "exec", ns, *cmd]


def parse_counters(text: str) -> dict[str, int]:
    """The last counters table in a dataplane's output (or a `counters` reply)."""
    counters: dict[str, int] = {}
    for line in text.split("sipwall counters\n")[-1].splitlines():
        m = COUNTER.match(line)
        if m:
            counters[m.group(1)] = int(m.group(2))
    return counters


def control(path: Path, command: str, timeout: float = 30) -> str:
    """One command on the control socket's line protocol; the reply without its '.' line."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(str(path))
        s.sendall(command.encode() + b"\n")
        data = b""
        while not (data == b".\n" or data.endswith(b"\n.\n")):
            chunk = s.recv(65536)
            if not chunk:
                raise RuntimeError(f"control socket closed early: {data!r}")
            data += chunk
    lines = data.decode().split("\n")[:-2]
    return "\n".join(line[1:] if line.startswith("..") else line for line in lines)


class Process:
    """A process started here, its output in a log file, stopped by its PID alone."""

    def __init__(self, cmd: list[str], log: Path, **popen: object) -> None:
        self.log = log
        self.file = open(log, "w")
        self.proc = subprocess.Popen(cmd, stdout=self.file, stderr=subprocess.STDOUT, text=True,
                                     **popen)
        _started.append(self.proc)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def wait_for(self, pattern: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if re.search(pattern, self.log.read_text()):
                return True
            if self.proc.poll() is not None:
                return bool(re.search(pattern, self.log.read_text()))
            time.sleep(0.1)
        return False

    def stop(self, sig: int = signal.SIGTERM, timeout: float = EXIT_TIMEOUT_S) -> int | None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=EXIT_TIMEOUT_S)
        self.file.close()
        return self.proc.returncode

    def output(self) -> str:
        return self.log.read_text()


_started: list[subprocess.Popen] = []  # every Process of this run, for clean_up_on_sigterm


def clean_up_on_sigterm(namespaces: list[str], dpdk_prefix_glob: str) -> None:
    """SIGTERM (what meson sends a test past its timeout) would end a test without its
    clean-ups: kill every Process started here by its PID, delete those of the named network
    namespaces that exist and the EAL runtime folders of the glob, then exit."""

    def handler(signum: int, _frame: object) -> None:
        for proc in _started:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=EXIT_TIMEOUT_S)
        existing = {line.split(" ", 1)[0]
                    for line in run("ip", "netns", "list", check=False).stdout.splitlines()}
        for name in namespaces:
            if name in existing:
                run("ip", "netns", "del", name, check=False)
        remove_dpdk_runtime(dpdk_prefix_glob)
        os._exit(128 + signum)

    signal.signal(signal.SIGTERM, handler)


def remove_dpdk_runtime(file_prefix_glob: str) -> None:
    """Removes the EAL runtime folders of the --file-prefix values matching the glob, once the
    processes that used them have exited."""
    for path in DPDK_RUNTIME.glob(file_prefix_glob):
        shutil.rmtree(path, ignore_errors=True)


def dataplane_eal(binary: Path, file_prefix: str, vdevs: list[str], lcores: str) -> list[str]:
    """sipwall-dataplane's EAL options without NICs or hugepages (ports are vdevs), up to
    the `--` before its own options."""
    return [str(binary), "--lcores", lcores, "--no-huge", "-m", "512", "--no-pci",
            "--no-shconf", "--no-telemetry", "--log-level=error", "--file-prefix", file_prefix,
            *[a for v in vdevs for a in ("--vdev", v)], "--"]
