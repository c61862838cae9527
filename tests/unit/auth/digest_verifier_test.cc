#include "control/auth/digest_verifier.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "control/auth/digest_challenge.h"

namespace sipwall {
namespace {

constexpr Nanos kT0 = 1'767'225'600 * kNanosPerSecond;
constexpr std::string_view kRealm = "sip.example.com";
constexpr std::string_view kUri = "sip:sip.example.com";

IpAddress ip(const char* s) {
  return *IpAddress::parse(s);
}

// A server (signer, window, verifier, alice's HA1s) and a client that answers challenges.
class DigestVerifierTest : public ::testing::Test {
 protected:
  DigestVerifierTest() {
    for (const DigestAlgorithm a : kAllDigestAlgorithms) {
      ha1_[static_cast<size_t>(a)] = digest_ha1(client_, a, "alice", kRealm, "Correct-Horse-9");
    }
  }

  std::string nonce(Nanos at = kT0, uint8_t bind = kNonceUnbound) {
    return signer_.issue(kRealm, source_, bind, at);
  }

  // The header value a client with `password` sends for `nonce`.
  std::string authorization(const std::string& n, uint32_t nc, std::string_view password,
                            DigestAlgorithm a = DigestAlgorithm::sha256,
                            std::string_view user = "alice") {
    char nc_hex[9];
    std::snprintf(nc_hex, sizeof nc_hex, "%08x", nc);
    const std::string ha1 = digest_ha1(client_, a, user, kRealm, password);
    const std::string response = digest_response(client_, a,
                                                 {.ha1 = ha1,
                                                  .nonce = n,
                                                  .nc = nc_hex,
                                                  .cnonce = "0a4f113b",
                                                  .method = "REGISTER",
                                                  .uri = kUri});
    return "Digest username=\"" + std::string(user) + "\", realm=\"" + std::string(kRealm) +
           "\", nonce=\"" + n + "\", uri=\"" + std::string(kUri) + "\", response=\"" + response +
           "\", algorithm=" + std::string(digest_algorithm_name(a)) +
           ", cnonce=\"0a4f113b\", nc=" + nc_hex + ", qop=auth";
  }

  DigestOutcome verify(const std::string& header, Nanos now = kT0 + kNanosPerSecond,
                       std::string_view method = "REGISTER") {
    DigestAuthorization auth;
    EXPECT_EQ(parse_digest_authorization(header, auth), DigestParseError::ok) << header;
    const std::optional<std::string_view> ha1 =
        auth.username == "alice"
            ? std::optional<std::string_view>(ha1_[static_cast<size_t>(auth.algorithm)])
            : std::nullopt;
    return verifier_.verify(
        auth, {.method = method, .request_uri = kUri, .realm = kRealm, .source = source_}, ha1,
        now);
  }

  DigestHasher client_;
  std::string ha1_[kDigestAlgorithmCount];
  NonceSigner signer_{std::vector<uint8_t>(32, 0x5a), {}, 1};
  NcReplayWindow windows_{1024, signer_.config().lifetime, kT0 - 1};
  DigestVerifier verifier_{signer_, windows_};
  IpAddress source_ = ip("192.0.2.10");
};

TEST_F(DigestVerifierTest, EveryAlgorithmAuthenticates) {
  for (const DigestAlgorithm a : kAllDigestAlgorithms) {
    EXPECT_EQ(verify(authorization(nonce(), 1, "Correct-Horse-9", a)), DigestOutcome::ok)
        << digest_algorithm_name(a);
  }
}

TEST_F(DigestVerifierTest, ReplayRefusedNextNcAccepted) {
  const std::string n = nonce();
  const std::string first = authorization(n, 1, "Correct-Horse-9");
  EXPECT_EQ(verify(first), DigestOutcome::ok);
  EXPECT_EQ(verify(first), DigestOutcome::replay);
  EXPECT_EQ(verify(authorization(n, 2, "Correct-Horse-9")), DigestOutcome::ok);
}

TEST_F(DigestVerifierTest, WrongPasswordAndUnknownUserLookAlike) {
  EXPECT_EQ(verify(authorization(nonce(), 1, "wrong")), DigestOutcome::bad_response);
  EXPECT_EQ(verify(authorization(nonce(), 1, "Correct-Horse-9", DigestAlgorithm::sha256, "bob")),
            DigestOutcome::bad_response);
  // A failed attempt records nothing: the right answer with that nonce still passes.
  const std::string n = nonce();
  EXPECT_EQ(verify(authorization(n, 1, "wrong")), DigestOutcome::bad_response);
  EXPECT_EQ(verify(authorization(n, 1, "Correct-Horse-9")), DigestOutcome::ok);
}

TEST_F(DigestVerifierTest, UpperCaseResponseAccepted) {
  std::string header = authorization(nonce(), 1, "Correct-Horse-9");
  const size_t at = header.find("response=\"") + 10;
  for (size_t i = at; header[i] != '"'; ++i) header[i] = static_cast<char>(std::toupper(header[i]));
  EXPECT_EQ(verify(header), DigestOutcome::ok);
}

TEST_F(DigestVerifierTest, StaleOnlyWithTheRightResponse) {
  const std::string old = nonce(kT0);
  const Nanos later = kT0 + signer_.config().lifetime + kNanosPerSecond;
  EXPECT_EQ(verify(authorization(old, 1, "Correct-Horse-9"), later), DigestOutcome::stale);
  EXPECT_EQ(verify(authorization(old, 1, "guess"), later), DigestOutcome::bad_response);
}

TEST_F(DigestVerifierTest, NonceChecks) {
  std::string forged = nonce();
  forged[5] = forged[5] == 'a' ? 'b' : 'a';
  EXPECT_EQ(verify(authorization(forged, 1, "Correct-Horse-9")), DigestOutcome::nonce_invalid);
  const std::string bound = signer_.issue(kRealm, ip("198.51.100.1"), 32, kT0);
  EXPECT_EQ(verify(authorization(bound, 1, "Correct-Horse-9")), DigestOutcome::wrong_source);
  EXPECT_EQ(verify(authorization(nonce(kT0, 24), 1, "Correct-Horse-9")), DigestOutcome::ok);
}

TEST_F(DigestVerifierTest, RequestMustMatch) {
  // The response covers the method: the same credentials on another method fail.
  EXPECT_EQ(verify(authorization(nonce(), 1, "Correct-Horse-9"), kT0 + 1, "INVITE"),
            DigestOutcome::bad_response);
  std::string other_uri = authorization(nonce(), 1, "Correct-Horse-9");
  other_uri.replace(other_uri.find("uri=\"sip:") + 9, 3, "evi");
  EXPECT_EQ(verify(other_uri), DigestOutcome::uri_mismatch);
  std::string other_realm = authorization(nonce(), 1, "Correct-Horse-9");
  other_realm.replace(other_realm.find("realm=\"") + 7, 3, "SIP");
  EXPECT_EQ(verify(other_realm), DigestOutcome::realm_mismatch);
  EXPECT_EQ(verify("Digest username=\"alice\", realm=\"sip.example.com\", nonce=\"" + nonce() +
                   "\", uri=\"sip:sip.example.com\", response=\"00\""),
            DigestOutcome::no_qop);
}

TEST_F(DigestVerifierTest, ChallengeToResponseRoundTrip) {
  // What the challenge says is what a client answers with.
  const DigestAlgorithm preference[] = {DigestAlgorithm::sha256, DigestAlgorithm::md5};
  const std::string n = nonce();
  const auto challenges = format_digest_challenges(
      {.realm = kRealm, .nonce = n, .opaque = {}, .stale = false}, preference);
  ASSERT_EQ(challenges.size(), 2u);
  EXPECT_NE(challenges[0].find("nonce=\"" + n + "\""), std::string::npos);
  EXPECT_EQ(verify(authorization(n, 1, "Correct-Horse-9", DigestAlgorithm::sha256)),
            DigestOutcome::ok);
}

TEST(DigestOutcomeNames, All) {
  for (size_t i = 0; i < kDigestOutcomeCount; ++i) {
    EXPECT_NE(to_string(static_cast<DigestOutcome>(i)), "unknown");
  }
}

}  // namespace
}  // namespace sipwall
