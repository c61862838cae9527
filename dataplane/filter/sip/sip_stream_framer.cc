#include "sip/sip_stream_framer.h"

#include <algorithm>

#include "sip/sip_char_class.h"
#include "sip/sip_header_values.h"
#include "sip/sip_message.h"

namespace sipwall {

using namespace sipchar;

namespace {

constexpr std::string_view kCrlf = "\r\n";
constexpr std::string_view kCrlfCrlf = "\r\n\r\n";

StreamFrame keepalive(StreamFrameKind kind, size_t consumed) {
  return StreamFrame{
      .kind = kind, .error = StreamFrameError::none, .consumed = consumed, .message = {}};
}

}  // namespace

std::string_view to_string(StreamFrameKind k) {
  switch (k) {
    case StreamFrameKind::need_more:
      return "need_more";
    case StreamFrameKind::message:
      return "message";
    case StreamFrameKind::ping:
      return "ping";
    case StreamFrameKind::pong:
      return "pong";
    case StreamFrameKind::error:
      return "error";
  }
  return "unknown";
}

std::string_view to_string(StreamFrameError e) {
  switch (e) {
    case StreamFrameError::none:
      return "none";
    case StreamFrameError::header_too_large:
      return "header_too_large";
    case StreamFrameError::body_too_large:
      return "body_too_large";
    case StreamFrameError::missing_content_length:
      return "missing_content_length";
    case StreamFrameError::bad_content_length:
      return "bad_content_length";
    case StreamFrameError::duplicate_content_length:
      return "duplicate_content_length";
    case StreamFrameError::count_:
      break;
  }
  return "unknown";
}

StreamFrame SipStreamFramer::fail(StreamFrameError e) {
  error_ = e;
  return StreamFrame{.kind = StreamFrameKind::error, .error = e, .consumed = 0, .message = {}};
}

// Fields as the validator reads them: a line that starts with SP or HTAB continues the field
// before it; name, optional WSP, ':' and the value trimmed of LWS. A line without ':' is left
// to the validator, which refuses it.
StreamFrameError SipStreamFramer::read_content_length(std::string_view header,
                                                      size_t& length) const {
  bool seen = false;
  size_t pos = header.find(kCrlf) + kCrlf.size();   // past the start line
  const size_t end = header.size() - kCrlf.size();  // the empty line's CRLF
  while (pos < end) {
    // One field: up to a CRLF not followed by SP or HTAB.
    size_t eol = header.find(kCrlf, pos);
    while (eol + kCrlf.size() < end && is(header[eol + kCrlf.size()], kWsp)) {
      eol = header.find(kCrlf, eol + kCrlf.size());
    }
    const std::string_view field = header.substr(pos, eol - pos);
    pos = eol + kCrlf.size();
    const size_t name_end = skip(field, 0, kToken);
    const size_t colon = skip(field, name_end, kWsp);
    if (name_end == 0 || colon == field.size() || field[colon] != ':') continue;
    if (sip_header_from_name(field.substr(0, name_end)) != SipHeader::content_length) continue;
    if (seen) return StreamFrameError::duplicate_content_length;
    seen = true;
    if (!sip_parse_content_length(trim_lws(field.substr(colon + 1)), length)) {
      return StreamFrameError::bad_content_length;
    }
  }
  return seen ? StreamFrameError::none : StreamFrameError::missing_content_length;
}

StreamFrame SipStreamFramer::next(std::string_view pending) {
  if (error_ != StreamFrameError::none) return fail(error_);
  if (header_end_ == 0 && scanned_ == 0 && !pending.empty() && pending.front() == '\r') {
    // Between messages: CRLFCRLF is a ping, CRLF followed by anything else a pong. Until the
    // octets after a CRLF are known it could be either.
    if (pending.starts_with(kCrlfCrlf)) {
      return keepalive(StreamFrameKind::ping, kCrlfCrlf.size());
    }
    const size_t known = std::min(pending.size(), kCrlfCrlf.size());
    if (pending.substr(0, known) == kCrlfCrlf.substr(0, known)) return StreamFrame{};
    if (pending.starts_with(kCrlf)) {
      return keepalive(StreamFrameKind::pong, kCrlf.size());
    }
    // A lone CR: a broken start line, the validator's to refuse.
  }
  if (header_end_ == 0) {
    // Resume three octets back: a CRLFCRLF may straddle the previous end.
    const size_t from = scanned_ >= 3 ? scanned_ - 3 : 0;
    const size_t window = std::min(pending.size(), limits_.max_header_bytes);
    const size_t at = pending.substr(0, window).find(kCrlfCrlf, from);
    if (at == std::string_view::npos) {
      if (pending.size() >= limits_.max_header_bytes) {
        return fail(StreamFrameError::header_too_large);
      }
      scanned_ = pending.size();
      return StreamFrame{};
    }
    header_end_ = at + kCrlfCrlf.size();
    size_t length = 0;
    if (const StreamFrameError e = read_content_length(pending.substr(0, header_end_), length);
        e != StreamFrameError::none) {
      return fail(e);
    }
    if (length > limits_.max_body_bytes) return fail(StreamFrameError::body_too_large);
    body_len_ = length;
  }
  const size_t total = header_end_ + body_len_;
  if (pending.size() < total) return StreamFrame{};
  const StreamFrame frame{.kind = StreamFrameKind::message,
                          .error = StreamFrameError::none,
                          .consumed = total,
                          .message = pending.substr(0, total)};
  scanned_ = 0;
  header_end_ = 0;
  body_len_ = 0;
  return frame;
}

}  // namespace sipwall
