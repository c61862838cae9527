#!/usr/bin/env python3
"""Exception-path integration test: the dataplane as a three-port bridge, in network
namespaces this test creates and always removes.

    [carrier ns] c0 ==veth== out0 (port 0)                        in0 (port 1) ==veth== k0 [core ns]
                                       [dataplane ns: sipwall-dataplane, two workers]
                                       tap (port 2, net_tap): the service addresses

Ports 0 and 1 are net_af_packet on veth pairs; the punt port is a net_tap, created in the
dataplane's namespace because the dataplane runs there, and set up by the dataplane itself
(link up, MTU, the service addresses). A UDP echo service bound to the service addresses
(IPv4 and IPv6) stands in for the control plane. It checks, with the kernels' own ARP and
neighbour discovery on every side, that:

* a client on the carrier side and one on the core side both get their echo (SIP to the
  service address's SIP port, judged by the filter, then the tap's reply by MAC learning);
* a datagram to the tap on a port it does not serve (a listener on all addresses, as an
  sshd would be) never reaches that listener and is counted as not_served;
* requests the control plane sends itself (to either side) get their replies through the
  tap's flow table, and a TCP connection to its SIP port works end to end;
* the README's live example (two workers, a net_tap punt port) starts and stops cleanly.

Needs root and `ip netns`; skipped with a message otherwise.
  python3 tests/integration/test_exception_path.py --binary build/dataplane/app/sipwall-dataplane
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest
from pathlib import Path

sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "support"))
from netlab import (DPDK_RUNTIME, Process, can_run, clean_up_on_sigterm,  # noqa: E402,F401
                    dataplane_eal, parse_counters, remove_dpdk_runtime, run)
from test_live import sanitizer_reports  # noqa: E402

BINARY: Path | None = None
RULES_DIR = Path(__file__).resolve().parent.parent.parent / "rules"
START_TIMEOUT_S = 30
REPLY_TIMEOUT_S = 1.0
ATTEMPTS = 10  # the first datagrams may wait for ARP/ND on three kernels

SERVICE_V4, CARRIER_V4, CORE_V4 = "10.77.0.1", "10.77.0.2", "10.77.0.3"
SERVICE_V6, CARRIER_V6, CORE_V6 = "fd77::1", "fd77::2", "fd77::3"
SIP_PORT, CLOSED_PORT, PEER_PORT = 5060, 7777, 9999


def sip_options(src: str, dst: str, sport: int, n: int) -> bytes:
    host = f"[{dst}]" if ":" in dst else dst
    via = f"[{src}]" if ":" in src else src
    return (f"OPTIONS sip:{host} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {via}:{sport};branch=z9hG4bK-echo{n}\r\n"
            "Max-Forwards: 70\r\n"
            f"From: <sip:probe@{via}>;tag=echo{n}\r\n"
            f"To: <sip:{host}>\r\n"
            f"Call-ID: echo{n}@sipwall.test\r\n"
            "CSeq: 1 OPTIONS\r\n"
            "Content-Length: 0\r\n\r\n").encode()


# A UDP echo service: the control plane's stand-in, bound to the service addresses.
ECHO_SERVER = textwrap.dedent("""
    import select, socket, sys
    socks = []
    for addr in sys.argv[2:]:
        s = socket.socket(socket.AF_INET6 if ':' in addr else socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((addr, int(sys.argv[1])))
        socks.append(s)
    print('ready', flush=True)
    while True:
        for s in select.select(socks, [], [], 1.0)[0]:
            data, peer = s.recvfrom(65535)
            s.sendto(data, peer)
""")

# A listener on every address of the dataplane's namespace on a port nothing serves (as an
# sshd would be): it prints what it receives, which must be nothing.
OPEN_LISTENER = textwrap.dedent("""
    import select, socket, sys
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(('::', int(sys.argv[1])))
    print('ready', flush=True)
    while True:
        if select.select([s], [], [], 1.0)[0]:
            data, peer = s.recvfrom(65535)
            print('received', peer[0], len(data), flush=True)
""")

# One client exchange: sends a datagram up to ATTEMPTS times, prints 'echo' once it returns.
CLIENT = textwrap.dedent("""
    import socket, sys
    dst, port, payload, attempts, timeout = sys.argv[1], int(sys.argv[2]), sys.argv[3], \
        int(sys.argv[4]), float(sys.argv[5])
    s = socket.socket(socket.AF_INET6 if ':' in dst else socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    data = payload.encode().decode('unicode_escape').encode('latin-1')
    for _ in range(attempts):
        s.sendto(data, (dst, port))
        try:
            reply, _ = s.recvfrom(65535)
        except socket.timeout:
            continue
        print('echo' if reply == data else 'mismatch', flush=True)
        break
    else:
        print('timeout', flush=True)
""")


# A TCP echo service (one connection at a time), and a client that prints 'echo' when its
# bytes come back.
TCP_ECHO_SERVER = textwrap.dedent("""
    import socket, sys
    addr, port = sys.argv[1], int(sys.argv[2])
    s = socket.socket(socket.AF_INET6 if ':' in addr else socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(4)
    print('ready', flush=True)
    while True:
        c, _ = s.accept()
        c.settimeout(5)
        try:
            data = c.recv(65535)
            c.sendall(data)
        except OSError:
            pass
        c.close()
""")

TCP_CLIENT = textwrap.dedent("""
    import socket, sys
    dst, port, timeout = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    data = b'OPTIONS sip:x SIP/2.0\\r\\n\\r\\n'
    try:
        with socket.create_connection((dst, port), timeout=timeout) as s:
            s.sendall(data)
            got = b''
            while len(got) < len(data):
                chunk = s.recv(65535)
                if not chunk:
                    break
                got += chunk
        print('echo' if got == data else 'mismatch', flush=True)
    except OSError as e:
        print('error', type(e).__name__, flush=True)
""")


def assert_no_sanitizer_reports(test: unittest.TestCase, tmp: Path) -> None:
    """A sanitizer report in a dataplane's output fails the test (UBSan may only print)."""
    for log in sorted(tmp.glob(f"{test._testMethodName}-dataplane*.log")):
        test.assertEqual(sanitizer_reports(log.read_text(errors="replace")), [],
                         f"sanitizer report in {log}")


class Namespaces:
    """Three namespaces and two veth pairs with unique names; remove() is idempotent."""

    NAMES = tuple(f"sw{os.getpid() % 100000}{role}" for role in ("dp", "car", "core"))

    def __init__(self) -> None:
        self.dp, self.carrier, self.core = self.NAMES
        self.created: list[str] = []

    def create(self) -> None:
        for ns in (self.dp, self.carrier, self.core):
            run("ip", "netns", "add", ns)
            self.created.append(ns)
        for here, there, ns in (("out0", "c0", self.carrier), ("in0", "k0", self.core)):
            run("ip", "-n", self.dp, "link", "add", here, "type", "veth", "peer", "name", there,
                "netns", ns)
            # The dataplane's kernel must not answer for the tap's addresses on its ports (on
            # real NICs bound to DPDK it never sees them).
            run("ip", "netns", "exec", self.dp, "sysctl", "-qw",
                f"net.ipv4.conf.{here}.arp_ignore=8", f"net.ipv6.conf.{here}.disable_ipv6=1")
            run("ip", "-n", self.dp, "link", "set", here, "up")
        for ns, dev, v4, v6 in ((self.carrier, "c0", CARRIER_V4, CARRIER_V6),
                                (self.core, "k0", CORE_V4, CORE_V6)):
            run("ip", "-n", ns, "addr", "add", f"{v4}/24", "dev", dev)
            run("ip", "-n", ns, "addr", "add", f"{v6}/64", "dev", dev, "nodad")
            run("ip", "-n", ns, "link", "set", dev, "up")
            run("ip", "-n", ns, "link", "set", "lo", "up")
            # Checksums filled in by the sender, not left to an offload af_packet never does.
            run("ip", "netns", "exec", ns, "ethtool", "-K", dev, "tx", "off")
        run("ip", "-n", self.dp, "link", "set", "lo", "up")

    def remove(self) -> None:
        while self.created:
            run("ip", "netns", "del", self.created.pop(), check=False)

    def exec(self, ns: str, *cmd: str) -> list[str]:
        return ["ip", "netns", "exec", ns, *cmd]


def dataplane_cmd(name: str, vdevs: list[str], options: list[str], workers: int = 2) -> list[str]:
    """`workers` worker lcores beside the main one, spread over the machine's two CPUs."""
    lcores = ",".join(["0@0"] + [f"{w + 1}@{w % 2}" for w in range(workers)])
    return [*dataplane_eal(BINARY, f"sipwall-{name}-{os.getpid()}", vdevs, lcores),
            "--metrics", "off", "--idle-sleep-us", "200", "--stats-interval", "1", *options]


class ExceptionPath(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        why = can_run()
        if why:
            raise unittest.SkipTest(why)
        cls.tmp = Path(tempfile.mkdtemp(prefix="sipwall-exception-"))

    @classmethod
    def tearDownClass(cls) -> None:
        remove_dpdk_runtime(f"sipwall-*-{os.getpid()}")  # dataplane_cmd's --file-prefix
        if os.environ.get("SIPWALL_KEEP_TMP") != "1":
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self) -> None:
        self.ns = Namespaces()
        self.procs: list[Process] = []
        self.addCleanup(self.check_sanitizers)  # last: once every process has stopped
        self.addCleanup(self.ns.remove)  # after the processes (cleanups run in reverse)
        self.addCleanup(self.stop_all)
        self.ns.create()

    def check_sanitizers(self) -> None:
        assert_no_sanitizer_reports(self, self.tmp)

    def stop_all(self) -> None:
        while self.procs:
            self.procs.pop().stop(signal.SIGKILL)

    def start(self, name: str, cmd: list[str]) -> Process:
        p = Process(cmd, self.tmp / f"{self._testMethodName}-{name}.log")
        self.procs.append(p)
        return p

    def client(self, ns: str, dst: str, port: int, payload: str, attempts: int) -> str:
        cmd = self.ns.exec(ns, sys.executable, "-c", CLIENT, dst, str(port), payload,
                           str(attempts), str(REPLY_TIMEOUT_S))
        return run(*cmd, timeout=attempts * REPLY_TIMEOUT_S + 10).stdout.strip()

    def test_echo_from_both_sides_and_nothing_else_reaches_the_tap(self) -> None:
        rules = self.tmp / "service.rules"
        rules.write_text(f'include "{RULES_DIR / "default.rules"}"\n'
                         f"service test:svc.v4 {SERVICE_V4}\n"
                         f"service test:svc.v6 {SERVICE_V6}\n")
        dp = self.start("dataplane", self.ns.exec(self.ns.dp, *dataplane_cmd(
            "exception", ["net_af_packet0,iface=out0,qpairs=2",
                          "net_af_packet1,iface=in0,qpairs=2", "net_tap0,iface=swpunt"],
            ["--rules", str(rules), "--tap-prefix-length", "24/64"])))
        # The first periodic counters: signal handlers are installed by then.
        self.assertTrue(dp.wait_for(r"sipwall counters", START_TIMEOUT_S), dp.output())
        addrs = run(*self.ns.exec(self.ns.dp, "ip", "addr", "show", "dev", "swpunt")).stdout
        self.assertIn(f"{SERVICE_V4}/24", addrs)
        self.assertIn(f"{SERVICE_V6}/64", addrs)
        self.assertRegex(addrs, r"<[^>]*\bUP\b[^>]*>")  # brought up by the dataplane

        echo = self.start("echo", self.ns.exec(self.ns.dp, sys.executable, "-c", ECHO_SERVER,
                                               str(SIP_PORT), SERVICE_V4, SERVICE_V6))
        listener = self.start("listener", self.ns.exec(self.ns.dp, sys.executable, "-c",
                                                       OPEN_LISTENER, str(CLOSED_PORT)))
        self.assertTrue(echo.wait_for("ready", 10), echo.output())
        self.assertTrue(listener.wait_for("ready", 10), listener.output())

        n = 0
        for ns, src, service in ((self.ns.carrier, CARRIER_V4, SERVICE_V4),
                                 (self.ns.core, CORE_V4, SERVICE_V4),
                                 (self.ns.carrier, CARRIER_V6, SERVICE_V6),
                                 (self.ns.core, CORE_V6, SERVICE_V6)):
            n += 1
            message = sip_options(src, service, 5062, n).decode().replace("\r\n", "\\r\\n")
            with self.subTest(client=src, service=service):
                self.assertEqual(self.client(ns, service, SIP_PORT, message, ATTEMPTS), "echo",
                                 dp.output())

        # Served or not, the tap's listeners on every address are not reachable from outside.
        for dst in (SERVICE_V4, SERVICE_V6):
            self.assertEqual(self.client(self.ns.carrier, dst, CLOSED_PORT, "probe", 3),
                             "timeout")
        time.sleep(1.5)  # the listener's poll
        self.assertEqual(listener.stop(signal.SIGTERM) is not None, True)
        self.assertNotIn("received", listener.output())

        self.assertEqual(dp.stop(), 0, dp.output())
        c = parse_counters(dp.output())
        self.assertGreaterEqual(c.get("to_tap.outside.not_served", 0), 6, dp.output())
        self.assertGreaterEqual(c.get("to_tap.outside.signaling", 0), 2, dp.output())
        self.assertGreaterEqual(c.get("to_tap.inside.signaling", 0), 2, dp.output())
        self.assertGreaterEqual(c.get("to_tap.outside.neighbor", 0) +
                                c.get("to_tap.outside.bridge_copy", 0), 2, dp.output())
        self.assertGreaterEqual(c.get("rx_punt", 0), 4, dp.output())
        self.assertGreaterEqual(c.get("from_tap.outside", 0), 2, dp.output())
        self.assertGreaterEqual(c.get("from_tap.inside", 0), 2, dp.output())
        self.assertEqual(c.get("punt", 0), c.get("to_tap.outside.signaling", 0), dp.output())
        # --idle-sleep-us: the workers slept while the link was quiet.
        self.assertGreater(c.get("idle_sleeps", 0), 0, dp.output())

    def test_the_control_plane_opens_flows_and_hears_their_replies(self) -> None:
        """Replies to requests the control plane sends itself reach it (the tap's flow table),
        from both sides; a TCP connection to its SIP port works end to end."""
        dp = self.start("dataplane", self.ns.exec(self.ns.dp, *dataplane_cmd(
            "flows", ["net_af_packet0,iface=out0,qpairs=2", "net_af_packet1,iface=in0,qpairs=2",
                      "net_tap0,iface=swpunt"],
            ["--service-address", SERVICE_V4, "--service-address", SERVICE_V6,
             "--tap-prefix-length", "24/64"])))
        self.assertTrue(dp.wait_for(r"sipwall counters", START_TIMEOUT_S), dp.output())
        peers = [(self.ns.carrier, CARRIER_V4), (self.ns.carrier, CARRIER_V6),
                 (self.ns.core, CORE_V4), (self.ns.core, CORE_V6)]
        for ns, addr in peers:
            server = self.start(f"echo-{addr}", self.ns.exec(
                ns, sys.executable, "-c", ECHO_SERVER, str(PEER_PORT), addr))
            self.assertTrue(server.wait_for("ready", 10), server.output())
        for _, addr in peers:
            with self.subTest(peer=addr):
                self.assertEqual(self.client(self.ns.dp, addr, PEER_PORT, "query", ATTEMPTS),
                                 "echo", dp.output())
        tcp = self.start("tcp-echo", self.ns.exec(self.ns.dp, sys.executable, "-c",
                                                  TCP_ECHO_SERVER, SERVICE_V4, str(SIP_PORT)))
        self.assertTrue(tcp.wait_for("ready", 10), tcp.output())
        out = run(*self.ns.exec(self.ns.carrier, sys.executable, "-c", TCP_CLIENT, SERVICE_V4,
                                str(SIP_PORT), "10"), timeout=30).stdout.strip()
        self.assertEqual(out, "echo", dp.output())

        self.assertEqual(dp.stop(), 0, dp.output())
        c = parse_counters(dp.output())
        self.assertGreaterEqual(c.get("to_tap.outside.reply", 0), 2, dp.output())
        self.assertGreaterEqual(c.get("to_tap.inside.reply", 0), 2, dp.output())
        self.assertGreaterEqual(c.get("to_tap.outside.signaling", 0), 3, dp.output())  # TCP
        self.assertEqual(c.get("to_tap.outside.not_served", 0), 0, dp.output())

    def test_readme_live_example_starts_with_two_workers_and_a_tap(self) -> None:
        """The README's live example, with af_packet ports for its NICs: the tap's addresses
        (rule file and --service-address), on-link prefixes and default routes are set."""
        rules = self.tmp / "site.rules"
        rules.write_text(f'include "{RULES_DIR / "default.rules"}"\n'
                         f"service site:svc.v4 {SERVICE_V4}\n")
        dp = self.start("dataplane", self.ns.exec(self.ns.dp, *dataplane_cmd(
            "readme", ["net_af_packet0,iface=out0,qpairs=2", "net_af_packet1,iface=in0,qpairs=2",
                       "net_tap0,iface=sipwall-punt"],
            ["--rules", str(rules), "--service-address", SERVICE_V6,
             "--tap-prefix-length", "24/64", "--tap-gateway", "10.77.0.254",
             "--tap-gateway", "fd77::fe"])))
        self.assertTrue(dp.wait_for(r"punt=net_tap0 workers=2", START_TIMEOUT_S), dp.output())
        self.assertTrue(dp.wait_for(r"sipwall counters", START_TIMEOUT_S), dp.output())
        link = run(*self.ns.exec(self.ns.dp, "ip", "addr", "show", "dev", "sipwall-punt")).stdout
        self.assertIn(f"{SERVICE_V4}/24", link)
        self.assertIn(f"{SERVICE_V6}/64", link)
        routes = run(*self.ns.exec(self.ns.dp, "ip", "route", "show", "default")).stdout
        self.assertIn("default via 10.77.0.254 dev sipwall-punt", routes)
        routes6 = run(*self.ns.exec(self.ns.dp, "ip", "-6", "route", "show", "default")).stdout
        self.assertIn("default via fd77::fe dev sipwall-punt", routes6)
        self.assertEqual(dp.stop(), 0, dp.output())
        self.assertIn("sipwall counters", dp.output())
        # The tap and its addresses went with the process.
        gone = run(*self.ns.exec(self.ns.dp, "ip", "link", "show", "sipwall-punt"), check=False)
        self.assertNotEqual(gone.returncode, 0)


class SigtermCleanUp(unittest.TestCase):
    """meson stops a test past its timeout with SIGTERM: this file, run as a child and stopped
    so while its dataplane runs in its namespaces, leaves no namespace, dataplane or EAL
    runtime folder behind."""

    def test_a_terminated_run_leaves_nothing(self) -> None:
        why = can_run()
        if why:
            self.skipTest(why)
        child = subprocess.Popen(
            [sys.executable, __file__, "--binary", str(BINARY),
             "ExceptionPath.test_echo_from_both_sides_and_nothing_else_reaches_the_tap"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(lambda: child.poll() is None and (child.kill(), child.wait()))
        names = [f"sw{child.pid % 100000}{role}" for role in ("dp", "car", "core")]
        dataplane = f"file-prefix sipwall-.*-{child.pid}"
        deadline = time.monotonic() + 60
        while not (names[0] in run("ip", "netns", "list").stdout and
                   run("pgrep", "-f", dataplane, check=False).returncode == 0):
            self.assertIsNone(child.poll(), "the child ended before its dataplane started")
            self.assertLess(time.monotonic(), deadline, "no dataplane in 60 s")
            time.sleep(0.2)
        child.send_signal(signal.SIGTERM)
        self.assertEqual(child.wait(timeout=60), 128 + signal.SIGTERM)
        listed = run("ip", "netns", "list").stdout
        self.assertEqual([n for n in names if n in listed], [])
        self.assertNotEqual(run("pgrep", "-f", dataplane, check=False).returncode, 0)
        self.assertEqual(list(DPDK_RUNTIME.glob(f"sipwall-*-{child.pid}")), [])


def main() -> None:
    global BINARY
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--binary", type=Path, required=True)
    args, rest = ap.parse_known_args()
    BINARY = args.binary.resolve()
    clean_up_on_sigterm(list(Namespaces.NAMES), f"sipwall-*-{os.getpid()}")
    unittest.main(argv=[sys.argv[0], *rest], verbosity=2)


if __name__ == "__main__":
    main()
