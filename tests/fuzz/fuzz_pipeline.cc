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

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sipwall::fuzz;
  static const auto open = shipped_policy(false);
  static const auto enforced = shipped_policy(true);
  if (size == 0) return 0;
  run_pipelines(data[0] & 1 ? *enforced : *open, {data + 1, size - 1});
  return 0;
}
