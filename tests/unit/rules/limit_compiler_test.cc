#include "rules/limit_compiler.h"

#include <gtest/gtest.h>

#include "rules/rule_decoder.h"
#include "rules/rule_parser.h"

namespace sipwall::rules {
namespace {

LimitPlan plan(std::string_view text, Diagnostics& d) {
  const auto statements = parse_rules(text, "l.rules", d);
  const RuleSet set = decode_rules(statements, d);
  return compile_limits(set, d);
}

std::string errors(std::string_view text) {
  Diagnostics d;
  plan(text, d);
  return d.to_string();
}

TEST(LimitCompiler, SlotsPerMethod) {
  Diagnostics d;
  const LimitPlan p = plan(
      "limit all class=sip rate=50 burst=100\n"
      "limit inv class=invite rate=20 burst=40\n"
      "limit calls methods=INVITE,MESSAGE rate=5 burst=5\n"
      "limit rest class=other rate=9 burst=9\n"
      "limit media class=rtp rate=200 burst=400\n"
      "limit connect class=tcp-syn rate=3 burst=6\n"
      "override trunk prefix=198.51.100.0/24 limit=inv rate=500\n"
      "override wide prefix=198.51.0.0/16 limit=inv burst=7\n",
      d);
  ASSERT_FALSE(d.has_errors()) << d.to_string();
  ASSERT_EQ(p.slots.size(), 6u);
  EXPECT_EQ(p.sip_all, (std::vector<LimitSlotId>{0}));
  ASSERT_EQ(p.methods.size(), 2u);
  EXPECT_EQ(p.methods[0].method, "INVITE");
  EXPECT_EQ(p.methods[0].slots, (std::vector<LimitSlotId>{1, 2}));
  EXPECT_EQ(p.methods[1].method, "MESSAGE");
  EXPECT_EQ(p.methods[1].slots, (std::vector<LimitSlotId>{2}));
  EXPECT_EQ(p.other_methods, (std::vector<LimitSlotId>{3}));
  EXPECT_EQ(p.rtp_flow, (std::vector<LimitSlotId>{4}));
  EXPECT_EQ(p.tcp_syn, (std::vector<LimitSlotId>{5}));
  EXPECT_EQ(p.slots[5].params, (BucketParams{3, 6}));
  ASSERT_EQ(p.overrides.size(), 2u);
  EXPECT_EQ(p.overrides[0].id, "trunk");
  EXPECT_EQ(p.overrides[0].params, (BucketParams{500, 40}));  // burst inherited
  EXPECT_EQ(p.overrides[1].params, (BucketParams{20, 7}));
  EXPECT_EQ(p.overrides[0].slot, 1);
  EXPECT_FALSE(p.as_classes(RateLimitConfig{}).has_value());
}

TEST(LimitCompiler, Errors) {
  EXPECT_EQ(errors("limit l class=sip rate=1 burst=1\n"
                   "override o prefix=192.0.2.0/24 limit=nosuch rate=5\n"),
            "l.rules:2:38: error: override 'o' refers to unknown limit 'nosuch' (define it with: "
            "limit nosuch ...)\n");
  EXPECT_EQ(errors("limit l class=sip rate=1 burst=1\n"
                   "override o prefix=2001:db8::/80 limit=l rate=5\n"),
            "l.rules:2:19: error: override prefix /80 is narrower than limit 'l' counts sources "
            "(/64): one bucket covers the whole /64\n");
  EXPECT_EQ(errors("limit l class=sip rate=1 burst=1\n"
                   "override a prefix=192.0.2.0/24 limit=l rate=5\n"
                   "override b prefix=192.0.2.0/24 limit=l rate=6\n"),
            "l.rules:3:19: error: prefix 192.0.2.0/24 already overrides limit 'l' at "
            "l.rules:2:19\n");
  std::string wide;
  for (int i = 0; i < 9; ++i) {
    wide += "limit m" + std::to_string(i) + " class=invite rate=1 burst=1\n";
  }
  EXPECT_EQ(errors(wide),
            "l.rules:9:1: error: a request with method INVITE would take tokens from 9 limits (at "
            "most 8)\n");
  std::string many;
  for (size_t i = 0; i <= kMaxLimitSlots; ++i) {
    many += "limit m" + std::to_string(i) + " methods=M" + std::to_string(i) + " rate=1 burst=1\n";
  }
  EXPECT_EQ(errors(many), "l.rules:65:1: error: too many limits (at most 64)\n");
}

}  // namespace
}  // namespace sipwall::rules
