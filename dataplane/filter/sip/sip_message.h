#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace sipwall {

// Headers the filter knows by name; compact forms (RFC 3261 7.3.3) map to the same id.
enum class SipHeader : uint8_t {
  other,
  via,      // v
  from,     // f
  to,       // t
  call_id,  // i
  cseq,
  max_forwards,
  content_length,  // l
  content_type,    // c
  contact,         // m
  user_agent,
  subject,           // s
  supported,         // k
  content_encoding,  // e
  allow_events,      // u
  event,             // o
  refer_to,          // r
  route,
  record_route,
  authorization,
  proxy_authorization,
  date,
  expires,
  server,
  count_,
};
inline constexpr size_t kSipHeaderCount = static_cast<size_t>(SipHeader::count_);

// Maps a header name as written (any case, compact or full) to its id; SipHeader::other if unknown.
SipHeader sip_header_from_name(std::string_view name);
// The canonical full name ("Via", "User-Agent", ...); empty for SipHeader::other.
std::string_view sip_header_name(SipHeader h);

enum class SipMethod : uint8_t { invite, register_, options, ack, bye, cancel, other };

// Exact, case-sensitive match as RFC 3261 requires for method tokens.
SipMethod sip_method_from_token(std::string_view token);

struct SipHeaderField {
  SipHeader id = SipHeader::other;
  std::string_view name;   // as written, without surrounding whitespace
  std::string_view value;  // from the first non-LWS octet after ':' to the last non-LWS octet
                           // before the terminating CRLF; folded lines stay inside
};

// A validated SIP message. Every view points into the datagram that was validated.
struct SipMessage {
  std::string_view raw;  // start line through the end of the body (trailing octets excluded)
  bool is_request = false;
  SipMethod method = SipMethod::other;  // requests only
  std::string_view method_token;        // requests only
  std::string_view request_uri;         // requests only
  uint16_t status_code = 0;             // responses only
  std::span<const SipHeaderField> headers;
  std::string_view body;

  // First header with this id, if any.
  std::optional<SipHeaderField> find(SipHeader id) const {
    for (const auto& h : headers) {
      if (h.id == id) return h;
    }
    return std::nullopt;
  }
};

}  // namespace sipwall
