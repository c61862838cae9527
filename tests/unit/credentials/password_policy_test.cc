#include "control/credentials/password_policy.h"

#include <gtest/gtest.h>

namespace sipwall {
namespace {

std::string problem(std::string_view pw, const PasswordPolicy& p = {}) {
  return password_problem(pw, p).value_or("");
}

TEST(PasswordPolicy, DefaultNeedsTwelveCharactersUpperLowerDigit) {
  EXPECT_EQ(problem("Correct-Horse-9"), "");
  EXPECT_EQ(problem("Abcdefghij1k"), "");  // exactly 12
  EXPECT_EQ(problem("Abcdefghij1"), "shorter than 12 characters");
  EXPECT_EQ(problem("abcdefghij1kl"), "has no upper-case letter (A-Z)");
  EXPECT_EQ(problem("ABCDEFGHIJ1KL"), "has no lower-case letter (a-z)");
  EXPECT_EQ(problem("Abcdefghijklm"), "has no digit (0-9)");
  EXPECT_EQ(problem(""), "shorter than 12 characters");
}

TEST(PasswordPolicy, LengthCountsCharactersNotOctets) {
  // 11 characters, 22 octets: too short.
  EXPECT_EQ(problem("A1\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9x"
                    "\xc3\xa9"),
            "");
  EXPECT_EQ(problem("Ab1\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"),
            "shorter than 12 characters");
}

TEST(PasswordPolicy, ControlCharactersAndLengthBound) {
  EXPECT_EQ(problem("Correct-Horse-9\n"), "contains a control character");
  EXPECT_EQ(problem(std::string("Correct\0Horse9", 14)), "contains a control character");
  EXPECT_EQ(problem("Aa1" + std::string(300, 'x')), "longer than 256 octets");
}

TEST(PasswordPolicy, Configurable) {
  const PasswordPolicy relaxed{.min_length = 4,
                               .max_length = 256,
                               .require_upper = false,
                               .require_lower = true,
                               .require_digit = false};
  EXPECT_EQ(problem("abcd", relaxed), "");
  EXPECT_EQ(problem("abc", relaxed), "shorter than 4 characters");
  EXPECT_EQ(problem("ABCD", relaxed), "has no lower-case letter (a-z)");
}

}  // namespace
}  // namespace sipwall
