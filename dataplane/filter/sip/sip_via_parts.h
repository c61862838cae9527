#pragma once

// The first via-parm of a Via header value, as a proxy needs it: the transport, the sent-by
// host and port, the parameters (branch, received, rport), and what follows it (the other
// via-parms of the same field), so the first one can be removed or inspected (RFC 3261 16.7,
// 18.2.1; RFC 3581 rport).

#include <cstdint>
#include <optional>
#include <string_view>

namespace sipwall {

struct SipViaParts {
  std::string_view parm;       // the whole first via-parm, trimmed
  std::string_view transport;  // "UDP", "TCP", "TLS", ...
  std::string_view host;       // sent-by host, brackets kept for IPv6
  uint16_t port = 0;           // 0 when absent
  std::string_view params;     // ";branch=...;rport" (empty when none)
  std::string_view rest;       // after the comma that ends this via-parm; empty when last
};

// Parses the first via-parm of a validated Via value.
std::optional<SipViaParts> sip_first_via(std::string_view value);

}  // namespace sipwall
