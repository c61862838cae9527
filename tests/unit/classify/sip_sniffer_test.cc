#include "classify/sip_sniffer.h"

#include <gtest/gtest.h>

#include <string_view>
#include <vector>

namespace sipwall {
namespace {

bool sniff(std::string_view s) {
  return looks_like_sip({reinterpret_cast<const uint8_t*>(s.data()), s.size()});
}

TEST(SipSniffer, RecognisesRequestAndStatusLines) {
  EXPECT_TRUE(sniff("SIP/2.0 100 Trying\r\n"));
  EXPECT_TRUE(sniff("INVITE sip:bob@example.com SIP/2.0\r\n"));
  EXPECT_TRUE(sniff("REGISTER sips:example.com SIP/2.0\r\n"));
  EXPECT_TRUE(sniff("OPTIONS tel:+4930123 SIP/2.0\r\n"));
  EXPECT_TRUE(sniff("RE%47IST%45R sip:x SIP/2.0\r\n"));  // unusual but legal method token
  EXPECT_TRUE(sniff("FOO soap.beep://x SIP/2.0\r\n"));
}

TEST(SipSniffer, LeavesOtherPayloadsAlone) {
  EXPECT_FALSE(sniff(""));
  EXPECT_FALSE(sniff("SIP/2.0"));
  EXPECT_FALSE(sniff("GET / HTTP/1.1\r\n"));  // no scheme: "/" is not a letter
  EXPECT_FALSE(sniff("INVITE sip"));          // cut before the ':'
  EXPECT_FALSE(sniff(" INVITE sip:x"));
  EXPECT_FALSE(sniff("INVITE  sip:x"));
  EXPECT_FALSE(sniff("\r\n\r\n"));
}

TEST(SipSniffer, NeverClaimsRtpOrRtcp) {
  // Every RTP/RTCP version-2 packet starts with 0x80-0xBF.
  for (unsigned first = 0x80; first <= 0xBF; ++first) {
    std::vector<uint8_t> pkt = {
        static_cast<uint8_t>(first), 'N', 'V', 'I', 'T', 'E', ' ', 's', 'i', 'p', ':', 'x'};
    EXPECT_FALSE(looks_like_sip(pkt)) << first;
  }
}

}  // namespace
}  // namespace sipwall
