// Scan cost of the default set. Disabled by default; run with
//   build-sig/tests/unit/sig/sig_test --gtest_also_run_disabled_tests --gtest_filter='*Bench*'
// (pin with taskset for stable numbers).

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "sig/default_signatures.h"
#include "sig/signature_scratch.h"
#include "sig/signature_set.h"
#include "sip_test_message.h"

namespace sipwall {
namespace {

// About 800 octets, typical carrier INVITE with SDP.
std::string invite(int n) {
  std::string body =
      "v=0\r\no=- 3732057672 3732057672 IN IP4 198.51.100.7\r\ns=-\r\n"
      "c=IN IP4 198.51.100.7\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0 8 18 101\r\n"
      "a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:18 G729/8000\r\n"
      "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n";
  const std::string id = std::to_string(100000 + n);
  return "INVITE sip:+4930" + id +
         "@core.example.net;user=phone SIP/2.0\r\n"
         "Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK" +
         id +
         "a8f3\r\n"
         "Via: SIP/2.0/UDP 203.0.113.4:5060;branch=z9hG4bKc0ffee" +
         id +
         "\r\n"
         "Max-Forwards: 69\r\n"
         "From: \"Carrier Caller\" <sip:+4989" +
         id + "@carrier.example.com;user=phone>;tag=" + id +
         "f00d\r\n"
         "To: <sip:+4930" +
         id +
         "@core.example.net;user=phone>\r\n"
         "Call-ID: " +
         id +
         "-77ab12cd@198.51.100.7\r\n"
         "CSeq: 102 INVITE\r\n"
         "Contact: <sip:+4989" +
         id +
         "@198.51.100.7:5060;transport=udp>\r\n"
         "Allow: INVITE, ACK, BYE, CANCEL, OPTIONS, PRACK, UPDATE, INFO\r\n"
         "Supported: 100rel, timer, replaces\r\n"
         "Session-Expires: 1800;refresher=uac\r\n"
         "P-Asserted-Identity: <sip:+4989" +
         id +
         "@carrier.example.com;user=phone>\r\n"
         "User-Agent: Oracle Communications Session Border Controller\r\n"
         "Content-Type: application/sdp\r\n"
         "Content-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

TEST(SigBench, DISABLED_DefaultSetCleanInvite) {
  auto compiled = SignatureSet::compile(default_signature_rules());
  ASSERT_TRUE(compiled) << compiled.error;
  SignatureScratch scratch;
  ASSERT_EQ(scratch.reserve(*compiled.set), "");

  std::vector<std::unique_ptr<test::ParsedSip>> msgs;
  size_t bytes = 0;
  // 64 messages stay in cache, as a packet the parser has just walked does.
  for (int i = 0; i < 64; ++i) {
    msgs.push_back(test::parse_sip(invite(i)));
    bytes += msgs.back()->text.size();
  }
  // Best of many short runs: on a shared VM a long average mostly measures other processes.
  constexpr int kRounds = 500;
  constexpr int kRuns = 40;
  size_t drops = 0;
  double ns = 1e12;
  for (int run = 0; run < kRuns; ++run) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int round = 0; round < kRounds; ++round) {
      for (auto& m : msgs) drops += compiled.set->scan(m->msg, scratch).dropped();
    }
    const auto t1 = std::chrono::steady_clock::now();
    ns = std::min(ns, std::chrono::duration<double, std::nano>(t1 - t0).count() /
                          (static_cast<double>(kRounds) * static_cast<double>(msgs.size())));
  }
  std::printf("default set (%zu rules, %zu dbs): %.1f ns/msg, avg %zu B/msg, drops %zu\n",
              compiled.set->size(), compiled.set->database_count(), ns, bytes / msgs.size(), drops);
  EXPECT_EQ(drops, 0u);
}

}  // namespace
}  // namespace sipwall
