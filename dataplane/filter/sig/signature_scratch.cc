#include "sig/signature_scratch.h"

#include "sig/signature_set.h"

namespace sipwall {

std::string SignatureScratch::reserve(const SignatureSet& set) {
  for (size_t i = 0; i < set.database_count(); ++i) {
    hs_scratch_t* raw = scratch_.release();
    const hs_error_t err = hs_alloc_scratch(set.database(i), &raw);
    scratch_.reset(raw);  // hs_alloc_scratch keeps the old scratch on failure
    if (err != HS_SUCCESS) return "hs_alloc_scratch failed (" + std::to_string(err) + ")";
  }
  if (!screen_buffer_) screen_buffer_ = std::make_unique<char[]>(kScreenBufferSize);
  return {};
}

}  // namespace sipwall
