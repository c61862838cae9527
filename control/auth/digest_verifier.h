#pragma once

// Checks a parsed Digest Authorization against a request: realm, nonce (signature, binding,
// age), qop=auth, digest-uri, the response (constant time) and the nc window, in an order that
// reveals nothing useful: an unknown user costs the same hashes as a known one with a wrong
// password and gets the same answer, and stale is only reported when the response was right
// for the old nonce (RFC 7616 3.3), so a guesser cannot tell a stale nonce from a bad guess.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/ip_address.h"
#include "common/time.h"
#include "control/auth/digest_authorization.h"
#include "control/auth/digest_hash.h"
#include "control/auth/nc_replay_window.h"
#include "control/auth/nonce_signer.h"

namespace sipwall {

enum class DigestOutcome : uint8_t {
  ok,
  realm_mismatch,  // credentials for another realm
  nonce_invalid,   // not a nonce of ours (forged, another secret): challenge again
  wrong_source,    // our nonce, bound to another source
  stale,           // right response, old nonce (or its nc window lost): stale=true
  no_qop,          // RFC 2069 response without qop=auth: refused
  uri_mismatch,    // digest-uri is not the Request-URI
  bad_response,    // wrong password, or unknown user
  replay,          // this (nonce, nc) was accepted before, or is below the window
  count_,
};
inline constexpr size_t kDigestOutcomeCount = static_cast<size_t>(DigestOutcome::count_);
std::string_view to_string(DigestOutcome o);

struct DigestRequest {
  std::string_view method;
  std::string_view request_uri;
  std::string_view realm;  // the realm this request is challenged in
  IpAddress source;
};

class DigestVerifier {
 public:
  // Both are used, not owned. One verifier (with its hasher) per thread.
  DigestVerifier(const NonceSigner& nonces, NcReplayWindow& windows)
      : nonces_(nonces), windows_(windows) {}

  // `ha1`: the stored HA1 of the user for auth.algorithm, nothing for an unknown user (or no
  // HA1 of that algorithm).
  DigestOutcome verify(const DigestAuthorization& auth, const DigestRequest& request,
                       std::optional<std::string_view> ha1, Nanos now);

 private:
  const NonceSigner& nonces_;
  NcReplayWindow& windows_;
  DigestHasher hasher_;
  std::string response_;  // the client's response in lower case, memory kept between calls
};

}  // namespace sipwall
