#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "sig/hs_handle.h"

namespace sipwall {

class SignatureSet;

// Hyperscan scratch space for one worker. Never shared between threads. One scratch serves every
// database of a set; reserve() grows it for a later set, so a worker keeps one scratch across
// reloads.
class SignatureScratch {
 public:
  SignatureScratch() = default;

  // Allocates or grows the scratch so it fits every database of `set`. Allocates: call it off the
  // fast path (at start, or between bursts before the worker first scans with a new set).
  // Returns an empty string on success, otherwise Hyperscan's error.
  std::string reserve(const SignatureSet& set);

  bool allocated() const { return scratch_ != nullptr; }
  hs_scratch_t* get() const { return scratch_.get(); }

  // Buffer the scan concatenates screened spans into (see SignatureSet); empty until reserve().
  static constexpr size_t kScreenBufferSize = 2048;
  char* screen_buffer() const { return screen_buffer_.get(); }
  size_t screen_buffer_size() const { return screen_buffer_ ? kScreenBufferSize : 0; }

 private:
  HsScratch scratch_;
  std::unique_ptr<char[]> screen_buffer_;
};

}  // namespace sipwall
