// Differential: the optimised SIP validator (SIMD class scans, AVX-512 fast paths in the
// -march=native fuzz build) against the frozen byte-loop reference in tests/unit/sip/reference/,
// in both profiles and with tight limits. Any difference in the error or in any view (offset
// and size) aborts; so does any difference of the public value parsers on the input as a value.

#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "sip_pair.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sipwall;
  using sipwall::test::Pair;
  static Pair pairs[] = {
      Pair(SipProfile::strict),
      Pair(SipProfile::liberal),
      Pair(SipProfile::strict, SipLimits{.max_message_bytes = 900,
                                         .max_header_lines = 12,
                                         .max_header_line_bytes = 60,
                                         .max_via_values = 2}),
  };
  const std::string_view msg(reinterpret_cast<const char*>(data), size);
  for (Pair& p : pairs) {
    const std::string d = test::compare(p, msg);
    FUZZ_CHECK(d.empty(), "%s (%s): %s", d.c_str(),
               p.fast.config().profile == SipProfile::strict ? "strict" : "liberal",
               test::show(msg).c_str());
  }
  if (size <= 512) {  // values are short; longer inputs add nothing but time
    const test::Buf b(msg);
    const std::string d = test::compare_value_parsers(b.view());
    FUZZ_CHECK(d.empty(), "value parser %s differs on: %s", d.c_str(), test::show(msg).c_str());
  }
  return 0;
}
