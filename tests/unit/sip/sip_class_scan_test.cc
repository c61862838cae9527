// The validator's whole-span helpers (sip_class_scan.h) against byte loops: find_byte, Block64
// masks and ValueScanner scans, for spans of every length 0..80 that end exactly at the end of
// a heap buffer (ASan sees any read past it) and hold every class boundary.

#include "sip/sip_class_scan.h"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <string_view>

namespace sipwall::sipchar {
namespace {

// An exact-size heap copy of s.
struct Buf {
  explicit Buf(std::string_view s)
      : size(s.size()), bytes(new char[s.size() + (s.empty() ? 1 : 0)]) {
    if (!s.empty()) std::memcpy(bytes.get(), s.data(), s.size());
  }
  std::string_view view() const { return {bytes.get(), size}; }
  const char* end() const { return bytes.get() + size; }
  size_t size;
  std::unique_ptr<char[]> bytes;
};

size_t naive_scan(std::string_view s, size_t i, uint32_t mask) {
  while (i < s.size() && is(s[i], mask)) ++i;
  return i < s.size() ? i : s.size();
}

// Random spans over octets that sit on the edges of the classes the fast paths use.
std::string random_span(std::mt19937& rng, size_t n) {
  static const std::string kAlphabet =
      std::string("aZ09-._~;=:@%?[]<>\"\\ \t\r\n,/+!*'`") + std::string("\0\x7f\x80\xff", 4);
  std::string s(n, 'a');
  for (auto& c : s) {
    // Mostly one class so runs get long, sometimes any octet of the alphabet.
    c = rng() % 4 == 0 ? kAlphabet[rng() % kAlphabet.size()] : static_cast<char>('a' + rng() % 3);
  }
  return s;
}

TEST(SipClassScan, FindByteMatchesFind) {
  std::mt19937 rng(1);
  for (size_t n = 0; n <= 80; ++n) {
    for (int k = 0; k < 40; ++k) {
      const Buf b(random_span(rng, n));
      const std::string_view s = b.view();
      for (const char c : std::string(";@>\0", 4)) {
        for (size_t from = 0; from <= n; ++from) {
          ASSERT_EQ(find_byte(s, c, from, b.end()), s.find(c, from)) << n << " " << from;
        }
      }
    }
  }
}

TEST(SipClassScan, Block64MasksMatchBytes) {
  std::mt19937 rng(2);
  for (size_t n = 0; n <= 64; ++n) {
    for (int k = 0; k < 40; ++k) {
      const Buf b(random_span(rng, n));
      const std::string_view s = b.view();
      const Block64 block(s, b.end());
      uint64_t token = 0;
      uint64_t param = 0;
      uint64_t semi = 0;
      for (size_t i = 0; i < n; ++i) {
        token |= static_cast<uint64_t>(is(s[i], kToken)) << i;
        param |= static_cast<uint64_t>(is(s[i], kParam)) << i;
        semi |= static_cast<uint64_t>(s[i] == ';') << i;
      }
      const uint64_t live = n == 64 ? ~uint64_t{0} : (uint64_t{1} << n) - 1;
      ASSERT_EQ(block.live(), live);
      ASSERT_EQ(block.bits<kToken>(), token) << n;
      ASSERT_EQ(block.bits<kParam>(), param) << n;
      ASSERT_EQ(block.eq(';'), semi) << n;
    }
  }
}

// Every class Block64 serves (from the packed byte lookup with AVX512-VBMI, from the nibble
// tables otherwise), for every octet value at every position of spans of every length.
template <uint32_t M>
void expect_block_bits(const Block64& block, std::string_view s) {
  uint64_t want = 0;
  for (size_t i = 0; i < s.size(); ++i) want |= static_cast<uint64_t>(is(s[i], M)) << i;
  ASSERT_EQ(block.bits<M>(), want) << s.size() << " class " << M;
}

TEST(SipClassScan, Block64ClassesForEveryOctet) {
  for (size_t n = 0; n <= 64; ++n) {
    for (unsigned first = 0; first < 256; first += 7) {
      std::string span(n, '\0');
      for (size_t i = 0; i < n; ++i) span[i] = static_cast<char>((first + i * 13) & 0xff);
      const Buf b(span);
      const Block64 block(b.view(), b.end());
      expect_block_bits<kToken>(block, b.view());
      expect_block_bits<kDigit>(block, b.view());
      expect_block_bits<kHostname>(block, b.view());
      expect_block_bits<kParam>(block, b.view());
      expect_block_bits<kUser>(block, b.view());
      expect_block_bits<kGenValue>(block, b.view());
      expect_block_bits<kWord>(block, b.view());
      expect_block_bits<kQdtext | kLws>(block, b.view());
      expect_block_bits<kText>(block, b.view());
    }
  }
}

TEST(SipClassScan, NextBit) {
  EXPECT_EQ(next_bit(0, 0, 7), 7u);
  EXPECT_EQ(next_bit(uint64_t{1} << 63, 0, 64), 63u);
  EXPECT_EQ(next_bit(uint64_t{1} << 63, 63, 64), 63u);
  EXPECT_EQ(next_bit(~uint64_t{0}, 64, 64), 64u);
  EXPECT_EQ(next_bit(0b1010, 2, 9), 3u);
}

TEST(SipClassScan, ValueScannerMatchesScan) {
  std::mt19937 rng(3);
  for (size_t n = 0; n <= 80; ++n) {
    for (int k = 0; k < 40; ++k) {
      const Buf b(random_span(rng, n));
      const std::string_view s = b.view();
      const ValueScanner sc(s, b.end());
      for (size_t from = 0; from <= n + 1; ++from) {
        ASSERT_EQ(sc.scan<kToken>(from), naive_scan(s, from, kToken)) << n << " " << from;
        ASSERT_EQ(sc.scan<kHostname>(from), naive_scan(s, from, kHostname)) << n << " " << from;
        ASSERT_EQ(sc.scan<kWord>(from), naive_scan(s, from, kWord)) << n << " " << from;
      }
    }
  }
}

}  // namespace
}  // namespace sipwall::sipchar
