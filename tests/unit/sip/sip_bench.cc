// Microbenchmark for SipValidator::validate (not a unit test; no timing asserts).
//   ninja -C build-sip tests/unit/sip/sip_bench && ./build-sip/tests/unit/sip/sip_bench [iters]
// [invite] (the typical INVITE only, e.g. under perf record)
// Prints ns per validate() for a typical ~800-byte INVITE and for every valid corpus message.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "reference/sip_validator.h"
#include "sip/sip_validator.h"
#include "sip_corpus.h"

namespace {

// A typical carrier INVITE with SDP, about 800 octets.
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

// Best of several batches: the minimum is the least disturbed by other load on the machine.
template <typename Validator>
double ns_per_call(Validator& v, const std::string& msg, long iters) {
  sipwall::SipMessage out;
  double best = 1e30;
  for (int batch = 0; batch < 5; ++batch) {
    long ok = 0;
    const auto t0 = std::chrono::steady_clock::now();
    for (long i = 0; i < iters / 5; ++i) ok += static_cast<int>(v.validate(msg, out)) == 0;
    const auto t1 = std::chrono::steady_clock::now();
    if (ok != iters / 5) std::fprintf(stderr, "not ok\n");
    const double ns = std::chrono::duration<double, std::nano>(t1 - t0).count();
    best = std::min(best, ns / static_cast<double>(iters / 5));
  }
  return best;
}

// Reference point for the machine: one memchr('\n') per line over the same bytes.
double ns_line_scan(const std::string& msg, long iters) {
  double best = 1e30;
  for (int batch = 0; batch < 5; ++batch) {
    size_t lines = 0;
    const auto t0 = std::chrono::steady_clock::now();
    for (long i = 0; i < iters / 5; ++i) {
      const char* p = msg.data();
      const char* end = p + msg.size();
      while (const void* lf = std::memchr(p, '\n', static_cast<size_t>(end - p))) {
        p = static_cast<const char*>(lf) + 1;
        ++lines;
      }
      asm volatile("" : : "r"(lines) : "memory");
    }
    const auto t1 = std::chrono::steady_clock::now();
    const double ns = std::chrono::duration<double, std::nano>(t1 - t0).count();
    best = std::min(best, ns / static_cast<double>(iters / 5));
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  const long iters = argc > 1 ? std::atol(argv[1]) : 1000000;
  sipwall::SipValidator v(sipwall::SipValidatorConfig{});
  const std::string invite = typical_invite();
  sipwall::SipMessage out;
  std::printf("typical INVITE (%zu bytes): %s, %.1f ns/validate\n", invite.size(),
              std::string(sipwall::to_string(v.validate(invite, out))).c_str(),
              ns_per_call(v, invite, iters));
  std::printf("  reference: memchr line scan of the same bytes %.1f ns\n",
              ns_line_scan(invite, iters));
  sipwall::reference::SipValidator before(sipwall::reference::SipValidatorConfig{});
  std::printf("  reference: frozen byte-loop validator (tests/unit/sip/reference) %.1f ns\n",
              ns_per_call(before, invite, iters));
  if (argc > 2 && std::strcmp(argv[2], "invite") == 0) return 0;  // for profiling
  for (const char* set : {"rfc4475", "rfc5118"}) {
    for (const auto& e : sipwall::testing::load_manifest(set)) {
      if (e.expect != "valid") continue;
      const std::string msg = sipwall::testing::load_message(e);
      std::printf("  %-32s %5zu bytes %-8s %7.1f ns\n", e.file.c_str(), msg.size(),
                  std::string(sipwall::to_string(v.validate(msg, out))).c_str(),
                  ns_per_call(v, msg, iters / 10));
    }
  }
  return 0;
}
