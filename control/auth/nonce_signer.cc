#include "control/auth/nonce_signer.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <algorithm>
#include <array>
#include <stdexcept>
#include <vector>

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
    : config_(config), next_id_(first_id) {
  if (secret.size() < kNonceSecretMinBytes) {
    throw std::invalid_argument("nonce secret shorter than 32 octets");
  }
  EVP_MAC* const hmac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  keyed_ = hmac != nullptr ? EVP_MAC_CTX_new(hmac) : nullptr;
  EVP_MAC_free(hmac);  // the context holds its own reference
  char digest[] = "SHA2-256";
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", digest, 0),
                               OSSL_PARAM_construct_end()};
  if (keyed_ == nullptr || EVP_MAC_init(keyed_, secret.data(), secret.size(), params) != 1) {
    EVP_MAC_CTX_free(keyed_);
    throw std::runtime_error("OpenSSL has no HMAC-SHA-256");
  }
}

NonceSigner::~NonceSigner() {
  EVP_MAC_CTX_free(keyed_);
}

void NonceSigner::mac(std::initializer_list<std::span<const uint8_t>> parts,
                      std::span<uint8_t> out) const {
  std::array<uint8_t, EVP_MAX_MD_SIZE> md{};
  size_t len = 0;
  EVP_MAC_CTX* const ctx = EVP_MAC_CTX_dup(keyed_);
  bool ok = ctx != nullptr;
  for (const auto& p : parts) ok = ok && EVP_MAC_update(ctx, p.data(), p.size()) == 1;
  ok = ok && EVP_MAC_final(ctx, md.data(), &len, md.size()) == 1 && len >= out.size();
  EVP_MAC_CTX_free(ctx);
  // Fails only without memory: a zero tag matches nothing this signer issued.
  if (!ok) md.fill(0);
  std::copy_n(md.begin(), out.size(), out.begin());
}

void NonceSigner::sign(std::span<uint8_t> n, std::string_view realm,
                       const IpAddress& source) const {
  const std::span<uint8_t> tag(n.data() + kHeaderBytes, kTagBytes);
  mac({std::span<const uint8_t>(n.data(), kHeaderBytes), bytes_of(realm)}, tag);
  const auto bind = binding_input(source, n[kHeaderBytes - 1]);
  mac({std::span<const uint8_t>(tag), bind},
      std::span<uint8_t>(n.data() + kHeaderBytes + kTagBytes, kBindingBytes));
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
  sign(n, realm, source);
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
  sign(expected, realm, source);
  if (CRYPTO_memcmp(expected.data() + kHeaderBytes, n.data() + kHeaderBytes, kTagBytes) != 0) {
    return out;
  }
  out.issued = get_u64(&n[1]);
  out.id = get_u64(&n[9]);
  if (out.issued > now + config_.max_future) return out;
  const uint8_t prefix = n[kHeaderBytes - 1];
  const bool bound_here = CRYPTO_memcmp(expected.data() + kHeaderBytes + kTagBytes,
                                        n.data() + kHeaderBytes + kTagBytes, kBindingBytes) == 0;
  if (prefix == kNonceUnbound) {
    if (!bound_here) return out;  // an unbound nonce's binding is fixed: altered means forged
  } else if (prefix > source.bit_width() || !bound_here) {
    out.status = NonceStatus::wrong_source;
    return out;
  }
  out.status =
      now - std::min(now, out.issued) > config_.lifetime ? NonceStatus::stale : NonceStatus::valid;
  return out;
}

}  // namespace sipwall
