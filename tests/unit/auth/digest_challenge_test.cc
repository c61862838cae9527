#include "control/auth/digest_challenge.h"

#include <gtest/gtest.h>

#include "control/auth/digest_authorization.h"

namespace sipwall {
namespace {

TEST(DigestChallenge, OnePerAlgorithmInPreferenceOrder) {
  const DigestAlgorithm preference[] = {DigestAlgorithm::sha512_256, DigestAlgorithm::sha256,
                                        DigestAlgorithm::md5};
  const auto values = format_digest_challenges(
      {.realm = "sip.example.com", .nonce = "abc", .opaque = {}, .stale = false}, preference);
  ASSERT_EQ(values.size(), 3u);
  EXPECT_EQ(values[0],
            "Digest realm=\"sip.example.com\", nonce=\"abc\", algorithm=SHA-512-256, "
            "qop=\"auth\"");
  EXPECT_EQ(values[1],
            "Digest realm=\"sip.example.com\", nonce=\"abc\", algorithm=SHA-256, qop=\"auth\"");
  EXPECT_EQ(values[2],
            "Digest realm=\"sip.example.com\", nonce=\"abc\", algorithm=MD5, qop=\"auth\"");
}

TEST(DigestChallenge, StaleOpaqueAndEscapes) {
  EXPECT_EQ(
      format_digest_challenge({.realm = "a\"b\\c", .nonce = "n", .opaque = "o", .stale = true},
                              DigestAlgorithm::sha256),
      "Digest realm=\"a\\\"b\\\\c\", nonce=\"n\", opaque=\"o\", algorithm=SHA-256, "
      "qop=\"auth\", stale=true");
  EXPECT_EQ(quote_string(""), "\"\"");
}

// What the server writes, its own parser reads back (realm with quotes and backslashes).
TEST(DigestChallenge, RealmRoundTripsThroughTheParser) {
  const std::string realm = "we \"quote\" \\ here";
  const std::string header = "Digest username=\"u\", realm=" + quote_string(realm) +
                             ", nonce=\"n\", uri=\"sip:x\", response=\"ab\"";
  DigestAuthorization a;
  ASSERT_EQ(parse_digest_authorization(header, a), DigestParseError::ok);
  EXPECT_EQ(a.realm, realm);
}

TEST(DigestChallenge, StatusByMethod) {
  EXPECT_EQ(challenge_kind_for("REGISTER"), ChallengeKind::www);
  EXPECT_EQ(challenge_kind_for("INVITE"), ChallengeKind::proxy);
  EXPECT_EQ(challenge_kind_for("register"), ChallengeKind::proxy);  // methods are case-sensitive
  EXPECT_EQ(challenge_status(ChallengeKind::www), 401);
  EXPECT_EQ(challenge_status(ChallengeKind::proxy), 407);
  EXPECT_EQ(challenge_header_name(ChallengeKind::www), "WWW-Authenticate");
  EXPECT_EQ(challenge_header_name(ChallengeKind::proxy), "Proxy-Authenticate");
  EXPECT_EQ(credentials_header_name(ChallengeKind::www), "Authorization");
  EXPECT_EQ(credentials_header_name(ChallengeKind::proxy), "Proxy-Authorization");
  EXPECT_EQ(challenge_reason(ChallengeKind::proxy), "Proxy Authentication Required");
}

}  // namespace
}  // namespace sipwall
