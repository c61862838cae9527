#include "sig/default_signatures.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "sig/signature_scratch.h"
#include "sig/signature_set.h"
#include "sip_test_message.h"

namespace sipwall {
namespace {

using test::parse_sip;

class DefaultSignatures : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto r = SignatureSet::compile(default_signature_rules());
    ASSERT_TRUE(r) << r.error;
    set_ = std::move(r.set).release();
    scratch_ = new SignatureScratch();
    ASSERT_EQ(scratch_->reserve(*set_), "");
  }
  static void TearDownTestSuite() {
    delete scratch_;
    delete set_;
  }

  static ScanResult scan_text(const std::string& text) {
    auto p = parse_sip(text);
    return set_->scan(p->msg, *scratch_);
  }
  static std::string verdict(const std::string& text) {
    auto r = scan_text(text);
    EXPECT_FALSE(r.scan_error);
    return r.dropped() ? set_->rule(r.drop_rule).id : std::string("<pass>");
  }
  static std::string with_header(std::string_view name, std::string_view value) {
    return "OPTIONS sip:100@192.0.2.1 SIP/2.0\r\n"
           "Via: SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bK776asdhds\r\n"
           "To: <sip:100@192.0.2.1>\r\n"
           "From: <sip:200@192.0.2.9>;tag=1928301774\r\n"
           "Call-ID: a84b4c76e66710@pc33.example.com\r\n"
           "CSeq: 1 OPTIONS\r\n" +
           std::string(name) + ": " + std::string(value) + "\r\nContent-Length: 0\r\n\r\n";
  }

  static inline SignatureSet* set_ = nullptr;
  static inline SignatureScratch* scratch_ = nullptr;
};

std::string crlf(std::string_view lf_text) {
  std::string out;
  for (char c : lf_text) {
    if (c == '\n') out += '\r';
    out += c;
  }
  return out;
}

TEST_F(DefaultSignatures, IdsAreUniqueAndNamespaced) {
  std::set<std::string> ids;
  for (const auto& r : set_->rules()) {
    EXPECT_TRUE(ids.insert(r.id).second) << r.id;
    EXPECT_EQ(r.id.rfind("sipwall:", 0), 0u) << r.id;
    EXPECT_FALSE(r.message.empty()) << r.id;
    // Only short header spans: no whole-message or body scans in the default set.
    EXPECT_EQ(r.scope, SignatureScopeKind::header) << r.id;
  }
  EXPECT_EQ(set_->database_count(), 5u);  // User-Agent (anchored, floating), From, To, screen
}

TEST_F(DefaultSignatures, EveryScannerUserAgentFires) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"friendly-scanner", "sipwall:scanner.friendly-scanner"},
      {"Friendly-Scanner", "sipwall:scanner.friendly-scanner"},
      {"sipvicious", "sipwall:scanner.sipvicious-ua"},
      {"SIPVicious PRO 1.2", "sipwall:scanner.sipvicious-ua"},
      {"sipcli/v1.8", "sipwall:scanner.sipcli"},
      {"VaxSIPUserAgent/3.1", "sipwall:scanner.vaxsip"},
      {"pplsip", "sipwall:scanner.pplsip"},
      {"sip-scan", "sipwall:scanner.sip-scan"},
      {"iWar", "sipwall:scanner.iwar"},
      {"sundayddr", "sipwall:scanner.sundayddr"},
      {"SIVuS VoIP Vulnerability Scanner", "sipwall:scanner.sivus"},
      {"Gulp", "sipwall:scanner.gulp"},
      {"smap 0.6.0", "sipwall:scanner.smap"},
      {"sipptk", "sipwall:scanner.sipptk"},
  };
  for (const auto& [ua, id] : cases) {
    EXPECT_EQ(verdict(with_header("User-Agent", ua)), id) << ua;
  }
}

TEST_F(DefaultSignatures, SipsakIsAlertOnly) {
  auto r = scan_text(with_header("User-Agent", "sipsak 0.9.8"));
  EXPECT_FALSE(r.dropped());
  ASSERT_EQ(r.alert_rules().size(), 1u);
  EXPECT_EQ(set_->rule(r.alert_rules()[0]).id, "sipwall:scanner.sipsak");
}

TEST_F(DefaultSignatures, ScannerNamesNeedAWordBoundary) {
  for (const char* ua : {"smapper/1.0", "Gulpfish 2", "sipclient 3.0", "iWarehouse", "SIVuSx"}) {
    EXPECT_EQ(verdict(with_header("User-Agent", ua)), "<pass>") << ua;
  }
}

// Messages copied from the captures in ../shared/corpus/pcap (header values verbatim).
// BadUserAgent-sipvicious.pcap frame 1: svmap OPTIONS, header order unlike current sipvicious.
const std::string kInitconfSvmap = crlf(
    "OPTIONS sip:100@131.243.0.1 SIP/2.0\n"
    "Via: SIP/2.0/UDP 127.0.0.1:5274;branch=z9hG4bK-978872083;rport\n"
    "Content-Length: 0\n"
    "From: \"sipvicious\"<sip:100@1.1.1.1>;tag=3833663330303031313363340131393939383835373034\n"
    "Accept: application/sdp\n"
    "User-Agent: friendly-scanner\n"
    "To: \"sipvicious\"<sip:100@1.1.1.1>\n"
    "Contact: sip:100@127.0.0.1:5274\n"
    "CSeq: 1 OPTIONS\n"
    "Call-ID: 136061588268204605358974\n"
    "Max-Forwards: 70\n\n");

// BadUserAgent-sipvicious.pcap: the same scan with "User-Agent: Zeeko".
const std::string kInitconfZeeko = crlf(
    "OPTIONS sip:100@131.243.0.1 SIP/2.0\n"
    "Via: SIP/2.0/UDP 80.211.246.46:5087;branch=z9hG4bK-2172766296;rport\n"
    "Content-Length: 0\n"
    "From: \"sipvicious\"<sip:100@1.1.1.1>;tag=38336633303030313133633401323634333837383934\n"
    "Accept: application/sdp\n"
    "User-Agent: Zeeko\n"
    "To: \"sipvicious\"<sip:100@1.1.1.1>\n"
    "Contact: sip:100@80.211.246.46:5087\n"
    "CSeq: 1 OPTIONS\n"
    "Call-ID: 1123865987365311430927293\n"
    "Max-Forwards: 70\n\n");

// sipvicious-0.3.7-loopback.pcap frame 41: svmap -c (compact headers, no User-Agent).
const std::string kSvmapCompact = crlf(
    "OPTIONS sip:100@127.0.0.1 SIP/2.0\n"
    "v: SIP/2.0/UDP 127.0.0.1:15060;branch=z9hG4bK-3118317330;rport\n"
    "t: \"sipvicious\"<sip:100@1.1.1.1>\n"
    "f: \"sipvicious\"<sip:100@1.1.1.1>;tag=3766303030303031336164340132373236323639393930\n"
    "i: 32802288063121860186684\n"
    "m: sip:100@127.0.0.1:15070\n"
    "CSeq: 1 OPTIONS\n"
    "Max-Forwards: 70\n"
    "Accept: application/sdp\n"
    "Content-Length: 0\n\n");

// sipvicious-0.3.7-loopback.pcap frame 7: svwar REGISTER enumeration.
const std::string kSvwarRegister = crlf(
    "REGISTER sip:127.0.0.1 SIP/2.0\n"
    "Via: SIP/2.0/UDP 127.0.0.1:15071;branch=z9hG4bK-3000842219;rport\n"
    "Max-Forwards: 70\n"
    "To: \"100\"<sip:100@127.0.0.1>\n"
    "From: \"100\"<sip:100@127.0.0.1>;tag=3130300133353736353236383833\n"
    "User-Agent: friendly-scanner\n"
    "Call-ID: 351760959\n"
    "Contact: sip:100@127.0.0.1\n"
    "CSeq: 1 REGISTER\n"
    "Accept: application/sdp\n"
    "Content-Length: 0\n\n");

// SIP-3700-unauthorized-401.pcap: sipcli toll-fraud INVITE (body elided).
const std::string kSipcliInvite = crlf(
    "INVITE sip:011972599501806@131.243.4.150 SIP/2.0\n"
    "To: 011972599501806<sip:011972599501806@131.243.4.150>\n"
    "From: 200<sip:200@131.243.4.150>;tag=5834bcd7\n"
    "Via: SIP/2.0/UDP 37.8.44.2:14803;branch=z9hG4bK-e7a0adcb65b036bcce0655cc90649308;rport\n"
    "Call-ID: e7a0adcb65b036bcce0655cc90649308\n"
    "CSeq: 1 INVITE\n"
    "Contact: <sip:200@37.8.44.2:14803>\n"
    "Max-Forwards: 70\n"
    "Allow: INVITE, ACK, CANCEL, BYE\n"
    "User-Agent: sipcli/v1.8\n"
    "Content-Length: 0\n\n");

TEST_F(DefaultSignatures, CatchesCapturedScanners) {
  EXPECT_EQ(verdict(kInitconfSvmap), "sipwall:scanner.friendly-scanner");
  EXPECT_EQ(verdict(kInitconfZeeko), "sipwall:scanner.sipvicious-from");
  EXPECT_EQ(verdict(kSvmapCompact), "sipwall:scanner.sipvicious-from");
  EXPECT_EQ(verdict(kSvwarRegister), "sipwall:scanner.friendly-scanner");
  EXPECT_EQ(verdict(kSipcliInvite), "sipwall:scanner.sipcli");
}

TEST_F(DefaultSignatures, SipviciousTagWithoutNameOrUserAgent) {
  // svwar/svcrack with a custom User-Agent: only the From tag gives them away.
  const std::vector<std::string> tags = {
      "3130300133353736353236383833",                    // svwar, extension 100
      "313033013338333230383630",                        // svwar, extension 103
      "3130303a3130300132343934323930373734",            // svcrack "100:100"
      "3766303030303031336164340132333331303131393134",  // svmap
      "38336633303030313133633401383231383232353035",    // initconf svmap
      "313530323237333237380132323333343035353435",      // svwar -m INVITE
  };
  for (const auto& tag : tags) {
    const std::string from = "\"100\"<sip:100@127.0.0.1>;tag=" + tag;
    EXPECT_EQ(verdict(with_header("From", from)), "sipwall:scanner.sipvicious-tag") << tag;
    EXPECT_EQ(verdict(with_header("f", from + ";x=1")), "sipwall:scanner.sipvicious-tag") << tag;
  }
  // The svcrack request without a hex tag (frame 19) has only its User-Agent.
  EXPECT_EQ(verdict(with_header("From", "\"100\" <sip:100@127.0.0.1>;tag=3206210844")), "<pass>");
}

TEST_F(DefaultSignatures, SipviciousInToAlone) {
  EXPECT_EQ(verdict(with_header("t", "\"sipvicious\"<sip:100@1.1.1.1>")),
            "sipwall:scanner.sipvicious-to");
}

TEST_F(DefaultSignatures, LegitimateTagsDoNotLookLikeSipvicious) {
  for (const char* tag : {"1928301774", "a1c0ee02", "79cf5c74-9dc8-456c-9485-a124064223d8",
                          "as5e3f2a1b", "3130", "31303132", "0123456789abcdef0123456789abcdef",
                          "ymfbfitb", "3a3b01", "6b7c3d0a1f", "3132330131"}) {
    EXPECT_EQ(verdict(with_header("From", std::string("<sip:a@b>;tag=") + tag)), "<pass>") << tag;
  }
}

TEST_F(DefaultSignatures, SqlInjectionInFromToAndUserAgent) {
  const std::vector<std::string> payloads = {
      "\"x' or 1=1--\" <sip:100@example.com>",
      "\"admin' OR '1'='1\" <sip:100@example.com>",
      "<sip:100'or'a'='a@example.com>",
      "\"1 union select password from users\" <sip:100@example.com>",
      "\"x\" <sip:1%27union/**/select/**/1@example.com>",
      "\"x\" <sip:100@example.com>;tag=1; drop table subscriber",
      "\"x'; DELETE FROM location\" <sip:100@example.com>",
      "\"admin'--\" <sip:100@example.com>",
      "\"admin' #\" <sip:100@example.com>",
      "\"a'/*\" <sip:100@example.com>",
      "\"x' and sleep(5)\" <sip:100@example.com>",
      "\"x'; waitfor delay '0:0:5'\" <sip:100@example.com>",
  };
  for (const auto& p : payloads) {
    EXPECT_NE(verdict(with_header("From", p)).find("sipwall:sqli."), std::string::npos) << p;
    EXPECT_NE(verdict(with_header("To", p)).find(".to"), std::string::npos) << p;
    EXPECT_NE(verdict(with_header("User-Agent", p)).find(".ua"), std::string::npos) << p;
  }
  EXPECT_EQ(verdict(with_header("From", "\"x' or 1=1\" <sip:1@e>")), "sipwall:sqli.tautology.from");
  EXPECT_EQ(verdict(with_header("f", "<sip:1@e>;tag=1;drop table users")),
            "sipwall:sqli.stacked-query.from");
  EXPECT_EQ(verdict(with_header("User-Agent", "x union select 1")), "sipwall:sqli.union-select.ua");
}

TEST_F(DefaultSignatures, LegitimateUserAgentsPass) {
  const char* uas[] = {
      "Asterisk PBX 20.5.0",
      "Asterisk PBX certified/18.9-cert5",
      "FreeSWITCH-mod_sofia/1.10.11-release~64bit",
      "kamailio (5.7.2 (x86_64/linux))",
      "OpenSIPS (3.4.2 (x86_64/linux))",
      "Cisco-SIPGateway/IOS-15.x",
      "Cisco-SIPGateway/IOS-12.x",
      "Cisco v11.0.0",
      "Cisco-CUCM12.5",
      "CSCO/7",
      "PolycomVVX-VVX_411-UA/6.4.3.5018",
      "PolycomSoundPointIP-SPIP_650-UA/4.0.15.1009",
      "Yealink SIP-T46S 66.86.0.15",
      "Yealink W60B 77.85.0.25",
      "Z 5.6.1 rv2.10.19.3-mod",
      "Zoiper rv2.10.20.3",
      "Linphone Desktop/5.2.0 (Debian GNU/Linux 12) LinphoneSDK/5.3.0",
      "LinphoneAndroid/5.1.0 (Pixel 7) LinphoneSDK/5.2.0",
      "Oracle Communications Session Border Controller",
      "Acme Packet SBC",
      "AudioCodes-Sip-Gateway-Mediant 800/v.7.20A.258.459",
      "Grandstream GXP2170 1.0.11.23",
      "Fanvil X4U 2.12.8",
      "snom D785/10.1.141.13",
      "MicroSIP/3.21.3",
      "Bria 6 release 6.5.2 stamp 112000",
      "Avaya CM/R018x.01.0.890.0",
      "Microsoft.Skype.Teams/1.0",
      "3CXPhoneSystem 18.0.9.20 (20)",
      "Ribbon SBC 10.1",
      "Sonus SBC",
      "Mitel-MiVoice-Connect/19.2",
      "sipp",
      "PJSUA v2.13 Linux-6.1/x86_64/glibc-2.36",
      "Obihai/OBi202-3.2.2.5921",
      "Sipwise NGCP Proxy 11.5",
  };
  for (const char* ua : uas) {
    EXPECT_EQ(verdict(with_header("User-Agent", ua)), "<pass>") << ua;
  }
}

TEST_F(DefaultSignatures, LegitimateFromAndToPass) {
  const char* values[] = {
      "\"Bob O'Brien\" <sip:bob@example.com>;tag=a6c85cf",
      "\"O'Neil -- Sales\" <sip:sales@example.com>",
      "\"D'Or, Anne\" <sip:anne@example.com>;tag=1",
      "\"Sales' and Marketing\" <sip:sm@example.com>",
      "\"Rock 'n' Roll\" <sip:r@example.com>",
      "\"Reception #1\" <sip:100@example.com>",
      "\"Union Selection Committee\" <sip:union@example.com>",
      "\"-- Front desk --\" <sip:200@example.com>",
      "sip:+12125551212@carrier.example.net;user=phone",
      "<tel:+1-212-555-1212>;tag=887s",
      "\"J. Rosenberg \\\\\\\"\" <sip:jdrosen@example.com>;tag=98asjd8",
      "\"isn't+it\" <sip:user@example.com>",
      "<sip:user;par=u%40example.net@example.com>",
      "\"Andy Or 1\" <sip:andy@example.com>",
  };
  for (const char* v : values) {
    EXPECT_EQ(verdict(with_header("From", v)), "<pass>") << v;
    EXPECT_EQ(verdict(with_header("To", v)), "<pass>") << v;
  }
}

// Real captured attacks that signatures deliberately leave alone: they spoof real product
// User-Agents and are stopped by rate limits and digest auth instead.
TEST_F(DefaultSignatures, SpoofedProductUserAgentsAreNotSignatures) {
  EXPECT_EQ(verdict(with_header("User-Agent", "Cisco-SIPGateway/IOS-12.x")), "<pass>");
  EXPECT_EQ(verdict(with_header("User-Agent", "Cisco v11.0.0")), "<pass>");
}

std::filesystem::path corpus_dir() {
  if (const char* env = std::getenv("SIPWALL_CORPUS")) return env;
  return "/work/shared/corpus";
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Every message marked valid in the RFC 4475 / RFC 5118 manifests must pass every default rule.
void check_corpus(const std::filesystem::path& dir, bool lf_to_crlf,
                  const std::function<ScanResult(const std::string&)>& scan,
                  const SignatureSet& set) {
  const auto manifest = dir / "MANIFEST.tsv";
  if (!std::filesystem::exists(manifest)) GTEST_SKIP() << "no corpus at " << dir;
  std::istringstream lines(read_file(manifest));
  std::string line;
  std::getline(lines, line);  // header row
  int checked = 0;
  while (std::getline(lines, line)) {
    std::istringstream cols(line);
    std::string file, section, expect;
    std::getline(cols, file, '\t');
    std::getline(cols, section, '\t');
    std::getline(cols, expect, '\t');
    if (expect != "valid") continue;
    std::string text = read_file(dir / file);
    if (lf_to_crlf) text = crlf(text);
    ASSERT_FALSE(text.empty()) << file;
    auto r = scan(text);
    EXPECT_FALSE(r.scan_error) << file;
    EXPECT_FALSE(r.dropped()) << file << " matched " << set.rule(r.drop_rule).id;
    EXPECT_EQ(r.alert_count, 0) << file;
    ++checked;
  }
  EXPECT_GT(checked, 0);
}

TEST_F(DefaultSignatures, Rfc4475ValidMessagesPass) {
  check_corpus(corpus_dir() / "rfc4475", false, scan_text, *set_);
}

TEST_F(DefaultSignatures, Rfc5118ValidMessagesPass) {
  check_corpus(corpus_dir() / "rfc5118", true, scan_text, *set_);
}

TEST_F(DefaultSignatures, Rfc4475ValidCountIsEighteen) {
  const auto manifest = corpus_dir() / "rfc4475" / "MANIFEST.tsv";
  if (!std::filesystem::exists(manifest)) GTEST_SKIP();
  std::istringstream lines(read_file(manifest));
  std::string line;
  int valid = 0;
  while (std::getline(lines, line)) valid += line.find("\tvalid\t") != std::string::npos;
  EXPECT_EQ(valid, 18);
}

}  // namespace
}  // namespace sipwall
