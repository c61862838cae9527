// The SIP validator in both profiles, with the shipped limits and with tight ones, on one UDP
// payload; then the public header-value parsers on the payload as a value (with and without
// a readable end past it) and the SIP sniffer. Asserts every view of an accepted message lies
// inside the datagram and the limits hold.

#include <cstdint>
#include <span>
#include <string_view>

#include "classify/sip_sniffer.h"
#include "fuzz_check.h"
#include "sip/sip_header_values.h"
#include "sip/sip_uri.h"
#include "sip/sip_validator.h"

namespace sipwall::fuzz {
namespace {

bool inside(std::string_view v, std::string_view d) {
  return within(std::span<const char>(v), std::span<const char>(d));
}

void check_message(const SipValidator& v, std::string_view d, const SipMessage& m) {
  const SipLimits& lim = v.config().limits;
  FUZZ_CHECK(d.size() <= lim.max_message_bytes, "accepted %zu octets", d.size());
  FUZZ_CHECK(inside(m.raw, d) && inside(m.body, d), "raw/body outside the datagram");
  FUZZ_CHECK(inside(m.body, m.raw), "body outside raw");
  FUZZ_CHECK(m.headers.size() <= lim.max_header_lines, "%zu headers", m.headers.size());
  if (m.is_request) {
    FUZZ_CHECK(inside(m.method_token, m.raw) && !m.method_token.empty(), "method token");
    FUZZ_CHECK(inside(m.request_uri, m.raw) && !m.request_uri.empty(), "request-uri");
  } else {
    FUZZ_CHECK(m.status_code >= 100 && m.status_code <= 699, "status %u", m.status_code);
  }
  for (const SipHeaderField& h : m.headers) {
    FUZZ_CHECK(inside(h.name, m.raw) && inside(h.value, m.raw), "header outside raw");
    FUZZ_CHECK(!h.name.empty(), "empty header name");
  }
}

}  // namespace
}  // namespace sipwall::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sipwall;
  using namespace sipwall::fuzz;
  static constexpr SipLimits kTight{.max_message_bytes = 600,
                                    .max_header_lines = 6,
                                    .max_header_line_bytes = 48,
                                    .max_via_values = 1};
  static SipValidator validators[] = {
      SipValidator({.profile = SipProfile::strict}),
      SipValidator({.profile = SipProfile::liberal}),
      SipValidator({.profile = SipProfile::strict, .limits = kTight}),
      SipValidator({.profile = SipProfile::liberal, .limits = kTight}),
  };
  const std::string_view d(reinterpret_cast<const char*>(data), size);
  for (SipValidator& v : validators) {
    SipMessage m;
    if (v.validate(d, m) == SipError::ok) check_message(v, d, m);
  }
  (void)looks_like_sip({data, size});

  // The value parsers on their own: the whole input as a value, and its first half with the
  // rest readable (the `lim` overloads the validator uses).
  const std::string_view half = d.substr(0, size / 2);
  const char* lim = d.data() + d.size();
  uint32_t n = 0;
  std::string_view method;
  size_t vias = 0;
  for (const std::string_view v : {d, half}) {
    (void)sip_host_is_valid(v);
    (void)sip_port_is_valid(v);
    (void)sip_hostport_is_valid(v);
    (void)sip_uri_is_valid(v, true);
    (void)sip_parse_cseq(v, n, method);
    (void)sip_check_via(v, vias);
    (void)sip_name_addr_is_valid(v, true);
    (void)sip_contact_is_valid(v, false);
    (void)sip_date_is_valid(v);
    (void)sip_call_id_is_valid(v);
  }
  (void)sip_host_is_valid(half, lim);
  (void)sip_uri_is_valid(half, false, lim);
  (void)sip_parse_cseq(half, n, method, lim);
  (void)sip_call_id_is_valid(half, lim);
  (void)sip_check_via(half, vias, lim);
  (void)sip_name_addr_is_valid(half, false, lim);
  (void)sip_contact_is_valid(half, true, lim);
  return 0;
}
