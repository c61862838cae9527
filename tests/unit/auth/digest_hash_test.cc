#include "control/auth/digest_hash.h"

#include <gtest/gtest.h>

namespace sipwall {
namespace {

// RFC 7616 3.9.1: GET /dir/index.html, user Mufasa, password "Circle of Life".
constexpr std::string_view kRealm = "http-auth@example.org";
constexpr std::string_view kNonce = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
constexpr std::string_view kCnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";

std::string rfc7616_response(DigestAlgorithm a) {
  DigestHasher h;
  const std::string ha1 = digest_ha1(h, a, "Mufasa", kRealm, "Circle of Life");
  return digest_response(h, a,
                         {.ha1 = ha1,
                          .nonce = kNonce,
                          .nc = "00000001",
                          .cnonce = kCnonce,
                          .method = "GET",
                          .uri = "/dir/index.html"});
}

TEST(DigestHash, Rfc7616Md5Example) {
  EXPECT_EQ(rfc7616_response(DigestAlgorithm::md5), "8ca523f5e9506fed4657c9700eebdbec");
}

TEST(DigestHash, Rfc7616Sha256Example) {
  EXPECT_EQ(rfc7616_response(DigestAlgorithm::sha256),
            "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
}

// RFC 7616 3.9.2's inputs (user "Jäsøn Doe" in UTF-8, realm api@example.org, password
// "Secret, or not?", GET /doe.json). The RFC's printed userhash and response do not follow
// from them (erratum 4897 reports the example); these values were computed independently
// with the OpenSSL command line, e.g.
//   printf '%s' 'J\xc3\xa4s\xc3\xb8n Doe:api@example.org' | openssl dgst -sha512-256
TEST(DigestHash, Sha512_256FromRfc7616Section392Inputs) {
  DigestHasher h;
  const DigestAlgorithm a = DigestAlgorithm::sha512_256;
  const std::string user = "J\xc3\xa4s\xc3\xb8n Doe";
  EXPECT_EQ(digest_userhash(h, a, user, "api@example.org"),
            "793263caabb707a56211940d90411ea4a575adeccb7e360aeb624ed06ece9b0b");
  const std::string ha1 = digest_ha1(h, a, user, "api@example.org", "Secret, or not?");
  EXPECT_EQ(ha1, "2d3d9f12c9f3d30011259dc5fecee005ae24de40e3e1f61806d03e65f1e6024f");
  EXPECT_EQ(digest_response(h, a,
                            {.ha1 = ha1,
                             .nonce = "5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK",
                             .nc = "00000001",
                             .cnonce = "NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v",
                             .method = "GET",
                             .uri = "/doe.json"}),
            "3798d4131c277846293534c3edc11bd8a5e4cdcbff78b05db9d95eeb1cec68a5");
}

// A SIP REGISTER with SHA-512-256, also checked with `openssl dgst -sha512-256`.
TEST(DigestHash, Sha512_256SipRegister) {
  DigestHasher h;
  const DigestAlgorithm a = DigestAlgorithm::sha512_256;
  const std::string ha1 = digest_ha1(h, a, "alice", "sip.example.com", "Correct-Horse-9");
  EXPECT_EQ(ha1, "8dd4c6d8fb79f8633e820c5cb124ff193cdc5875e635726a5d0463119783374b");
  EXPECT_EQ(digest_response(h, a,
                            {.ha1 = ha1,
                             .nonce = "abc123nonce",
                             .nc = "00000001",
                             .cnonce = "0a4f113b",
                             .method = "REGISTER",
                             .uri = "sip:sip.example.com"}),
            "b1e919d7e076737eda30ce9938ec3d807079a42c43fc1ef6ac2f711b01947486");
}

TEST(DigestHash, HasherIsReusableAcrossAlgorithms) {
  DigestHasher h;
  // SHA-512/256 is not SHA-512 cut short: different initial values.
  EXPECT_EQ(h.hex(DigestAlgorithm::sha512_256, {"abc"}),
            "53048e2681941ef99b2e29b76b4c7dabe4c2d0c634fc6d46e0e2f13107e7af23");
  EXPECT_EQ(h.hex(DigestAlgorithm::md5, {"a", "b"}), h.hex(DigestAlgorithm::md5, {"a:b"}));
  EXPECT_EQ(h.hex(DigestAlgorithm::sha256, {""}),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(DigestHash, AlgorithmNames) {
  for (const DigestAlgorithm a : kAllDigestAlgorithms) {
    EXPECT_EQ(digest_algorithm_from_name(digest_algorithm_name(a)), a);
    DigestHasher h;
    EXPECT_EQ(h.hex(a, {"x"}).size(), digest_hex_size(a));
  }
  EXPECT_EQ(digest_algorithm_from_name("sha-256"), DigestAlgorithm::sha256);
  EXPECT_EQ(digest_algorithm_from_name("MD5-sess"), std::nullopt);
  EXPECT_EQ(digest_algorithm_from_name("SHA-512"), std::nullopt);
}

TEST(DigestHash, ConstantTimeEqual) {
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_FALSE(constant_time_equal("abc", "abd"));
  EXPECT_FALSE(constant_time_equal("abc", "ab"));
  EXPECT_TRUE(constant_time_equal("", ""));
}

TEST(DigestHash, ToHex) {
  const uint8_t bytes[] = {0x00, 0x0f, 0xa5, 0xff};
  EXPECT_EQ(to_hex(bytes), "000fa5ff");
}

}  // namespace
}  // namespace sipwall
