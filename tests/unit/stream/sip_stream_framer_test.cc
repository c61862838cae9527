#include "sip/sip_stream_framer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sip/sip_validator.h"

namespace sipwall {
namespace {

std::string options_with(std::string_view extra_headers, std::string_view body) {
  return "OPTIONS sip:core.example.net SIP/2.0\r\n"
         "Via: SIP/2.0/TCP 192.0.2.10:5060;branch=z9hG4bK-1\r\n"
         "Max-Forwards: 70\r\n"
         "From: <sip:alice@example.net>;tag=1\r\n"
         "To: <sip:core.example.net>\r\n"
         "Call-ID: c1@192.0.2.10\r\n"
         "CSeq: 1 OPTIONS\r\n" +
         std::string(extra_headers) + "\r\n" + std::string(body);
}

std::string options(std::string_view body) {
  return options_with("Content-Length: " + std::to_string(body.size()) + "\r\n", body);
}

StreamFrame frame_of(std::string_view bytes, const SipStreamLimits& limits = {}) {
  SipStreamFramer framer(limits);
  return framer.next(bytes);
}

StreamFrameError error_of(std::string_view bytes, const SipStreamLimits& limits = {}) {
  const StreamFrame f = frame_of(bytes, limits);
  EXPECT_EQ(f.kind, StreamFrameKind::error) << to_string(f.kind);
  return f.error;
}

TEST(SipStreamFramer, OneMessageWithBody) {
  const std::string msg = options("v=0\r\n");
  const std::string stream = msg + "INVITE";  // the next message has begun
  SipStreamFramer framer;
  const StreamFrame f = framer.next(stream);
  ASSERT_EQ(f.kind, StreamFrameKind::message);
  EXPECT_EQ(f.consumed, msg.size());
  EXPECT_EQ(f.message, msg);
  EXPECT_EQ(f.message.data(), stream.data());  // a view, not a copy
  EXPECT_EQ(framer.next(std::string_view(stream).substr(f.consumed)).kind,
            StreamFrameKind::need_more);
}

TEST(SipStreamFramer, ValidatorTakesTheFramedMessageWhole) {
  const std::string stream = options("v=0\r\n") + options("");
  SipStreamFramer framer;
  SipValidator validator({});
  const StreamFrame f = framer.next(stream);
  ASSERT_EQ(f.kind, StreamFrameKind::message);
  SipMessage m;
  ASSERT_EQ(validator.validate(f.message, m), SipError::ok);
  EXPECT_EQ(m.raw, f.message);
  EXPECT_EQ(m.body, "v=0\r\n");
}

TEST(SipStreamFramer, PartialInputAnOctetAtATime) {
  const std::string msg = options("hello");
  SipStreamFramer framer;
  for (size_t n = 0; n < msg.size(); ++n) {
    const StreamFrame f = framer.next(std::string_view(msg).substr(0, n));
    ASSERT_EQ(f.kind, StreamFrameKind::need_more) << "after " << n << " octets";
    EXPECT_EQ(f.consumed, 0u);
  }
  const StreamFrame f = framer.next(msg);
  ASSERT_EQ(f.kind, StreamFrameKind::message);
  EXPECT_EQ(f.message, msg);
}

TEST(SipStreamFramer, KeepalivePingAndPong) {
  SipStreamFramer framer;
  EXPECT_EQ(framer.next("\r\n\r\n").kind, StreamFrameKind::ping);
  EXPECT_EQ(framer.next("\r\n\r\n").consumed, 4u);
  // A CRLF is a pong only once the next octets show it is not the start of a ping.
  EXPECT_EQ(framer.next("\r").kind, StreamFrameKind::need_more);
  EXPECT_EQ(framer.next("\r\n").kind, StreamFrameKind::need_more);
  EXPECT_EQ(framer.next("\r\n\r").kind, StreamFrameKind::need_more);
  const StreamFrame pong = framer.next("\r\nOPTIONS");
  EXPECT_EQ(pong.kind, StreamFrameKind::pong);
  EXPECT_EQ(pong.consumed, 2u);
  EXPECT_EQ(framer.next("\r\n\rX").kind, StreamFrameKind::pong);
}

TEST(SipStreamFramer, LeadingCrlfsBeforeAStartLineAreSkipped) {
  const std::string msg = options("");
  const std::string stream = "\r\n\r\n\r\n" + msg;
  SipStreamFramer framer;
  std::string_view rest = stream;
  std::vector<StreamFrameKind> kinds;
  while (!rest.empty()) {
    const StreamFrame f = framer.next(rest);
    ASSERT_NE(f.kind, StreamFrameKind::need_more);
    ASSERT_NE(f.kind, StreamFrameKind::error);
    kinds.push_back(f.kind);
    if (f.kind == StreamFrameKind::message) {
      EXPECT_EQ(f.message, msg);
    }
    rest.remove_prefix(f.consumed);
  }
  EXPECT_EQ(kinds,
            (std::vector{StreamFrameKind::ping, StreamFrameKind::pong, StreamFrameKind::message}));
}

TEST(SipStreamFramer, ContentLengthIsMandatory) {
  EXPECT_EQ(error_of(options_with("", "")), StreamFrameError::missing_content_length);
  // A start line alone.
  EXPECT_EQ(error_of("OPTIONS sip:x SIP/2.0\r\n\r\n"), StreamFrameError::missing_content_length);
  // Only the header section counts: a Content-Length inside the body or inside a folded
  // value is no field.
  EXPECT_EQ(error_of(options_with("Subject: a\r\n Content-Length: 3\r\n", "")),
            StreamFrameError::missing_content_length);
}

TEST(SipStreamFramer, ContentLengthForms) {
  for (const char* header : {"Content-Length: 3\r\n", "l: 3\r\n", "L:3\r\n",
                             "content-length  :   003  \r\n", "Content-Length:\r\n 3\r\n"}) {
    const std::string msg = options_with(header, "abc");
    const std::string stream = msg + "XYZ";
    const StreamFrame f = frame_of(stream);
    ASSERT_EQ(f.kind, StreamFrameKind::message) << header;
    EXPECT_EQ(f.message, msg) << header;
    // The validator reads the same length.
    SipValidator validator({});
    SipMessage m;
    ASSERT_EQ(validator.validate(f.message, m), SipError::ok) << header;
    EXPECT_EQ(m.body, "abc");
  }
}

TEST(SipStreamFramer, BadAndDuplicateContentLength) {
  for (const char* value : {"-999", "3a", "0x3", "", "3 4", "+3"}) {
    EXPECT_EQ(error_of(options_with("Content-Length: " + std::string(value) + "\r\n", "abc")),
              StreamFrameError::bad_content_length)
        << value;
  }
  EXPECT_EQ(error_of(options_with("Content-Length: 3\r\nl: 3\r\n", "abc")),
            StreamFrameError::duplicate_content_length);
  EXPECT_EQ(error_of(options_with("Content-Length: 3\r\nContent-Length: 3\r\n", "abc")),
            StreamFrameError::duplicate_content_length);
}

TEST(SipStreamFramer, HeaderSizeIsBounded) {
  const std::string msg = options("");
  const size_t header = msg.size();
  // Exactly at the limit: framed.
  EXPECT_EQ(frame_of(msg, {.max_header_bytes = header}).kind, StreamFrameKind::message);
  // One octet over: refused as soon as the limit is buffered, not when more arrives.
  SipStreamFramer framer({.max_header_bytes = header - 1});
  EXPECT_EQ(framer.next(std::string_view(msg).substr(0, header - 2)).kind,
            StreamFrameKind::need_more);
  const StreamFrame f = framer.next(std::string_view(msg).substr(0, header - 1));
  EXPECT_EQ(f.kind, StreamFrameKind::error);
  EXPECT_EQ(f.error, StreamFrameError::header_too_large);
  // An endless header line never grows the work past the limit.
  EXPECT_EQ(error_of(std::string(100000, 'a')), StreamFrameError::header_too_large);
}

TEST(SipStreamFramer, BodySizeIsBounded) {
  const std::string body(100, 'x');
  EXPECT_EQ(frame_of(options(body), {.max_body_bytes = 100}).kind, StreamFrameKind::message);
  // Refused from the header alone, before the body arrives.
  const std::string msg = options(body);
  EXPECT_EQ(
      error_of(std::string_view(msg).substr(0, msg.size() - body.size()), {.max_body_bytes = 99}),
      StreamFrameError::body_too_large);
  EXPECT_EQ(error_of(options_with("Content-Length: 99999999999999999999999\r\n", "")),
            StreamFrameError::body_too_large);
}

TEST(SipStreamFramer, ErrorIsFinalUntilReset) {
  SipStreamFramer framer;
  EXPECT_EQ(framer.next(options_with("", "")).kind, StreamFrameKind::error);
  const StreamFrame again = framer.next(options(""));
  EXPECT_EQ(again.kind, StreamFrameKind::error);
  EXPECT_EQ(again.error, StreamFrameError::missing_content_length);
  framer.reset();
  EXPECT_EQ(framer.next(options("")).kind, StreamFrameKind::message);
}

TEST(SipStreamFramer, TerminatorSplitAcrossCalls) {
  const std::string msg = options("");
  // Every split of the CRLFCRLF between two calls (the resumed search starts 3 back).
  for (size_t cut = msg.size() - 4; cut < msg.size(); ++cut) {
    SipStreamFramer framer;
    EXPECT_EQ(framer.next(std::string_view(msg).substr(0, cut)).kind, StreamFrameKind::need_more);
    EXPECT_EQ(framer.next(msg).kind, StreamFrameKind::message) << cut;
  }
}

TEST(SipStreamFramer, Names) {
  for (size_t i = 0; i < kStreamFrameErrorCount; ++i) {
    EXPECT_NE(to_string(static_cast<StreamFrameError>(i)), "unknown");
  }
  EXPECT_EQ(to_string(StreamFrameKind::ping), "ping");
}

}  // namespace
}  // namespace sipwall
