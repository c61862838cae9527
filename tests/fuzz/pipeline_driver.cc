#include "pipeline_driver.h"

#include <array>
#include <utility>
#include <vector>

#include "frame_records.h"
#include "fuzz_check.h"
#include "pipeline/pipeline.h"

namespace sipwall::fuzz {
namespace {

struct Recorder final : DecisionSink {
  std::vector<std::pair<uint64_t, Decision>> decided;
  void decide(uint64_t cookie, const Decision& d) override { decided.emplace_back(cookie, d); }
};

struct Setup {
  uint8_t burst_seed = 0;  // chunk sizes
  IpPrefix ban;
  IpAddress pinhole;
  uint16_t pinhole_port = 0;
};

Setup read_setup(std::span<const uint8_t, 12> h) {
  Setup s;
  s.burst_seed = h[0];
  s.ban.length = static_cast<uint8_t>(h[5] % 33);
  s.ban.address =
      IpAddress::v4(std::span<const uint8_t, 4>(h.subspan<1, 4>())).masked(s.ban.length);
  s.pinhole = IpAddress::v4(std::span<const uint8_t, 4>(h.subspan<6, 4>()));
  s.pinhole_port = static_cast<uint16_t>(h[10] << 8 | h[11]);
  return s;
}

// Chunk boundaries: sizes 1..80 from a tiny generator, so bursts longer than kMaxBurst occur.
std::vector<size_t> chunk_ends(size_t n, uint8_t seed) {
  std::vector<size_t> ends;
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < n;) {
    x = x * 1103515245u + 12345u;
    i = std::min(n, i + 1 + (seed & 1 ? (x >> 16) % 80 : (x >> 16) % 8));
    ends.push_back(i);
  }
  return ends;
}

struct Run {
  Recorder sink;
  WorkerCounters counters;
};

Run run(const FilterPolicy& policy, const Setup& s, const std::vector<Frame>& frames,
        const std::vector<size_t>& ends, bool burst) {
  Pipeline pipeline(policy, 0);
  const Nanos until = kEpoch + 3 * kNanosPerSecond;
  pipeline.apply({AddPrefix{StateTable::ban, s.ban, until, {}, Owner::operator_}}, kEpoch);
  pipeline.apply({OpenPinhole{s.pinhole, s.pinhole_port, {}, {}, until, Owner::operator_}}, kEpoch);
  Run r;
  std::array<PacketRef, 80> refs;
  size_t begin = 0;
  for (const size_t end : ends) {
    if (burst) {
      for (size_t i = begin; i < end; ++i) refs[i - begin] = {frames[i].bytes, i, frames[i].now};
      pipeline.process_burst(std::span(refs.data(), end - begin), r.sink);
    } else {
      for (size_t i = begin; i < end; ++i) {
        pipeline.process(frames[i].bytes, i, frames[i].now, r.sink);
      }
    }
    pipeline.expire(frames[end - 1].now, r.sink);
    begin = end;
  }
  pipeline.drain(r.sink);
  r.counters = pipeline.counters();
  return r;
}

bool same_counters(const WorkerCounters& a, const WorkerCounters& b) {
  return a.packets == b.packets && a.verdicts == b.verdicts && a.drops == b.drops &&
         a.signature_hits == b.signature_hits && a.signature_alerts == b.signature_alerts &&
         a.datagrams_reassembled == b.datagrams_reassembled && a.sip_errors == b.sip_errors &&
         a.fragment_drops == b.fragment_drops && a.rtp_errors == b.rtp_errors &&
         a.signature_scan_errors == b.signature_scan_errors;
}

}  // namespace

FilterConfig small_tables(FilterConfig cfg) {
  cfg.limits.table_capacity = 64;
  cfg.ban_capacity = 16;
  cfg.pinhole_capacity = 16;
  cfg.trust_capacity = 16;
  cfg.fragments.max_datagrams = 4;
  cfg.fragments.max_fragments_per_datagram = 8;
  return cfg;
}

void run_pipelines(const FilterPolicy& policy, std::span<const uint8_t> in) {
  if (in.size() < 12) return;
  const Setup s = read_setup(in.first<12>());
  const std::vector<Frame> frames = read_frames(in.subspan(12));
  if (frames.empty()) return;
  const std::vector<size_t> ends = chunk_ends(frames.size(), s.burst_seed);
  const Run bursts = run(policy, s, frames, ends, true);
  const Run singles = run(policy, s, frames, ends, false);

  const auto& a = bursts.sink.decided;
  const auto& b = singles.sink.decided;
  FUZZ_CHECK(a.size() == b.size(), "%zu decisions in bursts, %zu one by one", a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    FUZZ_CHECK(a[i] == b[i],
               "decision %zu: packet %llu verdict %d reason %d in bursts, packet %llu "
               "verdict %d reason %d one by one",
               i, static_cast<unsigned long long>(a[i].first),
               static_cast<int>(a[i].second.verdict), static_cast<int>(a[i].second.reason),
               static_cast<unsigned long long>(b[i].first), static_cast<int>(b[i].second.verdict),
               static_cast<int>(b[i].second.reason));
  }
  FUZZ_CHECK(same_counters(bursts.counters, singles.counters), "counters differ");

  // Every frame decided exactly once; the counters are the decisions, one reason per drop.
  std::vector<uint8_t> seen(frames.size(), 0);
  WorkerCounters expect;
  for (const auto& [cookie, d] : a) {
    FUZZ_CHECK(cookie < seen.size() && !seen[cookie], "packet %llu decided twice",
               static_cast<unsigned long long>(cookie));
    seen[cookie] = 1;
    expect.count(d);
  }
  FUZZ_CHECK(a.size() == frames.size(), "%zu of %zu packets decided", a.size(), frames.size());
  const WorkerCounters& got = bursts.counters;
  FUZZ_CHECK(
      got.packets == expect.packets && got.verdicts == expect.verdicts && got.drops == expect.drops,
      "counters do not match the decisions");
}

}  // namespace sipwall::fuzz
