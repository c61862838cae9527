#pragma once

// What the policy core is given and what it answers: (message, transport, source, time) ->
// a verdict plus the dataplane commands it implies. No sockets, no clock.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/ip_address.h"
#include "control/auth/digest_challenge.h"
#include "control/protocol/command.h"

namespace sipwall::policy {

enum class Transport : uint8_t { udp, tcp, tls };
std::string_view to_string(Transport t);

struct RequestContext {
  IpAddress source;
  uint16_t port = 0;
  Transport transport = Transport::udp;
};

enum class Verdict : uint8_t {
  relay,      // pass to the core
  challenge,  // 401 / 407 with the challenges
  forbidden,  // 403
  silence,    // no answer at all
};
std::string_view to_string(Verdict v);

// Why: one value per decision (each a counter and a security-event name).
enum class Reason : uint8_t {
  trunk,              // relay: source in a trunk without digest
  authenticated,      // relay: digest verified, identity bound
  trusted_in_dialog,  // relay: ACK/CANCEL or an in-dialog request from a trusted source
  no_credentials,     // challenge: first request
  stale_nonce,        // challenge with stale=true
  foreign_nonce,      // challenge: a nonce not ours (forged, old secret) or bound elsewhere
  auth_failed,        // challenge again: wrong password, unknown user, replay, bad header
  locked_out,         // 403: this user is locked out from this source
  identity_mismatch,  // 403: authenticated as one user, From/To claim another
  account_source,     // 403: the account may not be used from this source
  unknown_source,     // 403 or silence: in no trunk or account prefix
  banned,             // silence: the source is banned (the dataplane may not have it yet)
  untrusted_ack,      // silence: ACK/CANCEL from a source never authenticated
  count_,
};
inline constexpr size_t kReasonCount = static_cast<size_t>(Reason::count_);
std::string_view to_string(Reason r);

struct Decision {
  Verdict verdict = Verdict::silence;
  Reason reason = Reason::unknown_source;
  ChallengeKind challenge_kind = ChallengeKind::www;
  std::vector<std::string> challenges;  // header values for a challenge
  std::string user;                     // authenticated (relay) or claimed (failures)
  std::string trunk;                    // the trunk's id, when the source is in one
  std::vector<Command> commands;        // ban add / trust add / trust del, as=control
  // A REGISTER authenticated from a source this user never registered from before (since
  // start): a security event, not a refusal (a stolen password shows up this way).
  bool new_source = false;
};

}  // namespace sipwall::policy
