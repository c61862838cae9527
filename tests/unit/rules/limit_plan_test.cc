#include "rules/limit_plan.h"

#include <gtest/gtest.h>

namespace sipwall::rules {
namespace {

LimitSlot slot(std::string id, LimitScope scope, std::vector<std::string> methods = {},
               BucketParams p = {1, 2}) {
  LimitSlot s;
  s.id = std::move(id);
  s.scope = scope;
  s.methods = std::move(methods);
  s.params = p;
  return s;
}

LimitPlan shipped_classes() {
  LimitPlan p;
  p.slots = {slot("sip", LimitScope::sip_all, {}, {50, 100}),
             slot("inv", LimitScope::methods, {"INVITE"}, {20, 40}),
             slot("reg", LimitScope::methods, {"REGISTER"}, {10, 20}),
             slot("opt", LimitScope::methods, {"OPTIONS"}, {11, 21}),
             slot("oth", LimitScope::other_methods, {}, {51, 101}),
             slot("rtp", LimitScope::rtp_flow, {}, {200, 400}),
             slot("syn", LimitScope::tcp_syn, {}, {21, 41})};
  p.sip_all = {0};
  p.methods = {{"INVITE", {1}}, {"OPTIONS", {3}}, {"REGISTER", {2}}};
  p.other_methods = {4};
  p.rtp_flow = {5};
  p.tcp_syn = {6};
  return p;
}

TEST(LimitPlan, RequestSlotsByMethodElseOther) {
  const LimitPlan p = shipped_classes();
  EXPECT_EQ(
      std::vector<LimitSlotId>(p.request_slots("INVITE").begin(), p.request_slots("INVITE").end()),
      std::vector<LimitSlotId>{1});
  EXPECT_EQ(p.request_slots("invite").front(), 4);  // methods are case-sensitive
  EXPECT_EQ(p.request_slots("BYE").front(), 4);
}

TEST(LimitPlan, ShippedClassesProjectExactly) {
  const auto c = shipped_classes().as_classes(RateLimitConfig{});
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->sip_all, (BucketParams{50, 100}));
  EXPECT_EQ(c->options, (BucketParams{11, 21}));
  EXPECT_EQ(c->other_method, (BucketParams{51, 101}));
  EXPECT_EQ(c->rtp_flow, (BucketParams{200, 400}));
  EXPECT_EQ(c->tcp_syn, (BucketParams{21, 41}));
}

TEST(LimitPlan, MissingClassesAreUnlimitedUnlessOtherWouldCoverThem) {
  LimitPlan p = shipped_classes();
  p.slots.erase(p.slots.begin() + 4);  // no other-limit: the rest still fits
  const auto c = p.as_classes(RateLimitConfig{});
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->other_method, kUnlimited);

  LimitPlan r = shipped_classes();
  r.slots.pop_back();  // no tcp-syn limit: connection attempts are not limited
  r.tcp_syn.clear();
  const auto without_syn = r.as_classes(RateLimitConfig{});
  ASSERT_TRUE(without_syn.has_value());
  EXPECT_EQ(without_syn->tcp_syn, kUnlimited);
  EXPECT_EQ(r.nearest_classes(RateLimitConfig{}).tcp_syn, kUnlimited);

  LimitPlan q = shipped_classes();
  q.slots.erase(q.slots.begin() + 2);  // other without REGISTER: REGISTER would go to other
  EXPECT_FALSE(q.as_classes(RateLimitConfig{}).has_value());
}

TEST(LimitPlan, MethodListsDoNotFitButHaveANearestProjection) {
  LimitPlan p;
  p.slots = {slot("a", LimitScope::methods, {"INVITE", "MESSAGE"}, {5, 6})};
  p.methods = {{"INVITE", {0}}, {"MESSAGE", {0}}};
  EXPECT_FALSE(p.as_classes(RateLimitConfig{}).has_value());
  const RateLimitConfig n = p.nearest_classes(RateLimitConfig{});
  EXPECT_EQ(n.invite, (BucketParams{5, 6}));
  EXPECT_EQ(n.sip_all, kUnlimited);
}

TEST(LimitPlan, OtherAggregationDoesNotFit) {
  LimitPlan p = shipped_classes();
  p.slots[0].v6_prefix = 56;
  EXPECT_FALSE(p.as_classes(RateLimitConfig{}).has_value());
}

TEST(LimitPlan, OverridesMostSpecificFirst) {
  LimitPlan p = shipped_classes();
  // Built one by one: GCC 12 -O3 raises a false -Wrestrict on a braced list of these.
  p.overrides.resize(2);
  p.overrides[0].id = "o24";
  p.overrides[0].prefix = *IpPrefix::parse("192.0.2.0/24");
  p.overrides[0].slot = 1;
  p.overrides[0].params = {7, 8};
  p.overrides[1].id = "o16";
  p.overrides[1].prefix = *IpPrefix::parse("192.0.0.0/16");
  p.overrides[1].slot = 1;
  p.overrides[1].params = {3, 4};
  EXPECT_EQ(p.params_for(1, *IpAddress::parse("192.0.2.9")), (BucketParams{7, 8}));
  EXPECT_EQ(p.params_for(1, *IpAddress::parse("192.0.9.9")), (BucketParams{3, 4}));
  EXPECT_EQ(p.params_for(1, *IpAddress::parse("198.51.100.1")), (BucketParams{20, 40}));
  EXPECT_EQ(p.params_for(0, *IpAddress::parse("192.0.2.9")), (BucketParams{50, 100}));
}

}  // namespace
}  // namespace sipwall::rules
