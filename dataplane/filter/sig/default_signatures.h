#pragma once

#include <vector>

#include "sig/signature_rule.h"

namespace sipwall {

// The built-in rule set: SIP scanner fingerprints and SQL-injection-like payloads, scoped to
// User-Agent, From and To only (no whole-message or body rules, no bounded repeats), so a clean
// message costs a few short header scans. Rule ids are stable; see default_signatures.cc.
std::vector<SignatureRule> default_signature_rules();

}  // namespace sipwall
