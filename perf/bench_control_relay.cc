// What sipwall-control's decision and relay cost per request, in memory (no sockets): UDP
// REGISTERs with SHA-256 Digest credentials are validated, decided by the policy core (trunk
// lookup, credentials lookup, nonce HMACs, response hash, nc window, identity binding,
// retransmission cache, trust promotion) and rewritten for the core by the stateless relay
// (Via, branch hash, received/rport, Max-Forwards). A second line: the same requests with a
// wrong password, answered with a 401 made here (the attack path, no ban: the thresholds are
// set out of reach so every request pays the full verification).
//
//   bench_control_relay [--messages N] [--rounds R]
//
// Time is the thread's CPU time (other processes on a shared machine do not count); best of
// the rounds. Every accepted request must be relayed and every refused one challenged: anything
// else stops the run. Issue 9's anchor: Kamailio ~0.125 M messages/s per core.
#include <cstdio>
#include <ctime>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "control/policy/policy_engine.h"
#include "control/relay/stateless_relay.h"
#include "perf/bench_host.h"
#include "sip/sip_validator.h"

namespace sipwall::perf {
namespace {

constexpr Nanos kT0 = 1'767'225'600 * kNanosPerSecond;
constexpr std::string_view kRealm = "sip.example.com";
constexpr std::string_view kUri = "sip:sip.example.com";
constexpr std::string_view kPassword = "Correct-Horse-9";

std::string request(const std::string& authorization, size_t i) {
  std::string n = std::to_string(i);
  std::string t = "REGISTER sip:sip.example.com SIP/2.0\r\n";
  t += "Via: SIP/2.0/UDP 192.0.2.20:5060;branch=z9hG4bK-";
  t += n;
  t += ";rport\r\nMax-Forwards: 70\r\nFrom: <sip:alice@sip.example.com>;tag=a";
  t += n;
  t += "\r\nTo: <sip:alice@sip.example.com>\r\nCall-ID: reg-";
  t += n;
  t += "@192.0.2.20\r\nCSeq: ";
  t += n;
  t += " REGISTER\r\nContact: <sip:alice@192.0.2.20:5060>\r\nExpires: 600\r\nAuthorization: ";
  t += authorization;
  t += "\r\nContent-Length: 0\r\n\r\n";
  return t;
}

struct Args {
  size_t messages = 20000;
  int rounds = 5;
};

// Best ns per request over the rounds.
double run(const Args& args, std::string_view password, bool expect_relay) {
  double best = 1e18;
  for (int r = 0; r < args.rounds; ++r) {
    rules::ControlConfig config;
    config.settings.realm = std::string(kRealm);
    config.settings.algorithms = {DigestAlgorithm::sha256};
    config.settings.brute_force.source_failures = 1'000'000;
    config.settings.brute_force.account_failures = 1'000'000;
    auto credentials = std::make_shared<CredentialsFile>();
    credentials->set(make_credential("alice", kRealm, kPassword, kAllDigestAlgorithms));
    NonceSigner signer(std::vector<uint8_t>(32, 0x42), {}, 1);
    NcReplayWindow windows(4096, signer.config().lifetime, kT0 - 1);
    policy::PolicyEngine engine(config, credentials, signer, windows);
    SipValidator validator{SipValidatorConfig{}};
    const IpAddress source = *IpAddress::parse("192.0.2.20");
    const relay::RelayAddress self{"192.0.2.10", 5060};
    const relay::Inbound in{source, 5060, policy::Transport::udp, 0};

    // The client's side, prepared outside the timed loop: one nonce, nc counting up.
    DigestHasher client;
    const std::string nonce = signer.issue(kRealm, source, 32, kT0);
    const std::string ha1 = digest_ha1(client, DigestAlgorithm::sha256, "alice", kRealm, password);
    std::vector<std::string> texts;
    texts.reserve(args.messages);
    for (size_t i = 0; i < args.messages; ++i) {
      char nc[9];
      std::snprintf(nc, sizeof nc, "%08x", static_cast<uint32_t>(i + 1));
      const std::string response = digest_response(client, DigestAlgorithm::sha256,
                                                   {.ha1 = ha1,
                                                    .nonce = nonce,
                                                    .nc = nc,
                                                    .cnonce = "c0ffee",
                                                    .method = "REGISTER",
                                                    .uri = kUri});
      texts.push_back(request("Digest username=\"alice\", realm=\"sip.example.com\", nonce=\"" +
                                  nonce + "\", uri=\"sip:sip.example.com\", response=\"" +
                                  response + "\", algorithm=SHA-256, cnonce=\"c0ffee\", nc=" + nc +
                                  ", qop=auth",
                              i));
    }
    size_t bytes = 0;
    const double start = thread_cpu_ns();
    for (size_t i = 0; i < texts.size(); ++i) {
      SipMessage m;
      if (validator.validate(texts[i], m) != SipError::ok) {
        std::fprintf(stderr, "message %zu not valid\n", i);
        std::exit(1);
      }
      const Nanos now = kT0 + i * kNanosPerMilli / 10;
      const policy::Decision d = engine.decide(m, {source, 5060, policy::Transport::udp}, now);
      if (expect_relay) {
        if (d.verdict != policy::Verdict::relay) {
          std::fprintf(stderr, "message %zu: %s\n", i, std::string(to_string(d.reason)).c_str());
          std::exit(1);
        }
        bytes += relay::forward_request(m, in, self).text.size();
      } else {
        if (d.verdict != policy::Verdict::challenge) {
          std::fprintf(stderr, "message %zu: %s\n", i, std::string(to_string(d.reason)).c_str());
          std::exit(1);
        }
        std::vector<std::string> lines;
        for (const std::string& v : d.challenges) lines.push_back("WWW-Authenticate: " + v);
        bytes += relay::make_reply(m, in, 401, "Unauthorized", lines).size();
      }
    }
    const double ns = (thread_cpu_ns() - start) / static_cast<double>(texts.size());
    if (bytes == 0) std::exit(1);
    best = std::min(best, ns);
  }
  return best;
}

}  // namespace
}  // namespace sipwall::perf

int main(int argc, char** argv) {
  sipwall::perf::Args args;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const long v = std::strtol(argv[i + 1], nullptr, 10);
    if (k == "--messages" && v > 0) {
      args.messages = static_cast<size_t>(v);
    } else if (k == "--rounds" && v > 0) {
      args.rounds = static_cast<int>(v);
    } else {
      std::fprintf(stderr, "usage: bench_control_relay [--messages N] [--rounds R]\n");
      return 2;
    }
  }
  std::printf("cpu: %s\n", sipwall::perf::cpu_model().c_str());
  const double ok = sipwall::perf::run(args, sipwall::perf::kPassword, true);
  std::printf("validate + decide (SHA-256 verified) + relay rewrite: %.0f ns/request, %.3f M/s\n",
              ok, 1e3 / ok);
  const double bad = sipwall::perf::run(args, "Wrong-Horse-99", false);
  std::printf("validate + decide (SHA-256 refused) + 401 made here:  %.0f ns/request, %.3f M/s\n",
              bad, 1e3 / bad);
  return 0;
}
