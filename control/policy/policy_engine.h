#pragma once

// The policy core of sipwall-control: (request, transport, source, time) -> Decision. Trunk
// ACL by source prefix (optionally with digest), digest authentication with the shared
// verifier, identity binding (the authenticated user is the From user, and the To user of a
// REGISTER), per-account source prefixes, brute-force counting with escalating bans and
// per-(user, source) lockout, and trust promotion. Plain library: time is passed in, the
// dataplane commands are returned, not sent, so tests and an offline replay drive it alone.
// One engine per worker thread (the verifier and the trackers are not shared).

#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>

#include "common/time.h"
#include "control/auth/digest_verifier.h"
#include "control/auth/nc_replay_window.h"
#include "control/auth/nonce_signer.h"
#include "control/credentials/credentials_file.h"
#include "control/policy/failure_tracker.h"
#include "control/policy/policy_types.h"
#include "control/policy/retransmission_cache.h"
#include "control/policy/trust_promotions.h"
#include "rules/control_config.h"
#include "sip/sip_message.h"

namespace sipwall::policy {

struct PolicyCounters {
  std::array<uint64_t, kReasonCount> by_reason{};
  std::array<uint64_t, kDigestOutcomeCount> by_outcome{};
  uint64_t bans = 0;
  uint64_t lockouts = 0;
  uint64_t promotions = 0;
  uint64_t demotions = 0;
  uint64_t retransmissions = 0;  // accepted again without verifying (same branch, credentials)
};

class PolicyEngine {
 public:
  // `nonces` and `windows` are used, not owned.
  PolicyEngine(const rules::ControlConfig& config,
               std::shared_ptr<const CredentialsFile> credentials, NonceSigner& nonces,
               NcReplayWindow& windows);

  // A reloaded rule set or credentials file: the new trunks, accounts, thresholds and users
  // apply to the next request; failure counts, bans, lockouts and promotions so far stay (a
  // reload must not give an attacker a fresh start).
  void reconfigure(const rules::ControlConfig& config,
                   std::shared_ptr<const CredentialsFile> credentials);

  // `request` is a validated request (SipValidator).
  Decision decide(const SipMessage& request, const RequestContext& ctx, Nanos now);

  const PolicyCounters& counters() const { return counters_; }
  const FailureTracker& failures() const { return failures_; }

 private:
  const rules::TrunkDecl* trunk_of(const IpAddress& source) const;
  const rules::AccountDecl* account_of(std::string_view user) const;
  bool in_account_prefix(const IpAddress& source) const;
  uint8_t nonce_binding(const IpAddress& source, const rules::TrunkDecl* trunk) const;

  void challenge(Decision& d, const RequestContext& ctx, const rules::TrunkDecl* trunk,
                 Reason reason, bool stale, Nanos now);
  void fail(Decision& d, const SipMessage& request, const RequestContext& ctx,
            const rules::TrunkDecl* trunk, Reason reason, Nanos now);
  void promote(Decision& d, const RequestContext& ctx, Nanos now);
  Decision& finish(Decision& d, Verdict v, Reason r);

  rules::ControlConfig config_;
  std::shared_ptr<const CredentialsFile> credentials_;
  NonceSigner& nonces_;
  DigestVerifier verifier_;
  FailureTracker failures_;
  TrustPromotions promotions_;
  RetransmissionCache retransmissions_{65536};
  // (source, user) pairs that registered, for the new_source event. Bounded: once full, an
  // unremembered pair is reported on every registration (the event rate limit absorbs it).
  std::unordered_set<std::string> registered_from_;
  PolicyCounters counters_;
};

}  // namespace sipwall::policy
