#include "rules/content_hash.h"

#include <gtest/gtest.h>

namespace sipwall::rules {
namespace {

TEST(ContentHash, EmptyIsTheFnvOffsetBasis) {
  EXPECT_EQ(ContentHash().version(), "fnv1a64:cbf29ce484222325");
}

TEST(ContentHash, DependsOnContentAndSplit) {
  ContentHash a, b, c, d;
  a.add("ab");
  a.add("c");
  b.add("a");
  b.add("bc");
  c.add("ab");
  c.add("c");
  d.add("ab");
  d.add("d");
  EXPECT_NE(a.value(), b.value());
  EXPECT_EQ(a.value(), c.value());
  EXPECT_NE(a.value(), d.value());
  EXPECT_EQ(a.version().size(), 8u + 16u);
}

}  // namespace
}  // namespace sipwall::rules
