#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace sipwall {

// Which part of a SIP message a rule looks at. Only that span is scanned.
enum class SignatureScopeKind : uint8_t {
  header,       // every instance of one header's value (compact forms included)
  request_uri,  // the Request-URI of a request
  body,         // the message body
  message,      // the whole message; slow (~700 ns), keep out of default sets
};

enum class SignatureAction : uint8_t {
  drop,   // the message is dropped and counted under this rule
  alert,  // counted under this rule only; the message goes on
};

struct SignatureRule {
  std::string id;       // stable rule id, e.g. "sipwall:scanner.friendly-scanner"
  std::string message;  // human description
  std::string pattern;  // Hyperscan (PCRE-subset) pattern
  SignatureScopeKind scope = SignatureScopeKind::header;
  // For scope header: the header name. Known names and compact forms resolve to SipHeader ids;
  // unknown names compare case-insensitively with the name as written.
  std::string header;
  bool caseless = true;
  SignatureAction action = SignatureAction::drop;
};

// A rule scoped to one header's values, the common case.
SignatureRule header_signature(std::string id, std::string header, std::string pattern,
                               std::string message = {},
                               SignatureAction action = SignatureAction::drop,
                               bool caseless = true);

std::string_view to_string(SignatureScopeKind s);
std::string_view to_string(SignatureAction a);

}  // namespace sipwall
