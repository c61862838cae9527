#pragma once

// Message framing for SIP over TCP and TLS (RFC 3261 18.3): the stream carries messages back
// to back, so the end of the buffer is not the end of a message. A message is its header
// section up to the first CRLFCRLF plus exactly Content-Length octets of body; Content-Length
// is mandatory on streams. Between messages, RFC 5626 3.5.1 keepalives: CRLFCRLF is a ping,
// a lone CRLF a pong (which also covers the CRLFs RFC 3261 7.5 says to ignore before a
// start line).
//
// The framer only frames: a framed message goes to SipValidator::validate() as it is. The
// validator reads nothing past the view it is given and frames the body by Content-Length,
// so for a framed message its SipMessage::raw is the whole message.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sipwall {

struct SipStreamLimits {
  // Start line through the empty line. Together with the body limit this is the validator's
  // default max_message_bytes (16384), so every framed message fits the validator.
  size_t max_header_bytes = 8192;
  size_t max_body_bytes = 8192;
};

enum class StreamFrameKind : uint8_t {
  need_more,  // no complete frame yet: append octets and call again
  message,    // a complete message (validate it next)
  ping,       // CRLFCRLF keepalive: answer with a pong (CRLF)
  pong,       // CRLF: a keepalive answer, or a CRLF before a start line; ignore it
  error,      // framing broken: close the connection (nothing after it can be trusted)
};

// One value per reason a stream cannot be framed (each becomes a counter).
enum class StreamFrameError : uint8_t {
  none,
  header_too_large,          // no CRLFCRLF within max_header_bytes
  body_too_large,            // Content-Length above max_body_bytes
  missing_content_length,    // mandatory on streams (RFC 3261 18.3)
  bad_content_length,        // not 1*DIGIT
  duplicate_content_length,  // two Content-Length fields (RFC 4475 mcl01)
  count_,
};
inline constexpr size_t kStreamFrameErrorCount = static_cast<size_t>(StreamFrameError::count_);

std::string_view to_string(StreamFrameKind k);
std::string_view to_string(StreamFrameError e);

struct StreamFrame {
  StreamFrameKind kind = StreamFrameKind::need_more;
  StreamFrameError error = StreamFrameError::none;
  size_t consumed = 0;       // message, ping, pong: octets to drop from the buffer's front
  std::string_view message;  // message: start line through body, a view into the buffer
};

// One per connection. It remembers how far it searched, so input that arrives an octet at a
// time costs linear work, not quadratic.
class SipStreamFramer {
 public:
  explicit SipStreamFramer(const SipStreamLimits& limits = {}) : limits_(limits) {}

  // `pending`: the connection's octets not yet consumed, from the first one. After need_more
  // the next call must get the same octets again, possibly with more appended; after message,
  // ping or pong the caller drops `consumed` octets first. need_more is never returned with
  // more than max_header_bytes + max_body_bytes octets pending. An error is final: every
  // later call returns it again.
  StreamFrame next(std::string_view pending);

  // For a new connection.
  void reset() { *this = SipStreamFramer(limits_); }

  const SipStreamLimits& limits() const { return limits_; }

 private:
  StreamFrame fail(StreamFrameError e);
  // Content-Length from the header section (start line through the empty line).
  StreamFrameError read_content_length(std::string_view header, size_t& length) const;

  SipStreamLimits limits_;
  size_t scanned_ = 0;     // octets searched for CRLFCRLF without finding it
  size_t header_end_ = 0;  // past the CRLFCRLF once found; 0 while the header is incomplete
  size_t body_len_ = 0;
  StreamFrameError error_ = StreamFrameError::none;
};

}  // namespace sipwall
