#pragma once

// The hashes of HTTP/SIP digest authentication (RFC 7616 3.4, RFC 8760 for SIP) with
// qop=auth, on OpenSSL 3. Every value is lower-case hex, as it travels in the headers and as
// the credentials file stores HA1.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

struct evp_md_ctx_st;
struct evp_md_st;

namespace sipwall {

enum class DigestAlgorithm : uint8_t { md5, sha256, sha512_256, count_ };
inline constexpr size_t kDigestAlgorithmCount = static_cast<size_t>(DigestAlgorithm::count_);
inline constexpr std::array<DigestAlgorithm, kDigestAlgorithmCount> kAllDigestAlgorithms = {
    DigestAlgorithm::md5, DigestAlgorithm::sha256, DigestAlgorithm::sha512_256};

// The token of the algorithm parameter: "MD5", "SHA-256", "SHA-512-256".
std::string_view digest_algorithm_name(DigestAlgorithm a);
// Case-insensitive; the "-sess" variants and anything else are not supported.
std::optional<DigestAlgorithm> digest_algorithm_from_name(std::string_view name);
// Hex digits of one hash: 32 for MD5, 64 for the others.
size_t digest_hex_size(DigestAlgorithm a);

// Lower-case hex of `bytes`.
std::string to_hex(std::span<const uint8_t> bytes);
// Equality that takes the same time wherever the first difference is (only the lengths leak).
// For secrets and responses: an early exit would let an attacker learn a response octet by
// octet from timing.
bool constant_time_equal(std::string_view a, std::string_view b);

// Hashes the parts joined with ':' (the digest's KD and H inputs). Holds one OpenSSL context
// and the algorithms fetched once (OpenSSL 3 looks an algorithm up on every init otherwise),
// reused across calls: one per thread.
class DigestHasher {
 public:
  DigestHasher();
  ~DigestHasher();
  DigestHasher(const DigestHasher&) = delete;
  DigestHasher& operator=(const DigestHasher&) = delete;

  std::string hex(DigestAlgorithm a, std::initializer_list<std::string_view> parts);

 private:
  evp_md_ctx_st* ctx_;
  std::array<evp_md_st*, kDigestAlgorithmCount> md_{};
};

// HA1 = H(username ":" realm ":" password): what the credentials file stores.
std::string digest_ha1(DigestHasher& h, DigestAlgorithm a, std::string_view username,
                       std::string_view realm, std::string_view password);
// userhash = H(username ":" realm) (RFC 7616 3.4.4): the username a client with
// userhash=true sends.
std::string digest_userhash(DigestHasher& h, DigestAlgorithm a, std::string_view username,
                            std::string_view realm);

// What a request's response must be, qop=auth:
//   H(HA1 ":" nonce ":" nc ":" cnonce ":" "auth" ":" H(method ":" digest-uri))
struct DigestResponseInput {
  std::string_view ha1;  // hex, of the same algorithm
  std::string_view nonce;
  std::string_view nc;  // 8 hex digits, as the client sent them
  std::string_view cnonce;
  std::string_view method;
  std::string_view uri;  // the digest-uri as the client sent it
};
std::string digest_response(DigestHasher& h, DigestAlgorithm a, const DigestResponseInput& in);

}  // namespace sipwall
