#include "control/auth/digest_verifier.h"

#include "sip/sip_char_class.h"

namespace sipwall {

std::string_view to_string(DigestOutcome o) {
  switch (o) {
    case DigestOutcome::ok:
      return "ok";
    case DigestOutcome::realm_mismatch:
      return "realm_mismatch";
    case DigestOutcome::nonce_invalid:
      return "nonce_invalid";
    case DigestOutcome::wrong_source:
      return "wrong_source";
    case DigestOutcome::stale:
      return "stale";
    case DigestOutcome::no_qop:
      return "no_qop";
    case DigestOutcome::uri_mismatch:
      return "uri_mismatch";
    case DigestOutcome::bad_response:
      return "bad_response";
    case DigestOutcome::replay:
      return "replay";
    case DigestOutcome::count_:
      break;
  }
  return "unknown";
}

DigestOutcome DigestVerifier::verify(const DigestAuthorization& auth, const DigestRequest& request,
                                     std::optional<std::string_view> ha1, Nanos now) {
  if (auth.realm != request.realm) return DigestOutcome::realm_mismatch;
  const NonceCheck nonce = nonces_.check(auth.nonce, request.realm, request.source, now);
  if (nonce.status == NonceStatus::invalid) return DigestOutcome::nonce_invalid;
  if (nonce.status == NonceStatus::wrong_source) return DigestOutcome::wrong_source;
  if (!auth.has_qop) return DigestOutcome::no_qop;
  if (auth.uri != request.request_uri) return DigestOutcome::uri_mismatch;

  // An unknown user is hashed like a known one, against an HA1 nobody can match (the
  // response is hex, this is not).
  const size_t hex_size = digest_hex_size(auth.algorithm);
  const bool known = ha1.has_value() && ha1->size() == hex_size;
  const std::string unknown(hex_size, 'x');
  const std::string expected = digest_response(hasher_, auth.algorithm,
                                               {.ha1 = known ? *ha1 : std::string_view(unknown),
                                                .nonce = auth.nonce,
                                                .nc = auth.nc,
                                                .cnonce = auth.cnonce,
                                                .method = request.method,
                                                .uri = auth.uri});
  // Clients may send upper-case hex; the comparison itself stays constant-time.
  response_.assign(auth.response);
  for (char& c : response_) c = sipchar::lower(c);
  if (!constant_time_equal(expected, response_) || !known) return DigestOutcome::bad_response;

  if (nonce.status == NonceStatus::stale) return DigestOutcome::stale;
  switch (windows_.check_and_record(nonce.id, nonce.issued, auth.nc_value, now)) {
    case NcCheck::fresh:
      return DigestOutcome::ok;
    case NcCheck::stale:
      return DigestOutcome::stale;
    case NcCheck::replay:
    case NcCheck::too_old:
      break;
  }
  return DigestOutcome::replay;
}

}  // namespace sipwall
