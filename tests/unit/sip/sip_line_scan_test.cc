// Block-boundary tests for the validator's CR/LF scanner (sip_line_scan.h) and for validate()
// on messages whose line ends fall on every position of a 64-octet block.

#include "sip/sip_line_scan.h"

#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "sip/sip_class_scan.h"
#include "sip/sip_validator.h"

namespace sipwall {
namespace {

using sipscan::kBlock;
using sipscan::LineScanner;
using sipscan::Masks;

// Every mask variant the build can run, checked against the scalar one.
void expect_all_variants(const char* p) {
  const Masks ref = sipscan::masks_scalar(p);
  const auto same = [&ref](const Masks& m, const char* name) {
    EXPECT_EQ(m.cr, ref.cr) << name;
    EXPECT_EQ(m.lf, ref.lf) << name;
  };
  same(sipscan::masks(p), "dispatch");
#ifdef __SSE2__
  same(sipscan::masks_sse2(p), "sse2");
#endif
#ifdef __AVX2__
  same(sipscan::masks_avx2(p), "avx2");
#endif
#ifdef __AVX512BW__
  same(sipscan::masks_avx512(p), "avx512");
#endif
}

TEST(SipLineScan, ScalarMasksMarkEachPosition) {
  for (size_t i = 0; i < kBlock; ++i) {
    std::string b(kBlock, 'a');
    b[i] = '\r';
    EXPECT_EQ(sipscan::masks_scalar(b.data()).cr, uint64_t{1} << i);
    EXPECT_EQ(sipscan::masks_scalar(b.data()).lf, 0u);
    b[i] = '\n';
    EXPECT_EQ(sipscan::masks_scalar(b.data()).lf, uint64_t{1} << i);
    EXPECT_EQ(sipscan::masks_scalar(b.data()).cr, 0u);
  }
}

TEST(SipLineScan, VariantsAgreeAtEveryPosition) {
  // CR / LF / CRLF at each of the 64 positions, from a buffer offset of 0..15 (unaligned loads).
  std::vector<char> buf(kBlock + 16 + 1);
  for (size_t off = 0; off < 16; ++off) {
    for (size_t i = 0; i < kBlock; ++i) {
      for (const char* pat : {"\r", "\n", "\r\n", "\n\r"}) {
        std::fill(buf.begin(), buf.end(), 'x');
        for (size_t k = 0; pat[k] != '\0' && i + k < kBlock; ++k) buf[off + i + k] = pat[k];
        expect_all_variants(buf.data() + off);
      }
    }
  }
}

TEST(SipLineScan, VariantsAgreeOnRandomBlocks) {
  std::mt19937 rng(7);
  const std::string alphabet = "\r\n\r\n\xff\x8d\x8a\x0d\x0a a:\x00\x80";
  char b[kBlock];
  for (int r = 0; r < 5000; ++r) {
    for (char& c : b) c = r % 2 == 0 ? alphabet[rng() % alphabet.size()] : static_cast<char>(rng());
    expect_all_variants(b);
  }
}

// The scanner over an exactly sized heap buffer (so ASan sees any read past the end).
struct Exact {
  explicit Exact(const std::string& s) : p(new char[s.size() + (s.empty() ? 1 : 0)]), n(s.size()) {
    std::copy(s.begin(), s.end(), p.get());
  }
  std::string_view view() const { return {p.get(), n}; }
  std::unique_ptr<char[]> p;
  size_t n;
};

// All LFs, and the first bare CR at or after `from`, the slow way.
std::vector<size_t> naive_lfs(const std::string& s) {
  std::vector<size_t> out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\n') out.push_back(i);
  }
  return out;
}
size_t naive_first_bare(const std::string& s, size_t from) {
  for (size_t i = from; i < s.size(); ++i) {
    if (s[i] == '\r' && (i + 1 == s.size() || s[i + 1] != '\n')) return i;
  }
  return LineScanner::npos;
}

void expect_scan(const std::string& s, size_t bare_from) {
  const Exact e(s);
  LineScanner sc(e.p.get(), e.n);
  std::vector<size_t> got;
  size_t from = 0;
  bool counting = false;
  while (true) {
    if (!counting && from >= bare_from) {
      // count_bare_from() wants a position in the loaded block or the next one: right after
      // an LF, as the validator calls it.
      sc.count_bare_from(from);
      counting = true;
    }
    const size_t lf = sc.next_lf();
    if (lf == LineScanner::npos) break;
    got.push_back(lf);
    from = lf + 1;
  }
  EXPECT_EQ(got, naive_lfs(s)) << s.size();
  if (counting) {
    EXPECT_EQ(sc.first_bare(), naive_first_bare(s, bare_from)) << s.size();
  }
}

TEST(SipLineScan, FindsEveryLfAndBareCrAcrossBlocks) {
  for (size_t len = 0; len <= 3 * kBlock + 5; ++len) {
    for (size_t i = 0; i < len; ++i) {
      std::string s(len, 'a');
      s[i] = '\n';
      expect_scan(s, 0);
      s[i] = '\r';  // bare CR at i (or a CRLF when followed by one below)
      expect_scan(s, 0);
      if (i + 1 < len) {
        s[i + 1] = '\n';
        expect_scan(s, 0);
        s[i + 1] = 'a';
      }
      // A CR at the end of one block, LF at the start of the next: not bare.
      if (len > kBlock + 1) {
        std::string t(len, 'b');
        t[kBlock - 1] = '\r';
        t[kBlock] = '\n';
        t[i] = t[i] == 'b' ? '\r' : t[i];
        expect_scan(t, 0);
      }
    }
  }
}

TEST(SipLineScan, BareCrBeforeTheCountingStartIsIgnored) {
  // Line ends every 7 octets with bare CRs sprinkled in; counting starts after each LF in turn.
  std::string s;
  for (int k = 0; k < 40; ++k) s += k % 5 == 2 ? "ab\rcd\r\n" : "abcde\r\n";
  for (const size_t lf : naive_lfs(s)) expect_scan(s, lf + 1);
}

TEST(SipLineScan, RandomLinesMatchNaive) {
  std::mt19937 rng(11);
  const std::string alphabet = "\r\n\r\nab: \t";
  for (int r = 0; r < 3000; ++r) {
    std::string s(rng() % 300, 'x');
    for (char& c : s) c = alphabet[rng() % alphabet.size()];
    expect_scan(s, 0);
  }
}

// token_end() after every LF against a naive scan: the first non-token octet (the end of the
// datagram counts as one) when it is within 64 octets, else npos; always npos in builds that
// keep no token masks.
void expect_token_ends(const std::string& s) {
  const Exact e(s);
  LineScanner sc(e.p.get(), e.n);
  for (size_t lf = sc.next_lf(); lf != LineScanner::npos; lf = sc.next_lf()) {
    const size_t from = lf + 1;
    size_t want = from;
    while (want < s.size() && sipchar::is(s[want], sipchar::kToken)) ++want;
    if (want - from >= 64 || !sipchar::kMaskFastPaths) want = LineScanner::npos;
    ASSERT_EQ(sc.token_end(from), want) << s.size() << " " << lf;
  }
}

TEST(SipLineScan, TokenEndAtEveryPosition) {
  // An LF at every position of three blocks, followed by token runs of the window's edge
  // lengths and then a colon, a CR or the end of the datagram.
  for (size_t at = 0; at < 3 * kBlock; ++at) {
    for (const size_t run : {0, 1, 15, 16, 62, 63, 64, 65, 130}) {
      for (const char* stop : {":", "\r", ""}) {
        const std::string s = std::string(at, ' ') + "\n" + std::string(run, 't') + stop;
        expect_token_ends(s);
        expect_token_ends(s + std::string(70, ' '));
      }
    }
  }
}

TEST(SipLineScan, TokenEndOnRandomLines) {
  std::mt19937 rng(13);
  const std::string others = std::string("\r\n\n: \t;@\"<\x80\xff\x7f", 13) + std::string(1, '\0');
  for (int r = 0; r < 3000; ++r) {
    std::string s(rng() % 400, 't');
    // Sparse non-token octets, so token runs of every length occur.
    const size_t odd = rng() % 12 + 1;
    for (char& c : s) {
      if (rng() % (odd * 4) == 0) c = others[rng() % others.size()];
    }
    expect_token_ends(s);
  }
}

// --- validate() across block boundaries ---------------------------------------------------

const std::string kHead = "INVITE sip:bob@biloxi.com SIP/2.0\r\n";
const std::string kFields =
    "Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds\r\n"
    "To: Bob <sip:bob@biloxi.com>\r\n"
    "From: Alice <sip:alice@atlanta.com>;tag=1928301774\r\n"
    "Call-ID: a84b4c76e66710@pc33.atlanta.com\r\n"
    "CSeq: 314159 INVITE\r\n";

// A valid request with an unchecked "X-Pad" header of `pad` octets placed first, so every later
// CRLF moves by one position per step.
std::string padded(size_t pad) {
  return kHead + "X-Pad: " + std::string(pad, 'p') + "\r\n" + kFields + "\r\n";
}

// Validates a copy of `s` in an exactly sized buffer, kept until the next call so the views in
// `out` stay valid.
SipError run(SipValidator& v, const std::string& s, SipMessage& out) {
  static std::unique_ptr<Exact> last;
  last = std::make_unique<Exact>(s);
  return v.validate(last->view(), out);
}

TEST(SipLineScanValidate, CrlfAtEveryBlockPosition) {
  SipValidator v{SipValidatorConfig{}};
  SipMessage out;
  for (size_t pad = 1; pad < 3 * kBlock; ++pad) {
    const std::string s = padded(pad);
    const Exact e(s);
    ASSERT_EQ(v.validate(e.view(), out), SipError::ok) << pad;
    ASSERT_EQ(out.headers.size(), 6u);
    EXPECT_EQ(out.headers[0].value, std::string(pad, 'p'));
    EXPECT_EQ(out.headers[5].value, "314159 INVITE");
    EXPECT_EQ(out.body.size(), 0u);
    EXPECT_EQ(out.raw.size(), s.size());
  }
}

TEST(SipLineScanValidate, BareCrAtEveryPositionIsRefused) {
  SipValidator v{SipValidatorConfig{}};
  SipMessage out;
  for (size_t pad = 1; pad < kBlock + 2; ++pad) {
    for (size_t i = 0; i < pad; ++i) {
      std::string s = padded(pad);
      s[kHead.size() + 7 + i] = '\r';  // inside the X-Pad value
      EXPECT_EQ(run(v, s, out), SipError::bad_line_ending) << pad << " " << i;
      s[kHead.size() + 7 + i] = '\n';  // bare LF
      EXPECT_EQ(run(v, s, out), SipError::bad_line_ending) << pad << " " << i;
    }
  }
}

TEST(SipLineScanValidate, BareCrInTheBodyIsAllowed) {
  SipValidator v{SipValidatorConfig{}};
  SipMessage out;
  for (size_t pad = 1; pad < kBlock + 2; ++pad) {
    for (size_t i = 0; i < 70; ++i) {
      std::string body(70, 'b');
      body[i] = '\r';
      EXPECT_EQ(run(v, padded(pad) + body, out), SipError::ok) << pad << " " << i;
      EXPECT_EQ(out.body, body);
    }
  }
}

TEST(SipLineScanValidate, EveryPrefixOfAValidMessage) {
  SipValidator strict{SipValidatorConfig{}};
  SipValidator liberal{SipValidatorConfig{.profile = SipProfile::liberal, .limits = {}}};
  SipMessage out;
  for (size_t pad = 1; pad < 40; pad += 13) {
    const std::string full = padded(pad);
    ASSERT_LE(full.size(), 300u);
    const size_t headers_end = full.size() - 2;  // the empty line
    for (size_t len = 0; len <= full.size(); ++len) {
      const std::string s = full.substr(0, len);
      SipError want = SipError::unterminated_headers;
      if (len < kHead.size()) want = SipError::bad_start_line;
      if (len == full.size()) want = SipError::ok;
      EXPECT_EQ(to_string(run(strict, s, out)), to_string(want)) << len;
      // Liberal infers the empty line when the datagram ends right after a header's CRLF.
      if (len >= kHead.size() && len <= headers_end && full[len - 1] == '\n') {
        const bool all_required = len == headers_end;
        want = all_required ? SipError::ok : SipError::missing_header;
      }
      EXPECT_EQ(to_string(run(liberal, s, out)), to_string(want)) << len;
    }
  }
}

TEST(SipLineScanValidate, EveryLengthOfTrailingBody) {
  SipValidator v{SipValidatorConfig{}};
  SipMessage out;
  const std::string base = padded(5);
  for (size_t extra = 0; extra <= 200; ++extra) {
    std::string body(extra, 'z');
    for (size_t i = 0; i < extra; i += 3) body[i] = "\r\n\r"[i % 3];
    EXPECT_EQ(run(v, base + body, out), SipError::ok) << extra;
    EXPECT_EQ(out.body.size(), extra);
    // With a Content-Length the body is cut there, whatever follows.
    const std::string with_len =
        kHead + "Content-Length: " + std::to_string(extra / 2) + "\r\n" + kFields + "\r\n" + body;
    EXPECT_EQ(run(v, with_len, out), SipError::ok) << extra;
    EXPECT_EQ(out.body.size(), extra / 2);
  }
}

}  // namespace
}  // namespace sipwall
