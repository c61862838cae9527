#!/usr/bin/env python3
"""Sends the frames of a pcap file, unchanged, out of a network interface (an AF_PACKET
socket: run it in the namespace that holds the interface; needs root).

  send_frames.py --iface c0 --pcap mix.pcap [--rounds N | --seconds S] [--rate PPS]

Rounds repeat the whole capture in order. --rate paces the frames (0: as fast as the socket
takes them). Ends on SIGTERM/SIGINT too, after the frame in hand. Prints `sent N` (every frame
the kernel accepted) on exit, so a caller can compare it with what the receiver counted.
"""

from __future__ import annotations

import argparse
import signal
import socket
import sys
import time
from pathlib import Path

sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "integration"))
from test_offline import read_pcap  # noqa: E402

ETH_P_ALL = 0x0003
stopping = False


def on_signal(_sig: int, _frame: object) -> None:
    global stopping
    stopping = True


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--iface", required=True)
    ap.add_argument("--pcap", type=Path, required=True)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--seconds", type=float, default=0,
                    help="send for this long (instead of --rounds)")
    ap.add_argument("--rate", type=float, default=0, help="frames per second (0: unpaced)")
    args = ap.parse_args(argv)
    frames = [r.data for r in read_pcap(args.pcap).records]
    if not frames:
        print(f"{args.pcap}: no frames", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((args.iface, 0))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    start = time.monotonic()
    sent = 0
    rounds = 0
    while not stopping:
        if args.seconds > 0 and time.monotonic() - start >= args.seconds:
            break
        if args.seconds <= 0 and rounds >= args.rounds:
            break
        for frame in frames:
            if stopping:
                break
            if args.rate > 0:  # pace against the start, so a slow moment is caught up
                ahead = start + sent / args.rate - time.monotonic()
                if ahead > 0:
                    time.sleep(ahead)
            try:
                s.send(frame)
                sent += 1
            except BlockingIOError:
                time.sleep(0.001)
            except OSError as e:  # ENOBUFS under load: the frame was not sent
                if e.errno != 105:
                    raise
                time.sleep(0.001)
        rounds += 1
    print(f"sent {sent}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
