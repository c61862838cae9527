#include "control/credentials/credentials_file.h"

#include <gtest/gtest.h>

namespace sipwall {
namespace {

const std::string kMd5(32, 'a');
const std::string kSha(64, 'b');

CredentialsFile parsed(std::string_view text) {
  Result<CredentialsFile> r = CredentialsFile::parse(text, "creds");
  EXPECT_TRUE(r.ok()) << r.error();
  return r.ok() ? std::move(r).value() : CredentialsFile{};
}

std::string error_of(std::string_view text) {
  const Result<CredentialsFile> r = CredentialsFile::parse(text, "creds");
  EXPECT_FALSE(r.ok()) << text;
  return r.ok() ? "" : r.error();
}

TEST(CredentialsFile, ParsesAccountsCommentsAndBlankLines) {
  const std::string text =
      "# sipwall credentials\n\nalice@sip.example.com MD5=" + kMd5 + " SHA-256=" + kSha +
      "\n  bob@http-auth@example.org\tsha-512-256=" + std::string(64, 'C') + "\r\n";
  const CredentialsFile f = parsed(text);
  ASSERT_EQ(f.entries().size(), 2u);
  EXPECT_EQ(f.ha1("alice", "sip.example.com", DigestAlgorithm::md5), kMd5);
  EXPECT_EQ(f.ha1("alice", "sip.example.com", DigestAlgorithm::sha256), kSha);
  EXPECT_EQ(f.ha1("alice", "sip.example.com", DigestAlgorithm::sha512_256), std::nullopt);
  // The user ends at the first '@': the realm may hold one. Hex is stored in lower case.
  EXPECT_EQ(f.ha1("bob", "http-auth@example.org", DigestAlgorithm::sha512_256),
            std::string(64, 'c'));
  EXPECT_EQ(f.find("alice", "other"), nullptr);
  EXPECT_EQ(f.find("Alice", "sip.example.com"), nullptr);  // names are exact
}

TEST(CredentialsFile, ErrorsNameFileAndLineAllAtOnce) {
  const std::string text =
      "# ok\n"
      "alice MD5=" +
      kMd5 +
      "\n"
      "bob@r MD4=" +
      kMd5 +
      "\n"
      "carol@r MD5=abc\n"
      "dave@r\n"
      "erin@r MD5=" +
      kMd5 + " md5=" + kMd5 +
      "\n"
      "frank@r SHA-256=" +
      std::string(63, 'a') +
      "g\n"
      "gina@r MD5" +
      "\n"
      "@r MD5=" +
      kMd5 +
      "\n"
      "hal@ MD5=" +
      kMd5 +
      "\n"
      "ivy@r MD5=" +
      kMd5 +
      "\n"
      "ivy@r SHA-256=" +
      kSha + "\n";
  EXPECT_EQ(error_of(text),
            "creds:2: expected USER@REALM first, got 'alice'\n"
            "creds:3: expected ALGORITHM=HEX (MD5, SHA-256, SHA-512-256), got 'MD4=" +
                kMd5 +
                "'\n"
                "creds:4: MD5 HA1 must be 32 hex digits\n"
                "creds:5: no HA1 for dave@r (expected ALGORITHM=HEX)\n"
                "creds:6: MD5 given twice\n"
                "creds:7: SHA-256 HA1 must be 64 hex digits\n"
                "creds:8: expected ALGORITHM=HEX (MD5, SHA-256, SHA-512-256), got 'MD5'\n"
                "creds:9: empty user\n"
                "creds:10: empty realm\n"
                "creds:12: ivy@r is defined twice");
}

TEST(CredentialsFile, BadNamesAndLongLines) {
  EXPECT_EQ(error_of("al#ice@r MD5=" + kMd5), "creds:1: user holds '#'");
  EXPECT_EQ(error_of("alice@r\x01x MD5=" + kMd5),
            "creds:1: realm holds white space or a control octet");
  EXPECT_EQ(error_of("alice@r MD5=" + kMd5 + " " + std::string(5000, 'x')),
            "creds:1: line longer than 4096 octets");
  EXPECT_EQ(CredentialsFile::user_problem("a@b"), "user holds '@'");
  EXPECT_EQ(CredentialsFile::realm_problem("a@b"), std::nullopt);
}

TEST(CredentialsFile, ErrorListIsBounded) {
  std::string text;
  for (int i = 0; i < 30; ++i) text += "x\n";
  const std::string e = error_of(text);
  EXPECT_NE(e.find("creds:20: "), std::string::npos);
  EXPECT_EQ(e.find("creds:21: "), std::string::npos);
  EXPECT_TRUE(e.ends_with("creds: 10 more errors")) << e;
}

TEST(CredentialsFile, EditKeepsCommentsAndOrder) {
  CredentialsFile f =
      parsed("# head\nalice@r MD5=" + kMd5 + "\n# between\nbob@r MD5=" + kMd5 + "\n");
  f.set(CredentialEntry{.user = "carol", .realm = "r", .ha1 = {kMd5, kSha, ""}});
  f.set(CredentialEntry{.user = "alice", .realm = "r", .ha1 = {"", kSha, ""}});
  EXPECT_TRUE(f.remove("bob", "r"));
  EXPECT_FALSE(f.remove("bob", "r"));
  EXPECT_EQ(f.format(), "# head\nalice@r SHA-256=" + kSha + "\n# between\ncarol@r MD5=" + kMd5 +
                            " SHA-256=" + kSha + "\n");
  // What it writes, it reads back the same.
  const CredentialsFile again = parsed(f.format());
  EXPECT_EQ(again.entries(), f.entries());
  EXPECT_EQ(again.format(), f.format());
}

TEST(CredentialsFile, MakeAndMatch) {
  const DigestAlgorithm all[] = {DigestAlgorithm::md5, DigestAlgorithm::sha256,
                                 DigestAlgorithm::sha512_256};
  const CredentialEntry e =
      make_credential("Mufasa", "http-auth@example.org", "Circle of Life", all);
  // RFC 7616 3.9.1's HA1 (MD5 of "Mufasa:http-auth@example.org:Circle of Life").
  DigestHasher h;
  EXPECT_EQ(e.ha1_of(DigestAlgorithm::md5), digest_ha1(h, DigestAlgorithm::md5, "Mufasa",
                                                       "http-auth@example.org", "Circle of Life"));
  EXPECT_EQ(e.ha1_of(DigestAlgorithm::sha512_256).size(), 64u);
  EXPECT_TRUE(credential_matches(e, "Circle of Life"));
  EXPECT_FALSE(credential_matches(e, "Circle of life"));
  EXPECT_FALSE(credential_matches(CredentialEntry{.user = "u", .realm = "r", .ha1 = {}}, ""));
}

}  // namespace
}  // namespace sipwall
