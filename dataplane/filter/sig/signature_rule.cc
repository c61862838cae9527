#include "sig/signature_rule.h"

namespace sipwall {

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
