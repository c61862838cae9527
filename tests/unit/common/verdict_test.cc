#include "common/verdict.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace sipwall {
namespace {

TEST(DropReason, EveryReasonHasAUniqueNameThatRoundTrips) {
  std::set<std::string> names;
  for (size_t i = 1; i < kDropReasonCount; ++i) {
    const auto r = static_cast<DropReason>(i);
    const auto name = std::string(to_string(r));
    EXPECT_FALSE(name.empty());
    EXPECT_TRUE(names.insert(name).second) << name;
    EXPECT_EQ(drop_reason_from_string(name), r);
  }
  EXPECT_EQ(to_string(DropReason::rtp_no_pinhole), "rtp_no_pinhole");
  EXPECT_FALSE(drop_reason_from_string("nonsense"));
}

TEST(Decision, FactoriesSetVerdictReasonAndRule) {
  EXPECT_EQ(Decision::punt().verdict, Verdict::punt);
  const auto d = Decision::drop(DropReason::signature, 7);
  EXPECT_EQ(d.verdict, Verdict::drop);
  EXPECT_EQ(d.reason, DropReason::signature);
  EXPECT_EQ(d.rule, 7u);
  EXPECT_EQ(to_string(Verdict::drop), "drop");
}

}  // namespace
}  // namespace sipwall
