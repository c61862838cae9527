// Every message of the RFC 4475 / RFC 5118 corpora the validator accepts (liberal profile) goes
// through the relay both ways, the replies made here and the policy core: nothing may crash
// (ASan/UBSan builds), and whatever the relay writes must be valid SIP again.
#include <gtest/gtest.h>

#include <string>

#include "control/policy/policy_engine.h"
#include "control/relay/stateless_relay.h"
#include "sip/sip_validator.h"
#include "sip_corpus.h"

namespace sipwall::relay {
namespace {

constexpr Nanos kT0 = 1'767'225'600 * kNanosPerSecond;

TEST(RelayCorpus, EveryAcceptedMessageRelaysToValidSip) {
  SipValidatorConfig liberal;
  liberal.profile = SipProfile::liberal;
  SipValidator validator(liberal);
  SipValidator again(liberal);
  const RelayAddress self{"192.0.2.10", 5060};
  const Inbound in{*IpAddress::parse("203.0.113.5"), 40000, policy::Transport::udp, 0};
  rules::ControlConfig config;
  auto credentials = std::make_shared<CredentialsFile>();
  NonceSigner signer(std::vector<uint8_t>(32, 7), {}, 1);
  NcReplayWindow windows(1024, signer.config().lifetime, kT0 - 1);
  policy::PolicyEngine engine(config, credentials, signer, windows);

  size_t accepted = 0;
  size_t forwarded = 0;
  for (const std::string set : {"rfc4475", "rfc5118"}) {
    const auto manifest = testing::load_manifest(set);
    if (manifest.empty()) GTEST_SKIP() << "no corpus at " << testing::corpus_root();
    for (const auto& entry : manifest) {
      const std::string text = testing::load_message(entry);
      SipMessage m;
      if (validator.validate(text, m) != SipError::ok) continue;
      ++accepted;
      SCOPED_TRACE(entry.set + "/" + entry.file);
      SipMessage out;
      if (m.is_request) {
        const ForwardedRequest f = forward_request(m, in, self);
        if (f.error == RelayError::ok) {
          ++forwarded;
          EXPECT_EQ(again.validate(f.text, out), SipError::ok) << f.text;
        }
        const ForwardedFromCore c = forward_from_core(m, in, self);
        if (c.error == RelayError::ok) {
          EXPECT_EQ(again.validate(c.text, out), SipError::ok) << c.text;
        }
        const std::string reply = make_reply(m, in, 403, "Forbidden");
        if (!reply.empty()) {
          EXPECT_EQ(again.validate(reply, out), SipError::ok) << reply;
        }
        const policy::Decision d = engine.decide(m, {in.source, in.port, in.transport}, kT0);
        EXPECT_NE(d.verdict, policy::Verdict::relay);  // nobody is authenticated here
      } else {
        const RoutedResponse r = route_response(m, self);
        if (r.error == RelayError::ok) {
          EXPECT_EQ(again.validate(r.text, out), SipError::ok) << r.text;
        }
      }
    }
  }
  EXPECT_GT(accepted, 20u);
  EXPECT_GT(forwarded, 10u);
}

}  // namespace
}  // namespace sipwall::relay
