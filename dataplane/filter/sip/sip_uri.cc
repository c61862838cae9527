#include "sip/sip_uri.h"

#include <cstdint>

#include "sip/sip_char_class.h"
#include "sip/sip_class_scan.h"

namespace sipwall {
namespace {

using namespace sipchar;

// IPv4address = 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT, each at most 255. Decided
// from masks of one 16-octet load instead of a loop per digit: the parts' lengths vary from
// address to address, and each one cost the loop a mispredicted branch.
bool is_ipv4(std::string_view s, const char* lim) {
  const size_t n = s.size();
  if (n < 7 || n > 15) return false;  // four parts of 1 to 3 digits, three dots
  const Ipv4Masks m = ipv4_masks(s.data(), lim);
  const uint32_t all = (1u << n) - 1;
  const uint32_t digit = m.digit & all;
  const uint32_t dot = m.dot & all;
  // Only digits and three dots, none first, last or next to another: four non-empty parts.
  if ((digit | dot) != all || __builtin_popcount(dot) != 3 ||
      (dot & (1u | 1u << (n - 1) | dot >> 1)) != 0) {
    return false;
  }
  if ((digit & digit >> 1 & digit >> 2 & digit >> 3) != 0) return false;  // a fourth digit
  // A three-digit part is at most 255 exactly when its text is at most "255".
  const uint32_t three = digit & digit >> 1 & digit >> 2 & ~(digit << 1);
  const uint32_t over = m.gt2 | (m.eq2 & (m.gt5 >> 1 | (m.eq5 >> 1 & m.gt5 >> 2)));
  return (three & over) == 0;
}

// hostname = *( domainlabel "." ) toplabel [ "." ]; labels are alphanum with inner '-', and the
// toplabel starts with a letter (which is what tells "a.b.c.1" apart from an IPv4 address).
// One pass: the per-label rules are checked at each '.', where the label is known.
bool is_hostname_bytes(std::string_view s) {
  const char* const p = s.data();
  const size_t n = s.size();
  size_t label = 0;  // index of the current label's first octet
  for (size_t i = 0; i < n; ++i) {
    const char c = p[i];
    if (!is(c, kHostname)) return false;  // kHostname holds alphanum, '-' and '.'
    if (c == '.') {
      if (i == label || p[label] == '-' || p[i - 1] == '-' || i - label > 63) return false;
      label = i + 1;
    }
  }
  // The toplabel: non-empty (no trailing ".."), at most 63 octets, starts with ALPHA (so not
  // with '-'), does not end with '-'.
  return label < n && n - label <= 63 && is(p[label], kAlpha) && p[n - 1] != '-';
}

// The label rules on the '.' and '-' masks of s (bit i = s[i]; at most 63 octets, all
// hostname octets, no trailing '.'). Label starts are octet 0 and every octet after a '.';
// none may be '.' (empty label) or '-', no '-' may precede a '.', and the toplabel starts with
// ALPHA.
bool hostname_labels_ok(std::string_view s, uint64_t dots, uint64_t dashes) {
  const size_t n = s.size();
  const uint64_t all = (uint64_t{1} << n) - 1;
  const uint64_t starts = (1 | dots << 1) & all;
  if (((dots | dashes) & starts) != 0 || ((dashes << 1) & dots) != 0) return false;
  const size_t label = dots == 0 ? 0 : 64 - static_cast<size_t>(__builtin_clzll(dots));
  return label < n && is(s[label], kAlpha) && s[n - 1] != '-';
}

// The same rules on bit masks for names of at most 63 octets, where no label can exceed 63.
bool is_hostname(std::string_view s, const char* lim) {
  if (!s.empty() && s.back() == '.') s.remove_suffix(1);
  if (s.empty()) return false;
  const size_t n = s.size();
  if (n > 63) return is_hostname_bytes(s);
  const char* const p = s.data();
  const uint64_t all = (uint64_t{1} << n) - 1;
  if (class_bits64<kHostname>(p, n, lim) != all) return false;
  uint64_t dots = 0;
  uint64_t dashes = 0;
  eq_bits64(p, n, lim, '.', '-', dots, dashes);
  return hostname_labels_ok(s, dots, dashes);
}

// A host of hostname octets only (at most 63, '.' and '-' masks given with bit 0 = host[0]):
// what sip_host_is_valid answers for it.
bool is_plain_host(std::string_view host, uint64_t dots, uint64_t dashes, const char* lim) {
  if (host.empty()) return false;
  if (is(host.back(), kDigit) && is_ipv4(host, lim)) return true;
  if (host.back() == '.') host.remove_suffix(1);
  if (host.empty()) return false;
  const uint64_t all = (uint64_t{1} << host.size()) - 1;
  return hostname_labels_ok(host, dots & all, dashes & all);
}

// "[" hex / ":" / "." "]" with at least two ':' (every IPv6 text form has two).
bool is_ipv6_reference(std::string_view s) {
  if (s.size() < 4 || s.size() > 47 || s.front() != '[' || s.back() != ']') return false;
  size_t colons = 0;
  for (size_t i = 1; i + 1 < s.size(); ++i) {
    const char c = s[i];
    if (c == ':') {
      ++colons;
    } else if (c != '.' && !is(c, kHex)) {
      return false;
    }
  }
  return colons >= 2;
}

// uri-parameters = *( ";" pname [ "=" pvalue ] ), each pname/pvalue 1*paramchar.
size_t skip_uri_params(std::string_view s, size_t i, bool& ok, const char* lim) {
  ok = true;
  while (i < s.size() && s[i] == ';') {
    const size_t name_end = scan_escaped<kParam>(s, i + 1, lim);
    if (name_end == i + 1) return ok = false, i;
    i = name_end;
    if (i < s.size() && s[i] == '=') {
      const size_t value_end = scan_escaped<kParam>(s, i + 1, lim);
      if (value_end == i + 1) return ok = false, i;
      i = value_end;
    }
  }
  return i;
}

// headers = "?" header *( "&" header ); header = hname "=" hvalue.
bool is_uri_headers(std::string_view s, const char* lim) {
  size_t i = 0;
  while (true) {
    if (i >= s.size() || (s[i] != '?' && s[i] != '&') || (i == 0) != (s[i] == '?')) return false;
    const size_t name_end = scan_escaped<kHnv>(s, i + 1, lim);
    if (name_end == i + 1 || name_end >= s.size() || s[name_end] != '=') return false;
    i = scan_escaped<kHnv>(s, name_end + 1, lim);
    if (i == s.size()) return true;
  }
}

// SIP-URI without the scheme: [ userinfo "@" ] hostport uri-parameters [ headers ].
bool is_sip_uri_rest(std::string_view s, bool allow_headers, const char* lim) {
  // The first '@' ends the userinfo: no later part of a SIP-URI may hold a raw '@'. User and
  // password characters exclude '@', so a well-formed userinfo scan stops right on it; when it
  // stops elsewhere, any '@' further on makes the URI invalid.
  const size_t user_end = scan_escaped<kUser>(s, 0, lim);
  size_t info_end = user_end;
  if (info_end < s.size() && s[info_end] == ':') {
    info_end = scan_escaped<kPassword>(s, info_end + 1, lim);
  }
  if (info_end < s.size() && s[info_end] == '@') {
    if (user_end == 0) return false;
    s.remove_prefix(info_end + 1);
  } else if (find_byte(s, '@', info_end, lim) != std::string_view::npos) {
    return false;
  }
  size_t hp_end = 0;
  if (!s.empty() && s[0] == '[') {
    hp_end = s.find(']');
    if (hp_end == std::string_view::npos) return false;
    while (hp_end < s.size() && s[hp_end] != ';' && s[hp_end] != '?') ++hp_end;
    if (!sip_hostport_is_valid(s.substr(0, hp_end))) return false;
  } else {
    // hostport ends at the first ';' or '?'. Host octets are hostname octets and the port is
    // digits, so one scan of each finds that end; any other octet before it is invalid.
    const size_t host_end = scan<kHostname>(s, 0, lim);
    hp_end = host_end;
    if (hp_end < s.size() && s[hp_end] == ':') hp_end = scan<kDigit>(s, hp_end + 1, lim);
    if (hp_end < s.size() && s[hp_end] != ';' && s[hp_end] != '?') return false;
    if (!sip_host_is_valid(s.substr(0, host_end), lim)) return false;
    if (host_end < hp_end && !digit_port_ok(s.substr(host_end + 1, hp_end - host_end - 1))) {
      return false;
    }
  }
  bool ok = false;
  const size_t i = skip_uri_params(s, hp_end, ok, lim);
  if (!ok) return false;
  if (i == s.size()) return true;
  return allow_headers && is_uri_headers(s.substr(i), lim);
}

// "sip:" / "sips:" in any case: the length of the prefix, 0 if neither. Only the letters are
// case-folded, so no other octet can pass for ':'.
size_t sip_scheme_length(std::string_view uri) {
  if (uri.size() < 5) return 0;
  const auto at = [&](size_t i) { return static_cast<uint8_t>(uri[i]); };
  if ((at(0) | 0x20) != 's' || (at(1) | 0x20) != 'i' || (at(2) | 0x20) != 'p') return 0;
  if (at(3) == ':') return 4;
  return (at(3) | 0x20) == 's' && at(4) == ':' ? 5 : 0;
}

// The common SIP-URI shape decided from masks of the whole URI: sip/sips, [user "@"] host
// [":" port] *(";" pname ["=" pvalue]), at most 64 octets, without escapes, password,
// headers or IPv6 reference. true: valid for certain (the full parser agrees); false: not
// decided here, the full parser answers.
bool is_simple_sip_uri(std::string_view uri, const char* lim) {
  const size_t n = uri.size();
  const size_t r = sip_scheme_length(uri);  // 0 also for n < 5
  if (r == 0 || n > 64) return false;
  const Block64 b(uri, lim);
  const uint64_t live = b.live();
  if (((b.eq('%') | b.eq('?') | b.eq('[')) & ~((uint64_t{1} << r) - 1)) != 0) return false;
  // userinfo: all user octets up to the first '@' (the full parser stops its user scan there).
  size_t h = r;
  if (const uint64_t at = b.eq('@') >> r; at != 0) {
    const size_t a = r + static_cast<size_t>(__builtin_ctzll(at));
    const uint64_t user = ((uint64_t{1} << a) - 1) & ~((uint64_t{1} << r) - 1);
    if (a == r || (b.bits<kUser>() & user) != user) return false;
    h = a + 1;
  }
  if (h >= n) return false;  // no host
  // hostport, ended by ';' or the end.
  const size_t host_end = next_bit(~b.bits<kHostname>() & live, h, n);
  size_t hp_end = host_end;
  if (host_end < n && uri[host_end] == ':') {
    hp_end = next_bit(~b.bits<kDigit>() & live, host_end + 1, n);
    if (!digit_port_ok(uri.substr(host_end + 1, hp_end - host_end - 1))) return false;
  }
  if (hp_end < n && uri[hp_end] != ';') return false;
  if (!is_plain_host(uri.substr(h, host_end - h), b.eq('.') >> h, b.eq('-') >> h, lim)) {
    return false;
  }
  // uri-parameters: only paramchars between the separators, each ';' starts a non-empty name,
  // each '=' (at most one per parameter) a non-empty value.
  const uint64_t semi = b.eq(';');
  const uint64_t equal = b.eq('=');
  const uint64_t seps = semi | equal;
  const uint64_t params = live & ~((hp_end < 64 ? uint64_t{1} << hp_end : 0) - 1);
  if (((b.bits<kParam>() | seps) & params) != params) return false;
  return params_well_formed(semi, equal, 0, hp_end, n);
}

}  // namespace

bool sip_host_is_valid(std::string_view host, const char* lim) {
  assert_lim(host, lim);
  if (host.empty()) return false;
  if (host.front() == '[') return is_ipv6_reference(host);
  // All digits and dots: only an IPv4 address fits (a toplabel must start with a letter).
  if (is(host.back(), kDigit)) return is_ipv4(host, lim) || is_hostname(host, lim);
  return is_hostname(host, lim);
}

bool sip_host_is_valid(std::string_view host) {
  return sip_host_is_valid(host, end_of(host));
}

bool sip_port_is_valid(std::string_view port) {
  if (port.empty() || port.size() > 5) return false;
  unsigned value = 0;
  for (const char c : port) {
    if (!is(c, kDigit)) return false;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  return value <= 65535;
}

bool sip_hostport_is_valid(std::string_view hostport, std::string_view* host) {
  size_t host_end = 0;
  if (!hostport.empty() && hostport[0] == '[') {
    host_end = hostport.find(']');
    if (host_end == std::string_view::npos) return false;
    ++host_end;
  } else {
    host_end = hostport.find(':');
    if (host_end == std::string_view::npos) host_end = hostport.size();
  }
  const std::string_view h = hostport.substr(0, host_end);
  if (!sip_host_is_valid(h)) return false;
  if (host_end < hostport.size()) {
    if (hostport[host_end] != ':' || !sip_port_is_valid(hostport.substr(host_end + 1))) {
      return false;
    }
  }
  if (host != nullptr) *host = h;
  return true;
}

bool sip_uri_is_valid(std::string_view uri, bool allow_headers) {
  return sip_uri_is_valid(uri, allow_headers, end_of(uri));
}

bool sip_uri_is_valid(std::string_view uri, bool allow_headers, const char* lim) {
  assert_lim(uri, lim);
  if (kMaskFastPaths && is_simple_sip_uri(uri, lim)) return true;
  // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
  if (uri.empty() || !is(uri[0], kAlpha)) return false;
  const size_t colon = scan<kScheme>(uri, 1, lim);
  if (colon >= uri.size() || uri[colon] != ':') return false;
  const std::string_view scheme = uri.substr(0, colon);
  const std::string_view rest = uri.substr(colon + 1);
  if (iequals(scheme, "sip") || iequals(scheme, "sips")) {
    return is_sip_uri_rest(rest, allow_headers, lim);
  }
  if (rest.empty() || scan_escaped<kUric>(rest, 0, lim) != rest.size()) return false;
  return allow_headers || find_byte(rest, '?', 0, lim) == std::string_view::npos;
}

}  // namespace sipwall
