// The token-bucket table alone, the way the pipeline drives it: bursts of 32 packets whose keys
// are hashed and prefetched first, then consumed in order, optionally with other memory read in
// between (what validating a SIP message does to the caches).
//
//   bench_token_buckets [--sources N] [--keys 1|2] [--work BYTES] [--rounds R]
//
// Prints ns per packet with and without the prefetch pass; compare the two lines of one run.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>
#include <random>
#include <string>
#include <vector>

#include "limit/token_bucket_table.h"

namespace sipwall::perf {
namespace {

struct Args {
  size_t sources = 20000;
  unsigned keys = 2;  // per packet: 2 = all-SIP + method limit of one source, 1 = an RTP flow
  size_t work = 800;  // bytes of other memory read per packet
  int rounds = 300;
};

constexpr size_t kPackets = 4096;
constexpr size_t kBurst = 32;

double run(const Args& a, bool prefetch) {
  TokenBucketTable table(size_t{1} << 20, 12345);
  std::mt19937 rng(1);
  std::vector<BucketKey> keys(kPackets * a.keys);
  for (size_t i = 0; i < kPackets; ++i) {
    const IpAddress src = IpAddress::v4(0x0A000000u + static_cast<uint32_t>(rng() % a.sources));
    for (unsigned k = 0; k < a.keys; ++k) keys[i * a.keys + k] = BucketKey{src, 0, uint8_t(k)};
  }
  std::vector<uint64_t> hashes(keys.size());
  std::vector<char> other(kPackets * std::max<size_t>(a.work, 64), 1);
  const BucketParams params{1'000'000, 1'000'000};  // never limits: every key stays in the table
  Nanos now = 1;
  uint64_t sum = 0;
  double best = 1e30;
  for (int round = 0; round < a.rounds; ++round) {
    const auto t0 = std::chrono::steady_clock::now();
    for (size_t first = 0; first < kPackets; first += kBurst) {
      const size_t k0 = first * a.keys, k1 = (first + kBurst) * a.keys;
      for (size_t k = k0; k < k1; ++k) {
        hashes[k] = table.hash(keys[k]);
        if (prefetch) table.prefetch(hashes[k]);
      }
      for (size_t p = first; p < first + kBurst; ++p) {
        for (size_t b = 0; b < a.work; b += 64) sum += static_cast<uint64_t>(other[p * a.work + b]);
        for (size_t k = p * a.keys; k < (p + 1) * a.keys; ++k) {
          sum += table.consume(keys[k], hashes[k], params, now) ? 1 : 0;
        }
        now += 100;
      }
    }
    const double ns =
        std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
    best = std::min(best, ns / kPackets);
  }
  if (sum == 0) std::printf("(nothing conformed)\n");
  return best;
}

}  // namespace
}  // namespace sipwall::perf

int main(int argc, char** argv) {
  sipwall::perf::Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    unsigned long v = 0;
    try {
      v = std::stoul(argv[i + 1]);
    } catch (const std::exception&) {
      k.clear();  // not a number: falls to the usage message
    }
    if (k == "--sources")
      a.sources = std::max(1ul, v);
    else if (k == "--keys")
      a.keys = static_cast<unsigned>(std::clamp(v, 1ul, 2ul));
    else if (k == "--work")
      a.work = v;
    else if (k == "--rounds")
      a.rounds = static_cast<int>(std::max(1ul, v));
    else {
      std::fprintf(stderr, "usage: %s [--sources N] [--keys 1|2] [--work BYTES] [--rounds R]\n",
                   argv[0]);
      return 2;
    }
  }
  for (const bool prefetch : {false, true}) {
    std::printf("sources=%zu keys=%u work=%zu prefetch=%d: %.1f ns/packet (best of %d)\n",
                a.sources, a.keys, a.work, prefetch ? 1 : 0, sipwall::perf::run(a, prefetch),
                a.rounds);
  }
  return 0;
}
