#include "sip_corpus.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace sipwall::testing {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string lf_to_crlf(const std::string& s) {
  std::string out;
  out.reserve(s.size() + s.size() / 16);
  for (const char c : s) {
    if (c == '\n') out += '\r';
    out += c;
  }
  return out;
}

void fix_content_length(std::string& msg) {
  const size_t blank = msg.find("\r\n\r\n");
  if (blank == std::string::npos) return;
  const size_t body = msg.size() - (blank + 4);
  const std::string key = "\r\nContent-Length: ";
  const size_t at = msg.find(key);
  if (at == std::string::npos || at > blank) return;
  const size_t value = at + key.size();
  const size_t eol = msg.find("\r\n", value);
  msg.replace(value, eol - value, std::to_string(body));
}

}  // namespace

std::string corpus_root() {
  if (const char* env = std::getenv("SIPWALL_CORPUS"); env != nullptr && *env != '\0') return env;
  return SIPWALL_CORPUS_DEFAULT;
}

std::vector<CorpusEntry> load_manifest(const std::string& set) {
  std::vector<CorpusEntry> rows;
  std::ifstream in(corpus_root() + "/" + set + "/MANIFEST.tsv");
  std::string line;
  bool header = true;
  while (std::getline(in, line)) {
    if (header) {
      header = false;
      continue;
    }
    if (line.empty()) continue;
    std::istringstream cols(line);
    CorpusEntry e;
    std::string section;
    e.set = set;
    if (std::getline(cols, e.file, '\t') && std::getline(cols, section, '\t') &&
        std::getline(cols, e.expect, '\t')) {
      rows.push_back(e);
    }
  }
  return rows;
}

std::string load_message(const CorpusEntry& e) {
  std::string msg = read_file(corpus_root() + "/" + e.set + "/" + e.file);
  if (e.set != "rfc5118") return msg;
  msg = lf_to_crlf(msg);
  if (msg.find("\r\n\r\n") == std::string::npos) msg += "\r\n";
  fix_content_length(msg);
  return msg;
}

std::string typical_invite() {
  const std::string sdp =
      "v=0\r\no=- 3724394400 3724394400 IN IP4 198.51.100.20\r\ns=-\r\n"
      "c=IN IP4 198.51.100.20\r\nt=0 0\r\nm=audio 16384 RTP/AVP 0 8 101\r\n"
      "a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
      "a=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n";
  return "INVITE sip:+14155550123@core.example.net;user=phone SIP/2.0\r\n"
         "Via: SIP/2.0/UDP 198.51.100.20:5060;branch=z9hG4bK-524287-1---4f1a0c2b9e;rport\r\n"
         "Max-Forwards: 70\r\n"
         "Contact: <sip:+12125550199@198.51.100.20:5060;transport=udp>\r\n"
         "To: <sip:+14155550123@core.example.net;user=phone>\r\n"
         "From: \"Alice Caller\" <sip:+12125550199@carrier.example.com;user=phone>;tag=8d2b1f\r\n"
         "Call-ID: 5a1f7c0e9b3d4e2a8c6f1b0d3e5a7c9f@198.51.100.20\r\n"
         "CSeq: 1 INVITE\r\n"
         "Allow: INVITE, ACK, CANCEL, BYE, NOTIFY, REFER, OPTIONS, UPDATE, PRACK\r\n"
         "Supported: replaces, timer, 100rel\r\n"
         "User-Agent: CarrierSBC/4.2.1\r\n"
         "P-Asserted-Identity: <sip:+12125550199@carrier.example.com;user=phone>\r\n"
         "Session-Expires: 1800;refresher=uac\r\n"
         "Content-Type: application/sdp\r\n"
         "Content-Length: " +
         std::to_string(sdp.size()) + "\r\n\r\n" + sdp;
}

}  // namespace sipwall::testing
