#pragma once

// Parsers for the header values the validator checks in depth (RFC 3261 25.1). Each takes the
// value as SipHeaderField holds it: trimmed, with folds (CRLF + WSP) still inside.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sipwall {

// CSeq = 1*DIGIT LWS Method, the number at most 2^31 - 1 (leading zeros allowed).
bool sip_parse_cseq(std::string_view value, uint32_t& number, std::string_view& method);

// Max-Forwards = 1*DIGIT, at most 255 (leading zeros allowed).
bool sip_parse_max_forwards(std::string_view value, uint8_t& hops);

// Content-Length = 1*DIGIT. Values beyond any datagram saturate to SIZE_MAX.
bool sip_parse_content_length(std::string_view value, size_t& length);

// Call-ID = word [ "@" word ].
bool sip_call_id_is_valid(std::string_view value);

enum class ViaCheck : uint8_t { ok, bad, broadcast };

// Via = via-parm *( COMMA via-parm ). Adds the number of via-parms to `values`; a sent-by of
// 255.255.255.255 gives ViaCheck::broadcast (reflection guard).
ViaCheck sip_check_via(std::string_view value, size_t& values);

// From / To: ( name-addr / addr-spec ) *( SEMI generic-param ). `liberal` accepts any display
// name text before '<' and LWS inside "< >".
bool sip_name_addr_is_valid(std::string_view value, bool liberal);

// Contact = "*" / contact-param *( COMMA contact-param ).
bool sip_contact_is_valid(std::string_view value, bool liberal);

// Date must be an RFC 1123 date in GMT; the strict check only demands the "GMT" zone.
bool sip_date_is_valid(std::string_view value);

// The same parsers for a value whose memory stays readable up to `lim` (>= its end), so scans
// may load 16 octets at a time across the value's end. The validator passes the datagram end.
bool sip_parse_cseq(std::string_view value, uint32_t& number, std::string_view& method,
                    const char* lim);
bool sip_call_id_is_valid(std::string_view value, const char* lim);
ViaCheck sip_check_via(std::string_view value, size_t& values, const char* lim);
bool sip_name_addr_is_valid(std::string_view value, bool liberal, const char* lim);
bool sip_contact_is_valid(std::string_view value, bool liberal, const char* lim);

}  // namespace sipwall
