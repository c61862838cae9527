#include "acl/service_addresses.h"

#include <gtest/gtest.h>

#include <vector>

namespace sipwall {
namespace {

IpAddress addr(const char* text) {
  return *IpAddress::parse(text);
}

TEST(ServiceAddresses, ConfiguredAddressesAreServedAndPuntedToExactly) {
  const std::vector<IpAddress> list = {addr("192.0.2.10"), addr("2001:db8::10")};
  const auto s = ServiceAddresses::build(list);
  ASSERT_TRUE(s.ok()) << s.error();
  EXPECT_FALSE(s->none());
  for (const char* a : {"192.0.2.10", "2001:db8::10"}) {
    EXPECT_TRUE(s->contains(addr(a))) << a;
    EXPECT_TRUE(s->punts_to(addr(a))) << a;
  }
  // Whole addresses only: a neighbour is not a service address.
  for (const char* a : {"192.0.2.11", "192.0.2.9", "2001:db8::11"}) {
    EXPECT_FALSE(s->contains(addr(a))) << a;
    EXPECT_FALSE(s->punts_to(addr(a))) << a;
  }
}

TEST(ServiceAddresses, NoneConfiguredPuntsEverythingAndServesNothing) {
  for (const ServiceAddresses& none : {ServiceAddresses{}, *ServiceAddresses::build({})}) {
    EXPECT_TRUE(none.none());
    EXPECT_TRUE(none.punts_to(addr("192.0.2.10")));
    EXPECT_TRUE(none.punts_to(addr("2001:db8::10")));
    EXPECT_FALSE(none.contains(addr("192.0.2.10")));
    EXPECT_FALSE(none.contains(addr("0.0.0.0")));
  }
}

TEST(ServiceAddresses, AnAddressListedTwiceIsRefused) {
  const std::vector<IpAddress> list = {addr("192.0.2.10"), addr("192.0.2.10")};
  const auto s = ServiceAddresses::build(list);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().find("192.0.2.10"), std::string::npos) << s.error();
}

}  // namespace
}  // namespace sipwall
