#pragma once

#include <cstdint>
#include <string_view>

#include "common/ip_address.h"

namespace sipwall {

enum class AclAction : uint8_t { allow, deny };

struct AclEntry {
  IpPrefix prefix;
  AclAction action = AclAction::deny;

  bool operator==(const AclEntry&) const = default;
};

constexpr std::string_view to_string(AclAction a) {
  return a == AclAction::allow ? "allow" : "deny";
}

}  // namespace sipwall
