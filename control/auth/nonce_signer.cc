#include "control/auth/nonce_signer.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <stdexcept>

#include "control/auth/digest_hash.h"

namespace sipwall {

namespace {

constexpr uint8_t kVersion = 1;
constexpr size_t kHeaderBytes = 18;  // version, issued, id, prefix length
constexpr size_t kTagBytes = 12;
constexpr size_t kBindingBytes = 8;
constexpr size_t kNonceBytes = kHeaderBytes + kTagBytes + kBindingBytes;

using NonceBytes = std::array<uint8_t, kNonceBytes>;

void put_u64(uint8_t* p, uint64_t v) {
  for (int i = 7; i >= 0; --i, v >>= 8) p[i] = static_cast<uint8_t>(v);
}

uint64_t get_u64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = v << 8 | p[i];
  return v;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;  // upper case is not what this server writes
}

// HMAC-SHA-256 of the concatenated parts, its first `out.size()` octets.
void hmac(std::span<const uint8_t> secret, std::initializer_list<std::span<const uint8_t>> parts,
          std::span<uint8_t> out) {
  std::vector<uint8_t> message;
  for (const auto& p : parts) message.insert(message.end(), p.begin(), p.end());
  std::array<uint8_t, EVP_MAX_MD_SIZE> md{};
  unsigned len = 0;
  if (HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()), message.data(),
           message.size(), md.data(), &len) == nullptr) {
    md.fill(0);  // cannot happen with a working OpenSSL; a zero tag verifies nothing issued
  }
  std::copy_n(md.begin(), out.size(), out.begin());
}

std::span<const uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// The binding tag's input after the tag: family and the source masked to the bound prefix.
std::array<uint8_t, 17> binding_input(const IpAddress& source, uint8_t prefix) {
  std::array<uint8_t, 17> in{};
  if (prefix == kNonceUnbound) {
    in[0] = 0xff;
    return in;
  }
  const IpAddress masked = source.masked(prefix);
  in[0] = masked.is_v4() ? 4 : 6;
  std::copy(masked.bytes.begin(), masked.bytes.end(), in.begin() + 1);
  return in;
}

void sign(std::span<const uint8_t> secret, NonceBytes& n, std::string_view realm,
          const IpAddress& source) {
  const std::span<uint8_t> tag(n.data() + kHeaderBytes, kTagBytes);
  hmac(secret, {std::span<const uint8_t>(n.data(), kHeaderBytes), bytes_of(realm)}, tag);
  const auto bind = binding_input(source, n[kHeaderBytes - 1]);
  hmac(secret, {std::span<const uint8_t>(tag), bind},
       std::span<uint8_t>(n.data() + kHeaderBytes + kTagBytes, kBindingBytes));
}

}  // namespace

std::string_view to_string(NonceStatus s) {
  switch (s) {
    case NonceStatus::valid:
      return "valid";
    case NonceStatus::stale:
      return "stale";
    case NonceStatus::invalid:
      return "invalid";
    case NonceStatus::wrong_source:
      return "wrong_source";
  }
  return "unknown";
}

NonceSigner::NonceSigner(std::span<const uint8_t> secret, const NonceConfig& config,
                         uint64_t first_id)
    : secret_(secret.begin(), secret.end()), config_(config), next_id_(first_id) {
  if (secret_.size() < kNonceSecretMinBytes) {
    throw std::invalid_argument("nonce secret shorter than 32 octets");
  }
}

std::string NonceSigner::issue(std::string_view realm, const IpAddress& source, uint8_t bind_prefix,
                               Nanos now) {
  NonceBytes n{};
  n[0] = kVersion;
  put_u64(&n[1], now);
  put_u64(&n[9], next_id_++);
  n[kHeaderBytes - 1] =
      bind_prefix == kNonceUnbound
          ? kNonceUnbound
          : static_cast<uint8_t>(std::min<unsigned>(bind_prefix, source.bit_width()));
  sign(secret_, n, realm, source);
  return to_hex(n);
}

NonceCheck NonceSigner::check(std::string_view nonce, std::string_view realm,
                              const IpAddress& source, Nanos now) const {
  NonceCheck out;
  if (nonce.size() != 2 * kNonceBytes) return out;
  NonceBytes n{};
  for (size_t i = 0; i < kNonceBytes; ++i) {
    const int hi = hex_value(nonce[2 * i]);
    const int lo = hex_value(nonce[2 * i + 1]);
    if (hi < 0 || lo < 0) return out;
    n[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  if (n[0] != kVersion) return out;
  NonceBytes expected = n;
  sign(secret_, expected, realm, source);
  if (CRYPTO_memcmp(expected.data() + kHeaderBytes, n.data() + kHeaderBytes, kTagBytes) != 0) {
    return out;
  }
  out.issued = get_u64(&n[1]);
  out.id = get_u64(&n[9]);
  if (out.issued > now + config_.max_future) return out;
  const uint8_t prefix = n[kHeaderBytes - 1];
  if (prefix != kNonceUnbound &&
      (prefix > source.bit_width() ||
       CRYPTO_memcmp(expected.data() + kHeaderBytes + kTagBytes,
                     n.data() + kHeaderBytes + kTagBytes, kBindingBytes) != 0)) {
    out.status = NonceStatus::wrong_source;
    return out;
  }
  out.status =
      now - std::min(now, out.issued) > config_.lifetime ? NonceStatus::stale : NonceStatus::valid;
  return out;
}

}  // namespace sipwall
