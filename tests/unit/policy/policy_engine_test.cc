// The policy core driven without sockets or clocks: requests in, decisions and dataplane
// commands out, a client that answers its challenges.
// Requests are written with designated initializers naming only what differs from a plain
// REGISTER from alice.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include "control/policy/policy_engine.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "sip/sip_validator.h"

namespace sipwall::policy {
namespace {

constexpr Nanos kT0 = 1'767'225'600 * kNanosPerSecond;
constexpr std::string_view kRealm = "sip.example.com";
constexpr std::string_view kPassword = "Correct-Horse-9";

IpAddress ip(const char* s) {
  return *IpAddress::parse(s);
}

rules::ControlConfig base_config() {
  rules::ControlConfig c;
  c.settings.realm = std::string(kRealm);
  c.settings.algorithms = {DigestAlgorithm::sha256, DigestAlgorithm::md5};
  c.settings.brute_force.source_failures = 6;
  c.settings.brute_force.account_failures = 3;
  c.settings.brute_force.window_s = 60;
  c.settings.brute_force.ban_s = 10;
  c.settings.brute_force.ban_max_s = 30;
  c.settings.brute_force.lockout_s = 120;
  c.settings.brute_force.trust_s = 100;
  rules::TrunkDecl ip_trunk;
  ip_trunk.id = "t:ip";
  ip_trunk.prefixes = {*IpPrefix::parse("198.51.100.0/24")};
  rules::TrunkDecl digest_trunk;
  digest_trunk.id = "t:digest";
  digest_trunk.prefixes = {*IpPrefix::parse("203.0.113.0/24")};
  digest_trunk.digest = true;
  c.trunks = {ip_trunk, digest_trunk};
  rules::AccountDecl carol;
  carol.id = "a:carol";
  carol.user = "carol";
  carol.sources = {*IpPrefix::parse("192.0.2.0/28")};
  c.accounts = {carol};
  return c;
}

std::shared_ptr<const CredentialsFile> credentials() {
  auto file = std::make_shared<CredentialsFile>();
  for (const char* user : {"alice", "bob", "carol"}) {
    file->set(make_credential(user, kRealm, kPassword, kAllDigestAlgorithms));
  }
  return file;
}

// The value of `name="..."` in a challenge.
std::string challenge_param(const std::string& challenge, const std::string& name) {
  const size_t at = challenge.find(name + "=\"");
  if (at == std::string::npos) return {};
  const size_t start = at + name.size() + 2;
  return challenge.substr(start, challenge.find('"', start) - start);
}

struct Req {
  std::string method = "REGISTER";
  std::string from_user = "alice";
  std::string to_user = "alice";
  std::string to_tag;
  std::string auth;  // header value of Authorization / Proxy-Authorization
};

class PolicyEngineTest : public ::testing::Test {
 protected:
  explicit PolicyEngineTest(rules::ControlConfig config = base_config())
      : config_(std::move(config)) {}

  PolicyEngine& engine() {
    if (!engine_)
      engine_ = std::make_unique<PolicyEngine>(config_, credentials(), signer_, windows_);
    return *engine_;
  }

  std::string text(const Req& r) {
    const std::string uri =
        r.method == "REGISTER" ? "sip:sip.example.com" : "sip:bob@sip.example.com";
    std::string t = r.method + " " + uri + " SIP/2.0\r\n";
    t += "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK" + std::to_string(++branch_) + "\r\n";
    t += "Max-Forwards: 70\r\n";
    t += "From: <sip:" + r.from_user + "@sip.example.com>;tag=f1\r\n";
    t += "To: <sip:" + r.to_user + "@sip.example.com>" +
         (r.to_tag.empty() ? "" : ";tag=" + r.to_tag) + "\r\n";
    t += "Call-ID: c" + std::to_string(branch_) + "@192.0.2.10\r\n";
    t += "CSeq: 1 " + r.method + "\r\n";
    if (!r.auth.empty()) {
      t += std::string(r.method == "REGISTER" ? "Authorization" : "Proxy-Authorization") + ": " +
           r.auth + "\r\n";
    }
    t += "Content-Length: 0\r\n\r\n";
    return t;
  }

  Decision decide(const Req& r, const char* source, Nanos now) {
    const std::string t = text(r);
    SipMessage m;
    EXPECT_EQ(validator_.validate(t, m), SipError::ok) << t;
    return engine().decide(m, {ip(source), 5060, Transport::udp}, now);
  }

  // The client's answer to `challenge` for `r` (its uri and method), as user/password.
  std::string answer(const Decision& challenge, const Req& r, std::string_view user,
                     std::string_view password, uint32_t nc = 1) {
    EXPECT_EQ(challenge.verdict, Verdict::challenge);
    const std::string& c = challenge.challenges.at(0);
    const std::string nonce = challenge_param(c, "nonce");
    const DigestAlgorithm a = DigestAlgorithm::sha256;
    const std::string uri =
        r.method == "REGISTER" ? "sip:sip.example.com" : "sip:bob@sip.example.com";
    char nc_hex[9];
    std::snprintf(nc_hex, sizeof nc_hex, "%08x", nc);
    const std::string ha1 = digest_ha1(hasher_, a, user, kRealm, password);
    const std::string response = digest_response(hasher_, a,
                                                 {.ha1 = ha1,
                                                  .nonce = nonce,
                                                  .nc = nc_hex,
                                                  .cnonce = "c0ffee",
                                                  .method = r.method,
                                                  .uri = uri});
    return "Digest username=\"" + std::string(user) + "\", realm=\"" + std::string(kRealm) +
           "\", nonce=\"" + nonce + "\", uri=\"" + uri + "\", response=\"" + response +
           "\", algorithm=SHA-256, cnonce=\"c0ffee\", nc=" + nc_hex + ", qop=auth";
  }

  // Challenge then answer with `password` from `source`.
  Decision login(Req r, const char* source, std::string_view password, Nanos now,
                 std::string_view user = "alice") {
    const Decision c = decide(r, source, now);
    if (c.verdict != Verdict::challenge) return c;
    r.auth = answer(c, r, user, password);
    return decide(r, source, now);
  }

  rules::ControlConfig config_;
  NonceSigner signer_{std::vector<uint8_t>(32, 0x33), {}, 1};
  NcReplayWindow windows_{4096, signer_.config().lifetime, kT0 - 1};
  std::unique_ptr<PolicyEngine> engine_;
  SipValidator validator_{SipValidatorConfig{}};
  DigestHasher hasher_;
  int branch_ = 0;
};

const PrefixAddCommand* add_of(const Decision& d, StateTable table) {
  for (const Command& c : d.commands) {
    if (const auto* a = std::get_if<PrefixAddCommand>(&c); a && a->table == table) return a;
  }
  return nullptr;
}

TEST_F(PolicyEngineTest, IpTrunkIsRelayedAndPromotedOnce) {
  const Decision d = decide({.method = "INVITE"}, "198.51.100.7", kT0);
  EXPECT_EQ(d.verdict, Verdict::relay);
  EXPECT_EQ(d.reason, Reason::trunk);
  EXPECT_EQ(d.trunk, "t:ip");
  const PrefixAddCommand* trust = add_of(d, StateTable::trust);
  ASSERT_NE(trust, nullptr);
  EXPECT_EQ(format_command(*trust), "trust add 198.51.100.7/32 ttl=100 as=control");
  // Renewed at half its TTL, not on every request.
  EXPECT_TRUE(
      decide({.method = "INVITE"}, "198.51.100.7", kT0 + 49 * kNanosPerSecond).commands.empty());
  EXPECT_NE(add_of(decide({.method = "INVITE"}, "198.51.100.7", kT0 + 51 * kNanosPerSecond),
                   StateTable::trust),
            nullptr);
}

TEST_F(PolicyEngineTest, ChallengeKindFollowsTheMethod) {
  const Decision reg = decide({}, "192.0.2.10", kT0);
  EXPECT_EQ(reg.verdict, Verdict::challenge);
  EXPECT_EQ(reg.reason, Reason::no_credentials);
  EXPECT_EQ(reg.challenge_kind, ChallengeKind::www);
  ASSERT_EQ(reg.challenges.size(), 2u);  // SHA-256 first, then MD5
  EXPECT_NE(reg.challenges[0].find("algorithm=SHA-256"), std::string::npos);
  EXPECT_NE(reg.challenges[1].find("algorithm=MD5"), std::string::npos);
  const Decision inv = decide({.method = "INVITE"}, "192.0.2.10", kT0);
  EXPECT_EQ(inv.challenge_kind, ChallengeKind::proxy);
  EXPECT_TRUE(inv.commands.empty());
}

TEST_F(PolicyEngineTest, AuthenticatedRequestIsRelayedAndPromoted) {
  const Decision d = login({}, "192.0.2.10", kPassword, kT0);
  EXPECT_EQ(d.verdict, Verdict::relay);
  EXPECT_EQ(d.reason, Reason::authenticated);
  EXPECT_EQ(d.user, "alice");
  ASSERT_NE(add_of(d, StateTable::trust), nullptr);
  EXPECT_EQ(add_of(d, StateTable::trust)->prefix, *IpPrefix::parse("192.0.2.10/32"));
  const Decision invite = login({.method = "INVITE"}, "192.0.2.10", kPassword, kT0);
  EXPECT_EQ(invite.verdict, Verdict::relay);
}

TEST_F(PolicyEngineTest, ARegistrationFromANewSourceIsFlagged) {
  EXPECT_TRUE(login({}, "192.0.2.10", kPassword, kT0).new_source);
  EXPECT_FALSE(login({}, "192.0.2.10", kPassword, kT0).new_source);
  EXPECT_TRUE(login({}, "192.0.2.11", kPassword, kT0).new_source);
  EXPECT_FALSE(login({.method = "INVITE"}, "192.0.2.12", kPassword, kT0).new_source);
}

TEST_F(PolicyEngineTest, IdentityBinding) {
  // Authenticated as alice, claiming bob in From: refused, never relayed.
  const Decision from = login({.from_user = "bob", .to_user = "bob"}, "192.0.2.10", kPassword, kT0);
  EXPECT_EQ(from.verdict, Verdict::forbidden);
  EXPECT_EQ(from.reason, Reason::identity_mismatch);
  // A REGISTER binding bob's AOR with alice's credentials.
  const Decision to = login({.to_user = "bob"}, "192.0.2.10", kPassword, kT0);
  EXPECT_EQ(to.verdict, Verdict::forbidden);
  EXPECT_EQ(to.reason, Reason::identity_mismatch);
  // An INVITE's To is the callee: anyone.
  EXPECT_EQ(login({.method = "INVITE", .to_user = "bob"}, "192.0.2.10", kPassword, kT0).verdict,
            Verdict::relay);
}

TEST_F(PolicyEngineTest, WrongPasswordAndUnknownUserLookAlike) {
  const Decision wrong = login({}, "192.0.2.10", "Wrong-Horse-99", kT0);
  const Decision unknown = login({.from_user = "mallory", .to_user = "mallory"}, "192.0.2.11",
                                 kPassword, kT0, "mallory");
  EXPECT_EQ(wrong.verdict, Verdict::challenge);
  EXPECT_EQ(wrong.reason, Reason::auth_failed);
  EXPECT_EQ(unknown.verdict, wrong.verdict);
  EXPECT_EQ(unknown.reason, wrong.reason);
  EXPECT_EQ(unknown.challenges.size(), wrong.challenges.size());
}

TEST_F(PolicyEngineTest, RepeatedFailuresBanTheSourceWithEscalatingTtl) {
  // 6 failures ban for 10 s, then 20, then 30 (ban-max).
  Nanos now = kT0;
  const std::vector<uint64_t> expected_ttls = {10, 20, 30, 30};
  for (size_t round = 0; round < expected_ttls.size(); ++round) {
    const uint64_t ttl = expected_ttls[round];
    Decision last;
    for (int i = 0; i < 6; ++i) {
      // A fresh user each time (no lockout); appended: GCC 12 -O3 raises a false -Wrestrict
      // on "u" + std::to_string(...).
      std::string user = "u";
      user += std::to_string(round);
      user += "-";
      user += std::to_string(i);
      last = login({.from_user = user, .to_user = user}, "192.0.2.66", "guess", now, user);
      if (i < 5) {
        EXPECT_EQ(last.verdict, Verdict::challenge) << i;
        EXPECT_EQ(add_of(last, StateTable::ban), nullptr);
      }
    }
    EXPECT_EQ(last.verdict, Verdict::forbidden);
    EXPECT_EQ(last.reason, Reason::banned);
    const PrefixAddCommand* ban = add_of(last, StateTable::ban);
    ASSERT_NE(ban, nullptr);
    EXPECT_EQ(format_command(*ban),
              "ban add 192.0.2.66/32 ttl=" + std::to_string(ttl) + " as=control");
    // Until the dataplane has it, the engine itself answers nothing.
    const Decision during = decide({}, "192.0.2.66", now + 1);
    EXPECT_EQ(during.verdict, Verdict::silence);
    EXPECT_EQ(during.reason, Reason::banned);
    // Another source is not affected.
    EXPECT_EQ(login({}, "192.0.2.67", kPassword, now + 1).verdict, Verdict::relay);
    now += ttl * kNanosPerSecond + 1;
  }
  EXPECT_EQ(engine().counters().bans, 4u);
  // Forgiven 2 ban-max after the last ban began: the next ban is the first one again.
  now += 30 * kNanosPerSecond;
  Decision last;
  for (int i = 0; i < 6; ++i) {
    std::string user = "w";
    user += std::to_string(i);
    last = login({.from_user = user, .to_user = user}, "192.0.2.66", "guess", now, user);
  }
  ASSERT_NE(add_of(last, StateTable::ban), nullptr);
  EXPECT_EQ(add_of(last, StateTable::ban)->ttl_seconds, 10u);
}

TEST_F(PolicyEngineTest, IPv6BansCoverTheSlash64) {
  Decision last;
  for (int i = 0; i < 6; ++i) {
    std::string user = "v";
    user += std::to_string(i);
    last = login({.from_user = user, .to_user = user}, "2001:db8:1:2::99", "guess", kT0, user);
  }
  const PrefixAddCommand* ban = add_of(last, StateTable::ban);
  ASSERT_NE(ban, nullptr);
  EXPECT_EQ(ban->prefix, *IpPrefix::parse("2001:db8:1:2::/64"));
}

TEST_F(PolicyEngineTest, LockoutIsPerAccountAndSource) {
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(login({}, "192.0.2.10", "guess", kT0).verdict, Verdict::challenge);
  }
  const Decision third = login({}, "192.0.2.10", "guess", kT0);
  EXPECT_EQ(third.verdict, Verdict::forbidden);
  EXPECT_EQ(third.reason, Reason::locked_out);
  EXPECT_EQ(add_of(third, StateTable::ban), nullptr);  // below the source threshold
  // The right password from there is refused while locked out...
  const Decision locked = login({}, "192.0.2.10", kPassword, kT0 + kNanosPerSecond);
  EXPECT_EQ(locked.verdict, Verdict::forbidden);
  EXPECT_EQ(locked.reason, Reason::locked_out);
  // ...but alice from another source, and bob from the same one, are not locked out.
  EXPECT_EQ(login({}, "192.0.2.12", kPassword, kT0 + kNanosPerSecond).verdict, Verdict::relay);
  EXPECT_EQ(login({.from_user = "bob", .to_user = "bob"}, "192.0.2.10", kPassword,
                  kT0 + kNanosPerSecond, "bob")
                .verdict,
            Verdict::relay);
  // Hammering the locked account from there still counts: the 6th failure of the source bans.
  Decision last;
  for (int i = 0; i < 2; ++i) last = login({}, "192.0.2.10", "guess", kT0 + 2 * kNanosPerSecond);
  EXPECT_EQ(last.reason, Reason::banned);
  ASSERT_NE(add_of(last, StateTable::ban), nullptr);
}

TEST_F(PolicyEngineTest, LockoutEnds) {
  for (int i = 0; i < 3; ++i) login({}, "192.0.2.10", "guess", kT0);
  ASSERT_EQ(login({}, "192.0.2.10", kPassword, kT0).reason, Reason::locked_out);
  // And the lockout ends.
  EXPECT_EQ(login({}, "192.0.2.10", kPassword, kT0 + 121 * kNanosPerSecond).verdict,
            Verdict::relay);
}

TEST_F(PolicyEngineTest, FailureDemotesAPromotedSource) {
  ASSERT_EQ(login({}, "192.0.2.10", kPassword, kT0).verdict, Verdict::relay);
  const Decision bad = login({}, "192.0.2.10", "guess", kT0 + kNanosPerSecond);
  ASSERT_EQ(bad.commands.size(), 1u);
  const auto* del = std::get_if<PrefixDelCommand>(&bad.commands[0]);
  ASSERT_NE(del, nullptr);
  EXPECT_EQ(format_command(*del), "trust del 192.0.2.10/32 as=control");
}

TEST_F(PolicyEngineTest, AckAndInDialogRequestsNeedATrustedSource) {
  EXPECT_EQ(decide({.method = "ACK"}, "192.0.2.10", kT0).reason, Reason::untrusted_ack);
  EXPECT_EQ(decide({.method = "BYE", .to_tag = "x"}, "192.0.2.10", kT0).verdict,
            Verdict::challenge);
  ASSERT_EQ(login({.method = "INVITE"}, "192.0.2.10", kPassword, kT0).verdict, Verdict::relay);
  EXPECT_EQ(decide({.method = "ACK", .to_tag = "x"}, "192.0.2.10", kT0).verdict, Verdict::relay);
  EXPECT_EQ(decide({.method = "BYE", .to_tag = "x"}, "192.0.2.10", kT0).reason,
            Reason::trusted_in_dialog);
  // A new dialog still authenticates.
  EXPECT_EQ(decide({.method = "INVITE"}, "192.0.2.10", kT0).verdict, Verdict::challenge);
  // An IP trunk is trusted.
  EXPECT_EQ(decide({.method = "ACK", .to_tag = "x"}, "198.51.100.7", kT0).verdict, Verdict::relay);
}

TEST_F(PolicyEngineTest, DigestTrunkMustAuthenticate) {
  const Decision c = decide({.method = "INVITE"}, "203.0.113.5", kT0);
  EXPECT_EQ(c.verdict, Verdict::challenge);
  EXPECT_EQ(c.trunk, "t:digest");
  EXPECT_EQ(login({.method = "INVITE"}, "203.0.113.5", kPassword, kT0).verdict, Verdict::relay);
}

TEST_F(PolicyEngineTest, AccountSourcesAreEnforced) {
  EXPECT_EQ(login({.from_user = "carol", .to_user = "carol"}, "192.0.2.5", kPassword, kT0, "carol")
                .verdict,
            Verdict::relay);
  const Decision outside =
      login({.from_user = "carol", .to_user = "carol"}, "192.0.2.200", kPassword, kT0, "carol");
  EXPECT_EQ(outside.verdict, Verdict::forbidden);
  EXPECT_EQ(outside.reason, Reason::account_source);
}

TEST_F(PolicyEngineTest, StaleNonceIsChallengedWithStale) {
  Req r;
  const Decision c = decide(r, "192.0.2.10", kT0);
  r.auth = answer(c, r, "alice", kPassword);
  const Decision late = decide(r, "192.0.2.10", kT0 + 301 * kNanosPerSecond);
  EXPECT_EQ(late.verdict, Verdict::challenge);
  EXPECT_EQ(late.reason, Reason::stale_nonce);
  EXPECT_NE(late.challenges.at(0).find("stale=true"), std::string::npos);
  // A replay of an accepted (nonce, nc) is a failure.
  Req again;
  const Decision c2 = decide(again, "192.0.2.10", kT0);
  again.auth = answer(c2, again, "alice", kPassword);
  EXPECT_EQ(decide(again, "192.0.2.10", kT0).verdict, Verdict::relay);
  const Decision replay = decide(again, "192.0.2.10", kT0);
  EXPECT_EQ(replay.reason, Reason::auth_failed);
}

TEST_F(PolicyEngineTest, RetransmissionIsRelayedAgainNotAReplay) {
  Req r;
  const Decision c = decide(r, "192.0.2.10", kT0);
  r.auth = answer(c, r, "alice", kPassword);
  // The same text twice: the same Via branch, the same credentials (a UDP retransmission).
  const std::string t = text(r);
  SipMessage m;
  SipValidator own{SipValidatorConfig{}};  // m views its header storage: decide() reuses validator_
  ASSERT_EQ(own.validate(t, m), SipError::ok);
  const RequestContext ctx{ip("192.0.2.10"), 5060, Transport::udp};
  EXPECT_EQ(engine().decide(m, ctx, kT0).verdict, Verdict::relay);
  const Decision again = engine().decide(m, ctx, kT0 + 500 * kNanosPerMilli);
  EXPECT_EQ(again.verdict, Verdict::relay);
  EXPECT_EQ(again.user, "alice");
  EXPECT_EQ(engine().counters().retransmissions, 1u);
  // From another source it is no retransmission: the nonce is bound there, so a new challenge.
  EXPECT_EQ(engine().decide(m, {ip("192.0.2.11"), 5060, Transport::udp}, kT0).verdict,
            Verdict::challenge);
  // Under a new branch (text() makes one) the same credentials are a replay.
  EXPECT_EQ(decide(r, "192.0.2.10", kT0).reason, Reason::auth_failed);
  // And after 32 s the retransmission is forgotten: a replay too.
  EXPECT_EQ(engine().decide(m, ctx, kT0 + 33 * kNanosPerSecond).reason, Reason::auth_failed);
}

TEST_F(PolicyEngineTest, ReconfigureKeepsTheCounts) {
  for (int i = 0; i < 4; ++i) {
    std::string user = "r";
    user += std::to_string(i);
    EXPECT_EQ(login({.from_user = user, .to_user = user}, "192.0.2.70", "guess", kT0, user).verdict,
              Verdict::challenge);
  }
  // A reload: a new IP trunk, and the source threshold goes from 6 to 5.
  rules::ControlConfig c = base_config();
  rules::TrunkDecl t;
  t.id = "t:new";
  t.prefixes = {*IpPrefix::parse("192.0.2.64/30")};
  c.trunks.push_back(t);
  c.settings.brute_force.source_failures = 5;
  engine().reconfigure(c, credentials());
  EXPECT_EQ(decide({.method = "INVITE"}, "192.0.2.65", kT0).reason, Reason::trunk);
  // The 4 failures before the reload still count: the 5th bans.
  const Decision fifth =
      login({.from_user = "r9", .to_user = "r9"}, "192.0.2.70", "guess", kT0, "r9");
  EXPECT_EQ(fifth.reason, Reason::banned);
  EXPECT_NE(add_of(fifth, StateTable::ban), nullptr);
}

class UnknownSourceTest : public PolicyEngineTest {
 protected:
  static rules::ControlConfig with(rules::UnknownSourceAction a) {
    rules::ControlConfig c = base_config();
    c.settings.unknown_source = a;
    return c;
  }
};

class RejectUnknown : public UnknownSourceTest {
 protected:
  RejectUnknown() { config_ = with(rules::UnknownSourceAction::reject); }
};
class SilenceUnknown : public UnknownSourceTest {
 protected:
  SilenceUnknown() { config_ = with(rules::UnknownSourceAction::silence); }
};

TEST_F(RejectUnknown, OutsideEveryPrefixIs403) {
  const Decision d = decide({}, "192.0.2.200", kT0);
  EXPECT_EQ(d.verdict, Verdict::forbidden);
  EXPECT_EQ(d.reason, Reason::unknown_source);
  // Inside an account's sources or a digest trunk: challenged.
  EXPECT_EQ(decide({}, "192.0.2.5", kT0).verdict, Verdict::challenge);
  EXPECT_EQ(decide({}, "203.0.113.5", kT0).verdict, Verdict::challenge);
}

TEST_F(SilenceUnknown, OutsideEveryPrefixGetsNothing) {
  EXPECT_EQ(decide({}, "192.0.2.200", kT0).verdict, Verdict::silence);
}

}  // namespace
}  // namespace sipwall::policy
