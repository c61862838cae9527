#!/usr/bin/env python3
"""Checks that the token-table prefetches survive compilation.

GCC 12 deleted calls to a helper whose only effect was __builtin_prefetch (it classed the helper
"looping pure"), so the burst loop silently lost its prefetches and paid every table miss. No
functional test can see that; this one reads the compiled pipeline library instead.

  prefetch_kept.py <objdump> <libsipwall_pipeline.a>
"""
import platform
import re
import subprocess
import sys


def main() -> int:
    objdump, library = sys.argv[1], sys.argv[2]
    if platform.machine() not in ("x86_64", "AMD64"):
        print("skipped: the instruction check knows x86-64 only")
        return 77
    text = subprocess.run([objdump, "-d", "--no-show-raw-insn", "-C", library],
                          check=True, capture_output=True, text=True).stdout
    function = None
    found = {}
    for line in text.splitlines():
        header = re.match(r"^[0-9a-f]+ <(.*)>:$", line)
        if header:
            function = header.group(1)
        elif re.search(r"\sprefetch(w|t0|t1|t2|nta)\s", line) and function:
            found[function] = found.get(function, 0) + 1
    burst = {f: n for f, n in found.items() if "Pipeline::process_burst" in f}
    if not burst:
        print("no prefetch instruction in Pipeline::process_burst; prefetches found in:",
              found or "nothing", file=sys.stderr)
        return 1
    print("prefetch instructions:", burst)
    return 0


if __name__ == "__main__":
    sys.exit(main())
