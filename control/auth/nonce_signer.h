#pragma once

// Stateless digest nonces (RFC 7616 3.3's example, a time stamp and a keyed hash, made
// concrete): a nonce carries its issue time and id and is signed with HMAC-SHA-256 under a
// server secret, so any nonce can be checked without a table of issued ones (a flood of
// challenges costs no memory). A nonce may be bound to the source it was issued to (the
// address, or its prefix: carrier egress pools rotate addresses), and expires: an expired one
// is reported stale, so the client retries with a new nonce (stale=true) without asking its
// user again.
//
// Wire form: 76 lower-case hex digits of
//   version (1) | issued ns (8, big-endian) | id (8) | bound prefix length (1, 0xff = none)
//   | tag (12) = HMAC(secret, the 18 octets before | realm)
//   | binding (8) = HMAC(secret, tag | family | source masked to the prefix length)
// The binding is a tag of its own so that a nonce used from elsewhere is told apart from a
// forged one (a security event, not noise); a bound nonce with an altered binding tag counts
// as bound elsewhere, which refuses it all the same.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

#include "common/ip_address.h"
#include "common/time.h"

struct evp_mac_ctx_st;

namespace sipwall {

inline constexpr uint8_t kNonceUnbound = 0xff;
inline constexpr size_t kNonceSecretMinBytes = 32;

struct NonceConfig {
  Nanos lifetime = 300 * kNanosPerSecond;
  // A nonce issued after `now` by less than this still counts (clocks of two workers); more
  // means a forged time and cannot pass the tag anyway.
  Nanos max_future = 1 * kNanosPerSecond;
};

enum class NonceStatus : uint8_t {
  valid,
  stale,         // genuine, older than the lifetime
  invalid,       // not a nonce of this server and realm (forged, garbled, another secret)
  wrong_source,  // genuine, but bound to another source
};
std::string_view to_string(NonceStatus s);

struct NonceCheck {
  NonceStatus status = NonceStatus::invalid;
  uint64_t id = 0;   // valid, stale, wrong_source: the nonce's id (for the nc window)
  Nanos issued = 0;  // valid, stale, wrong_source
};

// Thread-safe: workers may share one signer.
class NonceSigner {
 public:
  // `secret`: at least kNonceSecretMinBytes random octets (throws std::invalid_argument
  // otherwise). `first_id`: where ids start; random at start, so a restart with the same
  // secret does not issue the same ids again.
  NonceSigner(std::span<const uint8_t> secret, const NonceConfig& config, uint64_t first_id);
  ~NonceSigner();
  NonceSigner(const NonceSigner&) = delete;
  NonceSigner& operator=(const NonceSigner&) = delete;

  // `bind_prefix`: kNonceUnbound, or the prefix length of `source` the nonce is bound to
  // (clamped to the address width).
  std::string issue(std::string_view realm, const IpAddress& source, uint8_t bind_prefix,
                    Nanos now);

  NonceCheck check(std::string_view nonce, std::string_view realm, const IpAddress& source,
                   Nanos now) const;

  const NonceConfig& config() const { return config_; }

 private:
  // HMAC-SHA-256 of `parts` (concatenated), its first out.size() octets.
  void mac(std::initializer_list<std::span<const uint8_t>> parts, std::span<uint8_t> out) const;
  // Fills in the tag and the binding of a nonce whose first octets are set.
  void sign(std::span<uint8_t> n, std::string_view realm, const IpAddress& source) const;

  // Keyed once; every MAC works on a copy (copies are cheap, keying is not, and the copy
  // keeps check() safe on many threads).
  evp_mac_ctx_st* keyed_ = nullptr;
  NonceConfig config_;
  std::atomic<uint64_t> next_id_;
};

}  // namespace sipwall
