#include "sip/sip_uri.h"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>

#include "common/sanitizer.h"
#include "sip/sip_header_values.h"

namespace sipwall {
namespace {

TEST(SipHost, AcceptsHostnamesIpv4AndBracketedIpv6) {
  for (const char* h : {"example.com", "example.com.", "a", "a-b.c-d.example", "x1.y2.z",
                        "192.0.2.1", "0.0.0.0", "255.255.255.255", "[2001:db8::10]", "[::1]",
                        "[::ffff:192.0.2.2]", "[2001:db8:::192.0.2.1]", "[2001:db8::10:5070]"}) {
    EXPECT_TRUE(sip_host_is_valid(h)) << h;
  }
}

TEST(SipHost, RejectsMalformedHosts) {
  for (const char* h : {"", ".", "-a.com", "a-.com", "a..b", "example.123", "256.1.1.1", "1.2.3",
                        "1.2.3.4.5", "1.2.3.0004", "a_b.com", "exa mple.com", "[]", "[::g]",
                        "[2001:db8::10", "2001:db8::10]", "[1.2.3.4]", "[::1]x"}) {
    EXPECT_FALSE(sip_host_is_valid(h)) << h;
  }
}

TEST(SipPort, DigitsUpTo65535) {
  EXPECT_TRUE(sip_port_is_valid("5060"));
  EXPECT_TRUE(sip_port_is_valid("0"));
  EXPECT_TRUE(sip_port_is_valid("65535"));
  EXPECT_TRUE(sip_port_is_valid("05060"));
  EXPECT_FALSE(sip_port_is_valid(""));
  EXPECT_FALSE(sip_port_is_valid("65536"));
  EXPECT_FALSE(sip_port_is_valid("123456"));
  EXPECT_FALSE(sip_port_is_valid("50a0"));
  EXPECT_FALSE(sip_port_is_valid("-1"));
}

TEST(SipHostport, SplitsHostAndPort) {
  std::string_view host;
  ASSERT_TRUE(sip_hostport_is_valid("[2001:db8::10]:5070", &host));
  EXPECT_EQ(host, "[2001:db8::10]");
  ASSERT_TRUE(sip_hostport_is_valid("example.com:5060", &host));
  EXPECT_EQ(host, "example.com");
  EXPECT_FALSE(sip_hostport_is_valid("example.com:"));
  EXPECT_FALSE(sip_hostport_is_valid("[2001:db8::10]5070"));
  EXPECT_FALSE(sip_hostport_is_valid("2001:db8::10"));  // RFC 5118 4.2: brackets are mandatory
}

TEST(SipUri, AcceptsSipUriForms) {
  for (const char* u :
       {"sip:example.com", "sips:user@example.com:5061", "SIP:user@EXAMPLE.com",
        "sip:user;par=u%40example.net@example.com", "sip:sips%3Auser%40example.com@example.net",
        "sip:null-%00-null@example.com", "sip:user:secret@example.com", "sip:user:@example.com",
        "sip:[2001:db8::10]", "sip:[2001:db8::10]:5070", "sip:user@[2001:db8:::192.0.2.1]",
        "sip:example.com;lr", "sip:example.com;transport=tcp;lr",
        "sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31",
        "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too."
        "(doesn't-it)@example.com",
        "sip:+19725552222@gw1.example.net;unknownparam"}) {
    EXPECT_TRUE(sip_uri_is_valid(u, false)) << u;
  }
}

TEST(SipUri, RejectsBrokenSipUris) {
  for (const char* u :
       {"", "sip:", "sip:@example.com", "sip:user@", "sip:2001:db8::10", "sip:example.com;",
        "sip:example.com;;lr", "sip:example.com;a=", "sip:us er@example.com",
        "sip:user@exa mple.com", "sip:%4@example.com", "sip:user@example.com:port", "sip:a@b@c.com",
        "sip:user@example.com>", "1sip:example.com", "sip example.com", ":example.com"}) {
    EXPECT_FALSE(sip_uri_is_valid(u, true)) << u;
  }
}

TEST(SipUri, HeadersOnlyWhenAllowed) {
  const char* uri = "sip:user@example.com?Route=%3Csip:example.com%3E";
  EXPECT_TRUE(sip_uri_is_valid(uri, true));
  EXPECT_FALSE(sip_uri_is_valid(uri, false));
  EXPECT_TRUE(sip_uri_is_valid("sip:a@b.com?x=1&y=", true));
  EXPECT_FALSE(sip_uri_is_valid("sip:a@b.com?", true));
  EXPECT_FALSE(sip_uri_is_valid("sip:a@b.com?x", true));
  EXPECT_FALSE(sip_uri_is_valid("sip:a@b.com?x=1&&y=2", true));
}

TEST(SipUri, OtherSchemesNeedOnlyUricCharacters) {
  for (const char* u :
       {"nobodyKnowsThisScheme:totallyopaquecontent", "soap.beep://192.0.2.103:3002",
        "http://www.example.com", "isbn:2983792873", "name:John_Smith", "tel:+1-201-555-0123"}) {
    EXPECT_TRUE(sip_uri_is_valid(u, false)) << u;
  }
  EXPECT_FALSE(sip_uri_is_valid("tel:", false));
  EXPECT_FALSE(sip_uri_is_valid("http://a b", false));
  EXPECT_FALSE(sip_uri_is_valid("http://a\"b", false));
  EXPECT_FALSE(sip_uri_is_valid("http://a?b=c", false));
  EXPECT_TRUE(sip_uri_is_valid("http://a?b=c", true));
}

// The `lim` overloads may load up to lim; a lim the caller got wrong is caught in debug builds
// (before the value's end) and under ASan (past the allocation), not read silently.
#ifndef NDEBUG
TEST(SipLimDeathTest, LimBeforeTheEndOfTheValueIsCaught) {
  const std::string uri = "sip:alice@example.com";
  EXPECT_DEATH(sip_uri_is_valid(uri, true, uri.data() + 3), "lim before the end");
  size_t vias = 0;
  EXPECT_DEATH(sip_check_via(uri, vias, uri.data()), "lim before the end");
}
#ifdef SIPWALL_ASAN
TEST(SipLimDeathTest, LimPastTheAllocationIsCaught) {
  constexpr std::string_view kUri = "sip:alice@example.com";
  const auto buf = std::make_unique<char[]>(kUri.size());  // exactly the value, then a redzone
  std::memcpy(buf.get(), kUri.data(), kUri.size());
  const std::string_view v(buf.get(), kUri.size());
  EXPECT_TRUE(sip_uri_is_valid(v, true, v.data() + v.size()));
  EXPECT_DEATH(sip_uri_is_valid(v, true, v.data() + v.size() + 16), "lim past readable memory");
  EXPECT_DEATH(sip_name_addr_is_valid(v, false, v.data() + v.size() + 1),
               "lim past readable memory");
}
#endif
#endif

}  // namespace
}  // namespace sipwall
