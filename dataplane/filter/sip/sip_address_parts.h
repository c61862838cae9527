#pragma once

// The parts of a From / To / Contact value and of a SIP URI a proxy reads after validation:
// the URI, the header parameters (tag), the user part. Values are as SipHeaderField holds
// them (validated, trimmed); nothing is unescaped (user parts compare as written).

#include <optional>
#include <string_view>

namespace sipwall {

struct SipNameAddrParts {
  std::string_view uri;     // inside < > for a name-addr, else the addr-spec up to ';'
  std::string_view params;  // ";tag=...;..." after the URI (empty when none)
};

// Splits ( name-addr / addr-spec ) *( SEMI generic-param ); a quoted display name may hold
// '<'. Nothing when no URI can be found (no '>' after '<').
std::optional<SipNameAddrParts> sip_split_name_addr(std::string_view value);

// The user part of sip:/sips: URIs (userinfo before '@', without ":password"), the number of
// tel: URIs; empty when the URI has none.
std::string_view sip_uri_user(std::string_view uri);

// The host of a sip:/sips: URI (brackets kept for IPv6) and its port (0 when absent).
struct SipHostPort {
  std::string_view host;
  uint16_t port = 0;
};
std::optional<SipHostPort> sip_uri_hostport(std::string_view uri);

// The value of parameter `name` (case-insensitive) in ";a=1;b;c=3"; an empty view for a
// parameter without value, nothing when absent.
std::optional<std::string_view> sip_param(std::string_view params, std::string_view name);

}  // namespace sipwall
