#pragma once

// The challenge of a 401 (WWW-Authenticate, REGISTER) or 407 (Proxy-Authenticate, any other
// request): one header value per enabled algorithm, most preferred first (RFC 8760 2.4: a
// client uses the first one it supports, so the order is the server's preference).

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "control/auth/digest_hash.h"

namespace sipwall {

enum class ChallengeKind : uint8_t {
  www,    // 401 Unauthorized, WWW-Authenticate: the registrar's own challenge
  proxy,  // 407 Proxy Authentication Required, Proxy-Authenticate
};

// RFC 3261 22.1/22.3: a registrar answers 401, a proxy 407.
ChallengeKind challenge_kind_for(std::string_view method);
int challenge_status(ChallengeKind k);                      // 401 / 407
std::string_view challenge_reason(ChallengeKind k);         // "Unauthorized", ...
std::string_view challenge_header_name(ChallengeKind k);    // "WWW-Authenticate", ...
std::string_view credentials_header_name(ChallengeKind k);  // "Authorization", ...

struct DigestChallenge {
  std::string_view realm;
  std::string_view nonce;
  std::string_view opaque;  // left out when empty
  bool stale = false;       // the nonce was good but old: the client retries without asking
};

// `"` + text with '"' and '\' escaped + `"` (RFC 3261 quoted-string).
std::string quote_string(std::string_view text);

// Digest realm="...", nonce="...", [opaque="...",] algorithm=A, qop="auth"[, stale=true]
std::string format_digest_challenge(const DigestChallenge& c, DigestAlgorithm algorithm);

// One value per algorithm, in the order given.
std::vector<std::string> format_digest_challenges(const DigestChallenge& c,
                                                  std::span<const DigestAlgorithm> preference);

}  // namespace sipwall
