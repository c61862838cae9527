#include "rules/diagnostics.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sipwall::rules {
namespace {

TEST(Diagnostics, FormatsFileLineColumn) {
  EXPECT_EQ(Diagnostic({"a.rules", 3, 7}, "bad").to_string(), "a.rules:3:7: error: bad");
  EXPECT_EQ(Diagnostic({"a.rules", 0, 0}, "big").to_string(), "a.rules: error: big");
  EXPECT_EQ(Diagnostic({}, "x").to_string(), "error: x");
}

TEST(Diagnostics, CollectsAndCapsKeptErrors) {
  Diagnostics d;
  EXPECT_FALSE(d.has_errors());
  for (size_t i = 0; i < Diagnostics::kMaxKept + 5; ++i) d.error({"f", 1, 1}, "e");
  EXPECT_EQ(d.count(), Diagnostics::kMaxKept + 5);
  EXPECT_EQ(d.all().size(), Diagnostics::kMaxKept);
  EXPECT_NE(d.to_string().find("error: 5 more errors not shown\n"), std::string::npos);
}

TEST(Diagnostics, SortsByFileOrderThenPosition) {
  Diagnostics d;
  d.error({"b.rules", 1, 1}, "b1");
  d.error({"a.rules", 9, 1}, "a9");
  d.error({"a.rules", 2, 5}, "a2-5");
  d.error({"a.rules", 2, 5}, "a2-5 second");
  const std::vector<std::string> order{"a.rules", "b.rules"};
  d.sort(order);
  EXPECT_EQ(d.to_string(),
            "a.rules:2:5: error: a2-5\n"
            "a.rules:2:5: error: a2-5 second\n"
            "a.rules:9:1: error: a9\n"
            "b.rules:1:1: error: b1\n");
}

}  // namespace
}  // namespace sipwall::rules
