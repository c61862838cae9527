// The whole pipeline with the shipped policy (default limits and signatures, small tables; the
// first octet's low bit enforces pinholes) on a burst of frames on a replayed clock, in bursts
// and one at a time: see pipeline_driver.h for what is asserted.

#include <cstdint>
#include <memory>

#include "fuzz_check.h"
#include "pipeline/filter_policy.h"
#include "pipeline_driver.h"
#include "sig/default_signatures.h"
#include "sig/signature_set.h"

namespace sipwall::fuzz {
namespace {

std::unique_ptr<const FilterPolicy> shipped_policy(bool enforce_pinholes) {
  static const std::shared_ptr<const SignatureSet> signatures = [] {
    auto compiled = SignatureSet::compile(default_signature_rules());
    FUZZ_CHECK(compiled, "%s", compiled.error.c_str());
    return std::shared_ptr<const SignatureSet>(std::move(compiled.set));
  }();
  FilterConfig cfg = small_tables({});
  cfg.enforce_pinholes = enforce_pinholes;
  auto built = FilterPolicy::build(cfg, signatures, 1);
  FUZZ_CHECK(built.policy, "%s", built.error.c_str());
  return std::move(built.policy);
}

}  // namespace
}  // namespace sipwall::fuzz

namespace {
std::unique_ptr<const sipwall::FilterPolicy> g_open;
std::unique_ptr<const sipwall::FilterPolicy> g_enforced;
}  // namespace

// Builds both policies (Hyperscan compile) before the first input, outside its timeout.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  g_open = sipwall::fuzz::shipped_policy(false);
  g_enforced = sipwall::fuzz::shipped_policy(true);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sipwall::fuzz;
  if (size == 0) return 0;
  run_pipelines(data[0] & 1 ? *g_enforced : *g_open, {data + 1, size - 1});
  return 0;
}
