#include "common/ip_address.h"

#include <gtest/gtest.h>

namespace sipwall {
namespace {

TEST(IpAddress, ParsesBothFamiliesAndPrintsThemBack) {
  const auto a = IpAddress::parse("192.0.2.7");
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->is_v4());
  EXPECT_EQ(a->v4_host_order(), 0xC0000207u);
  EXPECT_EQ(a->to_string(), "192.0.2.7");
  const auto b = IpAddress::parse("2001:db8::1");
  ASSERT_TRUE(b);
  EXPECT_FALSE(b->is_v4());
  EXPECT_EQ(b->to_string(), "2001:db8::1");
  EXPECT_FALSE(IpAddress::parse("2001:db8::1::2"));
  EXPECT_FALSE(IpAddress::parse("300.1.1.1"));
  EXPECT_FALSE(IpAddress::parse(""));
}

TEST(IpAddress, MaskClearsHostBitsOnly) {
  const auto a = *IpAddress::parse("2001:db8:1:2:3:4:5:6");
  EXPECT_EQ(a.masked(64).to_string(), "2001:db8:1:2::");
  EXPECT_EQ(a.masked(60).to_string(), "2001:db8:1::");
  EXPECT_EQ(a.masked(128), a);
  EXPECT_EQ(IpAddress::v4(0xC0A80A0Bu).masked(20).to_string(), "192.168.0.0");
  EXPECT_EQ(IpAddress::v4(0xC0A80A0Bu).masked(0).to_string(), "0.0.0.0");
}

// Every prefix length against a bit-by-bit reference: masked() works on 64-bit words, so the
// lengths at and around the word boundary are where it could go wrong.
TEST(IpAddress, MaskMatchesBitByBitReferenceAtEveryLength) {
  for (const char* text : {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "2001:db8:a5a5:5a5a:1:2:3:4",
                           "255.255.255.255", "203.0.113.77"}) {
    const IpAddress a = *IpAddress::parse(text);
    for (unsigned len = 0; len <= 130; ++len) {
      IpAddress expected = a;
      for (unsigned bit = 0; bit < 128; ++bit) {
        if (bit >= len && bit < a.bit_width()) {
          expected.bytes[bit / 8] &= static_cast<uint8_t>(~(0x80u >> (bit % 8)));
        }
      }
      EXPECT_EQ(a.masked(len), expected) << text << "/" << len;
    }
  }
}

TEST(IpPrefix, ParsesContainsAndRejectsBadLengths) {
  const auto p = IpPrefix::parse("10.1.2.3/8");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->to_string(), "10.0.0.0/8");
  EXPECT_TRUE(p->contains(*IpAddress::parse("10.200.0.1")));
  EXPECT_FALSE(p->contains(*IpAddress::parse("11.0.0.1")));
  EXPECT_FALSE(p->contains(*IpAddress::parse("::a00:1")));
  EXPECT_EQ(IpPrefix::parse("2001:db8::5")->length, 128);
  EXPECT_FALSE(IpPrefix::parse("10.0.0.0/33"));
  EXPECT_FALSE(IpPrefix::parse("10.0.0.0/"));
  EXPECT_FALSE(IpPrefix::parse("10.0.0.0/8x"));
}

}  // namespace
}  // namespace sipwall
