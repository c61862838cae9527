#include "control/auth/nonce_signer.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <vector>

namespace sipwall {
namespace {

constexpr Nanos kT0 = 1'767'225'600 * kNanosPerSecond;
constexpr std::string_view kRealm = "sip.example.com";

std::vector<uint8_t> secret(uint8_t fill = 7) {
  return std::vector<uint8_t>(32, fill);
}

IpAddress ip(const char* s) {
  return *IpAddress::parse(s);
}

class NonceSignerTest : public ::testing::Test {
 protected:
  NonceSigner signer{secret(), {}, 1000};
};

TEST_F(NonceSignerTest, FreshNonceIsValidWithItsIdAndTime) {
  const std::string n = signer.issue(kRealm, ip("192.0.2.1"), kNonceUnbound, kT0);
  EXPECT_EQ(n.size(), 76u);
  const NonceCheck c = signer.check(n, kRealm, ip("198.51.100.9"), kT0 + kNanosPerSecond);
  EXPECT_EQ(c.status, NonceStatus::valid);
  EXPECT_EQ(c.id, 1000u);
  EXPECT_EQ(c.issued, kT0);
  // Ids are distinct.
  const std::string n2 = signer.issue(kRealm, ip("192.0.2.1"), kNonceUnbound, kT0);
  EXPECT_NE(n, n2);
  EXPECT_EQ(signer.check(n2, kRealm, ip("192.0.2.1"), kT0).id, 1001u);
}

TEST_F(NonceSignerTest, ExpiresIntoStale) {
  const std::string n = signer.issue(kRealm, ip("192.0.2.1"), kNonceUnbound, kT0);
  const Nanos life = signer.config().lifetime;
  EXPECT_EQ(signer.check(n, kRealm, ip("192.0.2.1"), kT0 + life).status, NonceStatus::valid);
  EXPECT_EQ(signer.check(n, kRealm, ip("192.0.2.1"), kT0 + life + 1).status, NonceStatus::stale);
}

TEST_F(NonceSignerTest, EveryAlteredDigitIsRefused) {
  const std::string n = signer.issue(kRealm, ip("192.0.2.1"), 32, kT0);
  for (size_t i = 0; i < n.size(); ++i) {
    std::string bad = n;
    bad[i] = bad[i] == '0' ? '1' : '0';
    // The last 16 digits are the binding tag: altered, the nonce is ours but bound elsewhere.
    const NonceStatus want = i < 60 ? NonceStatus::invalid : NonceStatus::wrong_source;
    EXPECT_EQ(signer.check(bad, kRealm, ip("192.0.2.1"), kT0).status, want) << i;
  }
  // Unbound, the binding digits are fixed: altered, the nonce is forged.
  const std::string unbound = signer.issue(kRealm, ip("192.0.2.1"), kNonceUnbound, kT0);
  for (size_t i = 60; i < unbound.size(); ++i) {
    std::string bad = unbound;
    bad[i] = bad[i] == '0' ? '1' : '0';
    EXPECT_EQ(signer.check(bad, kRealm, ip("192.0.2.1"), kT0).status, NonceStatus::invalid) << i;
  }
  EXPECT_EQ(signer.check(n.substr(1), kRealm, ip("192.0.2.1"), kT0).status, NonceStatus::invalid);
  EXPECT_EQ(signer.check(n + "0", kRealm, ip("192.0.2.1"), kT0).status, NonceStatus::invalid);
  std::string upper = n;
  for (char& c : upper) c = static_cast<char>(std::toupper(c));
  if (upper != n) {
    EXPECT_EQ(signer.check(upper, kRealm, ip("192.0.2.1"), kT0).status, NonceStatus::invalid);
  }
  EXPECT_EQ(signer.check("", kRealm, ip("192.0.2.1"), kT0).status, NonceStatus::invalid);
}

TEST_F(NonceSignerTest, OtherRealmOrSecretIsInvalid) {
  const std::string n = signer.issue(kRealm, ip("192.0.2.1"), kNonceUnbound, kT0);
  EXPECT_EQ(signer.check(n, "other.example.com", ip("192.0.2.1"), kT0).status,
            NonceStatus::invalid);
  const NonceSigner other(secret(8), {}, 1000);
  EXPECT_EQ(other.check(n, kRealm, ip("192.0.2.1"), kT0).status, NonceStatus::invalid);
}

TEST_F(NonceSignerTest, FromTheFutureIsInvalid) {
  const std::string n = signer.issue(kRealm, ip("192.0.2.1"), kNonceUnbound, kT0);
  const Nanos skew = signer.config().max_future;
  EXPECT_EQ(signer.check(n, kRealm, ip("192.0.2.1"), kT0 - skew).status, NonceStatus::valid);
  EXPECT_EQ(signer.check(n, kRealm, ip("192.0.2.1"), kT0 - skew - 1).status, NonceStatus::invalid);
}

TEST_F(NonceSignerTest, BindingToAnAddress) {
  const std::string n = signer.issue(kRealm, ip("192.0.2.1"), 32, kT0);
  EXPECT_EQ(signer.check(n, kRealm, ip("192.0.2.1"), kT0).status, NonceStatus::valid);
  const NonceCheck moved = signer.check(n, kRealm, ip("192.0.2.2"), kT0);
  EXPECT_EQ(moved.status, NonceStatus::wrong_source);
  EXPECT_EQ(moved.id, 1000u);
  EXPECT_EQ(signer.check(n, kRealm, ip("2001:db8::1"), kT0).status, NonceStatus::wrong_source);
}

TEST_F(NonceSignerTest, BindingToAPrefix) {
  const std::string n = signer.issue(kRealm, ip("192.0.2.1"), 24, kT0);
  EXPECT_EQ(signer.check(n, kRealm, ip("192.0.2.254"), kT0).status, NonceStatus::valid);
  EXPECT_EQ(signer.check(n, kRealm, ip("192.0.3.1"), kT0).status, NonceStatus::wrong_source);
  const std::string v6 = signer.issue(kRealm, ip("2001:db8:1:2::1"), 64, kT0);
  EXPECT_EQ(signer.check(v6, kRealm, ip("2001:db8:1:2:ffff::9"), kT0).status, NonceStatus::valid);
  EXPECT_EQ(signer.check(v6, kRealm, ip("2001:db8:1:3::1"), kT0).status, NonceStatus::wrong_source);
  // A prefix longer than the address is the whole address.
  const std::string full = signer.issue(kRealm, ip("192.0.2.1"), 99, kT0);
  EXPECT_EQ(signer.check(full, kRealm, ip("192.0.2.1"), kT0).status, NonceStatus::valid);
  EXPECT_EQ(signer.check(full, kRealm, ip("192.0.2.3"), kT0).status, NonceStatus::wrong_source);
}

TEST_F(NonceSignerTest, UnboundFromAnywhere) {
  const std::string n = signer.issue(kRealm, ip("192.0.2.1"), kNonceUnbound, kT0);
  EXPECT_EQ(signer.check(n, kRealm, ip("2001:db8::7"), kT0).status, NonceStatus::valid);
}

TEST(NonceSigner, ShortSecretRefused) {
  EXPECT_THROW(NonceSigner(std::vector<uint8_t>(31, 1), {}, 0), std::invalid_argument);
}

}  // namespace
}  // namespace sipwall
