#include "sip/sip_address_parts.h"

#include <charconv>
#include <cstdint>

#include "sip/sip_char_class.h"

namespace sipwall {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() &&
         (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n')) {
    s.remove_prefix(1);
  }
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

// Position after a quoted string starting at `i` (at its '"'), or npos when unterminated.
size_t skip_quoted(std::string_view s, size_t i) {
  for (++i; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
    } else if (s[i] == '"') {
      return i + 1;
    }
  }
  return std::string_view::npos;
}

std::string_view after_scheme(std::string_view uri, bool& is_tel) {
  is_tel = false;
  for (std::string_view scheme : {"sip:", "sips:", "tel:"}) {
    if (uri.size() >= scheme.size() && sipchar::iequals(uri.substr(0, scheme.size()), scheme)) {
      is_tel = scheme == "tel:";
      return uri.substr(scheme.size());
    }
  }
  return {};
}

}  // namespace

std::optional<SipNameAddrParts> sip_split_name_addr(std::string_view value) {
  for (size_t i = 0; i < value.size(); ++i) {
    if (value[i] == '"') {
      i = skip_quoted(value, i);
      if (i == std::string_view::npos) return std::nullopt;
      --i;
      continue;
    }
    if (value[i] == '<') {
      const size_t close = value.find('>', i + 1);
      if (close == std::string_view::npos) return std::nullopt;
      return SipNameAddrParts{value.substr(i + 1, close - i - 1), trim(value.substr(close + 1))};
    }
  }
  // addr-spec: parameters after ';' belong to the header field, not the URI (RFC 3261 20).
  const size_t semi = value.find(';');
  if (semi == std::string_view::npos) return SipNameAddrParts{trim(value), {}};
  return SipNameAddrParts{trim(value.substr(0, semi)), value.substr(semi)};
}

std::string_view sip_uri_user(std::string_view uri) {
  bool tel = false;
  std::string_view rest = after_scheme(uri, tel);
  if (tel) return rest.substr(0, rest.find(';'));
  const size_t at = rest.find('@');
  if (at == std::string_view::npos) return {};
  const std::string_view userinfo = rest.substr(0, at);
  return userinfo.substr(0, userinfo.find(':'));
}

std::optional<SipHostPort> sip_uri_hostport(std::string_view uri) {
  bool tel = false;
  std::string_view rest = after_scheme(uri, tel);
  if (tel || rest.empty()) return std::nullopt;
  if (const size_t at = rest.find('@'); at != std::string_view::npos) rest.remove_prefix(at + 1);
  rest = rest.substr(0, rest.find_first_of(";?"));
  SipHostPort out;
  size_t colon = std::string_view::npos;
  if (!rest.empty() && rest.front() == '[') {
    const size_t close = rest.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    out.host = rest.substr(0, close + 1);
    if (close + 1 < rest.size()) {
      if (rest[close + 1] != ':') return std::nullopt;
      colon = close + 1;
    }
  } else {
    colon = rest.find(':');
    out.host = rest.substr(0, colon);
  }
  if (out.host.empty()) return std::nullopt;
  if (colon != std::string_view::npos) {
    const std::string_view p = rest.substr(colon + 1);
    uint32_t port = 0;
    const auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
    if (ec != std::errc{} || end != p.data() + p.size() || port == 0 || port > 65535) {
      return std::nullopt;
    }
    out.port = static_cast<uint16_t>(port);
  }
  return out;
}

std::optional<std::string_view> sip_param(std::string_view params, std::string_view name) {
  size_t i = 0;
  while (i < params.size()) {
    const size_t semi = params.find(';', i);
    if (semi == std::string_view::npos) return std::nullopt;
    size_t end = semi + 1;
    // A parameter ends at the next ';' outside a quoted string.
    while (end < params.size() && params[end] != ';') {
      if (params[end] == '"') {
        end = skip_quoted(params, end);
        if (end == std::string_view::npos) end = params.size();
      } else {
        ++end;
      }
    }
    const std::string_view param = params.substr(semi + 1, end - semi - 1);
    const size_t eq = param.find('=');
    if (sipchar::iequals(trim(param.substr(0, eq)), name)) {
      return eq == std::string_view::npos ? std::string_view{} : trim(param.substr(eq + 1));
    }
    i = end;
  }
  return std::nullopt;
}

}  // namespace sipwall
