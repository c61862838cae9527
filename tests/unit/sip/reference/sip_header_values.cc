// Frozen, test-only copy of dataplane/filter/sip/sip_header_values.cc as of commit 597f1ed (the byte-loop
// validator), in namespace sipwall::reference. sip_differential_test.cc checks the optimised
// validator against it. Do not optimise or fix this copy: it is the oracle.

#include "reference/sip_header_values.h"

#include <cstring>
#include <limits>

#include "reference/sip_char_class.h"
#include "reference/sip_uri.h"

namespace sipwall::reference {
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
  while (i < s.size()) {
    const char ch = s[i];
    if (ch == '"') {
      c.i = i + 1;
      return true;
    }
    if (ch == '\\') {
      if (i + 1 >= s.size() || s[i + 1] == '\r' || s[i + 1] == '\n') return false;
      i += 2;
    } else if (is(ch, kQdtext | kLws)) {
      ++i;
    } else {
      return false;
    }
  }
  return false;  // unterminated
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
    if (c.take(kToken).empty()) return false;  // ";;" or ";" at the end
    if (c.eat_sep('=')) {
      if (c.peek() == '"') {
        if (!skip_quoted_string(c)) return false;
      } else if (c.take(kGenValue).empty()) {
        return false;
      }
    }
  }
}

// "<" addr-spec ">" with the cursor just past '<'. Strict: no LWS right inside the brackets.
bool skip_bracketed_uri(Cursor& c, bool liberal) {
  const size_t gt = c.s.find('>', c.i);
  if (gt == std::string_view::npos) return false;
  std::string_view uri = c.s.substr(c.i, gt - c.i);
  if (liberal) {
    uri = trim_lws(uri);
  } else if (!uri.empty() && (is(uri.front(), kLws) || is(uri.back(), kLws))) {
    return false;
  }
  c.i = gt + 1;
  return sip_uri_is_valid(uri, /*allow_headers=*/true);
}

// addr-spec without brackets: it ends at ';', ',' or LWS, and may not hold '?' headers
// (RFC 3261 20: such URIs must be written as name-addr).
bool skip_bare_uri(Cursor& c) {
  size_t end = c.i;
  while (end < c.s.size() && c.s[end] != ';' && c.s[end] != ',' && !is(c.s[end], kLws)) ++end;
  const std::string_view uri = c.s.substr(c.i, end - c.i);
  c.i = end;
  return sip_uri_is_valid(uri, /*allow_headers=*/false);
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
  while (!c.take(kToken).empty()) c.skip_lws();
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
    const size_t close = c.s.find(']', c.i);
    if (close == std::string_view::npos) return false;
    c.i = close + 1;
  } else {
    c.take(kHostname);
  }
  host = c.s.substr(start, c.i - start);
  if (!sip_host_is_valid(host)) return false;
  if (c.eat_sep(':')) return sip_port_is_valid(c.take(kDigit));
  return true;
}

}  // namespace

bool sip_parse_cseq(std::string_view value, uint32_t& number, std::string_view& method) {
  Cursor c{value};
  uint64_t n = 0;
  if (!parse_digits(c.take(kDigit), std::numeric_limits<int32_t>::max(), n)) return false;
  if (n > static_cast<uint64_t>(std::numeric_limits<int32_t>::max())) return false;
  if (c.skip_lws() == 0) return false;
  method = c.take(kToken);
  if (method.empty() || !c.done()) return false;
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
  const size_t first = skip(value, 0, kWord);
  if (first == 0) return false;
  if (first == value.size()) return true;
  if (value[first] != '@') return false;
  return all_of(value.substr(first + 1), kWord);
}

ViaCheck sip_check_via(std::string_view value, size_t& values) {
  Cursor c{value};
  bool broadcast = false;
  while (true) {
    c.skip_lws();
    // sent-protocol = "SIP" SLASH "2.0" SLASH transport
    if (!iequals(c.take(kToken), "SIP") || !c.eat_sep('/')) return ViaCheck::bad;
    if (c.take(kToken) != "2.0" || !c.eat_sep('/')) return ViaCheck::bad;
    if (c.take(kToken).empty() || c.skip_lws() == 0) return ViaCheck::bad;
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
  Cursor c{value};
  if (!skip_address(c, liberal, /*in_list=*/false)) return false;
  c.skip_lws();
  return c.done();
}

bool sip_contact_is_valid(std::string_view value, bool liberal) {
  if (value == "*") return true;
  Cursor c{value};
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

}  // namespace sipwall::reference
