#include "tap_setup.h"

#include <gtest/gtest.h>

namespace sipwall {
namespace {

// The success path needs root and a tap: tests/integration/test_exception_path.py covers it.
TEST(TapSetup, AMissingInterfaceIsAClearError) {
  TapSettings s;
  EXPECT_EQ(configure_tap(s), "tap interface 0 not found");
  s.ifindex = 1u << 30;  // no such interface
  EXPECT_EQ(configure_tap(s), "tap interface 1073741824 not found");
}

}  // namespace
}  // namespace sipwall
