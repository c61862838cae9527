#include "limit/limit_policy.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sipwall {
namespace {

// One slot per method, so the slot returned names the method that matched.
LimitPolicy policy_for(const std::vector<std::string>& methods) {
  LimitSpec spec;
  spec.slots.push_back({0, BucketParams{1, 1}});
  spec.other_methods = {0};
  for (size_t i = 0; i < methods.size(); ++i) {
    const auto id = static_cast<uint8_t>(i + 1);
    spec.slots.push_back({id, BucketParams{1, 1}});
    spec.methods.push_back({methods[i], {id}});
  }
  LimitPolicy p;
  EXPECT_EQ(LimitPolicy::build(spec, p), "");
  return p;
}

uint8_t slot_of(const LimitPolicy& p, std::string_view method) {
  const auto slots = p.request_slots(method);
  return slots.empty() ? 0xff : slots.front();
}

// Method tokens are matched on their first eight octets first: tokens that share those, or
// that are prefixes of one another, must still be told apart exactly.
TEST(LimitPolicy, MethodTokensMatchExactlyWhateverTheirLength) {
  const LimitPolicy p =
      policy_for({"INVITE", "REGISTER", "SUBSCRIBE", "SUBSCRIBX", "SUBSCRIBE-LONGER", "A"});
  EXPECT_EQ(slot_of(p, "INVITE"), 1);
  EXPECT_EQ(slot_of(p, "REGISTER"), 2);  // exactly eight octets
  EXPECT_EQ(slot_of(p, "SUBSCRIBE"), 3);
  EXPECT_EQ(slot_of(p, "SUBSCRIBX"), 4);  // differs in the ninth octet only
  EXPECT_EQ(slot_of(p, "SUBSCRIBE-LONGER"), 5);
  EXPECT_EQ(slot_of(p, "A"), 6);
  EXPECT_EQ(slot_of(p, "SUBSCRIBE-"), 0);  // a prefix of a listed token is another method
  EXPECT_EQ(slot_of(p, "REGISTERX"), 0);
  EXPECT_EQ(slot_of(p, "INVIT"), 0);
  EXPECT_EQ(slot_of(p, "invite"), 0);  // case-sensitive (RFC 3261 7.1)
  EXPECT_EQ(slot_of(p, std::string("INVITE\0", 7)), 0);
  EXPECT_EQ(slot_of(p, ""), 0);
}

}  // namespace
}  // namespace sipwall
