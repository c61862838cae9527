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
  const std::string invite = sipwall::testing::typical_invite();
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
