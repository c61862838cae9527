#!/usr/bin/env bash
# The offline demo (also `deploy/run.sh --offline`): sets everything up, then
# sipwall-dataplane --offline judges the captures the project generates (legitimate calls,
# floods, malformed packets, scanners, fragments, RTP) and, when the shared corpus is next to
# the checkout, the public attack captures. Each run writes pass/punt/drop pcaps,
# verdicts.jsonl and summary.json under out/demo/<capture>/ and prints the summary.
# Deterministic, and needs no network namespaces (deploy/run.sh runs the live lab).
set -euo pipefail
cd "$(dirname "$0")/.."

bash deploy/install-deps.sh
[[ -f build/release/build.ninja ]] || meson setup build/release
ninja -C build/release

out=${SIPWALL_DEMO_DIR:-out/demo}
mkdir -p "$out/captures"
python3 tests/tools/make_captures.py "$out/captures" >/dev/null
captures=("$out"/captures/*.pcap)
if [[ -d ../shared/corpus/pcap ]]; then
  captures+=(../shared/corpus/pcap/*/*.pcap)
fi

bin=build/release/dataplane/app/sipwall-dataplane
for pcap in "${captures[@]}"; do
  name=$(basename "$pcap" .pcap)
  "$bin" --offline "$pcap" --out "$out/$name"
  printf '%-34s %s\n' "$name" "$(cat "$out/$name/summary.json")"
done
echo "Per-packet verdicts and the split captures are in $out/<capture>/."
