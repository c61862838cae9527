#include "sip/sip_header_values.h"

#include <gtest/gtest.h>

#include <string>

namespace sipwall {
namespace {

using namespace std::literals;

TEST(SipCseq, NumberLwsMethod) {
  uint32_t n = 0;
  std::string_view m;
  ASSERT_TRUE(sip_parse_cseq("0009\r\n  INVITE", n, m));
  EXPECT_EQ(n, 9u);
  EXPECT_EQ(m, "INVITE");
  ASSERT_TRUE(sip_parse_cseq("2147483647 RE%47IST%45R", n, m));
  EXPECT_EQ(n, 2147483647u);
  EXPECT_EQ(m, "RE%47IST%45R");
  EXPECT_TRUE(sip_parse_cseq("0 ACK", n, m));
  for (const char* bad :
       {"", "INVITE", "1", "1INVITE", "-1 INVITE", "2147483648 INVITE",
        "36893488147419103232 REGISTER", "1 INVITE x", "1 INV@TE", "1.5 BYE", " 1 BYE"}) {
    EXPECT_FALSE(sip_parse_cseq(bad, n, m)) << bad;
  }
}

TEST(SipMaxForwards, DigitsUpTo255) {
  uint8_t h = 0;
  ASSERT_TRUE(sip_parse_max_forwards("0068", h));
  EXPECT_EQ(h, 68);
  ASSERT_TRUE(sip_parse_max_forwards("255", h));
  EXPECT_EQ(h, 255);
  EXPECT_TRUE(sip_parse_max_forwards("0", h));
  for (const char* bad : {"", "256", "300", "-1", "7 0", "0x10", "99999999999999999999999"}) {
    EXPECT_FALSE(sip_parse_max_forwards(bad, h)) << bad;
  }
}

TEST(SipContentLength, DigitsAndSaturation) {
  size_t n = 0;
  ASSERT_TRUE(sip_parse_content_length("0", n));
  EXPECT_EQ(n, 0u);
  ASSERT_TRUE(sip_parse_content_length("00150", n));
  EXPECT_EQ(n, 150u);
  ASSERT_TRUE(sip_parse_content_length("99999999999999999999999999", n));
  EXPECT_GT(n, size_t{1} << 40);
  for (const char* bad : {"", "-999", "+1", "1 2", "12a", "1.0"}) {
    EXPECT_FALSE(sip_parse_content_length(bad, n)) << bad;
  }
}

TEST(SipCallId, WordAtWord) {
  EXPECT_TRUE(sip_call_id_is_valid("a84b4c76e66710@pc33.atlanta.com"));
  EXPECT_TRUE(sip_call_id_is_valid("intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{"));
  EXPECT_TRUE(sip_call_id_is_valid("SSG9559905523997077@hlau_4100"));
  EXPECT_FALSE(sip_call_id_is_valid(""));
  EXPECT_FALSE(sip_call_id_is_valid("a@"));
  EXPECT_FALSE(sip_call_id_is_valid("@b"));
  EXPECT_FALSE(sip_call_id_is_valid("a@b@c"));
  EXPECT_FALSE(sip_call_id_is_valid("a b"));
}

ViaCheck via(std::string_view v, size_t* count = nullptr) {
  size_t n = 0;
  const ViaCheck r = sip_check_via(v, n);
  if (count != nullptr) *count = n;
  return r;
}

TEST(SipVia, AcceptsRfcForms) {
  size_t n = 0;
  EXPECT_EQ(via("SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKkdjuw", &n), ViaCheck::ok);
  EXPECT_EQ(n, 1u);
  EXPECT_EQ(via("SIP  /   2.0\r\n /UDP\r\n    192.0.2.2;branch=390skdjuw"), ViaCheck::ok);
  EXPECT_EQ(via("SIP  / 2.0  / TCP     spindle.example.com   ;\r\n  branch  =   z9hG4bK9ikj8  ,"
                "\r\n SIP  /    2.0   / UDP  192.168.255.111   ; branch=\r\n z9hG4bK30239",
                &n),
            ViaCheck::ok);
  EXPECT_EQ(n, 2u);
  EXPECT_EQ(via("SIP/2.0/UDP [2001:db8::9:1];received=2001:db8::9:255;branch=z9hG4bKas3"),
            ViaCheck::ok);
  EXPECT_EQ(via("SIP/2.0/UDP [2001:db8::9:1];received=[2001:db8::9:255];branch=z9hG4bKas3"),
            ViaCheck::ok);
  EXPECT_EQ(via("SIP/2.0/UDP [::ffff:192.0.2.10]:19823;branch=z9hG4bKbh19"), ViaCheck::ok);
  EXPECT_EQ(via("SIP/2.0/UDP host.example.com : 5060 ;rport;branch=x"), ViaCheck::ok);
  EXPECT_EQ(via("sip/2.0/UNKNOWN t4.example.com;branch=\"quoted;,\""), ViaCheck::ok);
  EXPECT_EQ(via("SIP/2.0/UDP iftgw.example.com"), ViaCheck::ok);
}

TEST(SipVia, RejectsBrokenValues) {
  for (const char* bad : {"",
                          "SIP/2.0/UDP 192.0.2.15;;,;,,",
                          "SIP/2.0/UDP a.com,,SIP/2.0/UDP b.com",
                          "SIP/2.0/UDP a.com,",
                          ",SIP/2.0/UDP a.com",
                          "SIP/2.0/UDP a.com;",
                          "SIP/2.0/UDP a.com;=x",
                          "SIP/2.0/UDP a.com;branch=",
                          "SIP/7.0/UDP c.example.com",
                          "HTTP/2.0/UDP a.com",
                          "SIP/2.0 a.com",
                          "SIP/2.0/UDP",
                          "SIP/2.0/UDPa.com",
                          "SIP/2.0/UDP a.com:99999",
                          "SIP/2.0/UDP a.com:",
                          "SIP/2.0/UDP 2001:db8::1",
                          "SIP/2.0/UDP [2001:db8::1",
                          "SIP/2.0/UDP a_b.com",
                          "SIP/2.0/UDP a.com x",
                          "SIP/2.0/UDP a.com;b=\"open"}) {
    EXPECT_EQ(via(bad), ViaCheck::bad) << bad;
  }
}

TEST(SipVia, BroadcastSentBy) {
  EXPECT_EQ(via("SIP/2.0/UDP 255.255.255.255;branch=z9hG4bK1saber23"), ViaCheck::broadcast);
  EXPECT_EQ(via("SIP/2.0/UDP a.com, SIP/2.0/UDP 255.255.255.255:5060"), ViaCheck::broadcast);
  EXPECT_EQ(via("SIP/2.0/UDP 255.255.255.254"), ViaCheck::ok);
}

TEST(SipNameAddr, AcceptsRfcForms) {
  for (const char* v :
       {"sip:user@example.com", "<sip:user@example.com>", "<sip:user@example.com>;tag=1",
        "\"J Rosenberg \\\\\\\"\"       <sip:jdrosen@example.com>\r\n  ;\r\n  tag = 98asjd8",
        "sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n",
        "caller<sip:caller@example.com>;tag=323", "A. Bell <sip:a.g.bell@example.com>;tag=x",
        "token1~` token2'+_ token3*%!.- <sip:mundane@example.com>;fromParam''~+*_!.-%="
        "\"\xd1\x80\xd0\xb0\";tag=_token~1'+`*%!-.",
        "\"BEL:\\\x07 DEL:\\\x7f\" <sip:x@example.com>", "isbn:2983792873",
        "<http://www.example.com>;tag=3234233", "\"Watson, Thomas\" <sip:t.watson@example.org>",
        "<sip:a@b.com?Route=%3Csip:c.com%3E>", "\"\" <sip:a@b.com>",
        "<sip:ted@[::ffff:192.0.2.2]>"}) {
    EXPECT_TRUE(sip_name_addr_is_valid(v, false)) << v;
    EXPECT_TRUE(sip_name_addr_is_valid(v, true)) << v;
  }
  // A raw NUL as a quoted-pair (intmeth.dat) needs an explicit length.
  EXPECT_TRUE(sip_name_addr_is_valid("\"NUL:\\\0x\" <sip:x@example.com>"sv, false));
  // ... but not as raw qdtext.
  EXPECT_FALSE(sip_name_addr_is_valid("\"NUL:\0x\" <sip:x@example.com>"sv, false));
}

TEST(SipNameAddr, StrictRejectionsLiberalAllowances) {
  // Liberal-only: LWS inside < > and unquoted display names with non-token characters.
  for (const char* v : {"\"Watson, Thomas\" < sip:t.watson@example.org >",
                        "Bell, Alexander <sip:a.g.bell@example.com>;tag=43",
                        "Watson, Thomas <sip:t.watson@example.org>", "Mr. @ Home <sip:a@b.com>"}) {
    EXPECT_FALSE(sip_name_addr_is_valid(v, false)) << v;
    EXPECT_TRUE(sip_name_addr_is_valid(v, true)) << v;
  }
  // Rejected by both profiles.
  for (const char* v :
       {"", "\"Mr. J. User <sip:j.user@example.com>", "<sip:a@b.com", "<>", "<sip:a@b.com>;",
        "<sip:a@b.com>;;tag=1", "<sip:a@b.com> x", "sip:a@b.com?Route=x", "sip:a@b.com,sip:c@d.com",
        "\"a\" sip:a@b.com", "<sip:a@b.com>;tag=\"open", "\"a\\\r\n\" <sip:a@b.com>",
        "\"raw\x01\" <sip:a@b.com>", "<sip:2001:db8::1>", "Bell, \"A\" <sip:a@b.com>"}) {
    EXPECT_FALSE(sip_name_addr_is_valid(v, false)) << v;
    EXPECT_FALSE(sip_name_addr_is_valid(v, true)) << v;
  }
}

TEST(SipContact, StarListsAndParams) {
  for (const char* v :
       {"*", "<sip:a@b.com>", "<sip:a@b.com>, <sip:c@d.com>;q=0.5",
        "\"Quoted string \\\"\\\"\" <sip:jdrosen@example.com> ; newparam =\r\n      newvalue ;"
        "\r\n  secondparam ; q = 0.33",
        "\"Joe, the \\\"boss\\\"\" <sip:joe@example.org;a=b>;x, sip:c@d.com",
        "sip:+19725552222@gw1.example.net;unknownparam", "<name:John_Smith>",
        "<sip:user@example.com?Route=%3Csip:sip.example.com%3E>",
        "\r\n  <sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31>"}) {
    EXPECT_TRUE(sip_contact_is_valid(v, false)) << v;
  }
  for (const char* v : {"\"Joe\" <sip:joe@example.org>;;;;", "<sip:a@b.com>,,<sip:c@d.com>",
                        "<sip:a@b.com>,", ",<sip:a@b.com>", "*, <sip:a@b.com>",
                        "sip:user@example.com?Route=%3Csip:sip.example.com%3E", ""}) {
    EXPECT_FALSE(sip_contact_is_valid(v, false)) << v;
    EXPECT_FALSE(sip_contact_is_valid(v, true)) << v;
  }
}

TEST(SipDate, StrictNeedsGmt) {
  EXPECT_TRUE(sip_date_is_valid("Sat, 15 Oct 2005 04:44:56 GMT"));
  EXPECT_FALSE(sip_date_is_valid("Fri, 01 Jan 2010 16:00:00 EST"));
  EXPECT_FALSE(sip_date_is_valid("GMT"));
  EXPECT_FALSE(sip_date_is_valid("16:00:00GMT"));
  EXPECT_FALSE(sip_date_is_valid(""));
}

}  // namespace
}  // namespace sipwall
