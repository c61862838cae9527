#pragma once

// URI and host checks of RFC 3261 25.1 with the RFC 5118 IPv6 tolerances.

#include <string_view>

namespace sipwall {

// host = hostname / IPv4address / IPv6reference. Inside [ ] only hex digits, ':' and '.' are
// accepted (not a full RFC 4291 parse: RFC 5118 4.10 requires tolerating "2001:db8:::192.0.2.1").
bool sip_host_is_valid(std::string_view host);

// port = 1*5DIGIT, at most 65535.
bool sip_port_is_valid(std::string_view port);

// hostport = host [ ":" port ]. On success `host` (if given) receives the host part.
bool sip_hostport_is_valid(std::string_view hostport, std::string_view* host = nullptr);

// An absolute URI: scheme ":" rest. sip:/sips: URIs get the full SIP-URI check (userinfo,
// hostport, uri-parameters, headers); other schemes only need RFC 2396 uric characters.
// `allow_headers` = false rejects a "?" header part (strict Request-URI).
bool sip_uri_is_valid(std::string_view uri, bool allow_headers);

// The same checks for a view whose memory stays readable up to `lim` (>= its end): scans may
// then load 16 octets at a time across the view's end. The validator passes the datagram end.
bool sip_host_is_valid(std::string_view host, const char* lim);
bool sip_uri_is_valid(std::string_view uri, bool allow_headers, const char* lim);

}  // namespace sipwall
