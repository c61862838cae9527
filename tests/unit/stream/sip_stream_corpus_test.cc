// The RFC 4475 and RFC 5118 torture messages on a stream: each file framed alone (what a
// stream makes of it), then all of them back to back with keepalives between, cut at every
// octet offset and fed in two parts, and fed one octet at a time.

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "sip/sip_stream_framer.h"
#include "sip/sip_validator.h"
#include "sip_corpus.h"

namespace sipwall {
namespace {

using testing::CorpusEntry;
using testing::load_manifest;
using testing::load_message;

struct Frame {
  StreamFrameKind kind = StreamFrameKind::need_more;
  StreamFrameError error = StreamFrameError::none;
  std::string message;
  bool operator==(const Frame&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Frame& f) {
  return os << to_string(f.kind) << "/" << to_string(f.error) << "/" << f.message.size();
}

Frame message(std::string text) {
  return Frame{StreamFrameKind::message, StreamFrameError::none, std::move(text)};
}
Frame keepalive(StreamFrameKind kind) {
  return Frame{kind, StreamFrameError::none, {}};
}
Frame error(StreamFrameError e) {
  return Frame{StreamFrameKind::error, e, {}};
}

// A connection: octets arrive in chunks, frames are taken off the front as they complete.
class Connection {
 public:
  void receive(std::string_view chunk) {
    buffer_ += chunk;
    while (!failed_) {
      const StreamFrame f = framer_.next(buffer_);
      if (f.kind == StreamFrameKind::need_more) {
        // The framer's promise: never waiting with more than one message's worth buffered.
        EXPECT_LE(buffer_.size(),
                  framer_.limits().max_header_bytes + framer_.limits().max_body_bytes);
        return;
      }
      frames_.push_back(Frame{f.kind, f.error, std::string(f.message)});
      if (f.kind == StreamFrameKind::error) {
        failed_ = true;
        return;
      }
      EXPECT_GT(f.consumed, 0u);
      buffer_.erase(0, f.consumed);
    }
  }
  const std::vector<Frame>& frames() const { return frames_; }
  size_t left() const { return buffer_.size(); }

 private:
  SipStreamFramer framer_;
  std::string buffer_;
  std::vector<Frame> frames_;
  bool failed_ = false;
};

std::vector<CorpusEntry> corpus() {
  std::vector<CorpusEntry> all = load_manifest("rfc4475");
  const std::vector<CorpusEntry> v6 = load_manifest("rfc5118");
  all.insert(all.end(), v6.begin(), v6.end());
  return all;
}

// What a stream makes of each file that is not one well-framed message.
std::vector<Frame> expected_frames(const CorpusEntry& e, const std::string& bytes) {
  if (e.file == "dblreq.dat") {
    // The REGISTER's Content-Length is 0: the "trailing octets" are a CRLF and an INVITE,
    // which a stream delivers on their own. The INVITE's body is 5 octets longer than its
    // Content-Length says ("C" CRLF CRLF): a stream reads them as a message without one.
    const size_t register_end = bytes.find("\r\n\r\n") + 4;
    const size_t invite_end = bytes.size() - 5;
    return {message(bytes.substr(0, register_end)), keepalive(StreamFrameKind::pong),
            message(bytes.substr(register_end + 2, invite_end - register_end - 2)),
            error(StreamFrameError::missing_content_length)};
  }
  if (e.file == "baddn.dat") return {};  // no empty line: waits for the rest of the header
  if (e.file == "clerr.dat") return {error(StreamFrameError::body_too_large)};    // 9999
  if (e.file == "ncl.dat") return {error(StreamFrameError::bad_content_length)};  // -999
  if (e.file == "mcl01.dat") return {error(StreamFrameError::duplicate_content_length)};
  if (e.file == "inv2543.dat") return {error(StreamFrameError::missing_content_length)};
  return {message(bytes)};
}

TEST(SipStreamCorpus, EachFileFramedAlone) {
  const std::vector<CorpusEntry> entries = corpus();
  ASSERT_EQ(entries.size(), 62u) << "corpus at " << testing::corpus_root();
  for (const CorpusEntry& e : entries) {
    const std::string bytes = load_message(e);
    Connection c;
    c.receive(bytes);
    EXPECT_EQ(c.frames(), expected_frames(e, bytes)) << e.set << "/" << e.file;
  }
}

// For a file that frames as the whole file, the validator's verdict is the datagram verdict:
// framing hands it exactly the message.
TEST(SipStreamCorpus, ValidatorVerdictUnchangedByFraming) {
  SipValidator strict({.profile = SipProfile::strict, .limits = {}});
  SipValidator liberal({.profile = SipProfile::liberal, .limits = {}});
  size_t checked = 0;
  for (const CorpusEntry& e : corpus()) {
    const std::string bytes = load_message(e);
    SipStreamFramer framer;
    const StreamFrame f = framer.next(bytes);
    if (f.kind != StreamFrameKind::message) continue;
    for (SipValidator* v : {&strict, &liberal}) {
      SipMessage framed;
      const SipError framed_error = v->validate(f.message, framed);
      if (f.message.size() == bytes.size()) {
        SipMessage whole;
        EXPECT_EQ(framed_error, v->validate(bytes, whole)) << e.file;
      }
      if (framed_error == SipError::ok) {
        EXPECT_EQ(framed.raw, f.message) << e.file;
      }
    }
    ++checked;
  }
  EXPECT_EQ(checked, 57u);  // 62 files less baddn, clerr, ncl, mcl01, inv2543
}

struct Stream {
  std::string bytes;
  std::vector<Frame> frames;
};

// Every file that frames without error, back to back, with a ping, a pong or nothing between.
Stream corpus_stream() {
  Stream s;
  const StreamFrameKind gaps[] = {StreamFrameKind::need_more, StreamFrameKind::ping,
                                  StreamFrameKind::pong};
  size_t i = 0;
  for (const CorpusEntry& e : corpus()) {
    const std::string bytes = load_message(e);
    const std::vector<Frame> frames = expected_frames(e, bytes);
    if (frames.empty() || frames.back().kind == StreamFrameKind::error) continue;
    s.bytes += bytes;
    s.frames.insert(s.frames.end(), frames.begin(), frames.end());
    switch (gaps[i++ % 3]) {
      case StreamFrameKind::ping:
        s.bytes += "\r\n\r\n";
        s.frames.push_back(keepalive(StreamFrameKind::ping));
        break;
      case StreamFrameKind::pong:
        s.bytes += "\r\n";
        s.frames.push_back(keepalive(StreamFrameKind::pong));
        break;
      default:
        break;
    }
  }
  // Ends with a message, so the last keepalive is known to be complete.
  const std::string last = load_message(corpus().front());
  s.bytes += last;
  s.frames.push_back(message(last));
  return s;
}

TEST(SipStreamCorpus, WholeStreamAtOnce) {
  const Stream s = corpus_stream();
  Connection c;
  c.receive(s.bytes);
  EXPECT_EQ(c.frames(), s.frames);
  EXPECT_EQ(c.left(), 0u);
  EXPECT_GT(s.frames.size(), 70u);
}

TEST(SipStreamCorpus, SplitAtEveryOffset) {
  const Stream s = corpus_stream();
  const std::string_view all = s.bytes;
  for (size_t cut = 0; cut <= all.size(); ++cut) {
    Connection c;
    c.receive(all.substr(0, cut));
    c.receive(all.substr(cut));
    ASSERT_EQ(c.frames(), s.frames) << "cut at " << cut;
    ASSERT_EQ(c.left(), 0u);
  }
}

TEST(SipStreamCorpus, OneOctetAtATime) {
  const Stream s = corpus_stream();
  Connection c;
  for (const char octet : s.bytes) c.receive(std::string_view(&octet, 1));
  EXPECT_EQ(c.frames(), s.frames);
  EXPECT_EQ(c.left(), 0u);
}

}  // namespace
}  // namespace sipwall
