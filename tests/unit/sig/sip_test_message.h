#pragma once

// Test-only: splits a SIP message into a SipMessage by hand, so signature tests do not depend on
// the validator. Lenient on purpose (accepts CRLF or bare LF, folded lines, a missing blank line).

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sip/sip_message.h"

namespace sipwall::test {

struct ParsedSip {
  std::string text;  // owns the bytes every view points into
  std::vector<SipHeaderField> headers;
  SipMessage msg;
};

inline std::string_view trim_lws(std::string_view s) {
  auto lws = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && lws(s.front())) s.remove_prefix(1);
  while (!s.empty() && lws(s.back())) s.remove_suffix(1);
  return s;
}

// Heap-allocated so the views stay valid when the result is moved around.
inline std::unique_ptr<ParsedSip> parse_sip(std::string text) {
  auto p = std::make_unique<ParsedSip>();
  p->text = std::move(text);
  const std::string_view all = p->text;

  // Next line [pos, end of line) without its terminator; advances pos past the terminator.
  size_t pos = 0;
  auto next_line = [&](std::string_view& line) {
    if (pos >= all.size()) return false;
    size_t eol = all.find('\n', pos);
    if (eol == std::string_view::npos) eol = all.size();
    size_t end = eol;
    if (end > pos && all[end - 1] == '\r') --end;
    line = all.substr(pos, end - pos);
    pos = eol == all.size() ? eol : eol + 1;
    return true;
  };

  std::string_view start;
  if (!next_line(start)) return p;
  p->msg.raw = all;
  p->msg.is_request = start.substr(0, 4) != "SIP/";
  if (p->msg.is_request) {
    const size_t sp1 = start.find(' ');
    const size_t sp2 = start.rfind(' ');
    p->msg.method_token = start.substr(0, sp1);
    p->msg.method = sip_method_from_token(p->msg.method_token);
    if (sp1 != std::string_view::npos && sp2 > sp1) {
      p->msg.request_uri = start.substr(sp1 + 1, sp2 - sp1 - 1);
    }
  }

  std::string_view line;
  size_t body_start = all.size();
  while (true) {
    const size_t line_start = pos;
    if (!next_line(line)) break;
    if (line.empty()) {
      body_start = pos;
      break;
    }
    if ((line.front() == ' ' || line.front() == '\t') && !p->headers.empty()) {
      // Folded continuation: extend the previous value to the end of this line.
      auto& prev = p->headers.back();
      const char* vbegin = prev.value.empty() ? all.data() + line_start : prev.value.data();
      const std::string_view v(vbegin, static_cast<size_t>(line.data() + line.size() - vbegin));
      prev.value = trim_lws(v);
      continue;
    }
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    SipHeaderField f;
    f.name = trim_lws(line.substr(0, colon));
    f.id = sip_header_from_name(f.name);
    f.value = trim_lws(line.substr(colon + 1));
    p->headers.push_back(f);
  }
  p->msg.headers = p->headers;
  p->msg.body = all.substr(body_start);
  return p;
}

}  // namespace sipwall::test
