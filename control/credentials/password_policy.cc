#include "control/credentials/password_policy.h"

namespace sipwall {

std::optional<std::string> password_problem(std::string_view password,
                                            const PasswordPolicy& policy) {
  size_t characters = 0;
  bool upper = false;
  bool lower = false;
  bool digit = false;
  for (const char c : password) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return "contains a control character";
    if ((u & 0xc0) != 0x80) ++characters;  // not a UTF-8 continuation octet
    upper = upper || (c >= 'A' && c <= 'Z');
    lower = lower || (c >= 'a' && c <= 'z');
    digit = digit || (c >= '0' && c <= '9');
  }
  if (password.size() > policy.max_length) {
    return "longer than " + std::to_string(policy.max_length) + " octets";
  }
  if (characters < policy.min_length) {
    return "shorter than " + std::to_string(policy.min_length) + " characters";
  }
  if (policy.require_upper && !upper) return "has no upper-case letter (A-Z)";
  if (policy.require_lower && !lower) return "has no lower-case letter (a-z)";
  if (policy.require_digit && !digit) return "has no digit (0-9)";
  return std::nullopt;
}

}  // namespace sipwall
