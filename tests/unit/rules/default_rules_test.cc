// The shipped rules/default.rules must be exactly the dataplane's built-in defaults.

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "pipeline/filter_config.h"
#include "rules/rule_compiler.h"
#include "sig/default_signatures.h"
#include "sig/signature_scratch.h"

namespace sipwall::rules {
namespace {

std::string default_rules_path() {
  const char* dir = std::getenv("SIPWALL_RULES_DIR");
  return std::string(dir ? dir : "rules") + "/default.rules";
}

class DefaultRules : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    result_ = new RulesResult(compile_rules_file(default_rules_path()));
  }
  static void TearDownTestSuite() { delete result_; }
  static inline RulesResult* result_ = nullptr;
};

TEST_F(DefaultRules, CompilesCleanly) {
  ASSERT_TRUE(result_->ok()) << result_->diagnostics.to_string();
  EXPECT_EQ(result_->rules->files.size(), 2u);
  EXPECT_TRUE(result_->rules->limits_fit_classes);
}

TEST_F(DefaultRules, FilterConfigEqualsTheBuiltInDefaults) {
  ASSERT_TRUE(result_->ok());
  const FilterConfig& got = result_->rules->filter;
  const FilterConfig want;
  EXPECT_EQ(got.ports.sip_udp, want.ports.sip_udp);
  EXPECT_EQ(got.ports.sip_tcp, want.ports.sip_tcp);
  EXPECT_EQ(got.ports.sip_tls, want.ports.sip_tls);
  EXPECT_EQ(got.ports.media, want.ports.media);
  EXPECT_EQ(got.sip.profile, want.sip.profile);
  EXPECT_EQ(got.sip.limits.max_message_bytes, want.sip.limits.max_message_bytes);
  EXPECT_EQ(got.sip.limits.max_header_lines, want.sip.limits.max_header_lines);
  EXPECT_EQ(got.sip.limits.max_header_line_bytes, want.sip.limits.max_header_line_bytes);
  EXPECT_EQ(got.sip.limits.max_via_values, want.sip.limits.max_via_values);
  for (size_t c = 0; c < kLimitClassCount; ++c) {
    const auto cls = static_cast<LimitClass>(c);
    EXPECT_EQ(got.limits.params(cls), want.limits.params(cls)) << "class " << c;
  }
  EXPECT_EQ(got.limits.v4_prefix, want.limits.v4_prefix);
  EXPECT_EQ(got.limits.v6_prefix, want.limits.v6_prefix);
  EXPECT_EQ(got.limits.table_capacity, want.limits.table_capacity);
  EXPECT_EQ(got.acl, want.acl);
  EXPECT_EQ(got.acl_default, want.acl_default);
  EXPECT_EQ(got.sip_by_content, want.sip_by_content);
  EXPECT_EQ(got.enforce_pinholes, want.enforce_pinholes);
  EXPECT_EQ(got.ban_capacity, want.ban_capacity);
  EXPECT_EQ(got.pinhole_capacity, want.pinhole_capacity);
  EXPECT_EQ(got.trust_capacity, want.trust_capacity);
  EXPECT_EQ(got.trusted, want.trusted);
  EXPECT_EQ(got.punt_budget, want.punt_budget);
  EXPECT_EQ(got.pass_budget, want.pass_budget);
  EXPECT_EQ(got.service_addresses, want.service_addresses);
  EXPECT_EQ(got.transit_sip, want.transit_sip);
  EXPECT_EQ(got.hash_seed, want.hash_seed);
  EXPECT_TRUE(result_->rules->limit_plan.overrides.empty());
}

TEST_F(DefaultRules, SignaturesEqualTheBuiltInSet) {
  ASSERT_TRUE(result_->ok());
  const auto want = default_signature_rules();
  const SignatureSet& got = *result_->rules->signatures;
  ASSERT_EQ(got.size(), want.size());
  ASSERT_EQ(want.size(), 31u);
  for (size_t i = 0; i < want.size(); ++i) {
    const SignatureRule& g = got.rule(static_cast<RuleIndex>(i));
    const SignatureRule& w = want[i];
    EXPECT_EQ(g.id, w.id) << i;
    EXPECT_EQ(g.pattern, w.pattern) << w.id;
    EXPECT_EQ(g.message, w.message) << w.id;
    EXPECT_EQ(g.scope, w.scope) << w.id;
    EXPECT_EQ(g.header, w.header) << w.id;
    EXPECT_EQ(g.caseless, w.caseless) << w.id;
    EXPECT_EQ(g.action, w.action) << w.id;
  }
  SignatureScratch scratch;
  EXPECT_EQ(scratch.reserve(got), "");
}

TEST_F(DefaultRules, LimitSlotsMatchTheBuiltInClasses) {
  ASSERT_TRUE(result_->ok());
  const LimitPlan& p = result_->rules->limit_plan;
  ASSERT_EQ(p.slots.size(), kLimitClassCount);
  EXPECT_EQ(p.sip_all.size(), 1u);
  EXPECT_EQ(p.rtp_flow.size(), 1u);
  ASSERT_EQ(p.tcp_syn.size(), 1u);
  EXPECT_EQ(p.slots[p.tcp_syn.front()].id, "sipwall:limit.tcp-syn");
  // default.rules and the built-in fallback (no rule file) must agree.
  const auto classes = p.as_classes(RateLimitConfig{});
  ASSERT_TRUE(classes.has_value());
  const RateLimitConfig builtin;
  for (size_t i = 0; i < kLimitClassCount; ++i) {
    const auto cls = static_cast<LimitClass>(i);
    EXPECT_EQ(classes->params(cls), builtin.params(cls)) << i;
  }
  EXPECT_EQ(p.other_methods.size(), 1u);
  EXPECT_EQ(p.slots[p.request_slots("INVITE").front()].id, "sipwall:limit.invite");
  EXPECT_EQ(p.slots[p.request_slots("BYE").front()].id, "sipwall:limit.other");
}

}  // namespace
}  // namespace sipwall::rules
