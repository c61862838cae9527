// The SIP stream framer (TCP/TLS): the input is a connection's byte stream, its first octet
// choosing the limits and how the stream is cut into reads. Asserts framing does not depend
// on how the octets arrive (the whole stream at once and cut into reads give the same
// frames), every frame lies inside the buffer and within the limits, need_more never waits
// with more than a message's worth buffered, and the validator takes a framed message whole.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "sip/sip_stream_framer.h"
#include "sip/sip_validator.h"

namespace sipwall::fuzz {
namespace {

struct Frame {
  StreamFrameKind kind;
  StreamFrameError error;
  std::string message;
  bool operator==(const Frame&) const = default;
};

bool inside(std::string_view v, std::string_view d) {
  return within(std::span<const char>(v), std::span<const char>(d));
}

// Feeds `stream` in reads of the given sizes (cycled), taking frames off the front.
std::vector<Frame> frame_stream(std::string_view stream, const SipStreamLimits& limits,
                                std::span<const uint8_t> reads, SipValidator& validator) {
  SipStreamFramer framer(limits);
  std::vector<Frame> frames;
  std::string buffer;
  size_t fed = 0;
  size_t r = 0;
  while (true) {
    StreamFrame f = framer.next(buffer);
    if (f.kind == StreamFrameKind::need_more) {
      FUZZ_CHECK(buffer.size() <= limits.max_header_bytes + limits.max_body_bytes,
                 "waiting with %zu octets", buffer.size());
      if (fed == stream.size()) break;
      const size_t n = reads.empty() ? stream.size() : 1 + reads[r++ % reads.size()];
      const size_t take = std::min(n, stream.size() - fed);
      buffer.append(stream.substr(fed, take));
      fed += take;
      continue;
    }
    frames.push_back(Frame{f.kind, f.error, std::string(f.message)});
    if (f.kind == StreamFrameKind::error) {
      FUZZ_CHECK(f.error != StreamFrameError::none, "an error without a reason");
      FUZZ_CHECK(framer.next(buffer).kind == StreamFrameKind::error, "an error that went away");
      break;
    }
    FUZZ_CHECK(f.consumed > 0 && f.consumed <= buffer.size(), "consumed %zu of %zu", f.consumed,
               buffer.size());
    if (f.kind == StreamFrameKind::message) {
      FUZZ_CHECK(inside(f.message, buffer), "message outside the buffer");
      FUZZ_CHECK(f.message.data() == buffer.data() && f.message.size() == f.consumed,
                 "a message that is not the front of the buffer");
      FUZZ_CHECK(f.message.size() <= limits.max_header_bytes + limits.max_body_bytes,
                 "message of %zu octets", f.message.size());
      SipMessage m;
      if (validator.validate(f.message, m) == SipError::ok) {
        FUZZ_CHECK(m.raw == f.message, "the validator framed %zu of %zu octets", m.raw.size(),
                   f.message.size());
      }
    } else {
      FUZZ_CHECK(f.message.empty(), "a keepalive with a message");
    }
    buffer.erase(0, f.consumed);
  }
  return frames;
}

}  // namespace
}  // namespace sipwall::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sipwall;
  using namespace sipwall::fuzz;
  if (size < 1) return 0;
  static SipValidator validator({.profile = SipProfile::strict, .limits = {}});
  // Octet 0: bit 0 tight limits; the next 7 octets are read sizes (1..256), cycled.
  const SipStreamLimits limits =
      (data[0] & 1) != 0 ? SipStreamLimits{.max_header_bytes = 200, .max_body_bytes = 64}
                         : SipStreamLimits{};
  const size_t n_reads = std::min<size_t>(size - 1, 7);
  const std::span<const uint8_t> reads(data + 1, n_reads);
  const std::string_view stream(reinterpret_cast<const char*>(data + 1 + n_reads),
                                size - 1 - n_reads);
  const std::vector<Frame> whole = frame_stream(stream, limits, {}, validator);
  const std::vector<Frame> cut = frame_stream(stream, limits, reads, validator);
  FUZZ_CHECK(whole == cut, "%zu frames at once, %zu when cut", whole.size(), cut.size());
  return 0;
}
