#include "pipeline/pipeline.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "budget/shared_budget.h"
#include "frame_builder.h"
#include "limit/limit_policy.h"
#include "media_samples.h"
#include "sig/default_signatures.h"
#include "sig/signature_set.h"
#include "sip_samples.h"

namespace sipwall {
namespace {

using test::Bytes;
using test::FrameBuilder;
using test::SipSample;

constexpr Nanos kMs = kNanosPerMilli;
constexpr Nanos kSec = kNanosPerSecond;

struct Recorder : DecisionSink {
  std::map<uint64_t, Decision> decided;
  std::vector<uint64_t> order;
  void decide(uint64_t cookie, const Decision& d) override {
    EXPECT_FALSE(decided.contains(cookie)) << "packet " << cookie << " decided twice";
    decided[cookie] = d;
    order.push_back(cookie);
  }
};

Bytes rtp(uint16_t seq, size_t payload = 160, uint8_t first = 0x80, uint8_t second = 0x00) {
  Bytes b(12 + payload, 0xd5);
  const uint8_t header[12] = {first,
                              second,
                              static_cast<uint8_t>(seq >> 8),
                              static_cast<uint8_t>(seq),
                              0,
                              0,
                              0,
                              160,
                              0x12,
                              0x34,
                              0x56,
                              0x78};
  std::copy(std::begin(header), std::end(header), b.begin());
  return b;
}

class PipelineTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto compiled = SignatureSet::compile(default_signature_rules());
    ASSERT_TRUE(compiled) << compiled.error;
    signatures_ = std::move(compiled.set);
  }
  static void TearDownTestSuite() { signatures_.reset(); }

  void make(FilterConfig config = {}) {
    config.limits.table_capacity = 4096;
    pipeline_.reset();
    auto built = FilterPolicy::build(config, signatures_, 1);
    ASSERT_TRUE(built.policy) << built.error;
    policy_ = std::move(built.policy);
    pipeline_ = std::make_unique<Pipeline>(*policy_, 0);
  }
  void SetUp() override { make(); }

  Decision judge(const Bytes& frame, Nanos now = 0) {
    const uint64_t cookie = next_cookie_++;
    pipeline_->process(frame, cookie, now, sink_);
    EXPECT_TRUE(sink_.decided.contains(cookie)) << "packet " << cookie << " not decided";
    return sink_.decided[cookie];
  }

  Bytes sip_frame(const SipSample& s, std::string_view src = "198.51.100.7") {
    FrameBuilder b;
    if (src.find(':') == std::string_view::npos) {
      b.ipv4(src, "192.0.2.10");
    } else {
      b.ipv6(src, "2001:db8::10");
    }
    return b.udp(5060, 5060, test::sip_request(s));
  }

  static inline std::shared_ptr<const SignatureSet> signatures_;
  std::unique_ptr<const FilterPolicy> policy_;
  std::unique_ptr<Pipeline> pipeline_;
  Recorder sink_;
  uint64_t next_cookie_ = 1;
};

TEST_F(PipelineTest, CleanSipIsPuntedOverBothFamilies) {
  EXPECT_EQ(judge(sip_frame({})), Decision::punt());
  EXPECT_EQ(judge(sip_frame({}, "2001:db8:1::7")), Decision::punt());
  FrameBuilder b;
  EXPECT_EQ(judge(b.udp(5060, 40000, test::sip_response(200, "OK", {}))), Decision::punt());
  EXPECT_EQ(pipeline_->counters().verdict(Verdict::punt), 3u);
}

TEST_F(PipelineTest, BrokenSipIsMalformed) {
  FrameBuilder b;
  std::string bad = test::sip_request({});
  bad.replace(bad.find("SIP/2.0\r\n"), 7, "SIP/7.0");
  EXPECT_EQ(judge(b.udp(40000, 5060, bad)), Decision::drop(DropReason::malformed_sip));
  EXPECT_EQ(judge(b.udp(40000, 5060, "hello")), Decision::drop(DropReason::malformed_sip));
  const auto& errors = pipeline_->counters().sip_errors;
  EXPECT_EQ(errors[static_cast<size_t>(SipError::bad_version)], 1u);
  EXPECT_EQ(errors[static_cast<size_t>(SipError::bad_start_line)], 1u);
}

TEST_F(PipelineTest, CrlfKeepalivesArePuntedNotMalformed) {
  FrameBuilder b;
  EXPECT_EQ(judge(b.udp(40000, 5060, "\r\n\r\n")), Decision::punt());
  EXPECT_EQ(judge(b.udp(5060, 40000, "\r\n")), Decision::punt());
  EXPECT_EQ(judge(b.udp(40000, 5060, "\r\n\r\n\r\n")), Decision::drop(DropReason::malformed_sip));
  EXPECT_EQ(judge(b.udp(40000, 5060, "")), Decision::drop(DropReason::malformed_sip));
}

TEST_F(PipelineTest, ScannerIsDroppedUnderItsRule) {
  SipSample s;
  s.method = "OPTIONS";
  s.user_agent = "friendly-scanner";
  const Decision d = judge(sip_frame(s));
  ASSERT_EQ(d.verdict, Verdict::drop);
  EXPECT_EQ(d.reason, DropReason::signature);
  ASSERT_NE(d.rule, kNoRule);
  EXPECT_NE(signatures_->rule(d.rule).id.find("friendly-scanner"), std::string::npos);
  EXPECT_EQ(pipeline_->counters().signature_hits[d.rule], 1u);
}

TEST_F(PipelineTest, InviteFloodFromOneSourceStopsAtTheBurst) {
  int punted = 0;
  for (int i = 0; i < 100; ++i) {
    SipSample s;
    s.cseq = static_cast<unsigned>(i + 1);
    const Decision d = judge(sip_frame(s), static_cast<Nanos>(i) * 10'000);  // 100 in 1 ms
    if (d == Decision::punt()) {
      ++punted;
    } else {
      // The INVITE bucket (burst 40) runs dry long before the all-SIP one (burst 100).
      EXPECT_EQ(d, Decision::drop(DropReason::flood, static_cast<RuleIndex>(LimitClass::invite)));
    }
  }
  EXPECT_EQ(punted, 40);  // INVITE burst
  // INVITE refills at 20/s: the 41st token is complete 50 ms after the first packet.
  EXPECT_EQ(judge(sip_frame({}), 45 * kMs),
            Decision::drop(DropReason::flood, static_cast<RuleIndex>(LimitClass::invite)));
  EXPECT_EQ(judge(sip_frame({}), 55 * kMs), Decision::punt());
  // Another source is unaffected.
  EXPECT_EQ(judge(sip_frame({}, "198.51.100.8"), 60 * kMs), Decision::punt());
  // A flood names its limit in `rule`; that must never count as a signature hit.
  for (const uint64_t hits : pipeline_->counters().signature_hits) EXPECT_EQ(hits, 0u);
}

TEST_F(PipelineTest, RotatingAddressesInsideOneSlash64ShareABucket) {
  int punted = 0;
  for (int i = 0; i < 60; ++i) {
    const std::string src = "2001:db8:a:b::" + std::to_string(i + 1);
    punted += judge(sip_frame({}, src), static_cast<Nanos>(i) * 1000) == Decision::punt();
  }
  EXPECT_EQ(punted, 40);
  EXPECT_EQ(judge(sip_frame({}, "2001:db8:a:c::1"), 100'000), Decision::punt());
}

TEST_F(PipelineTest, RuleFileLimitsWithMethodListsAggregationAndOverrides) {
  FilterConfig cfg;
  LimitSpec spec;
  spec.slots = {{10, {1000, 1000}, 32, 64}, {11, {1, 3}, 32, 64}, {12, {1, 2}, 24, 64}};
  spec.sip_all = {10};
  spec.methods = {{"INVITE", {11}}, {"BYE", {11}}};  // INVITE and BYE share one bucket
  spec.other_methods = {12};                         // anything else, per /24
  spec.overrides = {{*IpPrefix::parse("198.51.100.0/24"), 11, {1, 6}}};  // a trunk: burst 6
  cfg.limit_spec = spec;
  make(cfg);
  const auto flood = [](uint8_t slot) { return Decision::drop(DropReason::flood, slot); };
  const auto request = [&](const char* method, const char* src) {
    SipSample s;
    s.method = method;
    return judge(sip_frame(s, src), 1000);
  };
  EXPECT_EQ(request("INVITE", "192.0.2.7"), Decision::punt());
  EXPECT_EQ(request("BYE", "192.0.2.7"), Decision::punt());
  EXPECT_EQ(request("INVITE", "192.0.2.7"), Decision::punt());
  EXPECT_EQ(request("BYE", "192.0.2.7"), flood(11));  // the shared bucket is empty
  for (int i = 0; i < 6; ++i) EXPECT_EQ(request("INVITE", "198.51.100.7"), Decision::punt()) << i;
  EXPECT_EQ(request("INVITE", "198.51.100.7"), flood(11));  // the trunk's burst is 6, not 3
  EXPECT_EQ(request("OPTIONS", "203.0.113.1"), Decision::punt());
  EXPECT_EQ(request("REGISTER", "203.0.113.2"), Decision::punt());
  EXPECT_EQ(request("OPTIONS", "203.0.113.3"), flood(12));  // one bucket for the whole /24
  EXPECT_EQ(request("OPTIONS", "203.0.114.3"), Decision::punt());
}

TEST_F(PipelineTest, AclDeniesAndAllowListedSourcesSkipRateLimits) {
  FilterConfig cfg;
  cfg.acl = {{*IpPrefix::parse("203.0.113.0/24"), AclAction::deny},
             {*IpPrefix::parse("198.51.100.0/24"), AclAction::allow}};
  make(cfg);
  EXPECT_EQ(judge(sip_frame({}, "203.0.113.9")), Decision::drop(DropReason::acl, 0));  // entry 0
  for (int i = 0; i < 200; ++i) ASSERT_EQ(judge(sip_frame({}, "198.51.100.7")), Decision::punt());
  // Trusted sources are still validated and scanned.
  SipSample scanner;
  scanner.user_agent = "sipcli/v1.8";
  EXPECT_EQ(judge(sip_frame(scanner, "198.51.100.7")).reason, DropReason::signature);
}

TEST_F(PipelineTest, BansApplyUntilTheyExpire) {
  const AddPrefix ban{StateTable::ban, *IpPrefix::parse("198.51.100.0/24"), 10 * kSec,
                      *EntryId::parse("auth-fail-17"), Owner::control};
  ASSERT_EQ(pipeline_->apply({ban}, 0).outcome, Outcome::added);
  const Decision d = judge(sip_frame({}), 1 * kSec);
  EXPECT_EQ(d.reason, DropReason::ban);
  // The drop names the ban, so reports can print its id.
  EXPECT_EQ(pipeline_->ban_id(d.rule), "auth-fail-17");
  EXPECT_EQ(judge(sip_frame({}, "192.0.2.99"), 1 * kSec), Decision::punt());
  EXPECT_EQ(judge(sip_frame({}), 11 * kSec), Decision::punt());
  EXPECT_EQ(pipeline_->dynamic_state().bans().size(), 1u);
  // expire() reclaims the expired ban (the table is small enough for one call's budget).
  FilterConfig small;
  small.ban_capacity = kExpireBudget;
  make(small);
  ASSERT_EQ(pipeline_->apply({ban}, 0).outcome, Outcome::added);
  pipeline_->expire(10 * kSec, sink_);
  EXPECT_EQ(pipeline_->dynamic_state().bans().size(), 0u);
}

TEST_F(PipelineTest, BanDropsCountUnderTheMetricLabelTheirIdCameWith) {
  AddPrefix scan{StateTable::ban, *IpPrefix::parse("198.51.100.0/24"), 100 * kSec,
                 *EntryId::parse("scan-42"), Owner::operator_};
  scan.label = 3;
  ASSERT_EQ(pipeline_->apply({scan}, 0).outcome, Outcome::added);
  const AddPrefix unnamed{
      StateTable::ban, *IpPrefix::parse("192.0.2.99"), 100 * kSec, {}, Owner::control};
  ASSERT_EQ(pipeline_->apply({unnamed}, 0).outcome, Outcome::added);
  judge(sip_frame({}), kSec);
  judge(sip_frame({}), kSec);
  judge(sip_frame({}, "192.0.2.99"), kSec);
  EXPECT_EQ(pipeline_->counters().ban_drops[3], 2u);
  EXPECT_EQ(pipeline_->counters().ban_drops[kOtherBanLabel], 1u);
  // The control plane re-adding the operator's ban without an id keeps its id and its series.
  AddPrefix again{StateTable::ban, scan.prefix, 200 * kSec, {}, Owner::control};
  ASSERT_EQ(pipeline_->apply({again}, 0).outcome, Outcome::extended);
  judge(sip_frame({}), kSec);
  EXPECT_EQ(pipeline_->counters().ban_drops[3], 3u);
  // A new id moves the ban to the new id's series.
  AddPrefix renamed = scan;
  renamed.id = *EntryId::parse("scan-43");
  renamed.label = 4;
  ASSERT_EQ(pipeline_->apply({renamed}, 0).outcome, Outcome::exists);
  const Decision d = judge(sip_frame({}), kSec);
  EXPECT_EQ(pipeline_->ban_id(d.rule), "scan-43");
  EXPECT_EQ(pipeline_->counters().ban_drops[4], 1u);
  EXPECT_EQ(pipeline_->counters().drop(DropReason::ban), 5u);
}

TEST_F(PipelineTest, DynamicTrustAndItsRemoval) {
  const IpAddress source = *IpAddress::parse("198.51.100.7");
  EXPECT_FALSE(pipeline_->trusted_dynamic(source, 0));
  const RemovePrefix demote{StateTable::trust, *IpPrefix::parse("198.51.100.0/24")};
  AddPrefix trust{StateTable::trust, demote.prefix, 60 * kSec, {}, Owner::control};
  ASSERT_EQ(pipeline_->apply({trust}, 0).outcome, Outcome::added);
  EXPECT_TRUE(pipeline_->trusted_dynamic(source, 59 * kSec));
  EXPECT_FALSE(pipeline_->trusted_dynamic(*IpAddress::parse("198.51.101.7"), 0));
  EXPECT_FALSE(pipeline_->trusted_dynamic(source, 60 * kSec));
  trust.until = 120 * kSec;
  EXPECT_EQ(pipeline_->apply({trust}, 0).outcome, Outcome::extended);
  EXPECT_EQ(pipeline_->apply({demote}, 1).outcome, Outcome::removed);
  EXPECT_FALSE(pipeline_->trusted_dynamic(source, 2));
}

TEST_F(PipelineTest, MediaIsCheckedAndRateLimitedPerFlow) {
  FrameBuilder b;
  const auto frame = [&](const Bytes& payload, uint16_t port) {
    return b.frame(test::kProtoUdp, b.udp_segment(30000, port, payload));
  };
  EXPECT_EQ(judge(frame(rtp(1), 10000)), Decision::pass());
  EXPECT_EQ(judge(frame(rtp(2, 160, 0x40), 10000)), Decision::drop(DropReason::rtp_invalid));
  // An SRTP padding probe (P set): its last octet is the authentication tag's, not a count.
  Bytes probe = rtp(3, 160, 0xa0);
  probe.back() = 0;
  EXPECT_EQ(judge(frame(probe, 10000)), Decision::pass());
  const Bytes rtcp_rr = {0x80, 201, 0x00, 0x01, 0, 0, 0, 1};
  EXPECT_EQ(judge(frame(rtcp_rr, 10001)), Decision::pass());
  const Bytes rtcp_bad = {0x80, 199, 0x00, 0x01, 0, 0, 0, 1};
  EXPECT_EQ(judge(frame(rtcp_bad, 10001)), Decision::drop(DropReason::rtp_invalid));
  EXPECT_EQ(pipeline_->counters().rtp_errors[static_cast<size_t>(RtpCheck::rtcp_bad_type)], 1u);
  int passed = 0;
  for (uint16_t i = 0; i < 500; ++i) {
    passed += judge(frame(rtp(i), 10002), 1000 + i) == Decision::pass();
  }
  EXPECT_EQ(passed, 400);                                          // RTP burst per flow
  EXPECT_EQ(judge(frame(rtp(9), 10004), 2000), Decision::pass());  // another flow
}

// ICE, consent freshness and DTLS-SRTP share the media 5-tuple (RFC 7983); SRTCP ends in a
// trailer the strict RTCP walk does not expect.
TEST_F(PipelineTest, StunDtlsZrtpAndSrtcpOnMediaPortsPass) {
  FrameBuilder b;
  const auto frame = [&](const Bytes& payload, uint16_t port) {
    return b.frame(test::kProtoUdp, b.udp_segment(30000, port, payload));
  };
  const auto rtp_errors = [&](RtpCheck c) {
    return pipeline_->counters().rtp_errors[static_cast<size_t>(c)];
  };
  EXPECT_EQ(judge(frame(test::stun_binding_request(), 10000)), Decision::pass());
  EXPECT_EQ(judge(frame(test::stun_binding_request(), 10001)), Decision::pass());
  EXPECT_EQ(judge(frame(test::dtls_client_hello(), 10000)), Decision::pass());
  EXPECT_EQ(judge(frame(test::zrtp_hello_ack(), 10000)), Decision::pass());
  EXPECT_EQ(judge(frame(test::srtcp(10), 10001)), Decision::pass());
  EXPECT_EQ(judge(frame(test::srtcp(10), 10000)), Decision::pass());  // rtcp-mux

  Bytes stun = test::stun_binding_request();
  stun[4] = 0x22;  // not the magic cookie
  EXPECT_EQ(judge(frame(stun, 10000)), Decision::drop(DropReason::rtp_invalid));
  EXPECT_EQ(rtp_errors(RtpCheck::stun_bad_cookie), 1u);
  Bytes hello = test::dtls_client_hello();
  hello[2] = 0xfc;  // record version 0xFEFC
  EXPECT_EQ(judge(frame(hello, 10002)), Decision::drop(DropReason::rtp_invalid));
  EXPECT_EQ(rtp_errors(RtpCheck::dtls_bad_version), 1u);
  hello = test::dtls_client_hello();
  hello.pop_back();
  EXPECT_EQ(judge(frame(hello, 10002)), Decision::drop(DropReason::rtp_invalid));
  EXPECT_EQ(rtp_errors(RtpCheck::dtls_bad_length), 1u);
  EXPECT_EQ(pipeline_->counters().drop(DropReason::rtp_invalid), 3u);
  EXPECT_EQ(pipeline_->counters().verdict(Verdict::pass), 6u);
}

TEST_F(PipelineTest, StunOnMediaPortsStillCountsAgainstTheFlowBucket) {
  FrameBuilder b;
  const Bytes frame =
      b.frame(test::kProtoUdp, b.udp_segment(30000, 10000, test::stun_binding_request()));
  int passed = 0;
  for (int i = 0; i < 450; ++i) passed += judge(frame, 1000 + i) == Decision::pass();
  EXPECT_EQ(passed, 400);  // the RTP burst per flow
  EXPECT_EQ(pipeline_->counters().drop(DropReason::flood), 50u);
}

TEST_F(PipelineTest, PinholeEnforcementDropsMediaToUnopenedPorts) {
  FilterConfig cfg;
  cfg.enforce_pinholes = true;
  make(cfg);
  FrameBuilder b;
  const Bytes frame = b.frame(test::kProtoUdp, b.udp_segment(30000, 10000, rtp(1)));
  EXPECT_EQ(judge(frame, 0), Decision::drop(DropReason::rtp_no_pinhole));
  OpenPinhole open{*IpAddress::parse("198.51.100.2"), 10000, {}, {}, 5 * kSec, Owner::control};
  ASSERT_EQ(pipeline_->apply({open}, 0).outcome, Outcome::added);
  EXPECT_EQ(judge(frame, 1 * kSec), Decision::pass());
  EXPECT_EQ(judge(frame, 6 * kSec), Decision::drop(DropReason::rtp_no_pinhole));
  // A pinhole restricted to its peer's media address admits only that source.
  OpenPinhole peer_only{
      *IpAddress::parse("198.51.100.2"), 10000,     IpPrefix::parse("192.0.2.0/24"),
      *EntryId::parse("call-a"),         20 * kSec, Owner::control};
  ASSERT_EQ(pipeline_->apply({peer_only}, 6 * kSec).outcome, Outcome::added);
  EXPECT_EQ(judge(frame, 7 * kSec), Decision::pass());  // FrameBuilder's source is 192.0.2.1
  FrameBuilder other;
  other.ipv4("203.0.113.5", "198.51.100.2");
  EXPECT_EQ(judge(other.frame(test::kProtoUdp, other.udp_segment(30000, 10000, rtp(2))), 7 * kSec),
            Decision::drop(DropReason::rtp_no_pinhole));
  // Switched off by command, media passes again.
  ASSERT_EQ(pipeline_->apply({SetPinholeEnforcement{false}}, 0).outcome, Outcome::added);
  EXPECT_EQ(judge(frame, 30 * kSec), Decision::pass());
  ASSERT_EQ(pipeline_->apply({SetPinholeEnforcement{true}}, 0).outcome, Outcome::added);
  // STUN and DTLS to a closed port are no exception.
  const Bytes stun =
      b.frame(test::kProtoUdp, b.udp_segment(30000, 10002, test::stun_binding_request()));
  const Bytes dtls =
      b.frame(test::kProtoUdp, b.udp_segment(30000, 10002, test::dtls_client_hello()));
  EXPECT_EQ(judge(stun, 6 * kSec), Decision::drop(DropReason::rtp_no_pinhole));
  EXPECT_EQ(judge(dtls, 6 * kSec), Decision::drop(DropReason::rtp_no_pinhole));
}

TEST_F(PipelineTest, TransitTcpSignalingAndNonIp) {
  FrameBuilder b;
  EXPECT_EQ(judge(b.udp(40000, 53, "dns?")), Decision::pass());
  EXPECT_EQ(judge(b.tcp(40000, 443, test::kTcpSyn, "")), Decision::pass());
  EXPECT_EQ(judge(b.tcp(40000, 5061, test::kTcpSyn, "")), Decision::punt());
  EXPECT_EQ(judge(b.tcp(40000, 5060, test::kTcpAck, "INVITE ...")), Decision::punt());
  EXPECT_EQ(judge(b.ethernet(0x0806, Bytes(28, 0))), Decision::pass());  // ARP
}

TEST_F(PipelineTest, TcpConnectionAttemptsAreLimitedPerSourceAndLaterSegmentsAreNot) {
  FrameBuilder b;
  const auto flood = Decision::drop(DropReason::flood, static_cast<RuleIndex>(LimitClass::tcp_syn));
  const uint8_t syn_ack = test::kTcpSyn | test::kTcpAck;
  int punted = 0;
  for (uint16_t i = 0; i < 100; ++i) {  // 100 SYNs in 1 ms, to both SIP stream ports
    const Decision d =
        judge(b.tcp(static_cast<uint16_t>(40000 + i), i % 2 ? 5060 : 5061, test::kTcpSyn, ""),
              static_cast<Nanos>(i) * 10'000);
    if (d == Decision::punt()) {
      ++punted;
    } else {
      EXPECT_EQ(d, flood) << i;
    }
  }
  EXPECT_EQ(punted, 40);  // the SYN burst
  // The source's established connections keep flowing: only connection attempts are counted.
  for (int i = 0; i < 100; ++i) {
    ASSERT_EQ(judge(b.tcp(40000, 5060, test::kTcpAck, "INVITE ..."), kMs), Decision::punt());
  }
  EXPECT_EQ(judge(b.tcp(40000, 5061, syn_ack, ""), kMs), Decision::punt());
  // Refill at 20/s: one more attempt 50 ms later.
  EXPECT_EQ(judge(b.tcp(41000, 5060, test::kTcpSyn, ""), 60 * kMs), Decision::punt());
  EXPECT_EQ(judge(b.tcp(41001, 5060, test::kTcpSyn, ""), 61 * kMs), flood);
  // Other sources are unaffected; SYNs to transit ports are not SIP's to limit.
  FrameBuilder other;
  other.ipv4("203.0.113.5", "192.0.2.10");
  EXPECT_EQ(judge(other.tcp(40000, 5060, test::kTcpSyn, ""), 62 * kMs), Decision::punt());
  for (int i = 0; i < 50; ++i) {
    ASSERT_EQ(judge(b.tcp(40000, 443, test::kTcpSyn, ""), 62 * kMs), Decision::pass());
  }
}

TEST_F(PipelineTest, SipOnUnlistedPortsIsRecognisedByContent) {
  FrameBuilder b;
  // A registrar answering from an ephemeral port to a client port inside the media range.
  EXPECT_EQ(judge(b.udp(41983, 12484, test::sip_response(100, "Trying", {}))), Decision::punt());
  SipSample scanner;
  scanner.user_agent = "friendly-scanner";
  EXPECT_EQ(judge(b.udp(40000, 5080, test::sip_request(scanner))).reason, DropReason::signature);
  EXPECT_EQ(judge(b.udp(40000, 5080, "INVITE sip:x SIP/2.0\r\n\r\n")),
            Decision::drop(DropReason::malformed_sip));
  EXPECT_EQ(judge(b.udp(40000, 8080, "GET / HTTP/1.1\r\n\r\n")), Decision::pass());

  FilterConfig ports_only;
  ports_only.sip_by_content = false;
  make(ports_only);
  EXPECT_EQ(judge(b.udp(40000, 5080, test::sip_request(scanner))), Decision::pass());
}

TEST_F(PipelineTest, BrokenHeadersAreMalformedL3OrL4) {
  FrameBuilder b;
  Bytes frame = b.udp(40000, 5060, test::sip_request({}));
  Bytes bad_version = frame;
  bad_version[14] = 0x55;  // IPv4 header says version 5
  EXPECT_EQ(judge(bad_version), Decision::drop(DropReason::malformed_l3));
  Bytes long_udp = frame;
  test::set16(long_udp, 14 + 20 + 4, 0xFFF0);  // UDP length beyond the IP payload
  EXPECT_EQ(judge(long_udp), Decision::drop(DropReason::malformed_l4));
  EXPECT_EQ(judge(Bytes(frame.begin(), frame.begin() + 20)),
            Decision::drop(DropReason::malformed_l3));
}

TEST_F(PipelineTest, FragmentsGetTheirDatagramsVerdictWhenItCompletes) {
  SipSample s;
  s.body = test::sdp_offer("198.51.100.7", 10000);
  s.pad_to = 3000;
  FrameBuilder b;
  const std::string invite = test::sip_request(s);
  const auto frags = b.udp_fragments(5060, 5060, test::to_bytes(invite), 1000);
  ASSERT_GE(frags.size(), 3u);
  std::vector<uint64_t> cookies;
  for (size_t i = 0; i < frags.size(); ++i) {
    const uint64_t c = next_cookie_++;
    cookies.push_back(c);
    pipeline_->process(frags[i], c, 0, sink_);
    EXPECT_EQ(sink_.decided.size(), i + 1 == frags.size() ? frags.size() : 0u);
  }
  for (const auto c : cookies) EXPECT_EQ(sink_.decided[c], Decision::punt());
  EXPECT_EQ(pipeline_->counters().datagrams_reassembled, 1u);

  SipSample scanner = s;
  scanner.user_agent = "friendly-scanner";
  FrameBuilder v6;
  v6.ipv6("2001:db8::7", "2001:db8::10");
  for (const auto& f :
       v6.udp_fragments(5060, 5060, test::to_bytes(test::sip_request(scanner)), 1000)) {
    pipeline_->process(f, next_cookie_++, 0, sink_);
  }
  size_t signature_drops = 0;
  for (const auto& [c, d] : sink_.decided) signature_drops += d.reason == DropReason::signature;
  EXPECT_GE(signature_drops, 3u);
}

TEST_F(PipelineTest, IncompleteDatagramsTimeOutOrDrainAsFragmentDrops) {
  FrameBuilder b;
  SipSample s;
  s.pad_to = 3000;
  const auto frags = b.udp_fragments(5060, 5060, test::to_bytes(test::sip_request(s)), 1000);
  pipeline_->process(frags[0], 1, 0, sink_);
  pipeline_->expire(1 * kSec, sink_);
  EXPECT_TRUE(sink_.decided.empty());
  pipeline_->expire(6 * kSec, sink_);
  ASSERT_EQ(sink_.decided.size(), 1u);
  EXPECT_EQ(sink_.decided[1], Decision::drop(DropReason::fragment));
  pipeline_->process(frags[1], 2, 7 * kSec, sink_);
  EXPECT_EQ(sink_.decided.size(), 1u);
  pipeline_->drain(sink_);
  EXPECT_EQ(sink_.decided[2], Decision::drop(DropReason::fragment));
  const auto& why = pipeline_->counters().fragment_drops;
  EXPECT_EQ(why[static_cast<size_t>(FragmentDrop::timeout)], 1u);
  EXPECT_EQ(why[static_cast<size_t>(FragmentDrop::flushed)], 1u);
}

TEST_F(PipelineTest, BurstsDecideExactlyLikeSinglePackets) {
  // A mixed stream, long enough to span bursts, with floods, fragments and media.
  FrameBuilder b;
  std::vector<Bytes> frames;
  SipSample big;
  big.pad_to = 2500;
  for (int i = 0; i < 150; ++i) {
    SipSample s;
    s.cseq = static_cast<unsigned>(i + 1);
    if (i % 7 == 0) s.user_agent = "friendly-scanner";
    frames.push_back(sip_frame(s, i % 3 ? "198.51.100.7" : "2001:db8:1::9"));
    frames.push_back(b.frame(test::kProtoUdp, b.udp_segment(30000, 10000, rtp(i))));
    if (i % 40 == 0) {
      for (auto& f : b.ip_id(static_cast<uint32_t>(i))
                         .udp_fragments(5060, 5060, test::to_bytes(test::sip_request(big)), 1000)) {
        frames.push_back(f);
      }
    }
  }
  frames.push_back(Bytes(9, 0));
  std::vector<Decision> single;
  for (size_t i = 0; i < frames.size(); ++i) {
    pipeline_->process(frames[i], i, static_cast<Nanos>(i) * 100'000, sink_);
  }
  for (size_t i = 0; i < frames.size(); ++i) single.push_back(sink_.decided.at(i));

  make();
  Recorder burst_sink;
  for (size_t first = 0; first < frames.size(); first += 32) {
    std::vector<PacketRef> refs;
    for (size_t i = first; i < std::min(frames.size(), first + 32); ++i) {
      refs.push_back({frames[i], i, static_cast<Nanos>(i) * 100'000});
    }
    pipeline_->process_burst(refs, burst_sink);
  }
  ASSERT_EQ(burst_sink.decided.size(), frames.size());
  for (size_t i = 0; i < frames.size(); ++i) EXPECT_EQ(burst_sink.decided.at(i), single[i]) << i;
}

TEST_F(PipelineTest, EveryPacketIsCountedOnceUnderOneVerdict) {
  FrameBuilder b;
  SipSample scanner;
  scanner.user_agent = "sipcli/v1.8";
  judge(sip_frame({}));
  judge(sip_frame(scanner));
  judge(b.udp(40000, 5060, "garbage"));
  judge(b.udp(40000, 53, "dns"));
  judge(Bytes(10, 0));
  const WorkerCounters& c = pipeline_->counters();
  EXPECT_EQ(c.packets, 5u);
  EXPECT_EQ(c.verdict(Verdict::pass) + c.verdict(Verdict::punt) + c.verdict(Verdict::drop), 5u);
  uint64_t by_reason = 0;
  for (const uint64_t n : c.drops) by_reason += n;
  EXPECT_EQ(by_reason, c.verdict(Verdict::drop));
  EXPECT_EQ(c.drops[0], 0u);  // never "drop for no reason"
}

}  // namespace
}  // namespace sipwall

namespace sipwall {
namespace {

// ---- trust tiers, budgets, service addresses ---------------------------------------------------

// A SIP request from `src` to `dst`, from its own source port (so each is a fresh source when
// `src` changes).
Bytes sip_to(std::string_view src, std::string_view dst, std::string_view body = {}) {
  FrameBuilder b;
  b.ipv4(src, dst);
  return b.udp(5060, 5060, body.empty() ? test::sip_request({}) : std::string(body));
}

std::string nth_source(uint32_t i) {
  return "10." + std::to_string((i >> 16) & 255) + "." + std::to_string((i >> 8) & 255) + "." +
         std::to_string(i & 255);
}

TEST_F(PipelineTest, StunKeepalivesOnTheSipPortArePuntedNotMalformed) {
  FrameBuilder b;
  const auto on_sip_port = [&](const Bytes& payload) {
    return b.frame(test::kProtoUdp, b.udp_segment(40000, 5060, payload));
  };
  EXPECT_EQ(judge(on_sip_port(test::stun_binding_request())), Decision::punt());
  Bytes bad = test::stun_binding_request();
  bad[4] = 0x22;  // not the magic cookie: not STUN, and not SIP either
  EXPECT_EQ(judge(on_sip_port(bad)), Decision::drop(DropReason::malformed_sip));
  EXPECT_EQ(pipeline_->counters().punt_granted[static_cast<size_t>(Tier::untrusted)], 2u);
}

TEST_F(PipelineTest, OverBudgetSignalingIsDroppedBeforeValidation) {
  FilterConfig cfg;
  cfg.punt_budget = {100, 1'000'000'000, 30};  // burst: one message (10 ms of 100/s)
  make(cfg);
  std::string bad = test::sip_request({});
  bad.replace(bad.find("SIP/2.0\r\n"), 7, "SIP/7.0");
  int over = 0;
  for (uint32_t i = 0; i < 200; ++i) {
    const Decision d = judge(sip_to(nth_source(i), "192.0.2.10", bad), i * 10'000);
    over += d == Decision::drop(DropReason::punt_budget, static_cast<RuleIndex>(Tier::untrusted));
  }
  const WorkerCounters& c = pipeline_->counters();
  const uint64_t validated = c.sip_errors[static_cast<size_t>(SipError::bad_version)];
  EXPECT_EQ(validated + over, 200u);
  EXPECT_LE(validated, 2u + 1u);  // 2 ms at 100/s plus the burst: the flood never validated
  EXPECT_EQ(c.punt_refused[static_cast<size_t>(Tier::untrusted)], static_cast<uint64_t>(over));
  EXPECT_EQ(c.drop(DropReason::punt_budget), static_cast<uint64_t>(over));
}

TEST_F(PipelineTest, TrustedPrefixesKeepTheirReserveUnderAFlood) {
  FilterConfig cfg;
  cfg.punt_budget = {1000, 1'000'000'000, 30};
  cfg.trusted = {{*IpPrefix::parse("198.51.100.0/24"), 200}};
  make(cfg);
  int trusted_punted = 0;
  int untrusted_punted = 0;
  // 2 s: the trunk sends 20 INVITEs/s (its own invite limit) from one address; 20,000
  // untrusted sources send 10,000/s in all.
  for (uint32_t i = 0; i < 20000; ++i) {
    const Nanos now = i * 100'000;
    untrusted_punted += judge(sip_to(nth_source(i), "192.0.2.10"), now) == Decision::punt();
    if (i % 500 == 0) {
      trusted_punted += judge(sip_to("198.51.100.7", "192.0.2.10"), now) == Decision::punt();
    }
  }
  EXPECT_EQ(trusted_punted, 40);
  EXPECT_NEAR(untrusted_punted, 2 * (1000 - 20), 2 * 1000 * 0.05);
  const WorkerCounters& c = pipeline_->counters();
  EXPECT_EQ(c.punt_granted[static_cast<size_t>(Tier::trusted)], 40u);
  EXPECT_EQ(c.punt_refused[static_cast<size_t>(Tier::untrusted)], 20000u - untrusted_punted);
}

TEST_F(PipelineTest, AllowListedSourcesAreTrustedForTheBudget) {
  FilterConfig cfg;
  cfg.punt_budget = {100, 1'000'000'000, 0};  // nothing for untrusted sources
  cfg.acl = {{*IpPrefix::parse("203.0.113.0/24"), AclAction::allow}};
  make(cfg);
  EXPECT_EQ(judge(sip_to("203.0.113.9", "192.0.2.10")), Decision::punt());
  EXPECT_EQ(judge(sip_to("10.0.0.1", "192.0.2.10")),
            Decision::drop(DropReason::punt_budget, static_cast<RuleIndex>(Tier::untrusted)));
}

TEST_F(PipelineTest, DynamicallyTrustedSourcesAreTrustedForTheBudgetUntilDemoted) {
  FilterConfig cfg;
  cfg.punt_budget = {100, 1'000'000'000, 0};  // nothing for untrusted sources
  make(cfg);
  const auto untrusted_drop =
      Decision::drop(DropReason::punt_budget, static_cast<RuleIndex>(Tier::untrusted));
  const Bytes frame = sip_to("198.51.100.7", "192.0.2.10");
  // Untrusted sources only get what is left over: another one takes the one message there is.
  const Bytes other = sip_to("203.0.113.1", "192.0.2.10");
  EXPECT_EQ(judge(other, 0), Decision::punt());
  EXPECT_EQ(judge(frame, 0), untrusted_drop);
  const AddPrefix trust{
      StateTable::trust, *IpPrefix::parse("198.51.100.7"), 60 * kSec, {}, Owner::control};
  ASSERT_EQ(pipeline_->apply({trust}, kMs).outcome, Outcome::added);
  EXPECT_EQ(judge(frame, 2 * kMs), Decision::punt());
  EXPECT_EQ(pipeline_->counters().punt_granted[static_cast<size_t>(Tier::trusted)], 1u);
  EXPECT_EQ(judge(other, 60 * kSec), Decision::punt());
  EXPECT_EQ(judge(frame, 60 * kSec), untrusted_drop);  // the TTL ran out
}

TEST_F(PipelineTest, OnlySignalingToServiceAddressesIsPuntedTheRestIsTransit) {
  FilterConfig cfg;
  cfg.service_addresses = {*IpAddress::parse("192.0.2.10"), *IpAddress::parse("2001:db8::10")};
  make(cfg);
  EXPECT_EQ(judge(sip_to("10.0.0.1", "192.0.2.10")), Decision::punt());
  EXPECT_EQ(judge(sip_to("10.0.0.1", "192.0.2.99")), Decision::pass());
  EXPECT_EQ(judge(sip_frame({}, "2001:db8:1::7")), Decision::punt());  // to 2001:db8::10
  FrameBuilder tcp;
  tcp.ipv4("10.0.0.2", "192.0.2.99");
  EXPECT_EQ(judge(tcp.tcp(40000, 5060, test::kTcpAck, "INVITE ...")), Decision::pass());
  const WorkerCounters& c = pipeline_->counters();
  EXPECT_EQ(c.pass_granted[static_cast<size_t>(Tier::untrusted)], 2u);
  EXPECT_EQ(c.punt_granted[static_cast<size_t>(Tier::untrusted)], 2u);
  // Transit is still validated.
  EXPECT_EQ(judge(sip_to("10.0.0.1", "192.0.2.99", "hello")),
            Decision::drop(DropReason::malformed_sip));

  cfg.transit_sip = TransitAction::drop;
  make(cfg);
  EXPECT_EQ(judge(sip_to("10.0.0.1", "192.0.2.99")), Decision::drop(DropReason::transit));
  EXPECT_EQ(judge(sip_to("10.0.0.1", "192.0.2.10")), Decision::punt());
  // Media and other transit are not signaling: untouched by `transit sip=`.
  FrameBuilder dns;
  dns.ipv4("10.0.0.1", "192.0.2.99");
  EXPECT_EQ(judge(dns.udp(40000, 53, "dns?")), Decision::pass());
}

TEST_F(PipelineTest, TransitSignalingIsHeldToThePassBudget) {
  FilterConfig cfg;
  cfg.service_addresses = {*IpAddress::parse("192.0.2.10")};
  cfg.pass_budget = {100, 1'000'000'000, 30};
  make(cfg);
  int passed = 0;
  for (uint32_t i = 0; i < 1000; ++i) {  // 1 s at 1000/s
    passed += judge(sip_to(nth_source(i), "192.0.2.99"), i * kMs) == Decision::pass();
  }
  EXPECT_NEAR(passed, 100, 5);
  EXPECT_EQ(pipeline_->counters().drop(DropReason::pass_budget), 1000u - passed);
}

TEST_F(PipelineTest, TcpSegmentsAfterTheSynAreCoveredByThePuntBudget) {
  FilterConfig cfg;
  cfg.punt_budget = {1000, 1'000'000'000, 30};
  make(cfg);
  FrameBuilder b;
  int punted = 0;
  for (int i = 0; i < 10000; ++i) {  // an ACK flood: 10,000 segments in 1 s from one source
    punted += judge(b.tcp(40000, 5060, test::kTcpAck, "x"), i * 100'000) == Decision::punt();
  }
  EXPECT_NEAR(punted, 1000, 50);
  EXPECT_EQ(pipeline_->counters().drop(DropReason::punt_budget), 10000u - punted);
}

TEST_F(PipelineTest, BudgetStateSurvivesAReload) {
  FilterConfig cfg;
  cfg.punt_budget = {100, 1'000'000'000, 30};
  make(cfg);
  const Bytes frame = sip_to("10.0.0.1", "192.0.2.10");
  EXPECT_EQ(judge(frame, 0), Decision::punt());
  auto next = FilterPolicy::build(cfg, signatures_, 1);
  ASSERT_TRUE(next.policy);
  pipeline_->adopt(*next.policy);
  EXPECT_EQ(judge(frame, 1000), Decision::drop(DropReason::punt_budget, 1));  // still spent
  EXPECT_EQ(judge(frame, 20 * kMs), Decision::punt());                        // refilled
  pipeline_->adopt(*policy_);
}

// Two workers share one budget: together they never punt more than it.
TEST_F(PipelineTest, WorkersShareOneBudget) {
  FilterConfig cfg;
  cfg.punt_budget = {500, 1'000'000'000, 30};
  cfg.limits.table_capacity = 4096;
  auto built = FilterPolicy::build(cfg, signatures_, 2);
  ASSERT_TRUE(built.policy);
  SharedBudgets shared;
  Pipeline a(*built.policy, 0, 0, &shared);
  Pipeline b(*built.policy, 1, 0, &shared);
  Recorder sink;
  for (uint32_t i = 0; i < 4000; ++i) {  // 1 s, 2000/s on each worker
    const Bytes f = sip_to(nth_source(i), "192.0.2.10");
    (i % 2 ? a : b).process(f, i, i * 250'000, sink);
  }
  const uint64_t punted = a.counters().verdict(Verdict::punt) + b.counters().verdict(Verdict::punt);
  EXPECT_NEAR(static_cast<double>(punted), 500, 25);
  EXPECT_GT(a.counters().verdict(Verdict::punt), 0u);
  EXPECT_GT(b.counters().verdict(Verdict::punt), 0u);
}

}  // namespace
}  // namespace sipwall
