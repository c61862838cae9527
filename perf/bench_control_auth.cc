// What sipwall-control's front half costs per authenticated request, in memory (no sockets):
// a stream of REGISTERs with Digest credentials is framed (TCP/TLS framing), validated,
// its Authorization header parsed and verified (nonce HMAC, response hash, nc window).
//
//   bench_control_auth [--messages N] [--rounds R]
//
// Prints ns per message and messages/s for framing + validation alone (the reference) and
// with verification per algorithm, and each line's ratio to the reference of the same run.
// Time is the thread's CPU time, so other processes on a shared machine do not count.
// Every request must verify: a failure stops the run (a benchmark of refusals measures
// nothing). Issue 9's anchor: Kamailio ~0.125 M messages/s per core for clean traffic.
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <string>
#include <vector>

#include "control/auth/digest_verifier.h"
#include "perf/bench_host.h"
#include "sip/sip_stream_framer.h"
#include "sip/sip_validator.h"

namespace sipwall::perf {
namespace {

constexpr Nanos kT0 = 1'767'225'600 * kNanosPerSecond;
constexpr std::string_view kRealm = "sip.example.com";
constexpr std::string_view kUri = "sip:sip.example.com";
constexpr std::string_view kPassword = "Correct-Horse-9";

std::string register_with(std::string_view authorization, size_t i) {
  const std::string n = std::to_string(i);
  return "REGISTER sip:sip.example.com SIP/2.0\r\n"
         "Via: SIP/2.0/TLS 198.51.100.20:40312;branch=z9hG4bK-" +
         n +
         ";rport\r\n"
         "Max-Forwards: 70\r\n"
         "From: <sip:alice@sip.example.com>;tag=a" +
         n +
         "\r\n"
         "To: <sip:alice@sip.example.com>\r\n"
         "Call-ID: reg-" +
         n +
         "@198.51.100.20\r\n"
         "CSeq: " +
         std::to_string(i + 1) +
         " REGISTER\r\n"
         "Contact: <sip:alice@198.51.100.20:40312;transport=tls>;expires=600\r\n"
         "User-Agent: bench/1\r\n"
         "Authorization: " +
         std::string(authorization) +
         "\r\n"
         "Content-Length: 0\r\n\r\n";
}

// N requests on one nonce, nc 1..N, as a client that knows the password writes them.
std::string make_stream(DigestAlgorithm a, const std::string& nonce, size_t n) {
  DigestHasher h;
  const std::string ha1 = digest_ha1(h, a, "alice", kRealm, kPassword);
  std::string stream;
  char nc[9];
  for (size_t i = 0; i < n; ++i) {
    std::snprintf(nc, sizeof nc, "%08x", static_cast<uint32_t>(i + 1));
    const std::string response = digest_response(h, a,
                                                 {.ha1 = ha1,
                                                  .nonce = nonce,
                                                  .nc = nc,
                                                  .cnonce = "0a4f113b",
                                                  .method = "REGISTER",
                                                  .uri = kUri});
    stream += register_with("Digest username=\"alice\", realm=\"sip.example.com\", nonce=\"" +
                                nonce + "\", uri=\"sip:sip.example.com\", response=\"" + response +
                                "\", algorithm=" + std::string(digest_algorithm_name(a)) +
                                ", cnonce=\"0a4f113b\", nc=" + nc + ", qop=auth",
                            i);
  }
  return stream;
}

struct Args {
  size_t messages = 20000;
  int rounds = 5;
};

// Best ns per message over the rounds; `a` empty: framing and validation only.
double run(const Args& args, std::optional<DigestAlgorithm> a) {
  const DigestAlgorithm alg = a.value_or(DigestAlgorithm::sha256);
  NonceSigner signer(std::vector<uint8_t>(32, 0x5a), {}, 1);
  const IpAddress source = *IpAddress::parse("198.51.100.20");
  DigestHasher h;
  const std::string ha1 = digest_ha1(h, alg, "alice", kRealm, kPassword);
  std::vector<std::string> streams;
  for (int r = 0; r < args.rounds; ++r) {
    streams.push_back(make_stream(alg, signer.issue(kRealm, source, 32, kT0), args.messages));
  }
  NcReplayWindow windows(65536, signer.config().lifetime, kT0 - 1);
  DigestVerifier verifier(signer, windows);
  SipValidator validator({.profile = SipProfile::strict, .limits = {}});
  DigestAuthorization auth;
  double best = 1e30;
  for (const std::string& stream : streams) {
    SipStreamFramer framer;
    std::string_view rest = stream;
    size_t done = 0;
    const double t0 = thread_cpu_ns();
    while (!rest.empty()) {
      const StreamFrame f = framer.next(rest);
      SipMessage m;
      if (f.kind != StreamFrameKind::message || validator.validate(f.message, m) != SipError::ok) {
        std::fprintf(stderr, "message %zu not framed or not valid\n", done);
        std::exit(1);
      }
      rest.remove_prefix(f.consumed);
      if (a) {
        const auto header = m.find(SipHeader::authorization);
        const DigestParseError pe =
            header ? parse_digest_authorization(header->value, auth) : DigestParseError::not_digest;
        const DigestOutcome o = pe == DigestParseError::ok
                                    ? verifier.verify(auth,
                                                      {.method = m.method_token,
                                                       .request_uri = m.request_uri,
                                                       .realm = kRealm,
                                                       .source = source},
                                                      ha1, kT0 + kNanosPerSecond)
                                    : DigestOutcome::bad_response;
        if (o != DigestOutcome::ok) {
          std::fprintf(stderr, "message %zu: %s / %s\n", done, std::string(to_string(pe)).c_str(),
                       std::string(to_string(o)).c_str());
          std::exit(1);
        }
      }
      ++done;
    }
    const double ns = thread_cpu_ns() - t0;
    best = std::min(best, ns / static_cast<double>(done));
  }
  return best;
}

}  // namespace
}  // namespace sipwall::perf

int main(int argc, char** argv) {
  using namespace sipwall;
  using namespace sipwall::perf;
  Args args;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const unsigned long v = std::strtoul(argv[i + 1], nullptr, 10);
    if (k == "--messages" && v > 0) {
      args.messages = v;
    } else if (k == "--rounds" && v > 0) {
      args.rounds = static_cast<int>(v);
    } else {
      std::fprintf(stderr, "usage: bench_control_auth [--messages N] [--rounds R]\n");
      return 2;
    }
  }
  std::printf("CPU: %s\n", cpu_model().c_str());
  std::printf("%zu REGISTERs per round, best of %d rounds, one thread\n", args.messages,
              args.rounds);
  const double ref = run(args, std::nullopt);
  std::printf("%-34s %8.0f ns/msg %8.3f M msg/s  ratio 1.00\n", "frame + validate (reference)", ref,
              1e3 / ref);
  for (const DigestAlgorithm a : kAllDigestAlgorithms) {
    const double ns = run(args, a);
    const std::string name = "+ parse + verify " + std::string(digest_algorithm_name(a));
    std::printf("%-34s %8.0f ns/msg %8.3f M msg/s  ratio %.2f\n", name.c_str(), ns, 1e3 / ns,
                ns / ref);
  }
  return 0;
}
