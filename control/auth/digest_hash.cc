#include "control/auth/digest_hash.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <new>

#include "sip/sip_char_class.h"

namespace sipwall {

namespace {

// OpenSSL 3's names of the algorithms.
const char* evp_name(DigestAlgorithm a) {
  switch (a) {
    case DigestAlgorithm::md5:
      return "MD5";
    case DigestAlgorithm::sha256:
      return "SHA2-256";
    case DigestAlgorithm::sha512_256:
      return "SHA2-512/256";
    case DigestAlgorithm::count_:
      break;
  }
  return "";
}

}  // namespace

std::string_view digest_algorithm_name(DigestAlgorithm a) {
  switch (a) {
    case DigestAlgorithm::md5:
      return "MD5";
    case DigestAlgorithm::sha256:
      return "SHA-256";
    case DigestAlgorithm::sha512_256:
      return "SHA-512-256";
    case DigestAlgorithm::count_:
      break;
  }
  return "unknown";
}

std::optional<DigestAlgorithm> digest_algorithm_from_name(std::string_view name) {
  for (const DigestAlgorithm a : kAllDigestAlgorithms) {
    if (sipchar::iequals(name, digest_algorithm_name(a))) return a;
  }
  return std::nullopt;
}

size_t digest_hex_size(DigestAlgorithm a) {
  return a == DigestAlgorithm::md5 ? 32 : 64;
}

std::string to_hex(std::span<const uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(bytes.size() * 2, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) {
    out[2 * i] = kDigits[bytes[i] >> 4];
    out[2 * i + 1] = kDigits[bytes[i] & 0xf];
  }
  return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

DigestHasher::DigestHasher() : ctx_(EVP_MD_CTX_new()) {
  if (ctx_ == nullptr) throw std::bad_alloc();
  for (const DigestAlgorithm a : kAllDigestAlgorithms) {
    // Missing only where a provider is (e.g. MD5 under a FIPS-only configuration): hex()
    // then returns "", which never equals a response.
    md_[static_cast<size_t>(a)] = EVP_MD_fetch(nullptr, evp_name(a), nullptr);
  }
}

DigestHasher::~DigestHasher() {
  for (EVP_MD* md : md_) EVP_MD_free(md);
  EVP_MD_CTX_free(ctx_);
}

std::string DigestHasher::hex(DigestAlgorithm a, std::initializer_list<std::string_view> parts) {
  const EVP_MD* md = md_[static_cast<size_t>(a)];
  bool ok = md != nullptr && EVP_DigestInit_ex2(ctx_, md, nullptr) == 1;
  bool first = true;
  for (const std::string_view p : parts) {
    if (!first) ok = ok && EVP_DigestUpdate(ctx_, ":", 1) == 1;
    first = false;
    ok = ok && EVP_DigestUpdate(ctx_, p.data(), p.size()) == 1;
  }
  std::array<uint8_t, EVP_MAX_MD_SIZE> out{};
  unsigned len = 0;
  ok = ok && EVP_DigestFinal_ex(ctx_, out.data(), &len) == 1;
  // Only a broken OpenSSL installation fails here; an empty hash never equals a response.
  if (!ok) return {};
  return to_hex(std::span<const uint8_t>(out.data(), len));
}

std::string digest_ha1(DigestHasher& h, DigestAlgorithm a, std::string_view username,
                       std::string_view realm, std::string_view password) {
  return h.hex(a, {username, realm, password});
}

std::string digest_userhash(DigestHasher& h, DigestAlgorithm a, std::string_view username,
                            std::string_view realm) {
  return h.hex(a, {username, realm});
}

std::string digest_response(DigestHasher& h, DigestAlgorithm a, const DigestResponseInput& in) {
  const std::string ha2 = h.hex(a, {in.method, in.uri});
  return h.hex(a, {in.ha1, in.nonce, in.nc, in.cnonce, "auth", ha2});
}

}  // namespace sipwall
