#include "control/relay/message_layout.h"

#include "sip/sip_char_class.h"

namespace sipwall::relay {

bool lay_out(const SipMessage& m, MessageLayout& out) {
  const std::string_view raw = m.raw;
  const size_t first_crlf = raw.find("\r\n");
  const size_t end = raw.find("\r\n\r\n");
  if (first_crlf == std::string_view::npos || end == std::string_view::npos) return false;
  out.start_line = raw.substr(0, first_crlf + 2);
  out.body = raw.substr(end + 4);
  out.lines.clear();
  const char* section_end = raw.data() + end + 2;
  for (size_t i = 0; i < m.headers.size(); ++i) {
    const char* from = m.headers[i].name.data();
    const char* to = i + 1 < m.headers.size() ? m.headers[i + 1].name.data() : section_end;
    if (from < raw.data() || to > section_end || to < from) return false;
    out.lines.emplace_back(from, static_cast<size_t>(to - from));
  }
  return true;
}

std::string without_params(std::string_view params, std::span<const std::string_view> names) {
  std::string out;
  size_t i = 0;
  while (i < params.size()) {
    const size_t next = params.find(';', i + 1);
    const std::string_view param =
        params.substr(i, next == std::string_view::npos ? std::string_view::npos : next - i);
    std::string_view name =
        param.substr(1, param.find('=') == std::string_view::npos ? std::string_view::npos
                                                                  : param.find('=') - 1);
    while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
    while (!name.empty() && (name.front() == ' ' || name.front() == '\t')) name.remove_prefix(1);
    bool drop = false;
    for (std::string_view n : names) drop = drop || sipchar::iequals(name, n);
    if (!drop) out += param;
    if (next == std::string_view::npos) break;
    i = next;
  }
  return out;
}

}  // namespace sipwall::relay
