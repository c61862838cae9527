#pragma once

// The password policy sipwall-passwd enforces before it stores a password's HA1s (the
// password itself is never stored, so this is the only place it can be judged).

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace sipwall {

struct PasswordPolicy {
  size_t min_length = 12;     // characters (UTF-8 code points), not octets
  size_t max_length = 256;    // octets: a bound, not a recommendation
  bool require_upper = true;  // A-Z
  bool require_lower = true;  // a-z
  bool require_digit = true;  // 0-9
};

// Why `password` breaks the policy ("shorter than 12 characters", ...); nothing when it
// complies. Control characters are always refused (a pasted newline is never meant).
std::optional<std::string> password_problem(std::string_view password,
                                            const PasswordPolicy& policy);

}  // namespace sipwall
