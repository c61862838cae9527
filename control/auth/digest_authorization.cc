#include "control/auth/digest_authorization.h"

#include <array>

#include "sip/sip_char_class.h"

namespace sipwall {

using namespace sipchar;

std::string_view to_string(DigestParseError e) {
  switch (e) {
    case DigestParseError::ok:
      return "ok";
    case DigestParseError::too_long:
      return "too_long";
    case DigestParseError::too_many_params:
      return "too_many_params";
    case DigestParseError::not_digest:
      return "not_digest";
    case DigestParseError::bad_syntax:
      return "bad_syntax";
    case DigestParseError::bad_quoted_string:
      return "bad_quoted_string";
    case DigestParseError::duplicate_param:
      return "duplicate_param";
    case DigestParseError::missing_param:
      return "missing_param";
    case DigestParseError::bad_nc:
      return "bad_nc";
    case DigestParseError::bad_qop:
      return "bad_qop";
    case DigestParseError::unsupported_algorithm:
      return "unsupported_algorithm";
    case DigestParseError::bad_userhash:
      return "bad_userhash";
    case DigestParseError::unsupported_username_star:
      return "unsupported_username_star";
    case DigestParseError::count_:
      break;
  }
  return "unknown";
}

namespace {

// The parameters the verifier reads; anything else is an auth-param, skipped.
enum class Param : uint8_t {
  username,
  realm,
  nonce,
  uri,
  response,
  cnonce,
  opaque,
  nc,
  qop,
  algorithm,
  userhash,
  username_star,
  other,
};

constexpr std::array<std::string_view, 12> kParamNames = {
    "username", "realm", "nonce", "uri",       "response", "cnonce",
    "opaque",   "nc",    "qop",   "algorithm", "userhash", "username*"};

Param param_of(std::string_view name) {
  for (size_t i = 0; i < kParamNames.size(); ++i) {
    if (iequals(name, kParamNames[i])) return static_cast<Param>(i);
  }
  return Param::other;
}

// Reads the header value left to right; every method advances pos_.
class Reader {
 public:
  Reader(std::string_view s, const DigestAuthorizationLimits& limits) : s_(s), limits_(limits) {}

  bool at_end() const { return pos_ == s_.size(); }
  void skip_lws() { pos_ = skip(s_, pos_, kLws); }
  bool take(char c) {
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  std::string_view token() {
    const size_t b = pos_;
    pos_ = skip(s_, pos_, kToken);
    return s_.substr(b, pos_ - b);
  }
  // quoted-string = DQUOTE *(qdtext / quoted-pair) DQUOTE; a fold (CRLF WSP) inside reads as
  // its WSP. pos_ is at the opening quote.
  DigestParseError quoted(std::string& out) {
    ++pos_;
    while (pos_ < s_.size()) {
      // A run of qdtext at once: most values are nothing else.
      const size_t run = skip(s_, pos_, kQdtext);
      out.append(s_.substr(pos_, run - pos_));
      pos_ = run;
      if (out.size() > limits_.max_param_bytes) return DigestParseError::too_long;
      if (pos_ == s_.size()) break;
      const char c = s_[pos_];
      if (c == '"') {
        ++pos_;
        return DigestParseError::ok;
      }
      if (c == '\\') {
        // quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F)
        if (pos_ + 1 == s_.size()) break;
        const auto e = static_cast<uint8_t>(s_[pos_ + 1]);
        if (e > 0x7f || e == '\n' || e == '\r') return DigestParseError::bad_quoted_string;
        out += static_cast<char>(e);
        pos_ += 2;
        if (out.size() > limits_.max_param_bytes) return DigestParseError::too_long;
      } else if (c == '\r' || c == '\n') {
        ++pos_;  // a fold's CRLF: the validator let through only CRLF followed by WSP
      } else {
        return DigestParseError::bad_quoted_string;
      }
    }
    return DigestParseError::bad_quoted_string;
  }

  size_t pos() const { return pos_; }
  char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }

 private:
  std::string_view s_;
  const DigestAuthorizationLimits& limits_;
  size_t pos_ = 0;
};

bool parse_nc(std::string_view nc, uint32_t& value) {
  if (nc.size() != 8) return false;
  value = 0;
  for (const char c : nc) {
    if (!is(c, kHex)) return false;
    const uint32_t digit = c <= '9' ? c - '0' : (lower(c) - 'a' + 10);
    value = value << 4 | digit;
  }
  return value != 0;
}

// Where a parameter's value is written: its field for the strings the verifier reads, else
// a scratch string checked by check_scalar().
std::string* field_of(Param p, DigestAuthorization& out) {
  switch (p) {
    case Param::username:
      return &out.username;
    case Param::realm:
      return &out.realm;
    case Param::nonce:
      return &out.nonce;
    case Param::uri:
      return &out.uri;
    case Param::response:
      return &out.response;
    case Param::cnonce:
      return &out.cnonce;
    case Param::opaque:
      return &out.opaque;
    case Param::nc:
      return &out.nc;
    default:
      return nullptr;
  }
}

// Checks a parameter whose value means more than its text.
DigestParseError check_value(Param p, std::string_view value, DigestAuthorization& out) {
  switch (p) {
    case Param::nc:
      return parse_nc(value, out.nc_value) ? DigestParseError::ok : DigestParseError::bad_nc;
    case Param::qop:
      // A token in the grammar; some clients quote it, which changes nothing.
      if (!iequals(value, "auth")) return DigestParseError::bad_qop;
      out.has_qop = true;
      return DigestParseError::ok;
    case Param::algorithm: {
      const std::optional<DigestAlgorithm> a = digest_algorithm_from_name(value);
      if (!a) return DigestParseError::unsupported_algorithm;
      out.algorithm = *a;
      return DigestParseError::ok;
    }
    case Param::userhash:
      if (iequals(value, "true")) {
        out.userhash = true;
      } else if (!iequals(value, "false")) {
        return DigestParseError::bad_userhash;
      }
      return DigestParseError::ok;
    case Param::username_star:
      return DigestParseError::unsupported_username_star;
    default:
      return DigestParseError::ok;
  }
}

// Empties `out`, keeping the strings' memory: a parser reused per worker allocates nothing
// once its strings have grown.
void clear(DigestAuthorization& out) {
  for (std::string* s : {&out.username, &out.realm, &out.nonce, &out.uri, &out.response,
                         &out.cnonce, &out.opaque, &out.nc}) {
    s->clear();
  }
  out.nc_value = 0;
  out.has_qop = false;
  out.algorithm = DigestAlgorithm::md5;
  out.userhash = false;
}

}  // namespace

DigestParseError parse_digest_authorization(std::string_view value, DigestAuthorization& out,
                                            const DigestAuthorizationLimits& limits) {
  clear(out);
  if (value.size() > limits.max_value_bytes) return DigestParseError::too_long;
  Reader r(value, limits);
  r.skip_lws();
  if (!iequals(r.token(), "Digest")) return DigestParseError::not_digest;
  const size_t after_scheme = r.pos();
  r.skip_lws();
  if (r.pos() == after_scheme || r.at_end()) return DigestParseError::bad_syntax;

  // Names seen so far, unknown ones included, to refuse any duplicate.
  std::array<std::string_view, 64> seen{};
  size_t count = 0;
  std::string scratch;  // values of parameters without a string field (short: no allocation)
  while (true) {
    const std::string_view name = r.token();
    if (name.empty()) return DigestParseError::bad_syntax;
    if (count == limits.max_params || count == seen.size()) {
      return DigestParseError::too_many_params;
    }
    for (size_t i = 0; i < count; ++i) {
      if (iequals(seen[i], name)) return DigestParseError::duplicate_param;
    }
    seen[count++] = name;
    r.skip_lws();
    if (!r.take('=')) return DigestParseError::bad_syntax;
    r.skip_lws();
    const Param p = param_of(name);
    std::string* const field = field_of(p, out);
    std::string& v = field != nullptr ? *field : scratch;
    v.clear();
    if (r.peek() == '"') {
      if (const DigestParseError e = r.quoted(v); e != DigestParseError::ok) return e;
    } else {
      const std::string_view t = r.token();
      if (t.empty()) return DigestParseError::bad_syntax;
      if (t.size() > limits.max_param_bytes) return DigestParseError::too_long;
      v = t;
    }
    if (const DigestParseError e = check_value(p, v, out); e != DigestParseError::ok) return e;
    r.skip_lws();
    if (r.at_end()) break;
    if (!r.take(',')) return DigestParseError::bad_syntax;
    r.skip_lws();
  }

  // RFC 3261 22.4 / RFC 7616 3.4: these are required, cnonce and nc whenever qop is sent.
  if (out.username.empty() || out.nonce.empty() || out.uri.empty() || out.response.empty()) {
    return DigestParseError::missing_param;
  }
  bool has_realm = false;
  bool has_cnonce = false;
  for (size_t i = 0; i < count; ++i) {
    has_realm = has_realm || iequals(seen[i], "realm");
    has_cnonce = has_cnonce || iequals(seen[i], "cnonce");
  }
  if (!has_realm) return DigestParseError::missing_param;  // an empty realm is a realm
  if (out.has_qop && (!has_cnonce || out.nc.empty())) return DigestParseError::missing_param;
  return DigestParseError::ok;
}

}  // namespace sipwall
