// Acceptance: every RFC 4475 / RFC 5118 message gets the verdict the manifest calls for, under
// both profiles. Table-driven from MANIFEST.tsv, so a new corpus file is covered automatically.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "sip/sip_validator.h"
#include "sip_corpus.h"

namespace sipwall {
namespace {

using testing::CorpusEntry;

// invalid-semantic messages the dataplane itself must drop (the rest go to the control plane).
const std::set<std::string> kDroppedSemantic = {"insuf.dat", "multi01.dat", "mcl01.dat",
                                                "bcast.dat"};
// invalid-syntax messages RFC 4475 lets a liberal element accept.
const std::set<std::string> kLiberalAccepts = {"ltgtruri.dat", "lwsstart.dat", "trws.dat",
                                               "escruri.dat",  "baddate.dat",  "badaspec.dat",
                                               "baddn.dat"};

bool should_accept(const CorpusEntry& e, SipProfile profile) {
  if (e.expect == "valid") return true;
  if (e.expect == "invalid-semantic") return kDroppedSemantic.count(e.file) == 0;
  return profile == SipProfile::liberal && kLiberalAccepts.count(e.file) != 0;
}

// A heap copy of exactly the datagram's size, so ASan sees any read past its end.
struct Datagram {
  explicit Datagram(const std::string& s) : size(s.size()), bytes(new char[s.size()]) {
    std::memcpy(bytes.get(), s.data(), s.size());
  }
  std::string_view view(size_t len) const { return {bytes.get(), len}; }
  size_t size;
  std::unique_ptr<char[]> bytes;
};

struct Case {
  CorpusEntry entry;
  SipProfile profile;
};

std::vector<Case> all_cases() {
  std::vector<Case> cases;
  for (const char* set : {"rfc4475", "rfc5118"}) {
    for (const auto& e : testing::load_manifest(set)) {
      cases.push_back({e, SipProfile::strict});
      cases.push_back({e, SipProfile::liberal});
    }
  }
  return cases;
}

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  std::string name = info.param.entry.set + "_" + info.param.entry.file + "_" +
                     (info.param.profile == SipProfile::strict ? "strict" : "liberal");
  std::replace_if(
      name.begin(), name.end(), [](char c) { return !std::isalnum(c); }, '_');
  return name;
}

class SipCorpus : public ::testing::TestWithParam<Case> {};

TEST_P(SipCorpus, VerdictMatchesManifest) {
  const Case& c = GetParam();
  const std::string msg = testing::load_message(c.entry);
  ASSERT_FALSE(msg.empty()) << "cannot read " << c.entry.set << "/" << c.entry.file;
  const Datagram dg(msg);
  SipValidator v(SipValidatorConfig{.profile = c.profile, .limits = {}});
  SipMessage out;
  const SipError err = v.validate(dg.view(dg.size), out);
  if (should_accept(c.entry, c.profile)) {
    EXPECT_EQ(err, SipError::ok) << c.entry.file << " (" << c.entry.expect
                                 << ") rejected: " << to_string(err);
    if (err == SipError::ok) {
      EXPECT_EQ(out.raw.data(), dg.bytes.get());
      EXPECT_LE(out.raw.size(), dg.size);
      EXPECT_EQ(out.body.data() + out.body.size(), out.raw.data() + out.raw.size());
    }
  } else {
    EXPECT_NE(err, SipError::ok) << c.entry.file << " (" << c.entry.expect << ") accepted";
  }
}

INSTANTIATE_TEST_SUITE_P(Manifest, SipCorpus, ::testing::ValuesIn(all_cases()), case_name);

TEST(SipCorpusManifest, IsPresentAndComplete) {
  const auto rfc4475 = testing::load_manifest("rfc4475");
  const auto rfc5118 = testing::load_manifest("rfc5118");
  EXPECT_EQ(rfc4475.size(), 50u) << "corpus root: " << testing::corpus_root();
  EXPECT_EQ(rfc5118.size(), 12u) << "corpus root: " << testing::corpus_root();
}

// Strict-profile rejections give the specific reason, not just any error.
TEST(SipCorpusManifest, StrictRejectionReasons) {
  const std::vector<std::pair<std::string, SipError>> expected = {
      {"badinv01.dat", SipError::bad_via},
      {"clerr.dat", SipError::body_truncated},
      {"ncl.dat", SipError::bad_content_length},
      {"scalar02.dat", SipError::bad_cseq},
      {"scalarlg.dat", SipError::bad_cseq},
      {"quotbal.dat", SipError::bad_name_addr},
      {"ltgtruri.dat", SipError::bad_request_uri},
      {"lwsruri.dat", SipError::bad_start_line},
      {"lwsstart.dat", SipError::bad_start_line},
      {"trws.dat", SipError::bad_start_line},
      {"escruri.dat", SipError::bad_request_uri},
      {"baddate.dat", SipError::bad_date},
      {"regbadct.dat", SipError::bad_contact},
      {"badaspec.dat", SipError::bad_name_addr},
      {"baddn.dat", SipError::bad_name_addr},
      {"badvers.dat", SipError::bad_version},
      {"mismatch01.dat", SipError::cseq_method_mismatch},
      {"mismatch02.dat", SipError::cseq_method_mismatch},
      {"bigcode.dat", SipError::bad_status_code},
      {"test.dat", SipError::bad_start_line},
      {"insuf.dat", SipError::missing_header},
      {"multi01.dat", SipError::duplicate_header},
      {"mcl01.dat", SipError::duplicate_header},
      {"bcast.dat", SipError::broadcast_via},
  };
  SipValidator v(SipValidatorConfig{});
  for (const auto& [file, err] : expected) {
    const std::string msg = testing::load_message({"rfc4475", file, ""});
    SipMessage out;
    EXPECT_EQ(to_string(v.validate(msg, out)), to_string(err)) << file;
  }
  const std::string bad6 = testing::load_message({"rfc5118", "ipv6-bad", ""});
  SipMessage out;
  EXPECT_EQ(to_string(v.validate(bad6, out)), to_string(SipError::bad_request_uri));
}

// RFC 4475 3.1.1.8: only the REGISTER counts; the trailing INVITE is not part of the message.
TEST(SipCorpusManifest, DblreqIgnoresTrailingOctets) {
  const std::string msg = testing::load_message({"rfc4475", "dblreq.dat", ""});
  SipValidator v(SipValidatorConfig{});
  SipMessage out;
  ASSERT_EQ(v.validate(msg, out), SipError::ok);
  EXPECT_EQ(out.method, SipMethod::register_);
  EXPECT_TRUE(out.body.empty());
  EXPECT_EQ(out.raw.size(), msg.find("\r\n\r\n") + 4);
  EXPECT_EQ(out.raw.find("INVITE"), std::string_view::npos);
}

// RFC 3261 18.3: without Content-Length the body is the rest of the datagram (inv2543.dat).
TEST(SipCorpusManifest, Inv2543BodyIsRestOfDatagram) {
  const std::string msg = testing::load_message({"rfc4475", "inv2543.dat", ""});
  SipValidator v(SipValidatorConfig{});
  SipMessage out;
  ASSERT_EQ(v.validate(msg, out), SipError::ok);
  EXPECT_EQ(out.raw.size(), msg.size());
  EXPECT_TRUE(out.body.starts_with("v=0"));
  EXPECT_FALSE(out.find(SipHeader::max_forwards));
}

TEST(SipCorpusManifest, Mpart01BinaryBodyIsExact) {
  const std::string msg = testing::load_message({"rfc4475", "mpart01.dat", ""});
  SipValidator v(SipValidatorConfig{});
  SipMessage out;
  ASSERT_EQ(v.validate(msg, out), SipError::ok);
  EXPECT_EQ(out.body.size(), 553u);
}

// Every prefix of every message must be judged without crashing or reading past the end
// (run under ASan). A prefix may be accepted (e.g. cut inside a body without Content-Length),
// but then its views must lie inside the prefix.
TEST(SipCorpusTruncation, EveryPrefixOfEveryMessageIsSafe) {
  SipValidator strict(SipValidatorConfig{});
  SipValidator liberal(SipValidatorConfig{.profile = SipProfile::liberal, .limits = {}});
  size_t runs = 0;
  for (const auto& c : all_cases()) {
    if (c.profile != SipProfile::strict) continue;
    const std::string msg = testing::load_message(c.entry);
    for (size_t len = 0; len <= msg.size(); ++len) {
      const Datagram dg(msg.substr(0, len));
      for (SipValidator* v : {&strict, &liberal}) {
        SipMessage out;
        if (v->validate(dg.view(len), out) == SipError::ok) {
          ASSERT_GE(out.raw.data(), dg.bytes.get());
          ASSERT_LE(out.raw.data() + out.raw.size(), dg.bytes.get() + len);
          ASSERT_LE(out.body.data() + out.body.size(), dg.bytes.get() + len);
        }
        ++runs;
      }
    }
  }
  EXPECT_GT(runs, 10000u);
}

}  // namespace
}  // namespace sipwall
