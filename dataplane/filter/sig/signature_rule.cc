#include "sig/signature_rule.h"

namespace sipwall {

SignatureRule header_signature(std::string id, std::string header, std::string pattern,
                               std::string message, SignatureAction action, bool caseless) {
  SignatureRule r;
  r.id = std::move(id);
  r.message = std::move(message);
  r.pattern = std::move(pattern);
  r.scope = SignatureScopeKind::header;
  r.header = std::move(header);
  r.caseless = caseless;
  r.action = action;
  return r;
}

std::string_view to_string(SignatureScopeKind s) {
  switch (s) {
    case SignatureScopeKind::header:
      return "header";
    case SignatureScopeKind::request_uri:
      return "request-uri";
    case SignatureScopeKind::body:
      return "body";
    case SignatureScopeKind::message:
      return "message";
  }
  return "?";
}

std::string_view to_string(SignatureAction a) {
  switch (a) {
    case SignatureAction::drop:
      return "drop";
    case SignatureAction::alert:
      return "alert";
  }
  return "?";
}

}  // namespace sipwall
