#pragma once

// The statements of a rule set that only sipwall-control reads (FORMAT.md, "Control plane"):
// the core it relays to, trunks, accounts, where its secrets and the dataplane's socket are,
// and the brute-force thresholds. The dataplane compiles the same files and ignores these;
// service addresses and SIP ports are the shared `service` and `ports` statements.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/ip_address.h"
#include "control/auth/digest_hash.h"
#include "rules/diagnostics.h"

namespace sipwall::rules {

// What a request from a source inside no trunk and no account's prefixes gets.
enum class UnknownSourceAction : uint8_t {
  challenge,  // a digest challenge like anyone (phones register from anywhere)
  reject,     // 403 Forbidden
  silence,    // nothing at all (a scanner learns nothing)
};

struct CoreDecl {
  std::string id;
  SourceLocation where;
  IpAddress address;
  uint16_t port = 5060;
};

inline constexpr uint8_t kNonceBindingOff = 0xff;

struct TrunkDecl {
  std::string id;
  SourceLocation where;
  std::vector<IpPrefix> prefixes;
  bool digest = false;  // also must authenticate (shared carrier ranges make IP alone weak)
  // Prefix length a challenge's nonce is bound to (of the address family of the source);
  // kNonceBindingOff: unbound (carrier egress pools rotate addresses).
  std::optional<uint8_t> nonce_binding;  // else the control statement's
};

struct AccountDecl {
  std::string id;
  SourceLocation where;
  std::string user;               // the digest user name, in the control realm
  std::vector<IpPrefix> sources;  // empty: from anywhere
};

struct BruteForceSettings {
  uint32_t source_failures = 20;  // per source within `window_s`: ban
  uint32_t account_failures = 5;  // per (account, source) within `window_s`: lockout
  uint32_t window_s = 60;
  uint32_t ban_s = 60;  // first ban; doubles for each repeat offence
  uint32_t ban_max_s = 86400;
  uint32_t lockout_s = 300;
  uint32_t trust_s = 600;  // `trust add` TTL after a success (renewed at half of it)
};

struct ControlSettings {
  std::string realm = "sipwall";
  std::string credentials;       // path, relative ones resolved against the rule file's folder
  std::string dataplane_socket;  // the dataplane's --control socket; empty: none
  UnknownSourceAction unknown_source = UnknownSourceAction::challenge;
  std::vector<DigestAlgorithm> algorithms = {DigestAlgorithm::sha256, DigestAlgorithm::md5};
  uint32_t nonce_lifetime_s = 300;
  uint8_t nonce_binding_v4 = 32;  // default binding of a challenge's nonce
  uint8_t nonce_binding_v6 = 64;
  BruteForceSettings brute_force;
};

struct ControlConfig {
  ControlSettings settings;
  std::optional<CoreDecl> core;
  std::vector<TrunkDecl> trunks;
  std::vector<AccountDecl> accounts;
};

}  // namespace sipwall::rules
