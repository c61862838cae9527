#pragma once

// The optimised validator and the frozen reference (reference/) side by side, and the
// comparison the differential test and the sip_diff fuzz target both judge by.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "reference/sip_validator.h"
#include "sip/sip_validator.h"

namespace sipwall::test {

// A heap copy of exactly the datagram's size, so ASan sees any read past its end.
struct Buf {
  explicit Buf(std::string_view s);
  std::string_view view() const { return {bytes.get(), size}; }
  size_t size;
  std::unique_ptr<char[]> bytes;
};

struct Pair {
  explicit Pair(SipProfile p, SipLimits limits = {});
  SipValidator fast;
  reference::SipValidator ref;
};

// `s` with bytes outside printable ASCII as \xHH, for failure messages.
std::string show(std::string_view s);

// Returns "" when both validators agree on `msg` (error, and every view by offset and size),
// else a description of the first difference.
std::string compare(Pair& p, std::string_view msg);

// Returns "" when every public value parser (host, port, hostport, URI, Call-ID, Via, From/To,
// Contact, Date) gives the same answer as the reference for `v`, else the first that differs.
std::string compare_value_parsers(std::string_view v);

}  // namespace sipwall::test
