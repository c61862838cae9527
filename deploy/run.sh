#!/usr/bin/env bash
# Sets everything up and runs sipwall's lab (as root on Debian 12): installs the packages,
# builds build/release, then deploy/lab/lab.py: network namespaces with registered callers
# placing calls with RTP, sipwall-dataplane inline and a kamailio + sipp core; while the calls
# go on, four attacks (a flood from one source, a flood from 4,000 sources, a SIPVicious-style
# scan, malformed packets). One status line a second, a summary, then the same scenario
# through a plain kernel bridge for comparison. Everything it made is removed at the end.
#
#   deploy/run.sh [--duration S] [--keep] [--no-compare] [--check]   (lab.py --help)
#   deploy/run.sh --offline      the offline demo instead (deploy/offline-demo.sh)
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ ${1:-} == --offline ]]; then
  shift
  exec bash deploy/offline-demo.sh "$@"
fi
bash deploy/install-deps.sh
[[ -f build/release/build.ninja ]] || meson setup build/release
ninja -C build/release
exec python3 deploy/lab/lab.py "$@"
