#include "control/auth/digest_challenge.h"

namespace sipwall {

ChallengeKind challenge_kind_for(std::string_view method) {
  return method == "REGISTER" ? ChallengeKind::www : ChallengeKind::proxy;
}

int challenge_status(ChallengeKind k) {
  return k == ChallengeKind::www ? 401 : 407;
}

std::string_view challenge_reason(ChallengeKind k) {
  return k == ChallengeKind::www ? "Unauthorized" : "Proxy Authentication Required";
}

std::string_view challenge_header_name(ChallengeKind k) {
  return k == ChallengeKind::www ? "WWW-Authenticate" : "Proxy-Authenticate";
}

std::string_view credentials_header_name(ChallengeKind k) {
  return k == ChallengeKind::www ? "Authorization" : "Proxy-Authorization";
}

std::string quote_string(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out += '"';
  for (const char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
  return out;
}

std::string format_digest_challenge(const DigestChallenge& c, DigestAlgorithm algorithm) {
  std::string out = "Digest realm=" + quote_string(c.realm) + ", nonce=" + quote_string(c.nonce);
  if (!c.opaque.empty()) out += ", opaque=" + quote_string(c.opaque);
  out += ", algorithm=";
  out += digest_algorithm_name(algorithm);
  out += ", qop=\"auth\"";
  if (c.stale) out += ", stale=true";
  return out;
}

std::vector<std::string> format_digest_challenges(const DigestChallenge& c,
                                                  std::span<const DigestAlgorithm> preference) {
  std::vector<std::string> out;
  out.reserve(preference.size());
  for (const DigestAlgorithm a : preference) out.push_back(format_digest_challenge(c, a));
  return out;
}

}  // namespace sipwall
