#pragma once

// The SIP validation stage: one pass over a UDP datagram that checks the RFC 3261 grammar where
// it matters for safety and frames the message for the later stages.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "sip/sip_message.h"

namespace sipwall {

// strict: RFC 3261 grammar. liberal: also what RFC 4475 lets a liberal receiver infer (extra SP
// in the request line, <> around the Request-URI, '?' in it, LWS inside < >, unquoted display
// names, non-GMT Date, a header section that ends at the end of the datagram).
enum class SipProfile : uint8_t { strict, liberal };

struct SipLimits {
  size_t max_message_bytes = 16384;
  size_t max_header_lines = 256;        // header fields (a folded field counts once)
  size_t max_header_line_bytes = 4096;  // one field, name through value, folds included
  size_t max_via_values = 70;           // via-parms over all Via fields
};

struct SipValidatorConfig {
  SipProfile profile = SipProfile::strict;
  SipLimits limits;
};

// One value per distinct reason a datagram is refused (each becomes a drop counter).
enum class SipError : uint8_t {
  ok,
  too_long,              // datagram larger than max_message_bytes
  bad_start_line,        // request/status line shape: separators, missing parts, CRLF
  bad_method,            // method is not a token
  bad_version,           // SIP-Version other than SIP/2.0
  bad_request_uri,       // Request-URI grammar
  bad_status_code,       // not 3 digits in 100..699
  bad_reason_phrase,     // control octets in the reason phrase
  bad_line_ending,       // bare CR or bare LF in the start line or header section
  bad_header_line,       // no ':' after the name, name not a token, stray continuation line
  header_too_long,       // one field longer than max_header_line_bytes
  too_many_headers,      // more than max_header_lines fields
  unterminated_headers,  // no empty line after the headers (liberal: allowed at datagram end)
  missing_header,        // Via, From, To, Call-ID or CSeq missing
  duplicate_header,      // single-valued header present twice
  bad_cseq,
  cseq_method_mismatch,
  bad_content_length,
  body_truncated,  // Content-Length larger than the octets after the empty line
  bad_via,
  too_many_vias,
  broadcast_via,  // sent-by 255.255.255.255
  bad_name_addr,  // From / To
  bad_contact,
  bad_call_id,
  bad_max_forwards,
  bad_date,
  count_,
};
inline constexpr size_t kSipErrorCount = static_cast<size_t>(SipError::count_);

std::string_view to_string(SipError e);

class SipValidator {
 public:
  explicit SipValidator(const SipValidatorConfig& cfg);  // sizes header storage once here

  // Validates one UDP datagram payload. On ok, `out` views into `datagram` and into this
  // validator's header storage (valid until the next call). Never allocates, never throws.
  SipError validate(std::string_view datagram, SipMessage& out);

  const SipValidatorConfig& config() const { return cfg_; }

 private:
  struct Scan;  // per-call state, lives on the stack

  // `lim`: the end of the datagram, up to which scans may read past the line.
  SipError parse_start_line(std::string_view line, const char* lim, SipMessage& m) const;
  SipError parse_request_line(std::string_view line, const char* lim, SipMessage& m) const;
  SipError parse_status_line(std::string_view line, SipMessage& m) const;
  SipError check_field(const SipHeaderField& f, Scan& scan) const;
  SipHeader lookup(std::string_view name, const char* lim) const;

  SipValidatorConfig cfg_;
  std::vector<SipHeaderField> headers_;
  // Header-name dispatch built from sip_message's name table: compact letters by lower-case
  // byte; full names by a hash of the length and the first two octets (perfect for the known
  // names, so a slot holds one name), confirmed with one compare of the name with every octet
  // OR 0x20 against the slot's name folded the same way and padded with 0x20.
  static constexpr size_t kNameSlots = 32;
  std::array<SipHeader, 128> compact_{};
  struct FoldedName {
    alignas(32) std::array<char, 32> bytes;
  };
  std::array<FoldedName, kNameSlots> folded_{};
  std::array<uint8_t, kNameSlots> slot_id_{};  // a SipHeader, or kAmbiguous (two names)
  std::array<uint8_t, kNameSlots> slot_len_{};
};

}  // namespace sipwall
