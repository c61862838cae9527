#include "sip/sip_via_parts.h"

#include <charconv>

namespace sipwall {
namespace {

bool is_lws(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_lws(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_lws(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<SipViaParts> sip_first_via(std::string_view value) {
  // The via-parm ends at the first ',' outside a quoted string.
  size_t end = 0;
  while (end < value.size() && value[end] != ',') {
    if (value[end] == '"') {
      ++end;
      while (end < value.size() && value[end] != '"') end += value[end] == '\\' ? 2 : 1;
    }
    ++end;
  }
  end = std::min(end, value.size());
  SipViaParts out;
  out.rest = end < value.size() ? trim(value.substr(end + 1)) : std::string_view{};
  std::string_view parm = trim(value.substr(0, end));
  out.parm = parm;

  // sent-protocol: name LWS? "/" LWS? version LWS? "/" LWS? transport, then LWS sent-by.
  size_t slashes = 0;
  size_t i = 0;
  for (; i < parm.size() && slashes < 2; ++i) slashes += parm[i] == '/';
  if (slashes < 2) return std::nullopt;
  while (i < parm.size() && is_lws(parm[i])) ++i;
  const size_t t0 = i;
  while (i < parm.size() && !is_lws(parm[i])) ++i;
  out.transport = parm.substr(t0, i - t0);
  while (i < parm.size() && is_lws(parm[i])) ++i;
  std::string_view sent_by = parm.substr(i);
  const size_t semi = sent_by.find(';');
  if (semi != std::string_view::npos) {
    out.params = sent_by.substr(semi);
    sent_by = sent_by.substr(0, semi);
  }
  sent_by = trim(sent_by);
  size_t colon = std::string_view::npos;
  if (!sent_by.empty() && sent_by.front() == '[') {
    const size_t close = sent_by.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    out.host = sent_by.substr(0, close + 1);
    if (close + 1 < sent_by.size()) colon = sent_by.find(':', close + 1);
  } else {
    colon = sent_by.find(':');
    out.host = trim(sent_by.substr(0, colon));
  }
  if (out.host.empty() || out.transport.empty()) return std::nullopt;
  if (colon != std::string_view::npos) {
    const std::string_view p = trim(sent_by.substr(colon + 1));
    uint32_t port = 0;
    const auto [e, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
    if (ec != std::errc{} || e != p.data() + p.size() || port == 0 || port > 65535) {
      return std::nullopt;
    }
    out.port = static_cast<uint16_t>(port);
  }
  return out;
}

}  // namespace sipwall
