#include "sip/sip_header_values.h"

#include <cstring>
#include <limits>

#include "sip/sip_char_class.h"
#include "sip/sip_class_scan.h"
#include "sip/sip_uri.h"

namespace sipwall {
namespace {

using namespace sipchar;

// 1*DIGIT, saturating at `cap + 1` so huge values never overflow.
bool parse_digits(std::string_view s, uint64_t cap, uint64_t& value) {
  if (s.empty()) return false;
  uint64_t v = 0;
  for (const char c : s) {
    if (!is(c, kDigit)) return false;
    if (v <= cap) v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  value = v;
  return true;
}

// quoted-string at the cursor (which is on '"'): qdtext and quoted-pairs; a quoted-pair may
// carry any octet but CR and LF (raw NUL, BEL, DEL in intmeth.dat).
bool skip_quoted_string(Cursor& c) {
  const std::string_view s = c.s;
  size_t i = c.i + 1;
  while (true) {
    i = scan<kQdtext | kLws>(s, i, c.lim);  // stops on '"', '\\' and what is not qdtext
    if (i >= s.size()) return false;        // unterminated
    const char ch = s[i];
    if (ch == '"') {
      c.i = i + 1;
      return true;
    }
    if (ch != '\\' || i + 1 >= s.size() || s[i + 1] == '\r' || s[i + 1] == '\n') return false;
    i += 2;
  }
}

// *( SEMI generic-param ), generic-param = token [ EQUAL gen-value ], gen-value = token / host /
// quoted-string. Stops before ',' when `in_list`, else at the end of the value.
bool skip_params(Cursor& c, bool in_list) {
  while (true) {
    const size_t save = c.i;
    c.skip_lws();
    if (c.done() || (in_list && c.peek() == ',')) {
      c.i = save;
      return true;
    }
    if (!c.eat(';')) return false;
    c.skip_lws();
    if (c.take<kToken>().empty()) return false;  // ";;" or ";" at the end
    if (c.eat_sep('=')) {
      if (c.peek() == '"') {
        if (!skip_quoted_string(c)) return false;
      } else if (c.take<kGenValue>().empty()) {
        return false;
      }
    }
  }
}

// "<" addr-spec ">" with the cursor just past '<'. Strict: no LWS right inside the brackets.
bool skip_bracketed_uri(Cursor& c, bool liberal) {
  const size_t gt = find_byte(c.s, '>', c.i, c.lim);
  if (gt == std::string_view::npos) return false;
  std::string_view uri = c.s.substr(c.i, gt - c.i);
  if (liberal) {
    uri = trim_lws(uri);
  } else if (!uri.empty() && (is(uri.front(), kLws) || is(uri.back(), kLws))) {
    return false;
  }
  c.i = gt + 1;
  return sip_uri_is_valid(uri, /*allow_headers=*/true, c.lim);
}

// addr-spec without brackets: it ends at ';', ',' or LWS, and may not hold '?' headers
// (RFC 3261 20: such URIs must be written as name-addr).
bool skip_bare_uri(Cursor& c) {
  size_t end = c.i;
  while (end < c.s.size() && c.s[end] != ';' && c.s[end] != ',' && !is(c.s[end], kLws)) ++end;
  const std::string_view uri = c.s.substr(c.i, end - c.i);
  c.i = end;
  return sip_uri_is_valid(uri, /*allow_headers=*/false, c.lim);
}

// Liberal display name: any text but '"' and control octets up to '<' (infers the quotes of
// baddn.dat); inside a list the text may not cross a ','.
bool skip_liberal_display_name(Cursor& c, bool in_list) {
  for (size_t i = c.i; i < c.s.size(); ++i) {
    const char ch = c.s[i];
    if (ch == '<') {
      c.i = i + 1;
      return true;
    }
    if (ch == '"' || (in_list && ch == ',') || !is(ch, kText | kLws)) return false;
  }
  return false;
}

// ( name-addr / addr-spec ) *( SEMI param ) at the cursor.
bool skip_address(Cursor& c, bool liberal, bool in_list) {
  c.skip_lws();
  const size_t start = c.i;
  if (c.peek() == '"') {
    if (!skip_quoted_string(c)) return false;
    c.skip_lws();
    if (!c.eat('<') || !skip_bracketed_uri(c, liberal)) return false;
    return skip_params(c, in_list);
  }
  // display-name = *(token LWS); "caller<sip:...>" (lwsdisp.dat) has no LWS before '<'.
  while (!c.take<kToken>().empty()) c.skip_lws();
  if (c.eat('<')) return skip_bracketed_uri(c, liberal) && skip_params(c, in_list);
  c.i = start;
  if (skip_bare_uri(c) && skip_params(c, in_list)) return true;
  if (!liberal) return false;
  c.i = start;
  return skip_liberal_display_name(c, in_list) && skip_bracketed_uri(c, liberal) &&
         skip_params(c, in_list);
}

// sent-by = host [ COLON port ]; host is a hostname, IPv4 or [IPv6] reference.
bool skip_sent_by(Cursor& c, std::string_view& host) {
  const size_t start = c.i;
  if (c.peek() == '[') {
    const size_t close = find_byte(c.s, ']', c.i, c.lim);
    if (close == std::string_view::npos) return false;
    c.i = close + 1;
  } else {
    c.take<kHostname>();
  }
  host = c.s.substr(start, c.i - start);
  if (!sip_host_is_valid(host, c.lim)) return false;
  if (c.eat_sep(':')) return digit_port_ok(c.take<kDigit>());
  return true;
}

// *(";" token ["=" token / host]) from i to the end of v, without LWS or quoted values: true
// when that is all of v from i (skip_params then accepts the same octets).
bool simple_params_to_end(std::string_view v, size_t i, const char* lim) {
  const std::string_view r = v.substr(i);
  const size_t n = r.size();
  if (n > 64 || !kMaskFastPaths) {
    // One scan per name and value.
    for (i = 0; i < n;) {
      if (r[i] != ';') return false;
      const size_t name_end = scan<kToken>(r, i + 1, lim);
      if (name_end == i + 1) return false;
      i = name_end;
      if (i < n && r[i] == '=') {
        const size_t value_end = scan<kGenValue>(r, i + 1, lim);
        if (value_end == i + 1) return false;
        i = value_end;
      }
    }
    return true;
  }
  if (n == 0) return true;
  // From masks: names and values then need no scan each. Separators are in neither class, so
  // a value (gen-value octets) runs from its '=' to the next separator.
  const Block64 b(r, lim);
  const uint64_t semi = b.eq(';');
  const uint64_t equal = b.eq('=');
  if (((b.bits<kGenValue>() | semi | equal) & b.live()) != b.live() || (semi & 1) == 0) {
    return false;
  }
  return params_well_formed(semi, equal, ~b.bits<kToken>(), 0, n);
}

// The common name-addr shapes: ["quoted display name" *SP] "<" URI ">" and simple params to
// the end. true: a valid name-addr (From/To) and a valid single contact-param (Contact), in
// both profiles, for certain; false: not decided here, the full parser answers.
bool is_simple_name_addr(std::string_view v, const char* lim) {
  const size_t n = v.size();
  size_t i = 0;
  if (n != 0 && v[0] == '"') {
    i = scan<kQdtext | kLws>(v, 1, lim);  // stops on '"', '\\' and what is not qdtext
    if (i >= n || v[i] != '"') return false;
    ++i;
    while (i < n && v[i] == ' ') ++i;
  }
  if (i >= n || v[i] != '<') return false;
  const size_t gt = find_byte(v, '>', i + 1, lim);
  if (gt == std::string_view::npos || gt == i + 1) return false;
  const std::string_view uri = v.substr(i + 1, gt - i - 1);
  if (is(uri.front(), kLws) || is(uri.back(), kLws)) return false;
  return sip_uri_is_valid(uri, /*allow_headers=*/true, lim) && simple_params_to_end(v, gt + 1, lim);
}

// The common Via shape: one via-parm "SIP/2.0/" transport SP host [":" port] followed by
// *(";" token ["=" token / host]) with no other LWS, no quoted value, no IPv6 reference and a
// sent-by that is not the broadcast address. true: a valid single via-parm for certain;
// false: not decided here, the full parser answers.
bool is_simple_via(std::string_view v, const char* lim) {
  const size_t n = v.size();
  if (n < 10 || (v[0] | 0x20) != 's' || (v[1] | 0x20) != 'i' || (v[2] | 0x20) != 'p' ||
      std::memcmp(v.data() + 3, "/2.0/", 5) != 0) {
    return false;
  }
  const ValueScanner sc(v, lim);
  const size_t transport_end = sc.scan<kToken>(8);
  if (transport_end == 8 || transport_end + 1 >= n || v[transport_end] != ' ') return false;
  const size_t h = transport_end + 1;
  const size_t host_end = sc.scan<kHostname>(h);
  const std::string_view host = v.substr(h, host_end - h);
  if (equals(host, "255.255.255.255") || !sip_host_is_valid(host, lim)) return false;
  size_t i = host_end;
  if (i < n && v[i] == ':') {
    i = sc.scan<kDigit>(host_end + 1);
    if (!digit_port_ok(v.substr(host_end + 1, i - host_end - 1))) return false;
  }
  return simple_params_to_end(v, i, lim);
}

}  // namespace

bool sip_parse_cseq(std::string_view value, uint32_t& number, std::string_view& method) {
  return sip_parse_cseq(value, number, method, end_of(value));
}

bool sip_parse_cseq(std::string_view value, uint32_t& number, std::string_view& method,
                    const char* lim) {
  assert_lim(value, lim);
  const ValueScanner sc(value, lim);
  const size_t digits_end = sc.scan<kDigit>(0);
  uint64_t n = 0;
  if (!parse_digits(value.substr(0, digits_end), std::numeric_limits<int32_t>::max(), n)) {
    return false;
  }
  if (n > static_cast<uint64_t>(std::numeric_limits<int32_t>::max())) return false;
  const size_t method_begin = skip(value, digits_end, kLws);
  if (method_begin == digits_end) return false;
  const size_t method_end = sc.scan<kToken>(method_begin);
  method = value.substr(method_begin, method_end - method_begin);
  if (method.empty() || method_end != value.size()) return false;
  number = static_cast<uint32_t>(n);
  return true;
}

bool sip_parse_max_forwards(std::string_view value, uint8_t& hops) {
  uint64_t n = 0;
  if (!parse_digits(value, 255, n) || n > 255) return false;
  hops = static_cast<uint8_t>(n);
  return true;
}

bool sip_parse_content_length(std::string_view value, size_t& length) {
  constexpr uint64_t kCap = uint64_t{1} << 40;  // far beyond any datagram
  uint64_t n = 0;
  if (!parse_digits(value, kCap, n)) return false;
  length = n > kCap ? std::numeric_limits<size_t>::max() : static_cast<size_t>(n);
  return true;
}

bool sip_call_id_is_valid(std::string_view value) {
  return sip_call_id_is_valid(value, end_of(value));
}

bool sip_call_id_is_valid(std::string_view value, const char* lim) {
  assert_lim(value, lim);
  const ValueScanner sc(value, lim);
  const size_t first = sc.scan<kWord>(0);
  if (first == 0) return false;
  if (first == value.size()) return true;
  if (value[first] != '@' || first + 1 == value.size()) return false;
  return sc.scan<kWord>(first + 1) == value.size();
}

ViaCheck sip_check_via(std::string_view value, size_t& values) {
  return sip_check_via(value, values, end_of(value));
}

ViaCheck sip_check_via(std::string_view value, size_t& values, const char* lim) {
  assert_lim(value, lim);
  if (is_simple_via(value, lim)) {
    ++values;
    return ViaCheck::ok;
  }
  Cursor c{value, 0, lim};
  bool broadcast = false;
  while (true) {
    c.skip_lws();
    // sent-protocol = "SIP" SLASH "2.0" SLASH transport
    if (!iequals(c.take<kToken>(), "SIP") || !c.eat_sep('/')) return ViaCheck::bad;
    if (c.take<kToken>() != "2.0" || !c.eat_sep('/')) return ViaCheck::bad;
    if (c.take<kToken>().empty() || c.skip_lws() == 0) return ViaCheck::bad;
    std::string_view host;
    if (!skip_sent_by(c, host)) return ViaCheck::bad;
    broadcast = broadcast || host == "255.255.255.255";
    if (!skip_params(c, /*in_list=*/true)) return ViaCheck::bad;
    ++values;
    if (!c.eat_sep(',')) break;
  }
  c.skip_lws();
  if (!c.done()) return ViaCheck::bad;
  return broadcast ? ViaCheck::broadcast : ViaCheck::ok;
}

bool sip_name_addr_is_valid(std::string_view value, bool liberal) {
  return sip_name_addr_is_valid(value, liberal, end_of(value));
}

bool sip_name_addr_is_valid(std::string_view value, bool liberal, const char* lim) {
  assert_lim(value, lim);
  if (is_simple_name_addr(value, lim)) return true;
  Cursor c{value, 0, lim};
  if (!skip_address(c, liberal, /*in_list=*/false)) return false;
  c.skip_lws();
  return c.done();
}

bool sip_contact_is_valid(std::string_view value, bool liberal) {
  return sip_contact_is_valid(value, liberal, end_of(value));
}

bool sip_contact_is_valid(std::string_view value, bool liberal, const char* lim) {
  assert_lim(value, lim);
  if (value == "*") return true;
  if (is_simple_name_addr(value, lim)) return true;
  Cursor c{value, 0, lim};
  while (true) {
    if (!skip_address(c, liberal, /*in_list=*/true)) return false;
    if (!c.eat_sep(',')) break;
  }
  c.skip_lws();
  return c.done();
}

bool sip_date_is_valid(std::string_view value) {
  return value.size() > 3 && value.substr(value.size() - 3) == "GMT" &&
         is(value[value.size() - 4], kLws);
}

}  // namespace sipwall
