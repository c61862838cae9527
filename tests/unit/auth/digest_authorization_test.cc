#include "control/auth/digest_authorization.h"

#include <gtest/gtest.h>

#include <string>

namespace sipwall {
namespace {

DigestAuthorization parsed(std::string_view value) {
  DigestAuthorization a;
  const DigestParseError e = parse_digest_authorization(value, a);
  EXPECT_EQ(e, DigestParseError::ok) << value << ": " << to_string(e);
  return a;
}

DigestParseError error_of(std::string_view value, const DigestAuthorizationLimits& limits = {}) {
  DigestAuthorization a;
  return parse_digest_authorization(value, a, limits);
}

const std::string kSip =
    "Digest username=\"alice\", realm=\"sip.example.com\", nonce=\"n1\", "
    "uri=\"sip:sip.example.com\", response=\"0123456789abcdef0123456789abcdef\", "
    "algorithm=SHA-256, cnonce=\"c1\", nc=0000002a, qop=auth";

TEST(DigestAuthorization, Rfc7616Sha256Example) {
  // RFC 7616 3.9.1, as a client sends it (folded over lines).
  const DigestAuthorization a = parsed(
      "Digest username=\"Mufasa\",\r\n realm=\"http-auth@example.org\",\r\n"
      " uri=\"/dir/index.html\",\r\n algorithm=SHA-256,\r\n"
      " nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\",\r\n nc=00000001,\r\n"
      " cnonce=\"f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ\",\r\n qop=auth,\r\n"
      " response=\"753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1\",\r\n"
      " opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"");
  EXPECT_EQ(a.username, "Mufasa");
  EXPECT_EQ(a.realm, "http-auth@example.org");
  EXPECT_EQ(a.uri, "/dir/index.html");
  EXPECT_EQ(a.algorithm, DigestAlgorithm::sha256);
  EXPECT_EQ(a.nonce, "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v");
  EXPECT_EQ(a.nc, "00000001");
  EXPECT_EQ(a.nc_value, 1u);
  EXPECT_EQ(a.cnonce, "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ");
  EXPECT_TRUE(a.has_qop);
  EXPECT_EQ(a.opaque, "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS");
  EXPECT_FALSE(a.userhash);
}

TEST(DigestAuthorization, SipForm) {
  const DigestAuthorization a = parsed(kSip);
  EXPECT_EQ(a.username, "alice");
  EXPECT_EQ(a.nc_value, 42u);
  EXPECT_EQ(a.response, "0123456789abcdef0123456789abcdef");
}

TEST(DigestAuthorization, DefaultsAndTolerances) {
  // No algorithm: MD5. Scheme and names in any case, qop quoted, LWS around '=' and ','.
  const DigestAuthorization a = parsed(
      "dIgEsT  USERNAME = \"bob\" ,realm=\"r\",Nonce=\"n\",URI=\"sip:x\",response=\"ab\","
      "cnonce=\"c\",nc=0000000A,qop=\"auth\",userhash=true,foo=bar,baz=\"q,u\"");
  EXPECT_EQ(a.algorithm, DigestAlgorithm::md5);
  EXPECT_EQ(a.username, "bob");
  EXPECT_EQ(a.nc_value, 10u);
  EXPECT_TRUE(a.userhash);
  // Without qop (RFC 2069 form) it parses; the verifier refuses it.
  EXPECT_FALSE(parsed("Digest username=\"u\", realm=\"r\", nonce=\"n\", uri=\"sip:x\", "
                      "response=\"ab\"")
                   .has_qop);
  // An empty realm is a realm.
  EXPECT_EQ(parsed("Digest username=\"u\", realm=\"\", nonce=\"n\", uri=\"sip:x\", "
                   "response=\"ab\"")
                .realm,
            "");
}

TEST(DigestAuthorization, QuotedStringEscapes) {
  const DigestAuthorization a = parsed(
      "Digest username=\"a\\\"b\\\\c\\d\", realm=\"r \xc3\xa9\", nonce=\"n\", uri=\"sip:x\", "
      "response=\"ab\"");
  EXPECT_EQ(a.username, "a\"b\\cd");
  EXPECT_EQ(a.realm, "r \xc3\xa9");  // UTF-8 is qdtext
  EXPECT_EQ(error_of("Digest username=\"a\x01\", realm=\"r\", nonce=\"n\", uri=\"u\", "
                     "response=\"ab\""),
            DigestParseError::bad_quoted_string);
  EXPECT_EQ(error_of("Digest username=\"abc"), DigestParseError::bad_quoted_string);
  EXPECT_EQ(error_of("Digest username=\"abc\\"), DigestParseError::bad_quoted_string);
  EXPECT_EQ(error_of("Digest username=\"a\\\xc3\""), DigestParseError::bad_quoted_string);
}

TEST(DigestAuthorization, DuplicatesRefused) {
  EXPECT_EQ(error_of(kSip + ", username=\"mallory\""), DigestParseError::duplicate_param);
  EXPECT_EQ(error_of(kSip + ", RESPONSE=\"00\""), DigestParseError::duplicate_param);
  EXPECT_EQ(error_of(kSip + ", x=1, X=2"), DigestParseError::duplicate_param);
}

TEST(DigestAuthorization, MissingParams) {
  EXPECT_EQ(error_of("Digest realm=\"r\", nonce=\"n\", uri=\"u\", response=\"ab\""),
            DigestParseError::missing_param);
  EXPECT_EQ(error_of("Digest username=\"u\", nonce=\"n\", uri=\"u\", response=\"ab\""),
            DigestParseError::missing_param);
  EXPECT_EQ(error_of("Digest username=\"u\", realm=\"r\", uri=\"u\", response=\"ab\""),
            DigestParseError::missing_param);
  EXPECT_EQ(error_of("Digest username=\"u\", realm=\"r\", nonce=\"n\", response=\"ab\""),
            DigestParseError::missing_param);
  EXPECT_EQ(error_of("Digest username=\"u\", realm=\"r\", nonce=\"n\", uri=\"u\""),
            DigestParseError::missing_param);
  // qop needs cnonce and nc.
  EXPECT_EQ(error_of("Digest username=\"u\", realm=\"r\", nonce=\"n\", uri=\"u\", "
                     "response=\"ab\", qop=auth, nc=00000001"),
            DigestParseError::missing_param);
  EXPECT_EQ(error_of("Digest username=\"u\", realm=\"r\", nonce=\"n\", uri=\"u\", "
                     "response=\"ab\", qop=auth, cnonce=\"c\""),
            DigestParseError::missing_param);
}

TEST(DigestAuthorization, ValuesChecked) {
  const std::string base =
      "Digest username=\"u\", realm=\"r\", nonce=\"n\", uri=\"u\", response=\"ab\", "
      "cnonce=\"c\", qop=auth, ";
  EXPECT_EQ(error_of(base + "nc=00000000"), DigestParseError::bad_nc);
  EXPECT_EQ(error_of(base + "nc=0000001"), DigestParseError::bad_nc);
  EXPECT_EQ(error_of(base + "nc=000000001"), DigestParseError::bad_nc);
  EXPECT_EQ(error_of(base + "nc=0000000g"), DigestParseError::bad_nc);
  EXPECT_EQ(error_of(base + "nc=00000001, algorithm=MD5-sess"),
            DigestParseError::unsupported_algorithm);
  EXPECT_EQ(error_of(base + "nc=00000001, algorithm=SHA-512"),
            DigestParseError::unsupported_algorithm);
  EXPECT_EQ(error_of("Digest username=\"u\", realm=\"r\", nonce=\"n\", uri=\"u\", "
                     "response=\"ab\", qop=auth-int, cnonce=\"c\", nc=00000001"),
            DigestParseError::bad_qop);
  EXPECT_EQ(error_of(base + "nc=00000001, userhash=yes"), DigestParseError::bad_userhash);
  EXPECT_EQ(error_of(base + "nc=00000001, username*=UTF-8''J%C3%A4s%C3%B8n%20Doe"),
            DigestParseError::unsupported_username_star);
}

TEST(DigestAuthorization, SyntaxErrors) {
  EXPECT_EQ(error_of("Basic dXNlcjpwYXNz"), DigestParseError::not_digest);
  EXPECT_EQ(error_of("Digestusername=\"u\""), DigestParseError::not_digest);
  EXPECT_EQ(error_of(""), DigestParseError::not_digest);
  EXPECT_EQ(error_of("Digest"), DigestParseError::bad_syntax);
  EXPECT_EQ(error_of("Digest "), DigestParseError::bad_syntax);
  EXPECT_EQ(error_of(kSip + ","), DigestParseError::bad_syntax);
  EXPECT_EQ(error_of(kSip + ",,x=1"), DigestParseError::bad_syntax);
  EXPECT_EQ(error_of(kSip + " x=1"), DigestParseError::bad_syntax);
  EXPECT_EQ(error_of("Digest username"), DigestParseError::bad_syntax);
  EXPECT_EQ(error_of("Digest username="), DigestParseError::bad_syntax);
  EXPECT_EQ(error_of("Digest username=\"u\"x, realm=\"r\""), DigestParseError::bad_syntax);
  EXPECT_EQ(error_of("Digest =\"u\""), DigestParseError::bad_syntax);
}

TEST(DigestAuthorization, Bounded) {
  EXPECT_EQ(error_of(kSip, {.max_value_bytes = kSip.size() - 1}), DigestParseError::too_long);
  EXPECT_EQ(error_of(kSip, {.max_param_bytes = 31}), DigestParseError::too_long);  // response
  EXPECT_EQ(error_of(kSip, {.max_params = 8}), DigestParseError::too_many_params);
  EXPECT_EQ(error_of(kSip, {.max_params = 9}), DigestParseError::ok);
  std::string many = kSip;
  for (int i = 0; i < 100; ++i) many += ", p" + std::to_string(i) + "=1";
  EXPECT_EQ(error_of(many), DigestParseError::too_many_params);
  EXPECT_EQ(error_of(kSip + ", x=\"" + std::string(2000, 'a') + "\""), DigestParseError::too_long);
}

TEST(DigestAuthorization, Names) {
  for (size_t i = 0; i < kDigestParseErrorCount; ++i) {
    EXPECT_NE(to_string(static_cast<DigestParseError>(i)), "unknown");
  }
}

}  // namespace
}  // namespace sipwall
