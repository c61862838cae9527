#include "limit/token_bucket_table.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "limit/bucket_key.h"

namespace sipwall {
namespace {

constexpr Nanos kMs = kNanosPerMilli;
constexpr Nanos kSec = kNanosPerSecond;
constexpr BucketParams kInvite{20, 40};
constexpr uint64_t kSeed = 42;

IpAddress addr(const char* text) {
  return *IpAddress::parse(text);
}
BucketKey key(const char* source, LimitClass cls = LimitClass::invite, uint16_t port = 0) {
  return make_key(addr(source), port, cls, RateLimitConfig{});
}
BucketKey v4_key(uint32_t host_order, LimitClass cls = LimitClass::sip_all) {
  return make_key(IpAddress::v4(host_order), 0, cls, RateLimitConfig{});
}

// Consumes n tokens at one instant; returns how many conformed.
int burst(TokenBucketTable& t, const BucketKey& k, BucketParams p, Nanos now, int n) {
  int ok = 0;
  for (int i = 0; i < n; ++i) ok += t.consume(k, p, now) ? 1 : 0;
  return ok;
}

TEST(TokenBucketTable, NewSourceStartsFullThenDropsOverTheBurst) {
  TokenBucketTable t(1024, kSeed);
  const BucketKey k = key("192.0.2.1");
  EXPECT_EQ(burst(t, k, kInvite, 5 * kSec, 40), 40);
  EXPECT_FALSE(t.consume(k, kInvite, 5 * kSec));
  EXPECT_EQ(t.tokens(k, kInvite, 5 * kSec), 0u);
}

TEST(TokenBucketTable, RefillsExactlyOneTokenPerIntervalWithoutLosingFractions) {
  TokenBucketTable t(1024, kSeed);
  const BucketKey k = key("192.0.2.1");
  const Nanos t0 = 7 * kSec;
  ASSERT_EQ(burst(t, k, kInvite, t0, 41), 40);
  // 20/s: one token every 50 ms. Early attempts are refused but keep their partial refill.
  EXPECT_FALSE(t.consume(k, kInvite, t0 + 25 * kMs));
  EXPECT_FALSE(t.consume(k, kInvite, t0 + 50 * kMs - 1));
  EXPECT_TRUE(t.consume(k, kInvite, t0 + 50 * kMs));
  EXPECT_FALSE(t.consume(k, kInvite, t0 + 50 * kMs));
  EXPECT_TRUE(t.consume(k, kInvite, t0 + 100 * kMs));
  // A rate that does not divide a second: 3/s -> a token after 333'333'333.33 ns.
  const BucketParams p3{3, 10};
  const BucketKey k3 = key("192.0.2.3");
  ASSERT_EQ(burst(t, k3, p3, t0, 11), 10);
  EXPECT_FALSE(t.consume(k3, p3, t0 + 333'333'333));
  EXPECT_TRUE(t.consume(k3, p3, t0 + 333'333'334));
  EXPECT_FALSE(t.consume(k3, p3, t0 + 666'666'666));
  EXPECT_TRUE(t.consume(k3, p3, t0 + 666'666'667));
  EXPECT_TRUE(t.consume(k3, p3, t0 + 1 * kSec));  // exactly 3 tokens per second in total
}

TEST(TokenBucketTable, SustainedOverloadGetsBurstPlusRateTimesTime) {
  TokenBucketTable t(1024, kSeed);
  const BucketKey k = key("192.0.2.1");
  int ok = 0;
  for (Nanos ms = 0; ms < 10'000; ++ms) ok += t.consume(k, kInvite, 1 * kSec + ms * kMs) ? 1 : 0;
  // 40 at once, then 20/s over the 9.999 s up to the last packet: floor(40 + 199.98).
  EXPECT_EQ(ok, 239);
}

TEST(TokenBucketTable, IdleTimeRefillsAtMostTheBurst) {
  TokenBucketTable t(1024, kSeed);
  const BucketKey k = key("192.0.2.1");
  ASSERT_EQ(burst(t, k, kInvite, kSec, 40), 40);
  EXPECT_EQ(t.tokens(k, kInvite, kSec + 3600 * kSec), 40u);
  EXPECT_EQ(burst(t, k, kInvite, kSec + 3600 * kSec, 100), 40);
  // Even a gap of ~584 years (overflow territory for elapsed * rate) only fills the bucket.
  EXPECT_EQ(burst(t, k, BucketParams{UINT32_MAX, 40}, UINT64_MAX, 100), 40);
}

TEST(TokenBucketTable, TimeGoingBackwardsRefillsNothingAndReanchors) {
  TokenBucketTable t(1024, kSeed);
  const BucketKey k = key("192.0.2.1");
  ASSERT_EQ(burst(t, k, kInvite, 10 * kSec, 41), 40);
  EXPECT_FALSE(t.consume(k, kInvite, 5 * kSec));  // the clock jumped back 5 s: no refill
  EXPECT_FALSE(t.consume(k, kInvite, 5 * kSec + 50 * kMs - 1));
  EXPECT_TRUE(t.consume(k, kInvite, 5 * kSec + 50 * kMs));  // refills from the new anchor
  EXPECT_FALSE(t.consume(k, kInvite, 0));
}

TEST(TokenBucketTable, IPv6SourcesShareABucketPerSlash64) {
  TokenBucketTable t(1024, kSeed);
  const RateLimitConfig cfg;
  const BucketParams p = cfg.sip_all;
  // An attacker rotating addresses inside one /64 gets one budget.
  int ok = 0;
  for (int i = 0; i < 300; ++i) {
    std::array<uint8_t, 16> b = addr("2001:db8:1:2::").bytes;
    b[8] = static_cast<uint8_t>(i);
    b[15] = static_cast<uint8_t>(i * 7);
    const IpAddress src = IpAddress::v6(b);
    ok += t.consume(make_key(src, 0, LimitClass::sip_all, cfg), p, kSec) ? 1 : 0;
  }
  EXPECT_EQ(ok, 100);
  EXPECT_EQ(t.stats().size, 1u);
  EXPECT_EQ(make_key(addr("2001:db8:1:2:ffff::5"), 0, LimitClass::sip_all, cfg).source,
            addr("2001:db8:1:2::"));
  // The neighbouring /64 has its own bucket.
  EXPECT_TRUE(t.consume(make_key(addr("2001:db8:1:3::1"), 0, LimitClass::sip_all, cfg), p, kSec));
  // A wider configured prefix aggregates more.
  RateLimitConfig wide;
  wide.v6_prefix = 48;
  wide.v4_prefix = 24;
  EXPECT_EQ(make_key(addr("2001:db8:1:2::1"), 0, LimitClass::invite, wide),
            make_key(addr("2001:db8:1:ffff::1"), 0, LimitClass::invite, wide));
  EXPECT_EQ(make_key(addr("198.51.100.1"), 0, LimitClass::invite, wide),
            make_key(addr("198.51.100.254"), 0, LimitClass::invite, wide));
  EXPECT_NE(make_key(addr("198.51.100.1"), 0, LimitClass::invite, cfg),
            make_key(addr("198.51.100.254"), 0, LimitClass::invite, cfg));
}

TEST(TokenBucketTable, ClassesAndFamiliesHaveSeparateBuckets) {
  TokenBucketTable t(1024, kSeed);
  const RateLimitConfig cfg;
  ASSERT_EQ(burst(t, key("192.0.2.1", LimitClass::invite), cfg.invite, kSec, 41), 40);
  EXPECT_EQ(burst(t, key("192.0.2.1", LimitClass::register_), cfg.register_, kSec, 21), 20);
  EXPECT_EQ(burst(t, key("192.0.2.1", LimitClass::options), cfg.options, kSec, 21), 20);
  EXPECT_EQ(burst(t, key("192.0.2.1", LimitClass::other_method), cfg.other_method, kSec, 101), 100);
  EXPECT_EQ(burst(t, key("192.0.2.1", LimitClass::sip_all), cfg.sip_all, kSec, 101), 100);
  // ::c000:201 holds the same 4 bytes... no: v4 uses bytes 0..3. Same bytes, other family.
  std::array<uint8_t, 16> b{};
  b[0] = 192, b[1] = 0, b[2] = 2, b[3] = 1;
  const BucketKey v6 = make_key(IpAddress::v6(b), 0, LimitClass::invite, cfg);
  EXPECT_EQ(burst(t, v6, cfg.invite, kSec, 41), 40);
  EXPECT_EQ(t.stats().size, 6u);
}

TEST(TokenBucketTable, RtpFlowsAreKeyedByDestinationPort) {
  TokenBucketTable t(1024, kSeed);
  const RateLimitConfig cfg;
  const BucketKey a = key("192.0.2.1", LimitClass::rtp_flow, 20000);
  const BucketKey b = key("192.0.2.1", LimitClass::rtp_flow, 20002);
  EXPECT_EQ(a.port, 20000);
  EXPECT_EQ(burst(t, a, cfg.rtp_flow, kSec, 401), 400);
  EXPECT_EQ(burst(t, b, cfg.rtp_flow, kSec, 401), 400);
  // 200 packets/s: one every 5 ms.
  EXPECT_TRUE(t.consume(a, cfg.rtp_flow, kSec + 5 * kMs));
  EXPECT_FALSE(t.consume(a, cfg.rtp_flow, kSec + 5 * kMs));
  // Signaling classes ignore the port.
  EXPECT_EQ(key("192.0.2.1", LimitClass::invite, 5060).port, 0);
  EXPECT_EQ(key("192.0.2.1", LimitClass::invite, 5060), key("192.0.2.1", LimitClass::invite, 5));
}

// The limits a packet counts against share their candidate buckets (one set of cache lines per
// packet), yet never a tag; another source or RTP port gets other buckets.
TEST(TokenBucketTable, LimitSlotsOfOneSourceShareBucketsButNotTags) {
  const TokenBucketTable t(1 << 20, kSeed);
  constexpr uint64_t kBuckets = (uint64_t{1} << 48) - 1;
  const uint64_t sip = t.hash(v4_key(0xC0000201, LimitClass::sip_all));
  std::vector<uint64_t> tags;
  for (uint8_t slot = 0; slot < 255; ++slot) {
    BucketKey k = v4_key(0xC0000201);
    k.limit = slot;
    const uint64_t h = t.hash(k);
    EXPECT_EQ(h & kBuckets, sip & kBuckets) << int{slot};
    tags.push_back(h >> 48);
  }
  std::sort(tags.begin(), tags.end());
  EXPECT_EQ(std::adjacent_find(tags.begin(), tags.end()), tags.end());
  EXPECT_NE(t.hash(v4_key(0xC0000202)) & kBuckets, sip & kBuckets);
  EXPECT_NE(t.hash(key("192.0.2.1", LimitClass::rtp_flow, 10000)) & kBuckets,
            t.hash(key("192.0.2.1", LimitClass::rtp_flow, 10002)) & kBuckets);
}

TEST(TokenBucketTable, CountsInsertsSizeAndVerdicts) {
  TokenBucketTable t(1000, kSeed);
  EXPECT_EQ(t.capacity(), 1024u);
  EXPECT_EQ(t.stats(), (TableStats{1024, 0, 0, 0, 0, 0, 0}));
  burst(t, key("192.0.2.1"), kInvite, kSec, 45);
  burst(t, key("192.0.2.2"), kInvite, kSec, 3);
  EXPECT_EQ(t.stats(), (TableStats{1024, 2, 2, 0, 0, 43, 5}));
  EXPECT_EQ(t.tokens(key("192.0.2.9"), kInvite, kSec), std::nullopt);
  EXPECT_EQ(t.stats().size, 2u);  // tokens() does not insert
}

TEST(TokenBucketTable, EvictsAnIdleEntryBeforeABusyOne) {
  // 16 slots = two buckets, so every key can use every slot: evictions are fully visible.
  TokenBucketTable t(16, kSeed);
  const BucketParams p{10, 20};  // one token per 100 ms
  const BucketKey heavy_idle = v4_key(0x0A000000);
  ASSERT_EQ(burst(t, heavy_idle, p, 0, 10), 10);  // full again at 1 s
  for (uint32_t i = 1; i < 16; ++i) ASSERT_EQ(burst(t, v4_key(0x0A000000 + i), p, 2 * kSec, 2), 2);
  ASSERT_EQ(t.stats().size, 16u);

  // A newcomer at 2 s replaces the idle entry despite its 10 packets: it would be full anyway.
  const BucketKey newcomer = v4_key(0x0B000000);
  EXPECT_TRUE(t.consume(newcomer, p, 2 * kSec));
  EXPECT_EQ(t.tokens(heavy_idle, p, 2 * kSec), std::nullopt);
  for (uint32_t i = 1; i < 16; ++i) EXPECT_EQ(t.tokens(v4_key(0x0A000000 + i), p, 2 * kSec), 18u);
  EXPECT_EQ(t.stats().evictions_idle, 1u);

  // Nothing is idle now; the entry with the least history (the one-packet newcomer) goes.
  EXPECT_TRUE(t.consume(v4_key(0x0C000000), p, 2 * kSec));
  EXPECT_EQ(t.tokens(newcomer, p, 2 * kSec), std::nullopt);
  EXPECT_EQ(t.stats().evictions_busy, 1u);
  EXPECT_EQ(t.stats().size, 16u);
}

// The property that matters under attack: millions of spoofed one-packet sources do not
// push out sources with history, so a rate-limited flooder cannot reset its bucket and
// well-behaved peers keep their (partly used) budget.
TEST(TokenBucketTable, SpoofedSourceFloodCannotEvictLongLivedSources) {
  TokenBucketTable t(4096, kSeed);
  const RateLimitConfig cfg;
  uint32_t next_spoofed = 0x01000000;
  // Fill to capacity with one-packet sources.
  for (int i = 0; i < 1'000'000 && t.stats().size < t.capacity(); ++i) {
    t.consume(v4_key(next_spoofed++), cfg.sip_all, 0);
  }
  ASSERT_EQ(t.stats().size, t.capacity());

  std::vector<BucketKey> peers;
  for (int i = 0; i < 8; ++i) {
    std::array<uint8_t, 16> b = addr("2001:db8:77::").bytes;
    b[6] = static_cast<uint8_t>(i);
    peers.push_back(make_key(IpAddress::v6(b), 0, LimitClass::invite, cfg));
  }
  const BucketKey flooder = key("203.0.113.66");
  const Nanos start = kSec;
  for (const BucketKey& k : peers) ASSERT_EQ(burst(t, k, cfg.invite, start, 30), 30);  // 10 left
  ASSERT_EQ(burst(t, flooder, cfg.invite, start, 100), 40);                            // empty

  constexpr int kSpoofed = 2'000'000;
  constexpr int kPerPeriod = 50'000;  // one spoofed source per us: a 50 ms period
  int peer_ok = 0, peer_sent = 0, flooder_ok = 0, periods = 0;
  Nanos now = start;
  for (int i = 1; i <= kSpoofed; ++i) {
    now = start + static_cast<Nanos>(i) * 1000;
    t.consume(v4_key(next_spoofed++), cfg.sip_all, now);
    if (i % kPerPeriod == 0) {
      ++periods;
      for (const BucketKey& k : peers) {  // exactly the allowed 20/s
        peer_ok += t.consume(k, cfg.invite, now) ? 1 : 0;
        ++peer_sent;
      }
      flooder_ok += burst(t, flooder, cfg.invite, now, 2);  // twice the allowed rate
    }
  }
  ASSERT_EQ(periods, 40);
  EXPECT_EQ(peer_ok, peer_sent);
  EXPECT_EQ(flooder_ok, periods);  // one token per period, never a fresh bucket of 40
  for (const BucketKey& k : peers) EXPECT_EQ(t.tokens(k, cfg.invite, now), 10u);
  EXPECT_EQ(t.tokens(flooder, cfg.invite, now), 0u);
  EXPECT_EQ(burst(t, flooder, cfg.invite, now, 40), 0);

  const TableStats s = t.stats();
  EXPECT_EQ(s.size, t.capacity());
  EXPECT_GE(s.evictions_idle + s.evictions_busy, static_cast<uint64_t>(kSpoofed));
  EXPECT_EQ(s.inserts - s.evictions_idle - s.evictions_busy, s.size);
}

std::vector<bool> run_random_sequence(TokenBucketTable& t, uint64_t rng_seed, bool prefetch) {
  std::mt19937_64 rng(rng_seed);
  std::vector<bool> out;
  const RateLimitConfig cfg;
  Nanos now = 0;
  for (int i = 0; i < 200'000; ++i) {
    now += rng() % (2 * kMs);
    if (rng() % 100 == 0) now -= std::min<Nanos>(now, rng() % (10 * kMs));  // jitter backwards
    const auto cls = static_cast<LimitClass>(rng() % kLimitClassCount);
    const BucketKey k = make_key(IpAddress::v4(static_cast<uint32_t>(rng() % 2000)),
                                 static_cast<uint16_t>(rng() % 4), cls, cfg);
    if (prefetch) t.prefetch(k);
    out.push_back(t.consume(k, cfg.params(cls), now));
  }
  return out;
}

TEST(TokenBucketTable, SameSeedAndInputsGiveTheSameResults) {
  // 256 slots for ~8000 keys: evictions all the time, so the layout matters too.
  TokenBucketTable a(256, 7), b(256, 7), c(256, 7);
  const std::vector<bool> ra = run_random_sequence(a, 99, false);
  EXPECT_EQ(ra, run_random_sequence(b, 99, false));
  EXPECT_EQ(ra, run_random_sequence(c, 99, true));  // prefetch changes nothing
  EXPECT_EQ(a.stats(), b.stats());
  EXPECT_EQ(a.stats(), c.stats());
  EXPECT_GT(a.stats().evictions_busy + a.stats().evictions_idle, 0u);
}

TEST(TokenBucketTable, WithoutEvictionsTheSeedDoesNotChangeVerdicts) {
  TokenBucketTable a(65536, 1), b(65536, 0xdeadbeef);
  EXPECT_EQ(run_random_sequence(a, 5, false), run_random_sequence(b, 5, false));
  EXPECT_EQ(a.stats().evictions_busy + a.stats().evictions_idle, 0u);
}

}  // namespace
}  // namespace sipwall
