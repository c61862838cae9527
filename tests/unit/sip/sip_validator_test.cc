#include "sip/sip_validator.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

namespace sipwall {
namespace {

using Lines = std::vector<std::string>;

const Lines kRequestHeaders = {
    "Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds",
    "Max-Forwards: 70",
    "To: Bob <sip:bob@biloxi.com>",
    "From: Alice <sip:alice@atlanta.com>;tag=1928301774",
    "Call-ID: a84b4c76e66710@pc33.atlanta.com",
    "CSeq: 314159 INVITE",
    "Contact: <sip:alice@pc33.atlanta.com>",
};
const Lines kResponseHeaders = {
    "Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds;received=192.0.2.1",
    "To: Bob <sip:bob@biloxi.com>;tag=a6c85cf",
    "From: Alice <sip:alice@atlanta.com>;tag=1928301774",
    "Call-ID: a84b4c76e66710@pc33.atlanta.com",
    "CSeq: 314159 INVITE",
};

// start line + headers, each with CRLF, the empty line, then the body.
std::string make(const std::string& start, const Lines& headers, const std::string& body = "") {
  std::string s = start + "\r\n";
  for (const auto& h : headers) s += h + "\r\n";
  return s + "\r\n" + body;
}

std::string request(const Lines& extra = {}, const std::string& body = "") {
  Lines h = kRequestHeaders;
  h.insert(h.end(), extra.begin(), extra.end());
  return make("INVITE sip:bob@biloxi.com SIP/2.0", h, body);
}

// The default request headers, minus those whose line starts with `drop`.
Lines without(const std::string& drop, const Lines& base = kRequestHeaders) {
  Lines out;
  for (const auto& h : base) {
    if (!h.starts_with(drop)) out.push_back(h);
  }
  return out;
}

class SipValidatorTest : public ::testing::Test {
 protected:
  // The datagram is kept in last_ so the views in out_ stay valid after the call.
  SipError strict(std::string d) { return strict_.validate(last_ = std::move(d), out_); }
  SipError liberal(std::string d) { return liberal_.validate(last_ = std::move(d), out_); }
  SipError with_limits(const SipLimits& l, std::string d) {
    SipValidator v(SipValidatorConfig{.profile = SipProfile::strict, .limits = l});
    return v.validate(last_ = std::move(d), out_);
  }

  SipValidator strict_{SipValidatorConfig{}};
  SipValidator liberal_{SipValidatorConfig{.profile = SipProfile::liberal, .limits = {}}};
  std::string last_;
  SipMessage out_;
};

#define EXPECT_ERR(expr, err) EXPECT_EQ(to_string(expr), to_string(err))

TEST_F(SipValidatorTest, ValidRequestIsFramedAndIndexed) {
  const std::string d = request({"Content-Type: application/sdp", "Content-Length: 4"}, "v=0\n");
  ASSERT_EQ(strict(d), SipError::ok);
  EXPECT_TRUE(out_.is_request);
  EXPECT_EQ(out_.method, SipMethod::invite);
  EXPECT_EQ(out_.method_token, "INVITE");
  EXPECT_EQ(out_.request_uri, "sip:bob@biloxi.com");
  EXPECT_EQ(out_.headers.size(), kRequestHeaders.size() + 2);
  EXPECT_EQ(out_.body, "v=0\n");
  EXPECT_EQ(out_.raw, d);
  const auto cseq = out_.find(SipHeader::cseq);
  ASSERT_TRUE(cseq);
  EXPECT_EQ(cseq->name, "CSeq");
  EXPECT_EQ(cseq->value, "314159 INVITE");
  EXPECT_EQ(out_.find(SipHeader::content_length)->value, "4");
  EXPECT_FALSE(out_.find(SipHeader::date));
}

TEST_F(SipValidatorTest, ValidResponse) {
  ASSERT_EQ(strict(make("SIP/2.0 180 Ringing", kResponseHeaders)), SipError::ok);
  EXPECT_FALSE(out_.is_request);
  EXPECT_EQ(out_.status_code, 180);
  EXPECT_ERR(strict(make("SIP/2.0 100 ", kResponseHeaders)), SipError::ok);
  EXPECT_ERR(strict(make("SIP/2.0 200 \xc3\xa9t\xc3\xa9 \tok", kResponseHeaders)), SipError::ok);
  EXPECT_ERR(strict(make("SIP/2.0 699 x", kResponseHeaders)), SipError::ok);
  // Responses carry any CSeq method and need no Max-Forwards.
  Lines h = without("CSeq", kResponseHeaders);
  h.push_back("CSeq: 1 BYE");
  EXPECT_ERR(strict(make("SIP/2.0 200 OK", h)), SipError::ok);
}

TEST_F(SipValidatorTest, StatusLineErrors) {
  EXPECT_ERR(strict(make("SIP/2.0 4294967301 x", kResponseHeaders)), SipError::bad_status_code);
  EXPECT_ERR(strict(make("SIP/2.0 99 x", kResponseHeaders)), SipError::bad_status_code);
  EXPECT_ERR(strict(make("SIP/2.0 700 x", kResponseHeaders)), SipError::bad_status_code);
  EXPECT_ERR(strict(make("SIP/2.0 099 x", kResponseHeaders)), SipError::bad_status_code);
  EXPECT_ERR(strict(make("SIP/2.0 2x0 OK", kResponseHeaders)), SipError::bad_status_code);
  EXPECT_ERR(strict(make("SIP/2.0 200", kResponseHeaders)), SipError::bad_start_line);
  EXPECT_ERR(strict(make("SIP/2.0  200 OK", kResponseHeaders)), SipError::bad_status_code);
  EXPECT_ERR(strict(make("SIP/2.0 200OK", kResponseHeaders)), SipError::bad_start_line);
  EXPECT_ERR(strict(make("SIP/2.0 200 O\x01K", kResponseHeaders)), SipError::bad_reason_phrase);
  EXPECT_ERR(strict(make("SIP/2.0 200 O\rK", kResponseHeaders)), SipError::bad_reason_phrase);
  EXPECT_ERR(strict(make("SIP/3.0 200 OK", kResponseHeaders)), SipError::bad_version);
  EXPECT_ERR(strict(make("SIP/2.0", kResponseHeaders)), SipError::bad_start_line);
}

TEST_F(SipValidatorTest, RequestLineStrictAndLiberal) {
  const auto with_line = [](const std::string& line) { return make(line, kRequestHeaders); };
  EXPECT_ERR(strict(with_line("INVITE  sip:bob@biloxi.com SIP/2.0")), SipError::bad_start_line);
  EXPECT_ERR(liberal(with_line("INVITE  sip:bob@biloxi.com   SIP/2.0")), SipError::ok);
  EXPECT_ERR(strict(with_line("INVITE sip:bob@biloxi.com SIP/2.0 ")), SipError::bad_start_line);
  EXPECT_ERR(liberal(with_line("INVITE sip:bob@biloxi.com SIP/2.0  ")), SipError::ok);
  EXPECT_ERR(strict(with_line("INVITE <sip:bob@biloxi.com> SIP/2.0")), SipError::bad_request_uri);
  const std::string bracketed = with_line("INVITE <sip:bob@biloxi.com> SIP/2.0");
  EXPECT_ERR(liberal(bracketed), SipError::ok);
  EXPECT_EQ(out_.request_uri, "sip:bob@biloxi.com");
  EXPECT_ERR(strict(with_line("INVITE sip:bob@biloxi.com?X=y SIP/2.0")), SipError::bad_request_uri);
  EXPECT_ERR(liberal(with_line("INVITE sip:bob@biloxi.com?X=y SIP/2.0")), SipError::ok);
  for (auto* v : {&strict_, &liberal_}) {
    SipMessage m;
    EXPECT_ERR(v->validate(with_line("INVITE sip:bob@biloxi.com; lr SIP/2.0"), m),
               SipError::bad_start_line);
    EXPECT_ERR(v->validate(with_line("INVITE sip:bob@biloxi.com"), m), SipError::bad_start_line);
    EXPECT_ERR(v->validate(with_line("INVITE sip:bob@biloxi.com SIP/7.0"), m),
               SipError::bad_version);
    EXPECT_ERR(v->validate(with_line("INVITE sip:bob@biloxi.com sip/2.0"), m),
               SipError::bad_start_line);
    EXPECT_ERR(v->validate(with_line("INV@TE sip:bob@biloxi.com SIP/2.0"), m),
               SipError::bad_method);
    EXPECT_ERR(v->validate(with_line(" INVITE sip:bob@biloxi.com SIP/2.0"), m),
               SipError::bad_start_line);
    EXPECT_ERR(v->validate(with_line("INVITE sip:2001:db8::10 SIP/2.0"), m),
               SipError::bad_request_uri);
    EXPECT_ERR(v->validate(with_line("INVITE bob@biloxi.com SIP/2.0"), m),
               SipError::bad_request_uri);
    EXPECT_ERR(v->validate(with_line("INVITE <sip:bob@biloxi.com SIP/2.0"), m),
               SipError::bad_request_uri);
  }
}

TEST_F(SipValidatorTest, EmptyAndNonSipDatagrams) {
  EXPECT_ERR(strict(""), SipError::bad_start_line);
  EXPECT_ERR(strict("\r\n\r\n"), SipError::bad_start_line);
  EXPECT_ERR(strict("INVITE sip:a@b.com SIP/2.0"), SipError::bad_start_line);
  EXPECT_ERR(strict("INVITE sip:a@b.com SIP/2.0\n"), SipError::bad_line_ending);
  EXPECT_ERR(strict("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), SipError::bad_start_line);
  EXPECT_ERR(strict(std::string(100, '\0')), SipError::bad_start_line);
}

TEST_F(SipValidatorTest, MessageSizeLimitAtTheBoundary) {
  const std::string base = request();
  SipLimits l;
  l.max_message_bytes = base.size();
  EXPECT_ERR(with_limits(l, base), SipError::ok);
  l.max_message_bytes = base.size() - 1;
  EXPECT_ERR(with_limits(l, base), SipError::too_long);
}

TEST_F(SipValidatorTest, HeaderCountLimitAtTheBoundary) {
  SipLimits l;
  l.max_header_lines = kRequestHeaders.size() + 3;
  const Lines three = {"X-A: 1", "X-B: 2", "X-C:\r\n 3"};  // a folded field counts once
  EXPECT_ERR(with_limits(l, request(three)), SipError::ok);
  const Lines four = {"X-A: 1", "X-B: 2", "X-C: 3", "X-D: 4"};
  EXPECT_ERR(with_limits(l, request(four)), SipError::too_many_headers);
}

TEST_F(SipValidatorTest, HeaderLengthLimitAtTheBoundary) {
  SipLimits l;
  l.max_header_line_bytes = 100;
  const std::string at_limit = "X-Long: " + std::string(100 - 8, 'a');
  EXPECT_ERR(with_limits(l, request({at_limit})), SipError::ok);
  EXPECT_ERR(with_limits(l, request({at_limit + "a"})), SipError::header_too_long);
  // The limit covers the unfolded field, not each physical line.
  const std::string folded = "X-Long: " + std::string(60, 'a') + "\r\n " + std::string(60, 'b');
  EXPECT_ERR(with_limits(l, request({folded})), SipError::header_too_long);
}

TEST_F(SipValidatorTest, ViaValueLimitCountsAcrossFields) {
  SipLimits l;
  l.max_via_values = 3;
  const Lines two_more = {"Via: SIP/2.0/UDP a.example.com, SIP/2.0/TCP b.example.com:5060"};
  EXPECT_ERR(with_limits(l, request(two_more)), SipError::ok);
  const Lines three_more = {"Via: SIP/2.0/UDP a.example.com, SIP/2.0/TCP b.example.com",
                            "v: SIP/2.0/UDP c.example.com"};
  EXPECT_ERR(with_limits(l, request(three_more)), SipError::too_many_vias);
}

TEST_F(SipValidatorTest, HeaderLineSyntax) {
  EXPECT_ERR(strict(request({"Foobar roobar"})), SipError::bad_header_line);
  EXPECT_ERR(strict(request({": no name"})), SipError::bad_header_line);
  EXPECT_ERR(strict(request({"Bad Name: x"})), SipError::bad_header_line);
  EXPECT_ERR(strict(request({"Bad@Name: x"})), SipError::bad_header_line);
  EXPECT_ERR(strict(request({"X-Empty:"})), SipError::ok);
  EXPECT_ERR(strict(request({"Subject \t :  hi  "})), SipError::ok);
  EXPECT_EQ(out_.find(SipHeader::subject)->value, "hi");
  EXPECT_EQ(out_.find(SipHeader::subject)->name, "Subject");
  // A continuation line with no field before it.
  EXPECT_ERR(strict(make("INVITE sip:bob@biloxi.com SIP/2.0", {" folded: x"})),
             SipError::bad_header_line);
}

TEST_F(SipValidatorTest, FoldedValuesStayInOneField) {
  ASSERT_EQ(strict(request(
                {"Subject: first\r\n second\r\n\tthird", "Route:\r\n <sip:a.example.com;lr>"})),
            SipError::ok);
  EXPECT_EQ(out_.find(SipHeader::subject)->value, "first\r\n second\r\n\tthird");
  EXPECT_EQ(out_.find(SipHeader::route)->value, "<sip:a.example.com;lr>");
  EXPECT_EQ(out_.headers.size(), kRequestHeaders.size() + 2);
}

TEST_F(SipValidatorTest, CompactFormsAreRecognised) {
  const std::string d =
      make("OPTIONS sip:bob@biloxi.com SIP/2.0",
           {"v: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK1", "t: <sip:bob@biloxi.com>",
            "f: <sip:alice@atlanta.com>;tag=1", "i: abc@pc33", "CSeq: 1 OPTIONS",
            "m: <sip:alice@pc33.atlanta.com>", "c: text/plain", "l: 2", "s: hi", "k: timer",
            "e: gzip", "u: presence", "o: presence", "r: <sip:x@y.com>"},
           "ok");
  ASSERT_EQ(strict(d), SipError::ok);
  EXPECT_EQ(out_.body, "ok");
  for (SipHeader h : {SipHeader::via, SipHeader::to, SipHeader::from, SipHeader::call_id,
                      SipHeader::contact, SipHeader::content_type, SipHeader::content_length,
                      SipHeader::subject, SipHeader::supported, SipHeader::content_encoding,
                      SipHeader::allow_events, SipHeader::event, SipHeader::refer_to}) {
    EXPECT_TRUE(out_.find(h)) << sip_header_name(h);
  }
  // Compact and full forms are the same header for the duplicate check.
  EXPECT_ERR(strict(request({"i: other@host"})), SipError::duplicate_header);
  EXPECT_ERR(strict(request({"l: 0", "CONTENT-LENGTH: 0"})), SipError::duplicate_header);
}

// A value the validator accepts for each known header.
std::string valid_value_for(SipHeader id) {
  switch (id) {
    case SipHeader::via:
      return "SIP/2.0/UDP x.example.com";
    case SipHeader::from:
    case SipHeader::to:
    case SipHeader::contact:
      return "<sip:a@b.com>";
    case SipHeader::call_id:
      return "a@b";
    case SipHeader::cseq:
      return "1 INVITE";
    case SipHeader::max_forwards:
      return "70";
    case SipHeader::content_length:
      return "0";
    case SipHeader::date:
      return "Sat, 13 Nov 2010 23:29:00 GMT";
    default:
      return "x";
  }
}

// The validator's fast name dispatch must give the same ids as sip_header_from_name.
TEST_F(SipValidatorTest, HeaderLookupAgreesWithTheNameTable) {
  using Transform = int (*)(int);
  for (Transform t : {Transform{nullptr}, Transform{&::toupper}, Transform{&::tolower}}) {
    Lines h;
    std::vector<SipHeader> ids;
    for (size_t i = 1; i < kSipHeaderCount; ++i) {
      const auto id = static_cast<SipHeader>(i);
      std::string name(sip_header_name(id));
      if (t != nullptr) {
        for (auto& c : name) c = static_cast<char>(t(static_cast<unsigned char>(c)));
      }
      EXPECT_EQ(sip_header_from_name(name), id) << name;
      h.push_back(name + ": " + valid_value_for(id));
      ids.push_back(id);
    }
    h.push_back("X-Unknown-Header: x");
    ids.push_back(SipHeader::other);
    h.push_back("Vias: x");  // near-miss names stay unknown
    ids.push_back(SipHeader::other);
    ASSERT_EQ(to_string(strict(make("SIP/2.0 200 OK", h))), "ok");
    ASSERT_EQ(out_.headers.size(), ids.size());
    for (size_t i = 0; i < ids.size(); ++i) {
      EXPECT_EQ(out_.headers[i].id, ids[i]) << out_.headers[i].name;
    }
  }
}

// Near misses of every known name (one octet changed, added or removed, other cases, padded
// past 16 and 32 octets) get exactly the id sip_header_from_name gives: the hash and the
// folded compare of the fast dispatch may not confuse them with a known name.
TEST_F(SipValidatorTest, HeaderLookupOfNearMissNames) {
  std::set<std::string> names;
  for (size_t i = 1; i < kSipHeaderCount; ++i) {
    const std::string n(sip_header_name(static_cast<SipHeader>(i)));
    names.insert(n);
    names.insert(n.substr(0, n.size() - 1));
    names.insert(n.substr(1));
    names.insert(n + "x");
    names.insert(n + "-");
    names.insert("x" + n);
    for (const size_t pad : {1, 12, 13, 14, 15, 16, 17, 28, 29, 30, 31, 32, 33, 40}) {
      names.insert(n + std::string(pad, 'a'));
    }
    for (size_t k = 0; k < n.size(); ++k) {
      for (const char c : std::string("xX-.!0_~`'%+*aZ")) {
        std::string m = n;
        m[k] = c;
        names.insert(m);
      }
      std::string m = n;
      m[k] = static_cast<char>(m[k] ^ 0x20);  // other case; '-' becomes CR (dropped below)
      names.insert(m);
    }
  }
  size_t checked = 0;
  for (const auto& name : names) {
    // Only token names: every other one ends the name early (a bad header line).
    if (name.empty() ||
        name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                               "-.!%*_+`'~") != std::string::npos) {
      continue;
    }
    const SipHeader want = sip_header_from_name(name);
    Lines h;
    bool replaced = false;
    for (const auto& line : kResponseHeaders) {
      const std::string base = line.substr(0, line.find(':'));
      if (sip_header_from_name(base) == want) {
        h.push_back(name + ": " + line.substr(base.size() + 2));
        replaced = true;
      } else {
        h.push_back(line);
      }
    }
    if (!replaced) h.push_back(name + ": " + valid_value_for(want));
    ASSERT_EQ(to_string(strict(make("SIP/2.0 200 OK", h))), "ok") << name;
    bool found = false;
    for (const auto& f : out_.headers) {
      if (f.name != name) continue;
      EXPECT_EQ(f.id, want) << name;
      found = true;
    }
    EXPECT_TRUE(found) << name;
    ++checked;
  }
  EXPECT_GT(checked, 2000u);
}

// Method tokens match exactly and case-sensitively; every near miss is "other".
TEST(SipMethodFromToken, ExactMatchesOnly) {
  const std::pair<const char*, SipMethod> known[] = {
      {"INVITE", SipMethod::invite},   {"REGISTER", SipMethod::register_},
      {"OPTIONS", SipMethod::options}, {"ACK", SipMethod::ack},
      {"BYE", SipMethod::bye},         {"CANCEL", SipMethod::cancel}};
  for (const auto& [token, method] : known) {
    const std::string t = token;
    EXPECT_EQ(sip_method_from_token(t), method) << t;
    EXPECT_EQ(sip_method_from_token(t + "X"), SipMethod::other) << t;
    EXPECT_EQ(sip_method_from_token("X" + t), SipMethod::other) << t;
    EXPECT_EQ(sip_method_from_token(t.substr(1)), SipMethod::other) << t;
    EXPECT_EQ(sip_method_from_token(t.substr(0, t.size() - 1)), SipMethod::other) << t;
    for (size_t k = 0; k < t.size(); ++k) {
      std::string m = t;
      m[k] = static_cast<char>(m[k] ^ 0x20);  // lower case
      EXPECT_EQ(sip_method_from_token(m), SipMethod::other) << m;
      m[k] = 'Q';
      EXPECT_EQ(sip_method_from_token(m), SipMethod::other) << m;
    }
  }
  for (const char* t : {"", "A", "AC", "NOTIFY", "MESSAGE", "REFER", "UPDATE", "PRACK"}) {
    EXPECT_EQ(sip_method_from_token(t), SipMethod::other) << t;
  }
}

TEST_F(SipValidatorTest, SingleValuedHeadersMayNotRepeat) {
  for (const char* extra : {"Call-ID: x@y", "From: <sip:c@d.com>;tag=2", "To: <sip:c@d.com>",
                            "CSeq: 1 INVITE", "Max-Forwards: 10"}) {
    EXPECT_ERR(strict(request({extra})), SipError::duplicate_header) << extra;
  }
  EXPECT_ERR(strict(request({"Content-Length: 0", "Content-Length: 0"})),
             SipError::duplicate_header);
  EXPECT_ERR(strict(request({"Content-Type: a/b", "c: a/b"})), SipError::duplicate_header);
  // List headers may repeat.
  EXPECT_ERR(strict(request({"Contact: <sip:b@c.com>", "Via: SIP/2.0/UDP x.com",
                             "Route: <sip:a.com>", "Route: <sip:b.com>"})),
             SipError::ok);
}

TEST_F(SipValidatorTest, RequiredHeaders) {
  for (const char* name : {"Via", "To", "From", "Call-ID", "CSeq"}) {
    EXPECT_ERR(strict(make("INVITE sip:bob@biloxi.com SIP/2.0", without(name))),
               SipError::missing_header)
        << name;
    EXPECT_ERR(strict(make("SIP/2.0 200 OK", without(name, kResponseHeaders))),
               SipError::missing_header)
        << name;
  }
  // RFC 2543 requests have no Max-Forwards (inv2543.dat).
  EXPECT_ERR(strict(make("INVITE sip:bob@biloxi.com SIP/2.0", without("Max-Forwards"))),
             SipError::ok);
}

TEST_F(SipValidatorTest, CSeqChecks) {
  const auto with_cseq = [](const std::string& cseq) {
    Lines h = without("CSeq");
    h.push_back(cseq);
    return make("INVITE sip:bob@biloxi.com SIP/2.0", h);
  };
  EXPECT_ERR(strict(with_cseq("cseq: 0009\r\n  INVITE")), SipError::ok);
  EXPECT_ERR(strict(with_cseq("CSeq: 2147483647 INVITE")), SipError::ok);
  EXPECT_ERR(strict(with_cseq("CSeq: 2147483648 INVITE")), SipError::bad_cseq);
  EXPECT_ERR(strict(with_cseq("CSeq: INVITE")), SipError::bad_cseq);
  EXPECT_ERR(strict(with_cseq("CSeq: 1INVITE")), SipError::bad_cseq);
  EXPECT_ERR(strict(with_cseq("CSeq: 1 OPTIONS")), SipError::cseq_method_mismatch);
  EXPECT_ERR(strict(with_cseq("CSeq: 1 invite")), SipError::cseq_method_mismatch);
  EXPECT_ERR(strict(make("NEWMETHOD sip:bob@biloxi.com SIP/2.0",
                         [] {
                           Lines h = without("CSeq");
                           h.push_back("CSeq: 8 NEWMETHOD");
                           return h;
                         }())),
             SipError::ok);
  EXPECT_EQ(out_.method, SipMethod::other);
}

TEST_F(SipValidatorTest, MaxForwardsChecks) {
  const auto with_mf = [](const std::string& v) {
    Lines h = without("Max-Forwards");
    h.push_back("Max-Forwards: " + v);
    return make("INVITE sip:bob@biloxi.com SIP/2.0", h);
  };
  EXPECT_ERR(strict(with_mf("0068")), SipError::ok);
  EXPECT_ERR(strict(with_mf("0")), SipError::ok);
  EXPECT_ERR(strict(with_mf("255")), SipError::ok);
  EXPECT_ERR(strict(with_mf("256")), SipError::bad_max_forwards);
  EXPECT_ERR(strict(with_mf("-1")), SipError::bad_max_forwards);
  EXPECT_ERR(strict(with_mf("7 0")), SipError::bad_max_forwards);
  EXPECT_ERR(strict(with_mf("")), SipError::bad_max_forwards);
}

TEST_F(SipValidatorTest, ContentLengthFraming) {
  EXPECT_ERR(strict(request({"Content-Length: 5"}, "12345")), SipError::ok);
  EXPECT_EQ(out_.body, "12345");
  EXPECT_ERR(strict(request({"Content-Length: 6"}, "12345")), SipError::body_truncated);
  EXPECT_ERR(strict(request({"Content-Length: 99999999999999999999999"}, "1")),
             SipError::body_truncated);
  // Trailing octets after the body are not part of the message (dblreq.dat).
  const std::string d = request({"Content-Length: 3"}, "123TRAILING");
  ASSERT_EQ(strict(d), SipError::ok);
  EXPECT_EQ(out_.body, "123");
  EXPECT_EQ(out_.raw, d.substr(0, d.size() - 8));
  // Without Content-Length the body is the rest of the datagram.
  EXPECT_ERR(strict(request({}, "rest\0of\nit")), SipError::ok);
  EXPECT_EQ(out_.body, "rest");
  const std::string binary("body\0with\nnul\r\x01", 16);
  EXPECT_ERR(strict(request({}, binary)), SipError::ok);
  EXPECT_EQ(out_.body, binary);
  for (const char* bad : {"-999", "+1", "1 2", "0x10", ""}) {
    EXPECT_ERR(strict(request({std::string("Content-Length: ") + bad})),
               SipError::bad_content_length)
        << bad;
  }
}

TEST_F(SipValidatorTest, HeaderSectionMustEndWithEmptyLine) {
  std::string d = request();
  d.resize(d.size() - 2);  // drop the empty line: the datagram ends after the last CRLF
  EXPECT_ERR(strict(d), SipError::unterminated_headers);
  EXPECT_ERR(liberal(d), SipError::ok);
  EXPECT_TRUE(out_.body.empty());
  d.resize(d.size() - 2);  // cut the last header's CRLF too
  EXPECT_ERR(strict(d), SipError::unterminated_headers);
  EXPECT_ERR(liberal(d), SipError::unterminated_headers);
  std::string half = request();
  half.resize(half.size() - 1);  // "...\r\n\r"
  EXPECT_ERR(strict(half), SipError::unterminated_headers);
  EXPECT_ERR(liberal(half), SipError::unterminated_headers);
}

TEST_F(SipValidatorTest, BareCrOrLfInHeadersIsRejected) {
  EXPECT_ERR(strict(request({"X-A: one\rVia: SIP/2.0/UDP evil.example.com"})),
             SipError::bad_line_ending);
  EXPECT_ERR(strict(request({"X-A: one\nVia: SIP/2.0/UDP evil.example.com"})),
             SipError::bad_line_ending);
  EXPECT_ERR(strict(request({"X-A: one\r\r\n"})), SipError::bad_line_ending);
  EXPECT_ERR(strict(make("INVITE sip:bob@biloxi.com SIP/2.0", kRequestHeaders) + "\n"),
             SipError::ok);  // body octets are not header octets
  std::string no_lf_after_blank = make("INVITE sip:bob@biloxi.com SIP/2.0", kRequestHeaders);
  no_lf_after_blank.back() = 'x';
  EXPECT_ERR(strict(no_lf_after_blank), SipError::bad_line_ending);
}

TEST_F(SipValidatorTest, ViaNameAddrContactCallIdErrors) {
  EXPECT_ERR(strict(request({"Via: SIP/2.0/UDP 192.0.2.15;;,;,,"})), SipError::bad_via);
  EXPECT_ERR(strict(request({"Via: SIP/2.0/UDP 255.255.255.255;branch=z9hG4bK1"})),
             SipError::broadcast_via);
  EXPECT_ERR(liberal(request({"Via: SIP/2.0/UDP 255.255.255.255;branch=z9hG4bK1"})),
             SipError::broadcast_via);
  EXPECT_ERR(strict(request({"Contact: \"Joe\" <sip:joe@example.org>;;;;"})),
             SipError::bad_contact);
  EXPECT_ERR(strict(request({"Contact: *"})), SipError::ok);
  EXPECT_ERR(strict(request({"Contact: sip:a@b.com?Route=%3Csip:c.com%3E"})),
             SipError::bad_contact);
  Lines h = without("To");
  h.push_back("To: \"Mr. J. User <sip:j.user@example.com>");
  EXPECT_ERR(strict(make("INVITE sip:bob@biloxi.com SIP/2.0", h)), SipError::bad_name_addr);
  h = without("From");
  h.push_back("From: Bell, Alexander <sip:a.g.bell@example.com>;tag=43");
  EXPECT_ERR(strict(make("INVITE sip:bob@biloxi.com SIP/2.0", h)), SipError::bad_name_addr);
  EXPECT_ERR(liberal(make("INVITE sip:bob@biloxi.com SIP/2.0", h)), SipError::ok);
  h = without("To");
  h.push_back("To: < sip:bob@biloxi.com >");
  EXPECT_ERR(strict(make("INVITE sip:bob@biloxi.com SIP/2.0", h)), SipError::bad_name_addr);
  EXPECT_ERR(liberal(make("INVITE sip:bob@biloxi.com SIP/2.0", h)), SipError::ok);
  h = without("Call-ID");
  h.push_back("Call-ID: a b");
  EXPECT_ERR(strict(make("INVITE sip:bob@biloxi.com SIP/2.0", h)), SipError::bad_call_id);
}

TEST_F(SipValidatorTest, DateStrictOnly) {
  EXPECT_ERR(strict(request({"Date: Sat, 13 Nov 2010 23:29:00 GMT"})), SipError::ok);
  EXPECT_ERR(strict(request({"Date: Fri, 01 Jan 2010 16:00:00 EST"})), SipError::bad_date);
  EXPECT_ERR(liberal(request({"Date: Fri, 01 Jan 2010 16:00:00 EST"})), SipError::ok);
}

TEST_F(SipValidatorTest, UnknownHeaderValuesMayHoldUtf8AndPunctuation) {
  EXPECT_ERR(strict(request({"extensionHeader-!.%*+_`'~:\xef\xbb\xbf\xe5\xa4\xa7",
                             "UnknownHeaderWithUnusualValue: ;;,,;;,;", "s :"})),
             SipError::ok);
}

TEST_F(SipValidatorTest, ReuseLeavesNoStateBehind) {
  EXPECT_ERR(strict(request({"Call-ID: dup@x"})), SipError::duplicate_header);
  EXPECT_ERR(strict(request()), SipError::ok);
  EXPECT_EQ(out_.headers.size(), kRequestHeaders.size());
  EXPECT_ERR(strict(make("SIP/2.0 200 OK", kResponseHeaders)), SipError::ok);
  EXPECT_EQ(out_.status_code, 200);
  EXPECT_TRUE(out_.method_token.empty());
}

TEST(SipErrorNames, EveryValueHasADistinctName) {
  std::set<std::string_view> names;
  for (size_t i = 0; i < kSipErrorCount; ++i) {
    const auto name = to_string(static_cast<SipError>(i));
    EXPECT_NE(name, "unknown") << i;
    EXPECT_TRUE(names.insert(name).second) << name;
  }
  EXPECT_EQ(to_string(SipError::ok), "ok");
}

}  // namespace
}  // namespace sipwall
