#include "sip_pair.h"

#include <cstdio>
#include <cstring>

#include "reference/sip_header_values.h"
#include "reference/sip_uri.h"
#include "sip/sip_header_values.h"
#include "sip/sip_uri.h"

namespace sipwall::test {
namespace {

// Offset and size of a view relative to the datagram (views are compared by position).
std::pair<ptrdiff_t, size_t> at(std::string_view v, const char* base) {
  return {v.data() == nullptr ? -1 : v.data() - base, v.size()};
}

}  // namespace

Buf::Buf(std::string_view s) : size(s.size()), bytes(new char[s.size() == 0 ? 1 : s.size()]) {
  if (!s.empty()) std::memcpy(bytes.get(), s.data(), s.size());
}

Pair::Pair(SipProfile p, SipLimits limits)
    : fast(SipValidatorConfig{.profile = p, .limits = limits}),
      ref(reference::SipValidatorConfig{
          .profile = static_cast<reference::SipProfile>(p),
          .limits = {.max_message_bytes = limits.max_message_bytes,
                     .max_header_lines = limits.max_header_lines,
                     .max_header_line_bytes = limits.max_header_line_bytes,
                     .max_via_values = limits.max_via_values}}) {}

std::string show(std::string_view s) {
  std::string out;
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f) {
      out += c;
    } else {
      char b[8];
      std::snprintf(b, sizeof b, "\\x%02x", u);
      out += b;
    }
  }
  return out;
}

std::string compare(Pair& p, std::string_view msg) {
  const Buf b(msg);
  const char* base = b.bytes.get();
  SipMessage fm;
  SipMessage rm;
  const SipError fe = p.fast.validate(b.view(), fm);
  const auto re = p.ref.validate(b.view(), rm);
  if (static_cast<int>(fe) != static_cast<int>(re)) {
    return "error " + std::string(to_string(fe)) + " vs reference " +
           std::string(reference::to_string(re));
  }
  if (fe != SipError::ok) return "";
  if (at(fm.raw, base) != at(rm.raw, base)) return "raw";
  if (at(fm.body, base) != at(rm.body, base)) return "body";
  if (fm.is_request != rm.is_request) return "is_request";
  if (fm.method != rm.method) return "method";
  if (fm.is_request && at(fm.method_token, base) != at(rm.method_token, base)) return "method_tok";
  if (fm.is_request && at(fm.request_uri, base) != at(rm.request_uri, base)) return "request_uri";
  if (fm.status_code != rm.status_code) return "status_code";
  if (fm.headers.size() != rm.headers.size()) return "header count";
  for (size_t i = 0; i < fm.headers.size(); ++i) {
    const auto& x = fm.headers[i];
    const auto& y = rm.headers[i];
    if (x.id != y.id) return "header id " + std::to_string(i);
    if (at(x.name, base) != at(y.name, base)) return "header name " + std::to_string(i);
    if (at(x.value, base) != at(y.value, base)) return "header value " + std::to_string(i);
  }
  return "";
}

std::string compare_value_parsers(std::string_view v) {
  if (sip_host_is_valid(v) != reference::sip_host_is_valid(v)) return "host";
  if (sip_port_is_valid(v) != reference::sip_port_is_valid(v)) return "port";
  if (sip_hostport_is_valid(v) != reference::sip_hostport_is_valid(v)) return "hostport";
  if (sip_uri_is_valid(v, false) != reference::sip_uri_is_valid(v, false)) return "uri";
  if (sip_uri_is_valid(v, true) != reference::sip_uri_is_valid(v, true)) return "uri+headers";
  if (sip_call_id_is_valid(v) != reference::sip_call_id_is_valid(v)) return "call-id";
  size_t fv = 0;
  size_t rv = 0;
  if (static_cast<int>(sip_check_via(v, fv)) != static_cast<int>(reference::sip_check_via(v, rv)) ||
      fv != rv) {
    return "via";
  }
  for (const bool liberal : {false, true}) {
    if (sip_name_addr_is_valid(v, liberal) != reference::sip_name_addr_is_valid(v, liberal)) {
      return liberal ? "name-addr (liberal)" : "name-addr";
    }
    if (sip_contact_is_valid(v, liberal) != reference::sip_contact_is_valid(v, liberal)) {
      return liberal ? "contact (liberal)" : "contact";
    }
  }
  if (sip_date_is_valid(v) != reference::sip_date_is_valid(v)) return "date";
  return "";
}

}  // namespace sipwall::test
