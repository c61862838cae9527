#include "control/policy/policy_engine.h"

#include <algorithm>
#include <utility>

#include "control/auth/digest_authorization.h"
#include "sip/sip_address_parts.h"
#include "sip/sip_via_parts.h"

namespace sipwall::policy {
namespace {

FailureLimits failure_limits(const rules::BruteForceSettings& b) {
  FailureLimits l;
  l.source_failures = b.source_failures;
  l.account_failures = b.account_failures;
  l.window = b.window_s * kNanosPerSecond;
  l.ban = b.ban_s * kNanosPerSecond;
  l.ban_max = b.ban_max_s * kNanosPerSecond;
  l.lockout = b.lockout_s * kNanosPerSecond;
  return l;
}

// The user of a From / To value; empty when there is none.
std::string_view header_user(const SipMessage& m, SipHeader h) {
  const auto field = m.find(h);
  if (!field) return {};
  const auto parts = sip_split_name_addr(field->value);
  return parts ? sip_uri_user(parts->uri) : std::string_view{};
}

std::string_view top_branch(const SipMessage& m) {
  const auto via = m.find(SipHeader::via);
  if (!via) return {};
  const auto parts = sip_first_via(via->value);
  if (!parts) return {};
  return sip_param(parts->params, "branch").value_or(std::string_view{});
}

bool has_to_tag(const SipMessage& m) {
  const auto field = m.find(SipHeader::to);
  if (!field) return false;
  const auto parts = sip_split_name_addr(field->value);
  return parts && sip_param(parts->params, "tag").has_value();
}

uint64_t whole_seconds(Nanos n) {
  return std::max<uint64_t>(1, (n + kNanosPerSecond - 1) / kNanosPerSecond);
}

Command prefix_add(StateTable table, const IpPrefix& prefix, Nanos ttl) {
  PrefixAddCommand c;
  c.table = table;
  c.prefix = prefix;
  c.ttl_seconds = whole_seconds(ttl);
  c.as = Owner::control;
  return c;
}

IpPrefix host_prefix(const IpAddress& a) {
  return {a, static_cast<uint8_t>(a.bit_width())};
}

// Bans cover what one attacker surely holds: the address, or the /64 of an IPv6 one.
IpPrefix ban_prefix(const IpAddress& a) {
  return a.is_v4() ? host_prefix(a) : IpPrefix{a.masked(64), 64};
}

constexpr size_t kRegisteredFromCapacity = 65536;

}  // namespace

std::string_view to_string(Transport t) {
  switch (t) {
    case Transport::udp:
      return "udp";
    case Transport::tcp:
      return "tcp";
    case Transport::tls:
      return "tls";
  }
  return "?";
}

std::string_view to_string(Verdict v) {
  switch (v) {
    case Verdict::relay:
      return "relay";
    case Verdict::challenge:
      return "challenge";
    case Verdict::forbidden:
      return "forbidden";
    case Verdict::silence:
      return "silence";
  }
  return "?";
}

std::string_view to_string(Reason r) {
  static constexpr std::string_view kNames[] = {
      "trunk",          "authenticated", "trusted_in_dialog", "no_credentials",    "stale_nonce",
      "foreign_nonce",  "auth_failed",   "locked_out",        "identity_mismatch", "account_source",
      "unknown_source", "banned",        "untrusted_ack"};
  static_assert(std::size(kNames) == kReasonCount);
  return kNames[static_cast<size_t>(r)];
}

PolicyEngine::PolicyEngine(const rules::ControlConfig& config,
                           std::shared_ptr<const CredentialsFile> credentials, NonceSigner& nonces,
                           NcReplayWindow& windows)
    : config_(config),
      credentials_(std::move(credentials)),
      nonces_(nonces),
      verifier_(nonces, windows),
      failures_(failure_limits(config.settings.brute_force)),
      promotions_(config.settings.brute_force.trust_s * kNanosPerSecond, 65536) {}

void PolicyEngine::reconfigure(const rules::ControlConfig& config,
                               std::shared_ptr<const CredentialsFile> credentials) {
  config_ = config;
  credentials_ = std::move(credentials);
  failures_.set_limits(failure_limits(config.settings.brute_force));
  promotions_.set_ttl(config.settings.brute_force.trust_s * kNanosPerSecond);
}

const rules::TrunkDecl* PolicyEngine::trunk_of(const IpAddress& source) const {
  const rules::TrunkDecl* best = nullptr;
  int best_len = -1;
  for (const rules::TrunkDecl& t : config_.trunks) {
    for (const IpPrefix& p : t.prefixes) {
      if (p.contains(source) && p.length > best_len) {
        best = &t;
        best_len = p.length;
      }
    }
  }
  return best;
}

const rules::AccountDecl* PolicyEngine::account_of(std::string_view user) const {
  for (const rules::AccountDecl& a : config_.accounts) {
    if (a.user == user) return &a;
  }
  return nullptr;
}

bool PolicyEngine::in_account_prefix(const IpAddress& source) const {
  for (const rules::AccountDecl& a : config_.accounts) {
    for (const IpPrefix& p : a.sources) {
      if (p.contains(source)) return true;
    }
  }
  return false;
}

uint8_t PolicyEngine::nonce_binding(const IpAddress& source, const rules::TrunkDecl* trunk) const {
  const rules::ControlSettings& s = config_.settings;
  uint8_t b = source.is_v4() ? s.nonce_binding_v4 : s.nonce_binding_v6;
  if (trunk && trunk->nonce_binding) b = *trunk->nonce_binding;
  return b == rules::kNonceBindingOff ? kNonceUnbound : b;
}

Decision& PolicyEngine::finish(Decision& d, Verdict v, Reason r) {
  d.verdict = v;
  d.reason = r;
  ++counters_.by_reason[static_cast<size_t>(r)];
  return d;
}

void PolicyEngine::challenge(Decision& d, const RequestContext& ctx, const rules::TrunkDecl* trunk,
                             Reason reason, bool stale, Nanos now) {
  const std::string& realm = config_.settings.realm;
  const std::string nonce = nonces_.issue(realm, ctx.source, nonce_binding(ctx.source, trunk), now);
  d.challenges = format_digest_challenges({realm, nonce, {}, stale}, config_.settings.algorithms);
  finish(d, Verdict::challenge, reason);
}

void PolicyEngine::promote(Decision& d, const RequestContext& ctx, Nanos now) {
  if (!promotions_.promote(ctx.source, now)) return;
  ++counters_.promotions;
  d.commands.push_back(prefix_add(StateTable::trust, host_prefix(ctx.source), promotions_.ttl()));
}

void PolicyEngine::fail(Decision& d, const SipMessage& request, const RequestContext& ctx,
                        const rules::TrunkDecl* trunk, Reason reason, Nanos now) {
  const FailureResult r = failures_.record_failure(ctx.source, d.user, now);
  if (promotions_.demote(ctx.source, now)) {
    ++counters_.demotions;
    PrefixDelCommand del;
    del.table = StateTable::trust;
    del.prefix = host_prefix(ctx.source);
    del.as = Owner::control;
    d.commands.push_back(del);
  }
  if (r.ban) {
    ++counters_.bans;
    d.commands.push_back(prefix_add(StateTable::ban, ban_prefix(ctx.source), *r.ban));
  }
  if (r.locked_out) ++counters_.lockouts;
  // The failure that crossed a threshold is answered 403: nothing more to guess here.
  if (r.ban || r.locked_out) {
    finish(d, Verdict::forbidden, r.ban ? Reason::banned : Reason::locked_out);
    return;
  }
  if (reason == Reason::identity_mismatch || reason == Reason::locked_out) {
    finish(d, Verdict::forbidden, reason);
    return;
  }
  (void)request;
  challenge(d, ctx, trunk, reason, false, now);
}

Decision PolicyEngine::decide(const SipMessage& request, const RequestContext& ctx, Nanos now) {
  Decision d;
  const rules::TrunkDecl* trunk = trunk_of(ctx.source);
  if (trunk) d.trunk = trunk->id;
  d.challenge_kind = challenge_kind_for(request.method_token);

  // The dataplane drops a banned source's packets; this covers the time until it does, and
  // runs without a dataplane.
  if (failures_.is_banned(ctx.source, now)) return finish(d, Verdict::silence, Reason::banned);

  const bool ip_trunk = trunk && !trunk->digest;
  const bool trusted = ip_trunk || promotions_.is_trusted(ctx.source, now);
  // ACK and CANCEL cannot be challenged (RFC 3261 22.1): they pass for sources that are known
  // to behave, and get nothing otherwise.
  if (request.method == SipMethod::ack || request.method == SipMethod::cancel) {
    return trusted ? finish(d, Verdict::relay, Reason::trusted_in_dialog)
                   : finish(d, Verdict::silence, Reason::untrusted_ack);
  }
  if (ip_trunk) {
    promote(d, ctx, now);
    return finish(d, Verdict::relay, Reason::trunk);
  }
  if (trusted && has_to_tag(request)) return finish(d, Verdict::relay, Reason::trusted_in_dialog);

  const rules::UnknownSourceAction unknown = config_.settings.unknown_source;
  if (!trunk && unknown != rules::UnknownSourceAction::challenge &&
      !in_account_prefix(ctx.source)) {
    return finish(
        d, unknown == rules::UnknownSourceAction::reject ? Verdict::forbidden : Verdict::silence,
        Reason::unknown_source);
  }

  // The credentials of our realm, in the header the challenge kind asks for.
  const SipHeader wanted = d.challenge_kind == ChallengeKind::www ? SipHeader::authorization
                                                                  : SipHeader::proxy_authorization;
  const std::string& realm = config_.settings.realm;
  DigestAuthorization auth;
  std::string_view credentials;  // the header value as sent
  bool found = false;
  DigestParseError parse_error = DigestParseError::ok;
  for (const SipHeaderField& h : request.headers) {
    if (h.id != wanted) continue;
    DigestAuthorization a;
    const DigestParseError e = parse_digest_authorization(h.value, a);
    if (e == DigestParseError::not_digest) continue;
    if (e != DigestParseError::ok) {
      parse_error = e;
      continue;
    }
    if (a.realm == realm) {
      auth = std::move(a);
      credentials = h.value;
      found = true;
      break;
    }
  }
  if (!found) {
    if (parse_error == DigestParseError::ok) {
      challenge(d, ctx, trunk, Reason::no_credentials, false, now);
      return d;
    }
    // Garbled credentials are a failed attempt, charged to the source (no user to name).
    fail(d, request, ctx, trunk, Reason::auth_failed, now);
    return d;
  }

  const std::string_view branch = top_branch(request);
  if (const std::string* user = retransmissions_.find(ctx.source, branch, credentials, now)) {
    ++counters_.retransmissions;
    d.user = *user;
    return finish(d, Verdict::relay, Reason::authenticated);
  }
  d.user = auth.username;
  // Not verified while locked out, but still a failure of the source: hammering a locked
  // account must lead to a ban, not to an endless supply of 403s.
  if (failures_.is_locked_out(ctx.source, d.user, now)) {
    fail(d, request, ctx, trunk, Reason::locked_out, now);
    return d;
  }
  std::optional<std::string_view> ha1;
  const auto& algs = config_.settings.algorithms;
  // userhash=true is parsed but not looked up yet: such a client is an unknown user here.
  if (credentials_ && !auth.userhash &&
      std::find(algs.begin(), algs.end(), auth.algorithm) != algs.end()) {
    ha1 = credentials_->ha1(auth.username, realm, auth.algorithm);
  }
  const DigestOutcome outcome = verifier_.verify(
      auth, {request.method_token, request.request_uri, realm, ctx.source}, ha1, now);
  ++counters_.by_outcome[static_cast<size_t>(outcome)];
  switch (outcome) {
    case DigestOutcome::ok:
      break;
    case DigestOutcome::stale:
      challenge(d, ctx, trunk, Reason::stale_nonce, true, now);
      return d;
    case DigestOutcome::nonce_invalid:
    case DigestOutcome::wrong_source:
      challenge(d, ctx, trunk, Reason::foreign_nonce, false, now);
      return d;
    default:
      fail(d, request, ctx, trunk, Reason::auth_failed, now);
      return d;
  }

  // Identity binding: authenticated as one account, claiming another, never reaches the core.
  const bool from_ok = header_user(request, SipHeader::from) == d.user;
  const bool to_ok =
      request.method != SipMethod::register_ || header_user(request, SipHeader::to) == d.user;
  if (!from_ok || !to_ok) {
    fail(d, request, ctx, trunk, Reason::identity_mismatch, now);
    return d;
  }
  if (const rules::AccountDecl* account = account_of(d.user);
      account && !account->sources.empty()) {
    const bool inside = std::any_of(account->sources.begin(), account->sources.end(),
                                    [&](const IpPrefix& p) { return p.contains(ctx.source); });
    if (!inside) return finish(d, Verdict::forbidden, Reason::account_source);
  }
  failures_.record_success(ctx.source, d.user);
  retransmissions_.remember(ctx.source, branch, credentials, d.user, now);
  if (request.method == SipMethod::register_) {
    std::string key = source_key(ctx.source);
    key += d.user;
    if (registered_from_.count(key) == 0) {
      d.new_source = true;
      if (registered_from_.size() < kRegisteredFromCapacity)
        registered_from_.insert(std::move(key));
    }
  }
  promote(d, ctx, now);
  return finish(d, Verdict::relay, Reason::authenticated);
}

}  // namespace sipwall::policy
