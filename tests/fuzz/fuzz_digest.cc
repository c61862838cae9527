// The Digest Authorization parser and what reads its output (control/auth): any header value
// is parsed or refused with a reason; a parsed one holds what the grammar promises (the
// required parameters, nc as 8 hex digits and its value, bounded sizes), written back as a
// header it parses to the same credentials, and through the verifier it never authenticates
// (no nonce of the fuzzer's making is ours). The whole input is also checked as a nonce.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "control/auth/digest_authorization.h"
#include "control/auth/digest_verifier.h"
#include "fuzz_check.h"
#include "sip/sip_char_class.h"

namespace sipwall::fuzz {
namespace {

// A quoted-string holding `v`: qdtext as it is, every other octet as a quoted-pair.
std::string quoted(std::string_view v) {
  std::string out = "\"";
  for (const char c : v) {
    if (!sipchar::is(c, sipchar::kQdtext)) out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string header_of(const DigestAuthorization& a) {
  std::string h = "Digest username=" + quoted(a.username) + ", realm=" + quoted(a.realm) +
                  ", nonce=" + quoted(a.nonce) + ", uri=" + quoted(a.uri) +
                  ", response=" + quoted(a.response) +
                  ", algorithm=" + std::string(digest_algorithm_name(a.algorithm));
  if (!a.cnonce.empty()) h += ", cnonce=" + quoted(a.cnonce);
  if (!a.opaque.empty()) h += ", opaque=" + quoted(a.opaque);
  if (!a.nc.empty()) h += ", nc=" + a.nc;
  if (a.has_qop) h += ", qop=auth";
  if (a.userhash) h += ", userhash=true";
  return h;
}

}  // namespace
}  // namespace sipwall::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sipwall;
  using namespace sipwall::fuzz;
  const std::string_view value(reinterpret_cast<const char*>(data), size);
  static const std::vector<uint8_t> secret(32, 0x42);
  static const NonceSigner signer(secret, {}, 1);
  static NcReplayWindow windows(64, signer.config().lifetime, 0);
  static DigestVerifier verifier(signer, windows);
  const Nanos now = 1'000 * kNanosPerSecond;
  const IpAddress source = IpAddress::v4(0xc0000201);

  const NonceCheck nonce = signer.check(value, "r", source, now);
  FUZZ_CHECK(nonce.status == NonceStatus::invalid, "a nonce of the fuzzer's making passed");

  const DigestAuthorizationLimits limits;
  DigestAuthorization a;
  const DigestParseError e = parse_digest_authorization(value, a, limits);
  FUZZ_CHECK(to_string(e) != "unknown", "error %d has no name", static_cast<int>(e));
  if (e != DigestParseError::ok) return 0;

  FUZZ_CHECK(!a.username.empty() && !a.nonce.empty() && !a.uri.empty() && !a.response.empty(),
             "a required parameter is empty");
  for (const std::string* s :
       {&a.username, &a.realm, &a.nonce, &a.uri, &a.response, &a.cnonce, &a.opaque}) {
    FUZZ_CHECK(s->size() <= limits.max_param_bytes, "a value of %zu octets", s->size());
  }
  if (a.has_qop) {
    FUZZ_CHECK(a.nc.size() == 8 && a.nc_value != 0 && !a.cnonce.empty(), "qop without nc");
    FUZZ_CHECK(std::stoul(a.nc, nullptr, 16) == a.nc_value, "nc %s is not %u", a.nc.c_str(),
               a.nc_value);
  }
  const std::string again = header_of(a);
  DigestAuthorization b;
  const DigestParseError e2 = parse_digest_authorization(
      again, b, {.max_value_bytes = 1 << 20, .max_param_bytes = 1024, .max_params = 20});
  FUZZ_CHECK(e2 == DigestParseError::ok, "written back, it fails: %s",
             std::string(to_string(e2)).c_str());
  FUZZ_CHECK(b == a, "written back, it parses to other credentials: %s", again.c_str());

  const DigestOutcome o = verifier.verify(
      a, {.method = "REGISTER", .request_uri = a.uri, .realm = a.realm, .source = source},
      std::string(digest_hex_size(a.algorithm), '0'), now);
  FUZZ_CHECK(o != DigestOutcome::ok, "authenticated with a nonce of the fuzzer's making");
  return 0;
}
