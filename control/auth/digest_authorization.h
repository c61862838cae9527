#pragma once

// Parser of a Digest Authorization / Proxy-Authorization header value (RFC 3261 25.1
// "credentials", RFC 7616 3.4): "Digest" LWS dig-resp *(COMMA dig-resp), each a name, '=' and
// a token or a quoted string. Strict where a lax reading could be abused: a parameter named
// twice is refused (two usernames or two responses must not mean "whichever the verifier
// reads"), sizes and counts are bounded, nc is exactly 8 hex digits.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "control/auth/digest_hash.h"

namespace sipwall {

struct DigestAuthorizationLimits {
  size_t max_value_bytes = 4096;  // the whole header value (the validator's header limit)
  size_t max_param_bytes = 1024;  // one parameter's value, after unescaping
  size_t max_params = 20;         // parameters, unknown ones included
};

// One value per reason a header is refused (each becomes a counter).
enum class DigestParseError : uint8_t {
  ok,
  too_long,                   // value, or one parameter, over its limit
  too_many_params,            // more than max_params
  not_digest,                 // another scheme (Basic, ...): answer with a challenge
  bad_syntax,                 // not name=token/quoted-string separated by commas
  bad_quoted_string,          // unterminated, or a CTL inside
  duplicate_param,            // the same parameter name twice (case-insensitive)
  missing_param,              // username, realm, nonce, uri or response absent; cnonce/nc with qop
  bad_nc,                     // not 8 hex digits, or 0
  bad_qop,                    // qop other than "auth" (auth-int is not supported)
  unsupported_algorithm,      // not MD5, SHA-256 or SHA-512-256 (e.g. the -sess variants)
  bad_userhash,               // neither true nor false
  unsupported_username_star,  // username* (RFC 7616 3.4.4's extended notation)
  count_,
};
inline constexpr size_t kDigestParseErrorCount = static_cast<size_t>(DigestParseError::count_);
std::string_view to_string(DigestParseError e);

// The parameters a verifier needs, quoted strings unescaped.
struct DigestAuthorization {
  std::string username;  // userhash=true: H(username ":" realm) in hex
  std::string realm;
  std::string nonce;
  std::string uri;
  std::string response;
  std::string cnonce;
  std::string opaque;
  std::string nc;  // the 8 hex digits as sent (they enter the response hash as sent)
  uint32_t nc_value = 0;
  bool has_qop = false;  // qop=auth present (RFC 2069 responses without it are refused later)
  DigestAlgorithm algorithm = DigestAlgorithm::md5;  // absent means MD5 (RFC 7616 3.4)
  bool userhash = false;

  bool operator==(const DigestAuthorization&) const = default;
};

DigestParseError parse_digest_authorization(std::string_view value, DigestAuthorization& out,
                                            const DigestAuthorizationLimits& limits = {});

}  // namespace sipwall
