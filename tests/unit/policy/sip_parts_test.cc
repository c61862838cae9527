// The SIP helpers of the control plane: name-addr parts, URI user and host, parameters, the
// first via-parm.
#include <gtest/gtest.h>

#include "sip/sip_address_parts.h"
#include "sip/sip_via_parts.h"

namespace sipwall {
namespace {

TEST(SipAddressParts, NameAddrAndAddrSpec) {
  auto p = sip_split_name_addr("\"Al <ice>\" <sip:alice@example.com;transport=tcp>;tag=abc");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->uri, "sip:alice@example.com;transport=tcp");
  EXPECT_EQ(p->params, ";tag=abc");
  p = sip_split_name_addr("sip:bob@example.com;tag=9");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->uri, "sip:bob@example.com");
  EXPECT_EQ(p->params, ";tag=9");
  EXPECT_FALSE(sip_split_name_addr("<sip:x@y"));
}

TEST(SipAddressParts, UriUser) {
  EXPECT_EQ(sip_uri_user("sip:alice@example.com"), "alice");
  EXPECT_EQ(sip_uri_user("SIPS:alice:secret@example.com"), "alice");
  EXPECT_EQ(sip_uri_user("sip:example.com"), "");
  EXPECT_EQ(sip_uri_user("tel:+15551234;phone-context=x"), "+15551234");
  EXPECT_EQ(sip_uri_user("mailto:a@b"), "");
}

TEST(SipAddressParts, UriHostPort) {
  auto h = sip_uri_hostport("sip:alice@192.0.2.1:5070;lr");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->host, "192.0.2.1");
  EXPECT_EQ(h->port, 5070);
  h = sip_uri_hostport("sip:[2001:db8::1]");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->host, "[2001:db8::1]");
  EXPECT_EQ(h->port, 0);
  EXPECT_FALSE(sip_uri_hostport("sip:host:99999"));
  EXPECT_FALSE(sip_uri_hostport("tel:+1555"));
}

TEST(SipAddressParts, Params) {
  EXPECT_EQ(sip_param(";tag=abc;lr", "TAG"), "abc");
  EXPECT_EQ(sip_param(";tag=abc;lr", "lr"), "");
  EXPECT_FALSE(sip_param(";tag=abc;lr", "ta"));
  EXPECT_EQ(sip_param(";x=\"a;b\";branch=z9", "branch"), "z9");
}

TEST(SipViaParts, FirstViaParm) {
  auto v = sip_first_via("SIP / 2.0 / UDP 192.0.2.1:5060;branch=z9hG4bKx;rport, SIP/2.0/TCP h");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->transport, "UDP");
  EXPECT_EQ(v->host, "192.0.2.1");
  EXPECT_EQ(v->port, 5060);
  EXPECT_EQ(v->params, ";branch=z9hG4bKx;rport");
  EXPECT_EQ(v->rest, "SIP/2.0/TCP h");
  v = sip_first_via("SIP/2.0/TLS [2001:db8::1]:5061");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->transport, "TLS");
  EXPECT_EQ(v->host, "[2001:db8::1]");
  EXPECT_EQ(v->port, 5061);
  EXPECT_TRUE(v->rest.empty());
  EXPECT_FALSE(sip_first_via("garbage"));
}

}  // namespace
}  // namespace sipwall
