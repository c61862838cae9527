// The stateless relay's rewriting: a request to the core and its response back, replies made
// here, Max-Forwards, Route consumption, credentials consumed.
#include "control/relay/stateless_relay.h"

#include <gtest/gtest.h>

#include <string>

#include "sip/sip_validator.h"

namespace sipwall::relay {
namespace {

const RelayAddress kSelf{"192.0.2.10", 5060};

class RelayTest : public ::testing::Test {
 protected:
  SipMessage parse(const std::string& text) {
    SipMessage m;
    EXPECT_EQ(validator_.validate(text, m), SipError::ok) << text;
    return m;
  }
  SipValidator validator_{SipValidatorConfig{}};
  SipValidator second_{SipValidatorConfig{}};
  Inbound in_{*IpAddress::parse("203.0.113.5"), 40000, policy::Transport::udp, 0};
};

const std::string kInvite =
    "INVITE sip:bob@sip.example.com SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKabc;rport\r\n"
    "Route: <sip:192.0.2.10:5060;lr>, <sip:core.example.com;lr>\r\n"
    "Max-Forwards: 5\r\n"
    "From: <sip:alice@sip.example.com>;tag=1\r\n"
    "To: <sip:bob@sip.example.com>\r\n"
    "Call-ID: x1@10.0.0.5\r\n"
    "CSeq: 1 INVITE\r\n"
    "Proxy-Authorization: Digest username=\"alice\"\r\n"
    "X-Custom:  kept   as is\r\n"
    "Content-Length: 4\r\n"
    "\r\n"
    "body";

TEST_F(RelayTest, RequestToTheCore) {
  const SipMessage m = parse(kInvite);
  const ForwardedRequest f = forward_request(m, in_, kSelf);
  ASSERT_EQ(f.error, RelayError::ok);
  const std::string branch = relay_branch("SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKabc;rport");
  EXPECT_EQ(f.text,
            "INVITE sip:bob@sip.example.com SIP/2.0\r\n"
            "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=" +
                branch +
                "\r\n"
                "Record-Route: <sip:192.0.2.10:5060;lr>\r\n"
                "Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKabc;received=203.0.113.5;"
                "rport=40000\r\n"
                "Route: <sip:core.example.com;lr>\r\n"
                "Max-Forwards: 4\r\n"
                "From: <sip:alice@sip.example.com>;tag=1\r\n"
                "To: <sip:bob@sip.example.com>\r\n"
                "Call-ID: x1@10.0.0.5\r\n"
                "CSeq: 1 INVITE\r\n"
                "X-Custom:  kept   as is\r\n"
                "Content-Length: 4\r\n"
                "\r\n"
                "body");
  EXPECT_TRUE(branch.starts_with("z9hG4bK"));
  // The forwarded request is valid SIP.
  SipMessage again;
  EXPECT_EQ(second_.validate(f.text, again), SipError::ok);
}

TEST_F(RelayTest, BranchIsDeterministicAndCancelMatchesInvite) {
  const std::string a = forward_request(parse(kInvite), in_, kSelf).text;
  std::string cancel = kInvite;
  cancel.replace(0, 6, "CANCEL");
  cancel.replace(cancel.find("CSeq: 1 INVITE"), 14, "CSeq: 1 CANCEL");
  const std::string b = forward_request(parse(cancel), in_, kSelf).text;
  EXPECT_EQ(a.substr(a.find("\r\n") + 2, a.find("\r\n", a.find("\r\n") + 2) - a.find("\r\n")),
            b.substr(b.find("\r\n") + 2, b.find("\r\n", b.find("\r\n") + 2) - b.find("\r\n")));
}

TEST_F(RelayTest, MaxForwardsZeroIsRefused) {
  std::string t = kInvite;
  t.replace(t.find("Max-Forwards: 5"), 15, "Max-Forwards: 0");
  EXPECT_EQ(forward_request(parse(t), in_, kSelf).error, RelayError::too_many_hops);
}

TEST_F(RelayTest, RegisterGetsNoRecordRouteAndStreamsRecordTheirConnection) {
  const std::string reg =
      "REGISTER sip:sip.example.com SIP/2.0\r\n"
      "Via: SIP/2.0/TCP 10.0.0.5:5060;branch=z9hG4bKr\r\n"
      "From: <sip:alice@sip.example.com>;tag=1\r\n"
      "To: <sip:alice@sip.example.com>\r\n"
      "Call-ID: r1\r\nCSeq: 2 REGISTER\r\nContent-Length: 0\r\n\r\n";
  Inbound tcp = in_;
  tcp.transport = policy::Transport::tcp;
  tcp.connection = 77;
  const ForwardedRequest f = forward_request(parse(reg), tcp, kSelf);
  ASSERT_EQ(f.error, RelayError::ok);
  EXPECT_EQ(f.text.find("Record-Route"), std::string::npos);
  EXPECT_NE(f.text.find("\r\nPath: <sip:192.0.2.10:5060;lr>\r\n"), std::string::npos);
  EXPECT_NE(f.text.find(";sw-conn=77\r\n"), std::string::npos);
  EXPECT_NE(f.text.find("Max-Forwards: 70\r\n"), std::string::npos);
  EXPECT_NE(f.text.find(";branch=z9hG4bKr;received=203.0.113.5\r\n"), std::string::npos);
}

TEST_F(RelayTest, ResponseRoutedByTheViaUnderOurs) {
  const ForwardedRequest f = forward_request(parse(kInvite), in_, kSelf);
  // The core answers: copies the Via lines of the request it got, in order.
  std::string response = "SIP/2.0 180 Ringing\r\n";
  for (size_t at = f.text.find("\r\nVia:"); at != std::string::npos;
       at = f.text.find("\r\nVia:", at + 2)) {
    response += f.text.substr(at + 2, f.text.find("\r\n", at + 2) - at);
  }
  response +=
      "From: <sip:alice@sip.example.com>;tag=1\r\nTo: <sip:bob@sip.example.com>;tag=2\r\n"
      "Call-ID: x1@10.0.0.5\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
  const SipMessage r = parse(response);
  const RoutedResponse routed = route_response(r, kSelf);
  ASSERT_EQ(routed.error, RelayError::ok) << response;
  EXPECT_EQ(routed.destination, *IpAddress::parse("203.0.113.5"));
  EXPECT_EQ(routed.port, 40000);
  EXPECT_EQ(routed.connection, 0u);
  EXPECT_EQ(routed.text.find("192.0.2.10:5060;branch"), std::string::npos);
  EXPECT_NE(routed.text.find("Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKabc"),
            std::string::npos);
}

TEST_F(RelayTest, ResponseNotThroughUsIsRefused) {
  const std::string response =
      "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 10.0.0.5;branch=z9hG4bKabc\r\n"
      "From: <sip:a@b>;tag=1\r\nTo: <sip:b@b>;tag=2\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n"
      "Content-Length: 0\r\n\r\n";
  EXPECT_EQ(route_response(parse(response), kSelf).error, RelayError::not_ours);
}

TEST_F(RelayTest, ReplyCopiesWhatRfc3261Asks) {
  const std::string extra[] = {"Proxy-Authenticate: Digest realm=\"x\""};
  const std::string reply =
      make_reply(parse(kInvite), in_, 407, "Proxy Authentication Required", extra);
  SipMessage r;
  ASSERT_EQ(second_.validate(reply, r), SipError::ok) << reply;
  EXPECT_EQ(r.status_code, 407);
  EXPECT_TRUE(
      reply.starts_with("SIP/2.0 407 Proxy Authentication Required\r\n"
                        "Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKabc;"
                        "received=203.0.113.5;rport=40000\r\n"));
  EXPECT_NE(reply.find("To: <sip:bob@sip.example.com>;tag=sw"), std::string::npos);
  EXPECT_NE(reply.find("Proxy-Authenticate: Digest realm=\"x\"\r\n"), std::string::npos);
  EXPECT_EQ(reply.find("X-Custom"), std::string::npos);
  EXPECT_EQ(reply.find("Route"), std::string::npos);
  // The same request gets the same tag (stateless).
  EXPECT_EQ(reply, make_reply(parse(kInvite), in_, 407, "Proxy Authentication Required", extra));
}

TEST_F(RelayTest, InDialogRequestFromTheCoreGoesOutByItsRequestUri) {
  // The callee hangs up: the core's BYE carries our Record-Route as its Route.
  const std::string bye =
      "BYE sip:alice@203.0.113.5:40000 SIP/2.0\r\n"
      "Via: SIP/2.0/UDP 192.0.2.20:5060;branch=z9hG4bKcore1\r\n"
      "Route: <sip:192.0.2.10:5060;lr>\r\n"
      "Max-Forwards: 69\r\n"
      "From: <sip:bob@sip.example.com>;tag=2\r\nTo: <sip:alice@sip.example.com>;tag=1\r\n"
      "Call-ID: x1@10.0.0.5\r\nCSeq: 7 BYE\r\nContent-Length: 0\r\n\r\n";
  const Inbound core{*IpAddress::parse("192.0.2.20"), 5060, policy::Transport::udp, 0};
  const ForwardedFromCore f = forward_from_core(parse(bye), core, kSelf);
  ASSERT_EQ(f.error, RelayError::ok);
  EXPECT_EQ(f.destination, *IpAddress::parse("203.0.113.5"));
  EXPECT_EQ(f.port, 40000);
  EXPECT_EQ(f.text.find("Route:"), std::string::npos);         // ours consumed
  EXPECT_EQ(f.text.find("Record-Route:"), std::string::npos);  // in-dialog: none added
  EXPECT_NE(f.text.find("Max-Forwards: 68\r\n"), std::string::npos);
  EXPECT_TRUE(f.text.find("\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKsw") <
              f.text.find("\r\nVia: SIP/2.0/UDP 192.0.2.20:5060;branch=z9hG4bKcore1"));

  // The phone's 200 comes back with our Via on top: routed to the core.
  std::string ok = "SIP/2.0 200 OK\r\n";
  for (size_t at = f.text.find("\r\nVia:"); at != std::string::npos;
       at = f.text.find("\r\nVia:", at + 2)) {
    ok += f.text.substr(at + 2, f.text.find("\r\n", at + 2) - at);
  }
  ok +=
      "From: <sip:bob@sip.example.com>;tag=2\r\nTo: <sip:alice@sip.example.com>;tag=1\r\n"
      "Call-ID: x1@10.0.0.5\r\nCSeq: 7 BYE\r\nContent-Length: 0\r\n\r\n";
  const RoutedResponse back = route_response(parse(ok), kSelf);
  ASSERT_EQ(back.error, RelayError::ok);
  EXPECT_EQ(back.destination, *IpAddress::parse("192.0.2.20"));
  EXPECT_EQ(back.port, 5060);
}

TEST_F(RelayTest, RequestFromTheCoreFollowsTheNextRouteAndNeedsAnAddress) {
  const std::string invite =
      "INVITE sip:alice@phone.example.com SIP/2.0\r\n"
      "Via: SIP/2.0/UDP 192.0.2.20:5060;branch=z9hG4bKcore2\r\n"
      "Route: <sip:192.0.2.10:5060;lr>, <sip:198.51.100.9:5080;lr>\r\n"
      "Max-Forwards: 69\r\n"
      "From: <sip:bob@sip.example.com>;tag=2\r\nTo: <sip:alice@sip.example.com>\r\n"
      "Call-ID: y@core\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
  const Inbound core{*IpAddress::parse("192.0.2.20"), 5060, policy::Transport::udp, 0};
  const ForwardedFromCore f = forward_from_core(parse(invite), core, kSelf);
  ASSERT_EQ(f.error, RelayError::ok);
  EXPECT_EQ(f.destination, *IpAddress::parse("198.51.100.9"));
  EXPECT_EQ(f.port, 5080);
  EXPECT_NE(f.text.find("Route: <sip:198.51.100.9:5080;lr>\r\n"), std::string::npos);
  EXPECT_NE(f.text.find("Record-Route: <sip:192.0.2.10:5060;lr>\r\n"), std::string::npos);
  // No Route left and a host name in the Request-URI: no DNS here, refused.
  std::string named = invite;
  named.replace(named.find("Route: "), named.find("Max-Forwards") - named.find("Route: "), "");
  EXPECT_EQ(forward_from_core(parse(named), core, kSelf).error, RelayError::unroutable);
}

}  // namespace
}  // namespace sipwall::relay
