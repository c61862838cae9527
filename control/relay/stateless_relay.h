#pragma once

// Transaction-stateless relay between the outside and the core (RFC 3261 16.11): requests get
// our Via on top with a branch derived from theirs (so a retransmission, and the CANCEL of an
// INVITE, carry the same branch, whatever this process remembers), Max-Forwards decremented,
// Record-Route so in-dialog requests come through sipwall again, our own Route entry
// consumed, and received/rport on their Via (RFC 3261 18.2.1, RFC 3581). Responses are routed
// by the Via under ours: to the connection recorded in our Via when the request came over a
// stream, else to received/rport of the next Via. Credentials of the realm are consumed here
// (the core trusts sipwall) and not relayed.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "common/ip_address.h"
#include "control/policy/policy_types.h"
#include "sip/sip_message.h"

namespace sipwall::relay {

struct RelayAddress {
  std::string host;  // as it appears in our Via and Record-Route (IPv6 in brackets)
  uint16_t port = 5060;
};

struct Inbound {
  IpAddress source;
  uint16_t port = 0;
  policy::Transport transport = policy::Transport::udp;
  uint64_t connection = 0;  // stream transports: the connection to answer on
};

enum class RelayError : uint8_t {
  ok,
  too_many_hops,  // Max-Forwards 0: answer 483
  no_layout,      // no CRLF CRLF (liberal datagram): not relayed
  bad_via,        // top Via unreadable
  not_ours,       // a response whose top Via is not ours
  bad_next_via,   // the Via under ours names no address we can send to
  unroutable,     // a request from the core whose next hop is no IP address (no DNS here)
  count_,
};
inline constexpr size_t kRelayErrorCount = static_cast<size_t>(RelayError::count_);
std::string_view to_string(RelayError e);

struct ForwardedRequest {
  RelayError error = RelayError::ok;
  std::string text;
};
ForwardedRequest forward_request(const SipMessage& request, const Inbound& in,
                                 const RelayAddress& self);

// A request from the core toward the outside (an in-dialog request of a call that passed
// sipwall: the callee's BYE, a re-INVITE): our Route entry consumed, our Via on top,
// Max-Forwards decremented, and sent to the next Route entry (loose routing) or else the
// Request-URI, which must name an IP address. `destination`/`port` say where.
struct ForwardedFromCore {
  RelayError error = RelayError::ok;
  std::string text;
  IpAddress destination;
  uint16_t port = 0;
};
ForwardedFromCore forward_from_core(const SipMessage& request, const Inbound& core,
                                    const RelayAddress& self);

struct RoutedResponse {
  RelayError error = RelayError::ok;
  std::string text;
  IpAddress destination;
  uint16_t port = 0;
  uint64_t connection = 0;  // non-zero: send on this stream connection instead
};
RoutedResponse route_response(const SipMessage& response, const RelayAddress& self);

// A response generated here (401/407, 403, 483) to `request`: its Via (top one with received
// and rport), From, To (with a tag when it has none), Call-ID, CSeq, `extra` header lines
// (without CRLF), no body.
std::string make_reply(const SipMessage& request, const Inbound& in, int status,
                       std::string_view reason, std::span<const std::string> extra = {});

// The branch of our Via for a request whose top Via value is `top_via`.
std::string relay_branch(std::string_view top_via);

}  // namespace sipwall::relay
