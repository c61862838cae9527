#include "sip/sip_validator.h"

#include <bit>
#include <cstring>

#include "sip/sip_char_class.h"
#include "sip/sip_class_scan.h"
#include "sip/sip_header_values.h"
#include "sip/sip_line_scan.h"
#include "sip/sip_uri.h"

namespace sipwall {

using namespace sipchar;

namespace {

constexpr std::string_view kVersion = "SIP/2.0";
constexpr uint8_t kNoHeader = 0;
constexpr uint8_t kAmbiguous = 0xff;

constexpr uint32_t bit(SipHeader h) {
  return 1u << static_cast<unsigned>(h);
}
static_assert(kSipHeaderCount <= 32, "seen-set is a uint32_t");

// Headers that may appear once only (RFC 3261 7.3.1: no comma lists for these).
constexpr uint32_t kSingleValued =
    bit(SipHeader::call_id) | bit(SipHeader::from) | bit(SipHeader::to) | bit(SipHeader::cseq) |
    bit(SipHeader::max_forwards) | bit(SipHeader::content_length) | bit(SipHeader::content_type);
// Max-Forwards is not required: RFC 2543 requests lack it (inv2543.dat).
constexpr uint32_t kRequired = bit(SipHeader::via) | bit(SipHeader::from) | bit(SipHeader::to) |
                               bit(SipHeader::call_id) | bit(SipHeader::cseq);

// OR 0x20 folds the case of letters like lower() and costs one instruction; only letters
// reach a letter that way, so it also indexes compact_ exactly.
constexpr uint8_t fold(char c) {
  return static_cast<uint8_t>(c | 0x20);
}

// The slot of a full name (two octets or more): a multiplicative hash of its length and its
// first two octets folded, perfect for the known names (checked where the table is built).
// The first octets are loaded from the name's start, so the hash waits only for the length.
[[gnu::always_inline]] inline size_t name_slot(std::string_view name, size_t slots) {
  uint16_t first2 = 0;
  std::memcpy(&first2, name.data(), 2);
  const uint32_t key = (first2 | 0x2020u) | static_cast<uint32_t>(name.size()) << 16;
  static_assert(std::endian::native == std::endian::little);
  return (key * 0x9528ab1fu) >> 27 & (slots - 1);
}

}  // namespace

std::string_view to_string(SipError e) {
  switch (e) {
    case SipError::ok:
      return "ok";
    case SipError::too_long:
      return "too_long";
    case SipError::bad_start_line:
      return "bad_start_line";
    case SipError::bad_method:
      return "bad_method";
    case SipError::bad_version:
      return "bad_version";
    case SipError::bad_request_uri:
      return "bad_request_uri";
    case SipError::bad_status_code:
      return "bad_status_code";
    case SipError::bad_reason_phrase:
      return "bad_reason_phrase";
    case SipError::bad_line_ending:
      return "bad_line_ending";
    case SipError::bad_header_line:
      return "bad_header_line";
    case SipError::header_too_long:
      return "header_too_long";
    case SipError::too_many_headers:
      return "too_many_headers";
    case SipError::unterminated_headers:
      return "unterminated_headers";
    case SipError::missing_header:
      return "missing_header";
    case SipError::duplicate_header:
      return "duplicate_header";
    case SipError::bad_cseq:
      return "bad_cseq";
    case SipError::cseq_method_mismatch:
      return "cseq_method_mismatch";
    case SipError::bad_content_length:
      return "bad_content_length";
    case SipError::body_truncated:
      return "body_truncated";
    case SipError::bad_via:
      return "bad_via";
    case SipError::too_many_vias:
      return "too_many_vias";
    case SipError::broadcast_via:
      return "broadcast_via";
    case SipError::bad_name_addr:
      return "bad_name_addr";
    case SipError::bad_contact:
      return "bad_contact";
    case SipError::bad_call_id:
      return "bad_call_id";
    case SipError::bad_max_forwards:
      return "bad_max_forwards";
    case SipError::bad_date:
      return "bad_date";
    case SipError::count_:
      break;
  }
  return "unknown";
}

struct SipValidator::Scan {
  // The start line, read where needed: copying its fields right after parse_start_line
  // stored them would stall on store forwarding.
  const SipMessage* start = nullptr;
  uint32_t seen = 0;
  size_t via_values = 0;
  bool has_content_length = false;
  size_t content_length = 0;
  const char* lim = nullptr;  // end of the datagram: scans may read up to here
};

SipValidator::SipValidator(const SipValidatorConfig& cfg)
    : cfg_(cfg), headers_(cfg.limits.max_header_lines) {
  for (char c = 'a'; c <= 'z'; ++c) {
    compact_[static_cast<uint8_t>(c)] = sip_header_from_name(std::string_view(&c, 1));
  }
  for (size_t i = 1; i < kSipHeaderCount; ++i) {
    const std::string_view name = sip_header_name(static_cast<SipHeader>(i));
    if (name.size() < 2) continue;
    const size_t slot = name_slot(name, kNameSlots);
    if (slot_id_[slot] != kNoHeader) {
      slot_id_[slot] = kAmbiguous;  // lookup() asks sip_header_from_name for this slot
      continue;
    }
    slot_id_[slot] = static_cast<uint8_t>(i);
    slot_len_[slot] = static_cast<uint8_t>(name.size());
    folded_[slot].bytes.fill(0x20);
    for (size_t k = 0; k < name.size(); ++k)
      folded_[slot].bytes[k] = static_cast<char>(name[k] | 0x20);
  }
}

// `name` is a non-empty token. Within the token alphabet two octets differ only in bit 0x20
// exactly when they are the same letter in another case, so OR-ing 0x20 into both sides is an
// exact case-insensitive compare.
[[gnu::always_inline]] inline SipHeader SipValidator::lookup(
    std::string_view name, [[maybe_unused]] const char* lim) const {
  const size_t n = name.size();
  if (n == 1) {
    const uint8_t c = fold(name[0]);
    return c < compact_.size() ? compact_[c] : SipHeader::other;
  }
  const size_t slot = name_slot(name, kNameSlots);
  const uint8_t id = slot_id_[slot];
  if (id == kAmbiguous) [[unlikely]]
    return sip_header_from_name(name);
  const char* const folded = folded_[slot].bytes.data();
#if defined(SIPWALL_SIP_AVX512) && defined(__AVX512VL__)
  // A masked load reads only the name (the first 32 octets of a longer one). No length check:
  // the zeroed octets past the name fold to 0x20, the padding, where a known name is shorter
  // (its letters and '-' never fold to 0x20); and where it is longer, a token octet of the
  // name never folds to the padding.
  const __mmask32 live = n >= 32 ? ~__mmask32{0} : (__mmask32{1} << n) - 1;
  const __m256i v =
      _mm256_or_si256(_mm256_maskz_loadu_epi8(live, name.data()), _mm256_set1_epi8(0x20));
  const __mmask32 eq =
      _mm256_cmpeq_epi8_mask(v, _mm256_load_si256(reinterpret_cast<const __m256i*>(folded)));
  return eq == ~__mmask32{0} ? static_cast<SipHeader>(id) : SipHeader::other;
#elif defined(SIPWALL_SIP_NIBBLE)
  if (slot_len_[slot] != n) return SipHeader::other;
  const __m128i fold = _mm_set1_epi8(0x20);
  const auto eq16 = [&](size_t k) {
    const __m128i v = _mm_or_si128(load16(name.data() + k, lim), fold);
    return static_cast<uint32_t>(_mm_movemask_epi8(
        _mm_cmpeq_epi8(v, _mm_load_si128(reinterpret_cast<const __m128i*>(folded + k)))));
  };
  uint32_t eq = eq16(0);
  if (n > 16) eq |= eq16(16) << 16;
  const uint32_t want = (1u << n) - 1;  // n <= 31 here: the length matched a known name
  return (eq & want) == want ? static_cast<SipHeader>(id) : SipHeader::other;
#else
  if (slot_len_[slot] != n) return SipHeader::other;
  for (size_t k = 0; k < n; ++k) {
    if (fold(name[k]) != static_cast<uint8_t>(folded[k])) return SipHeader::other;
  }
  return static_cast<SipHeader>(id);
#endif
}

SipError SipValidator::parse_start_line(std::string_view line, const char* lim,
                                        SipMessage& m) const {
  if (line.starts_with("SIP/")) return parse_status_line(line, m);
  return parse_request_line(line, lim, m);
}

// Request-Line = Method SP Request-URI SP SIP-Version CRLF
SipError SipValidator::parse_request_line(std::string_view line, const char* lim,
                                          SipMessage& m) const {
  const bool liberal = cfg_.profile == SipProfile::liberal;
  const size_t method_end = scan<kToken>(line, 0, lim);
  if (method_end == 0 || method_end == line.size()) return SipError::bad_start_line;
  if (line[method_end] != ' ') return SipError::bad_method;  // a non-token octet in the method
  const auto accept = [&](std::string_view uri) {
    m.is_request = true;
    m.method_token = line.substr(0, method_end);
    m.method = sip_method_from_token(m.method_token);
    m.request_uri = uri;
    return SipError::ok;
  };
  size_t uri_begin = method_end + 1;
  constexpr std::string_view kSpVersion = " SIP/2.0";
  if (!liberal && line.size() > uri_begin + kSpVersion.size() && line.ends_with(kSpVersion)) {
    // The common shape: the URI is all between, when it holds no SP. Checking it needs no
    // search for the SP first, so the search is off the critical path.
    const std::string_view uri =
        line.substr(uri_begin, line.size() - kSpVersion.size() - uri_begin);
    const bool uri_ok = sip_uri_is_valid(uri, /*allow_headers=*/false, lim);
    if (find_byte(uri, ' ', 0, lim) == std::string_view::npos) {
      return uri_ok ? accept(uri) : SipError::bad_request_uri;
    }
  }
  if (liberal) uri_begin = skip(line, uri_begin, kWsp);
  const size_t uri_end = find_byte(line, ' ', uri_begin, lim);
  if (uri_end == std::string_view::npos || uri_end == uri_begin) return SipError::bad_start_line;
  size_t version_begin = uri_end + 1;
  std::string_view version_end_trimmed = line;
  if (liberal) {
    version_begin = skip(line, version_begin, kWsp);
    while (!version_end_trimmed.empty() && version_end_trimmed.back() == ' ') {
      version_end_trimmed.remove_suffix(1);
    }
  }
  if (version_begin > version_end_trimmed.size()) return SipError::bad_start_line;
  const std::string_view version = version_end_trimmed.substr(version_begin);
  if (!equals(version, "SIP/2.0")) {
    const bool other_version = version.starts_with("SIP/") && !version.starts_with(kVersion) &&
                               version.find(' ') == std::string_view::npos;
    return other_version ? SipError::bad_version : SipError::bad_start_line;
  }
  std::string_view uri = line.substr(uri_begin, uri_end - uri_begin);
  if (liberal && uri.size() >= 2 && uri.front() == '<' && uri.back() == '>') {
    uri = uri.substr(1, uri.size() - 2);  // ltgtruri.dat
  }
  if (!sip_uri_is_valid(uri, /*allow_headers=*/liberal, lim)) return SipError::bad_request_uri;
  return accept(uri);
}

// Status-Line = SIP-Version SP Status-Code SP Reason-Phrase CRLF
SipError SipValidator::parse_status_line(std::string_view line, SipMessage& m) const {
  if (!line.starts_with(kVersion) || line.size() == kVersion.size() ||
      line[kVersion.size()] != ' ') {
    const size_t sp = line.find(' ');
    return sp != std::string_view::npos && line.substr(0, sp) != kVersion
               ? SipError::bad_version
               : SipError::bad_start_line;
  }
  const std::string_view rest = line.substr(kVersion.size() + 1);
  const size_t digits = skip(rest, 0, kDigit);
  if (digits != 3 || rest[0] < '1' || rest[0] > '6') return SipError::bad_status_code;
  if (rest.size() == 3 || rest[3] != ' ') return SipError::bad_start_line;
  const std::string_view reason = rest.substr(4);
  if (scan<kText>(reason, 0, end_of(line)) != reason.size()) return SipError::bad_reason_phrase;
  m.is_request = false;
  m.status_code =
      static_cast<uint16_t>((rest[0] - '0') * 100 + (rest[1] - '0') * 10 + (rest[2] - '0'));
  return SipError::ok;
}

// Deep checks for the headers that carry routing, framing or transaction state. Inlined into
// validate(): the scan state then stays in registers, not in memory behind a reference.
[[gnu::always_inline]] inline SipError SipValidator::check_field(const SipHeaderField& f,
                                                                 Scan& scan) const {
  const bool liberal = cfg_.profile == SipProfile::liberal;
  switch (f.id) {
    case SipHeader::via: {
      const ViaCheck v = sip_check_via(f.value, scan.via_values, scan.lim);
      if (v == ViaCheck::bad) return SipError::bad_via;
      if (scan.via_values > cfg_.limits.max_via_values) return SipError::too_many_vias;
      if (v == ViaCheck::broadcast) return SipError::broadcast_via;
      return SipError::ok;
    }
    case SipHeader::from:
    case SipHeader::to:
      return sip_name_addr_is_valid(f.value, liberal, scan.lim) ? SipError::ok
                                                                : SipError::bad_name_addr;
    case SipHeader::contact:
      return sip_contact_is_valid(f.value, liberal, scan.lim) ? SipError::ok
                                                              : SipError::bad_contact;
    case SipHeader::call_id:
      return sip_call_id_is_valid(f.value, scan.lim) ? SipError::ok : SipError::bad_call_id;
    case SipHeader::cseq: {
      uint32_t number = 0;
      std::string_view method;
      if (!sip_parse_cseq(f.value, number, method, scan.lim)) return SipError::bad_cseq;
      if (scan.start->is_request && method != scan.start->method_token) {
        return SipError::cseq_method_mismatch;
      }
      return SipError::ok;
    }
    case SipHeader::max_forwards: {
      uint8_t hops = 0;
      return sip_parse_max_forwards(f.value, hops) ? SipError::ok : SipError::bad_max_forwards;
    }
    case SipHeader::content_length:
      scan.has_content_length = true;
      return sip_parse_content_length(f.value, scan.content_length) ? SipError::ok
                                                                    : SipError::bad_content_length;
    case SipHeader::date:
      return liberal || sip_date_is_valid(f.value) ? SipError::ok : SipError::bad_date;
    default:
      return SipError::ok;
  }
}

SipError SipValidator::validate(std::string_view d, SipMessage& out) {
  const SipLimits& limits = cfg_.limits;
  if (d.size() > limits.max_message_bytes) [[unlikely]]
    return SipError::too_long;
  const char* const base = d.data();
  const size_t n = d.size();
  sipscan::LineScanner lines(base, n);

  // Start line.
  size_t pos = lines.next_lf();
  if (pos == sipscan::LineScanner::npos) [[unlikely]]
    return SipError::bad_start_line;
  if (pos == 0 || base[pos - 1] != '\r') [[unlikely]]
    return SipError::bad_line_ending;
  SipMessage m;
  if (const SipError e = parse_start_line(d.substr(0, pos - 1), base + n, m); e != SipError::ok) {
    return e;
  }
  ++pos;

  // Header section: the scanner hands out LFs block by block; folded lines join the field
  // before them. Every CR in the section must be the CR of a CRLF: a bare CR could split a
  // header for a downstream parser. The scanner notes the first one; it is reported after the
  // fields are checked, as before.
  lines.count_bare_from(pos);
  Scan scan;
  scan.start = &m;
  scan.lim = base + n;
  size_t count = 0;
  size_t body_begin = 0;
  while (true) {
    if (pos == n) [[unlikely]] {
      // Datagram ends right after a header's CRLF (baddn.dat); liberal infers the empty line.
      if (cfg_.profile != SipProfile::liberal) return SipError::unterminated_headers;
      body_begin = n;
      break;
    }
    const char first = base[pos];
    if (first == '\r') {
      if (pos + 1 >= n) [[unlikely]]
        return SipError::unterminated_headers;
      if (base[pos + 1] != '\n') [[unlikely]]
        return SipError::bad_line_ending;
      body_begin = pos + 2;
      break;
    }
    if (first == ' ' || first == '\t') [[unlikely]]
      return SipError::bad_header_line;
    const size_t start = pos;
    // With AVX-512 the name's end comes from the scanner's masks, taken while the start is in
    // their window: the checks below then need not wait for a load and a class test.
    size_t name_end = lines.token_end(start);
    size_t end = 0;  // index of the CR that ends the field
    while (true) {
      const size_t at = lines.next_lf();
      if (at == sipscan::LineScanner::npos) [[unlikely]]
        return SipError::unterminated_headers;
      if (base[at - 1] != '\r') [[unlikely]]
        return SipError::bad_line_ending;
      pos = at + 1;
      if (pos < n && (base[pos] == ' ' || base[pos] == '\t')) [[unlikely]]
        continue;  // fold
      end = at - 1;
      break;
    }
    if (end - start > limits.max_header_line_bytes) [[unlikely]]
      return SipError::header_too_long;
    if (count == limits.max_header_lines) [[unlikely]]
      return SipError::too_many_headers;

    // field-name HCOLON value, HCOLON = *( SP / HTAB ) ":" SWS. base[end] is the CR, which is
    // in neither class, so the name and HCOLON scans stop there at the latest.
    // Without the masks, or for a name of 64 octets or more, one 16-octet class test covers
    // almost every name; longer ones continue 16 at a time.
    if (name_end == sipscan::LineScanner::npos) {
      name_end = start;
      while (true) {
        const uint32_t out = ~class_bits16<kToken>(base + name_end, base + n) & 0xffffu;
        if (out != 0) {
          name_end += static_cast<size_t>(__builtin_ctz(out));
          break;
        }
        name_end += 16;
      }
    }
    size_t i = name_end;
    if (name_end == start) [[unlikely]]
      return SipError::bad_header_line;
    size_t vb = name_end + 2;
    size_t ve = end;
    // Almost every field is "name: value": the HCOLON loops below would stop exactly there.
    if (base[name_end] != ':' || base[name_end + 1] != ' ' || vb >= end || is(base[vb], kLws))
        [[unlikely]] {
      while (is(base[i], kWsp)) ++i;
      if (base[i] != ':') [[unlikely]]
        return SipError::bad_header_line;
      vb = i + 1;
      while (vb < ve && is(base[vb], kLws)) ++vb;
    }
    while (ve > vb && is(base[ve - 1], kLws)) --ve;

    SipHeaderField& f = headers_[count++];
    f.name = std::string_view(base + start, name_end - start);
    f.value = std::string_view(base + vb, ve - vb);
    f.id = lookup(f.name, base + n);
    if (f.id == SipHeader::other) continue;
    const uint32_t b = bit(f.id);
    if ((scan.seen & b & kSingleValued) != 0) [[unlikely]]
      return SipError::duplicate_header;
    scan.seen |= b;
    if (const SipError e = check_field(f, scan); e != SipError::ok) [[unlikely]]
      return e;
  }

  if (lines.first_bare() < body_begin) [[unlikely]]
    return SipError::bad_line_ending;
  if ((scan.seen & kRequired) != kRequired) [[unlikely]]
    return SipError::missing_header;

  // Framing: the body is Content-Length octets; trailing octets are not part of the message.
  const size_t available = n - body_begin;
  size_t body_len = available;
  if (scan.has_content_length) {
    if (scan.content_length > available) [[unlikely]]
      return SipError::body_truncated;
    body_len = scan.content_length;
  }
  // The start-line fields of m were stored long ago; the rest go straight to out.
  out = m;
  out.raw = d.substr(0, body_begin + body_len);
  out.body = d.substr(body_begin, body_len);
  out.headers = std::span<const SipHeaderField>(headers_.data(), count);
  return SipError::ok;
}

}  // namespace sipwall
