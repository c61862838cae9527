#include "rules/rule_decoder.h"

#include <algorithm>
#include <charconv>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "budget/budget_plan.h"
#include "classify/traffic_classifier.h"

namespace sipwall::rules {
namespace {

std::string quoted(std::string_view s) {
  return "'" + std::string(s) + "'";
}

std::string join(std::span<const std::string_view> items) {
  std::string out;
  for (std::string_view s : items) out += (out.empty() ? "" : ", ") + std::string(s);
  return out;
}

bool is_id_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == ':' || c == '-';
}

// RFC 3261 token characters (method names, header names).
bool is_token_char(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("-.!%*_+`'~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_token_char);
}

struct StatementSpec {
  std::string_view keyword;
  std::string_view usage;
  size_t positional;  // values before the keys (ids, prefixes, words)
  std::vector<std::string_view> keys;
  std::vector<std::string_view> required;
};

const std::vector<StatementSpec>& specs() {
  static const std::vector<StatementSpec> kSpecs = {
      {"profile", "profile strict|liberal", 1, {}, {}},
      {"sip-limits",
       "sip-limits [message-bytes=N] [header-lines=N] [header-bytes=N] [via-values=N]",
       0,
       {"message-bytes", "header-lines", "header-bytes", "via-values"},
       {}},
      {"ports",
       "ports [sip=PORTS] [sip-udp=PORTS] [sip-tcp=PORTS] [tls=PORTS] [media=PORTS]",
       0,
       {"sip", "sip-udp", "sip-tcp", "tls", "media"},
       {}},
      {"sip-by-content", "sip-by-content yes|no", 1, {}, {}},
      {"source-prefix", "source-prefix [ipv4=N] [ipv6=N]", 0, {"ipv4", "ipv6"}, {}},
      {"source-table", "source-table sources=N", 0, {"sources"}, {"sources"}},
      {"acl-default", "acl-default allow|deny", 1, {}, {}},
      {"limit",
       "limit ID class=sip|invite|register|options|other|rtp|methods=M,... rate=N burst=N "
       "[ipv4-prefix=N] [ipv6-prefix=N]",
       1,
       {"class", "methods", "rate", "burst", "ipv4-prefix", "ipv6-prefix"},
       {"rate", "burst"}},
      {"override",
       "override ID prefix=PREFIX limit=LIMIT-ID [rate=N] [burst=N]",
       1,
       {"prefix", "limit", "rate", "burst"},
       {"prefix", "limit"}},
      {"allow", "allow ID PREFIX", 2, {}, {}},
      {"deny", "deny ID PREFIX", 2, {}, {}},
      {"signature",
       "signature ID [action=drop|alert] scope=header:NAME|request-uri|body|message "
       "pattern=/REGEX/FLAGS [msg=\"TEXT\"]",
       1,
       {"action", "scope", "pattern", "msg"},
       {"scope", "pattern"}},
      {"trust", "trust ID PREFIX [reserve=N]", 2, {"reserve"}, {}},
      {"punt-budget",
       "punt-budget [messages=N] [bytes=N] [untrusted-share=PERCENT]",
       0,
       {"messages", "bytes", "untrusted-share"},
       {}},
      {"pass-budget",
       "pass-budget [messages=N] [bytes=N] [untrusted-share=PERCENT]",
       0,
       {"messages", "bytes", "untrusted-share"},
       {}},
      {"service", "service ID ADDRESS", 2, {}, {}},
      {"transit", "transit sip=pass|drop", 0, {"sip"}, {"sip"}},
      {"tables",
       "tables [bans=N] [trusted=N] [pinholes=N]",
       0,
       {"bans", "trusted", "pinholes"},
       {}},
      // sipwall-control only (the dataplane ignores them): FORMAT.md, "Control plane".
      {"control",
       "control [realm=NAME] [credentials=FILE] [dataplane=SOCKET] "
       "[unknown-source=challenge|reject|silence] [algorithms=A,...] [nonce-lifetime=SECONDS] "
       "[nonce-binding-ipv4=N|off] [nonce-binding-ipv6=N|off]",
       0,
       {"realm", "credentials", "dataplane", "unknown-source", "algorithms", "nonce-lifetime",
        "nonce-binding-ipv4", "nonce-binding-ipv6"},
       {}},
      {"core", "core ID ADDRESS [port=N]", 2, {"port"}, {}},
      {"trunk",
       "trunk ID PREFIX[,PREFIX...] [digest=yes|no] [nonce-binding=N|off]",
       2,
       {"digest", "nonce-binding"},
       {}},
      {"account", "account ID USER [sources=PREFIX[,PREFIX...]]", 2, {"sources"}, {}},
      {"brute-force",
       "brute-force [source-failures=N] [account-failures=N] [window=SECONDS] [ban=SECONDS] "
       "[ban-max=SECONDS] [lockout=SECONDS] [trust=SECONDS]",
       0,
       {"source-failures", "account-failures", "window", "ban", "ban-max", "lockout", "trust"},
       {}},
  };
  return kSpecs;
}

// One statement's arguments checked against its spec: positional count, known keys, no key
// twice, required keys present. Lookups afterwards cannot fail on shape.
class Args {
 public:
  Args(const Statement& st, const StatementSpec& spec, Diagnostics& diags) : st_(st) {
    size_t positional = 0;
    for (const Argument& a : st.args) {
      if (!a.has_key) {
        if (positional == spec.positional || !keyed_.empty()) {
          diags.error(a.value.where, "unexpected value " + describe(a.value) +
                                         " (usage: " + std::string(spec.usage) + ")");
          ok_ = false;
        } else {
          positional_.push_back(&a.value);
        }
        ++positional;
        continue;
      }
      if (std::find(spec.keys.begin(), spec.keys.end(), a.key) == spec.keys.end()) {
        const std::string expected =
            spec.keys.empty() ? "it takes no keys" : "expected one of " + join(spec.keys);
        diags.error(a.key_where, "unknown key " + quoted(a.key) + " for '" + st.keyword + "' (" +
                                     expected + ")");
        ok_ = false;
        continue;
      }
      if (const Argument* prev = find(a.key)) {
        diags.error(a.key_where, "key " + quoted(a.key) + " given twice (first at " +
                                     prev->key_where.to_string() + ")");
        ok_ = false;
        continue;
      }
      keyed_.push_back(&a);
    }
    if (positional_.size() < spec.positional && ok_) {
      diags.error(st.where, "missing value for '" + st.keyword +
                                "' (usage: " + std::string(spec.usage) + ")");
      ok_ = false;
    }
    for (std::string_view k : spec.required) {
      if (ok_ && find(k) == nullptr) {
        diags.error(st.where, "'" + st.keyword + "' needs " + std::string(k) +
                                  "= (usage: " + std::string(spec.usage) + ")");
        ok_ = false;
      }
    }
    if (ok_ && spec.positional == 0 && keyed_.empty()) {
      diags.error(st.where, "'" + st.keyword + "' needs at least one key (usage: " +
                                std::string(spec.usage) + ")");
      ok_ = false;
    }
  }

  bool ok() const { return ok_; }
  const Value& positional(size_t i) const { return *positional_[i]; }
  const Value* key(std::string_view k) const {
    const Argument* a = find(k);
    return a ? &a->value : nullptr;
  }
  const std::vector<const Argument*>& keyed() const { return keyed_; }
  const Statement& statement() const { return st_; }

  static std::string describe(const Value& v) {
    switch (v.kind) {
      case TokenKind::string:
        return "string \"" + v.text + "\"";
      case TokenKind::pattern:
        return "pattern /" + v.text + "/";
      default:
        return quoted(v.text);
    }
  }

 private:
  const Argument* find(std::string_view k) const {
    for (const Argument* a : keyed_) {
      if (a->key == k) return a;
    }
    return nullptr;
  }

  const Statement& st_;
  std::vector<const Value*> positional_;
  std::vector<const Argument*> keyed_;
  bool ok_ = true;
};

class Decoder {
 public:
  explicit Decoder(Diagnostics& diags) : diags_(diags) {}

  RuleSet run(std::span<const Statement> statements) {
    for (const Statement& st : statements) {
      const auto& all = specs();
      const auto spec = std::find_if(
          all.begin(), all.end(), [&](const StatementSpec& s) { return s.keyword == st.keyword; });
      if (spec == all.end()) {
        std::vector<std::string_view> names{"include"};
        for (const StatementSpec& s : all) names.push_back(s.keyword);
        diags_.error(st.where, "unknown statement " + quoted(st.keyword) + " (expected one of " +
                                   join(names) + ")");
        continue;
      }
      const Args args(st, *spec, diags_);
      if (!args.ok()) continue;
      decode(st.keyword, args);
    }
    check_reserves();
    return std::move(out_);
  }

 private:
  void decode(std::string_view kw, const Args& a) {
    if (kw == "profile") return profile(a);
    if (kw == "sip-limits") return sip_limits(a);
    if (kw == "ports") return ports(a);
    if (kw == "sip-by-content") return sip_by_content(a);
    if (kw == "source-prefix") return source_prefix(a);
    if (kw == "source-table") return source_table(a);
    if (kw == "acl-default") return acl_default(a);
    if (kw == "limit") return limit(a);
    if (kw == "override") return override_(a);
    if (kw == "allow" || kw == "deny")
      return acl(a, kw == "allow" ? AclAction::allow : AclAction::deny);
    if (kw == "signature") return signature(a);
    if (kw == "trust") return trust(a);
    if (kw == "punt-budget") return budget(a, "punt-budget", out_.settings.punt_budget);
    if (kw == "pass-budget") return budget(a, "pass-budget", out_.settings.pass_budget);
    if (kw == "service") return service(a);
    if (kw == "transit") return transit(a);
    if (kw == "tables") return tables(a);
    if (kw == "control") return control(a);
    if (kw == "core") return core(a);
    if (kw == "trunk") return trunk(a);
    if (kw == "account") return account(a);
    if (kw == "brute-force") return brute_force(a);
  }

  // ---- values -------------------------------------------------------------------------------

  bool expect_text(const Value& v, std::string_view what) {
    if (v.kind != TokenKind::pattern) return true;
    diags_.error(v.where, "expected " + std::string(what) + ", found a pattern");
    return false;
  }

  std::optional<uint64_t> number(const Value& v, std::string_view key, uint64_t min, uint64_t max) {
    uint64_t n = 0;
    const char* first = v.text.data();
    const char* last = first + v.text.size();
    const auto [end, ec] = std::from_chars(first, last, n);
    if (v.kind == TokenKind::word && !v.text.empty() && ec == std::errc{} && end == last &&
        n >= min && n <= max) {
      return n;
    }
    diags_.error(v.where, "bad number " + Args::describe(v) + " for '" + std::string(key) +
                              "' (expected a whole number from " + std::to_string(min) + " to " +
                              std::to_string(max) + ")");
    return std::nullopt;
  }

  // One of `choices` (exact); else an error listing them.
  std::optional<size_t> choice(const Value& v, std::string_view what,
                               std::initializer_list<std::string_view> choices) {
    size_t i = 0;
    for (std::string_view c : choices) {
      if (v.kind == TokenKind::word && v.text == c) return i;
      ++i;
    }
    diags_.error(v.where, "bad " + std::string(what) + " " + Args::describe(v) +
                              " (expected one of " + join(std::vector<std::string_view>(choices)) +
                              ")");
    return std::nullopt;
  }

  std::optional<IpPrefix> prefix(const Value& v) {
    const std::string_view text = v.text;
    const auto parsed = v.kind == TokenKind::word ? IpPrefix::parse(text) : std::nullopt;
    if (!parsed) {
      diags_.error(v.where, "bad prefix " + Args::describe(v) +
                                " (expected ADDRESS/LENGTH, e.g. 192.0.2.0/24 or 2001:db8::/32)");
      return std::nullopt;
    }
    // A set host bit is almost always a typo for a different network: refuse, do not mask.
    const auto address = IpAddress::parse(text.substr(0, text.find('/')));
    if (address && !(*address == parsed->address)) {
      diags_.error(v.where, "prefix " + quoted(text) + " has host bits set (did you mean " +
                                parsed->to_string() + "?)");
      return std::nullopt;
    }
    return parsed;
  }

  bool valid_id(const Value& v) {
    const bool ok = v.kind == TokenKind::word && !v.text.empty() && v.text.size() <= 128 &&
                    is_id_char(v.text[0]) && v.text[0] != '-' &&
                    std::all_of(v.text.begin(), v.text.end(), is_id_char);
    if (!ok) {
      diags_.error(v.where, "bad id " + Args::describe(v) +
                                " (expected up to 128 of A-Z a-z 0-9 _ . : -, e.g. "
                                "site:scanner.foo)");
    }
    return ok;
  }

  // One IPv4 or IPv6 address (no prefix length), or an error naming the statement.
  std::optional<IpAddress> single_address(const Value& v, std::string_view what,
                                          std::string_view example) {
    const auto address =
        v.kind == TokenKind::word ? IpAddress::parse(v.text) : std::optional<IpAddress>{};
    if (!address) {
      diags_.error(v.where, "bad " + std::string(what) + " address " + Args::describe(v) +
                                " (expected one IPv4 or IPv6 address, " + std::string(example) +
                                ")");
    }
    return address;
  }

  // Ids share one namespace across every statement kind and every included file.
  bool claim_id(const Value& v) {
    if (!valid_id(v)) return false;
    const auto [it, fresh] = ids_.try_emplace(v.text, v.where);
    if (!fresh) {
      diags_.error(v.where, "duplicate id " + quoted(v.text) + " (first defined at " +
                                it->second.to_string() + ")");
    }
    return fresh;
  }

  // Each setting may be written once in the whole set, so no include silently wins over another.
  bool claim_setting(const std::string& name, const SourceLocation& where) {
    const auto [it, fresh] = settings_seen_.try_emplace(name, where);
    if (!fresh) {
      diags_.error(where, quoted(name) + " is already set at " + it->second.to_string());
    }
    return fresh;
  }

  // ---- settings -----------------------------------------------------------------------------

  void profile(const Args& a) {
    const Value& v = a.positional(0);
    const auto c = choice(v, "profile", {"strict", "liberal"});
    if (!c || !claim_setting("profile", a.statement().where)) return;
    out_.settings.sip.profile = *c == 0 ? SipProfile::strict : SipProfile::liberal;
  }

  void sip_limits(const Args& a) {
    struct Field {
      std::string_view key;
      uint64_t min, max;
      size_t SipLimits::*member;
    };
    static constexpr Field kFields[] = {
        {"message-bytes", 64, 65535, &SipLimits::max_message_bytes},
        {"header-lines", 1, 4096, &SipLimits::max_header_lines},
        {"header-bytes", 16, 65535, &SipLimits::max_header_line_bytes},
        {"via-values", 1, 1024, &SipLimits::max_via_values},
    };
    for (const Field& f : kFields) {
      const Value* v = a.key(f.key);
      if (!v) continue;
      const auto n = number(*v, f.key, f.min, f.max);
      if (n && claim_setting("sip-limits " + std::string(f.key), v->where)) {
        out_.settings.sip.limits.*f.member = static_cast<size_t>(*n);
      }
    }
  }

  void ports(const Args& a) {
    PortConfig& p = out_.settings.ports;
    struct Field {
      std::string_view key;
      std::vector<std::vector<PortRange>*> targets;
      std::vector<std::string_view> names;  // settings claimed
    };
    const Field fields[] = {
        {"sip", {&p.sip_udp, &p.sip_tcp}, {"sip-udp", "sip-tcp"}},
        {"sip-udp", {&p.sip_udp}, {"sip-udp"}},
        {"sip-tcp", {&p.sip_tcp}, {"sip-tcp"}},
        {"tls", {&p.sip_tls}, {"tls"}},
        {"media", {&p.media}, {"media"}},
    };
    for (const Field& f : fields) {
      const Value* v = a.key(f.key);
      if (!v || !expect_text(*v, "a port list")) continue;
      PortRangeParse parsed = parse_port_ranges(v->text);
      if (!parsed.error.empty()) {
        diags_.error(v->where, "bad port list for '" + std::string(f.key) + "': " + parsed.error);
        continue;
      }
      bool claimed = true;
      for (std::string_view n : f.names) {
        claimed = claim_setting("ports " + std::string(n), v->where) && claimed;
      }
      if (!claimed) continue;
      for (auto* t : f.targets) *t = parsed.ranges;
    }
  }

  void sip_by_content(const Args& a) {
    const auto c = choice(a.positional(0), "value", {"yes", "no"});
    if (c && claim_setting("sip-by-content", a.statement().where)) {
      out_.settings.sip_by_content = *c == 0;
    }
  }

  void source_prefix(const Args& a) {
    if (const Value* v = a.key("ipv4")) {
      const auto n = number(*v, "ipv4", 0, 32);
      if (n && claim_setting("source-prefix ipv4", v->where)) {
        out_.settings.limits.v4_prefix = static_cast<uint8_t>(*n);
      }
    }
    if (const Value* v = a.key("ipv6")) {
      const auto n = number(*v, "ipv6", 0, 128);
      if (n && claim_setting("source-prefix ipv6", v->where)) {
        out_.settings.limits.v6_prefix = static_cast<uint8_t>(*n);
      }
    }
  }

  void source_table(const Args& a) {
    const Value& v = *a.key("sources");
    const auto n = number(v, "sources", 16, 1ULL << 27);
    if (n && claim_setting("source-table sources", v.where)) {
      out_.settings.limits.table_capacity = static_cast<size_t>(*n);
    }
  }

  void acl_default(const Args& a) {
    const auto c = choice(a.positional(0), "action", {"allow", "deny"});
    if (c && claim_setting("acl-default", a.statement().where)) {
      out_.settings.acl_default = *c == 0 ? AclAction::allow : AclAction::deny;
    }
  }

  void budget(const Args& a, const std::string& name, BudgetRate& out) {
    if (const Value* v = a.key("messages")) {
      const auto n = number(*v, "messages", 1, 100'000'000);
      if (n && claim_setting(name + " messages", v->where)) out.messages_per_s = *n;
    }
    if (const Value* v = a.key("bytes")) {
      const auto n = number(*v, "bytes", 64, 100'000'000'000ULL);
      if (n && claim_setting(name + " bytes", v->where)) out.bytes_per_s = *n;
    }
    if (const Value* v = a.key("untrusted-share")) {
      const auto n = number(*v, "untrusted-share", 0, 100);
      if (n && claim_setting(name + " untrusted-share", v->where)) {
        out.untrusted_percent = static_cast<uint8_t>(*n);
      }
    }
  }

  void transit(const Args& a) {
    const Value& v = *a.key("sip");
    const auto c = choice(v, "transit action", {"pass", "drop"});
    if (c && claim_setting("transit sip", v.where)) {
      out_.settings.transit_sip = *c == 0 ? TransitAction::pass : TransitAction::drop;
    }
  }

  void tables(const Args& a) {
    struct Field {
      std::string_view key;
      size_t FilterConfig::*member;
    };
    static constexpr Field kFields[] = {
        {"bans", &FilterConfig::ban_capacity},
        {"trusted", &FilterConfig::trust_capacity},
        {"pinholes", &FilterConfig::pinhole_capacity},
    };
    for (const Field& f : kFields) {
      const Value* v = a.key(f.key);
      if (!v) continue;
      const auto n = number(*v, f.key, 16, 1ULL << 24);
      if (n && claim_setting("tables " + std::string(f.key), v->where)) {
        out_.settings.*f.member = static_cast<size_t>(*n);
      }
    }
  }

  // ---- control plane (sipwall-control only) -------------------------------------------------

  // A path relative to the folder of the file it is written in, as includes are.
  static std::string relative_to_file(const Value& v) {
    if (v.text.starts_with('/')) return v.text;
    const size_t slash = v.where.file.rfind('/');
    if (slash == std::string::npos) return v.text;
    return v.where.file.substr(0, slash + 1) + v.text;
  }

  std::optional<uint8_t> binding(const Value& v, std::string_view key) {
    if (v.kind == TokenKind::word && v.text == "off") return kNonceBindingOff;
    const auto n = number(v, key, 0, 128);
    if (!n) return std::nullopt;
    return static_cast<uint8_t>(*n);
  }

  // PREFIX[,PREFIX...], each checked like a single prefix (column of each in errors).
  std::optional<std::vector<IpPrefix>> prefix_list(const Value& v) {
    if (!expect_text(v, "a prefix list")) return std::nullopt;
    std::vector<IpPrefix> out;
    std::string_view rest = v.text;
    uint32_t col = v.where.column;
    bool ok = true;
    while (true) {
      const size_t comma = rest.find(',');
      Value one{TokenKind::word,
                std::string(rest.substr(0, comma)),
                {},
                {v.where.file, v.where.line, col}};
      if (const auto p = prefix(one)) {
        if (std::find(out.begin(), out.end(), *p) != out.end()) {
          diags_.error(one.where, "prefix " + p->to_string() + " listed twice");
          ok = false;
        } else {
          out.push_back(*p);
        }
      } else {
        ok = false;
      }
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
      col += static_cast<uint32_t>(comma + 1);
    }
    if (!ok) return std::nullopt;
    return out;
  }

  void control(const Args& a) {
    ControlSettings& c = out_.control.settings;
    if (const Value* v = a.key("realm")) {
      if (expect_text(*v, "a realm") && claim_setting("control realm", v->where)) {
        if (v->text.empty() || v->text.find_first_of("\"\\\r\n") != std::string::npos) {
          diags_.error(v->where, "bad realm " + Args::describe(*v) +
                                     " (expected a name without quotes, backslashes or line "
                                     "breaks, e.g. sip.example.com)");
        } else {
          c.realm = v->text;
        }
      }
    }
    if (const Value* v = a.key("credentials")) {
      if (expect_text(*v, "a file name") && claim_setting("control credentials", v->where)) {
        c.credentials = relative_to_file(*v);
      }
    }
    if (const Value* v = a.key("dataplane")) {
      if (expect_text(*v, "a socket path") && claim_setting("control dataplane", v->where)) {
        c.dataplane_socket = relative_to_file(*v);
      }
    }
    if (const Value* v = a.key("unknown-source")) {
      const auto ch = choice(*v, "unknown-source action", {"challenge", "reject", "silence"});
      if (ch && claim_setting("control unknown-source", v->where)) {
        c.unknown_source = static_cast<UnknownSourceAction>(*ch);
      }
    }
    if (const Value* v = a.key("algorithms")) algorithms(*v, c);
    if (const Value* v = a.key("nonce-lifetime")) {
      const auto n = number(*v, "nonce-lifetime", 10, 86400);
      if (n && claim_setting("control nonce-lifetime", v->where)) {
        c.nonce_lifetime_s = static_cast<uint32_t>(*n);
      }
    }
    if (const Value* v = a.key("nonce-binding-ipv4")) {
      const auto b = binding(*v, "nonce-binding-ipv4");
      if (b && *b != kNonceBindingOff && *b > 32) {
        diags_.error(v->where, "bad number " + Args::describe(*v) +
                                   " for 'nonce-binding-ipv4' (expected 0 to 32, or off)");
      } else if (b && claim_setting("control nonce-binding-ipv4", v->where)) {
        c.nonce_binding_v4 = *b;
      }
    }
    if (const Value* v = a.key("nonce-binding-ipv6")) {
      const auto b = binding(*v, "nonce-binding-ipv6");
      if (b && claim_setting("control nonce-binding-ipv6", v->where)) c.nonce_binding_v6 = *b;
    }
  }

  void algorithms(const Value& v, ControlSettings& c) {
    if (!expect_text(v, "an algorithm list")) return;
    std::vector<DigestAlgorithm> list;
    std::string_view rest = v.text;
    uint32_t col = v.where.column;
    while (true) {
      const size_t comma = rest.find(',');
      const std::string_view name = rest.substr(0, comma);
      const SourceLocation at{v.where.file, v.where.line, col};
      const auto alg = digest_algorithm_from_name(name);
      if (!alg) {
        diags_.error(at, "bad digest algorithm " + quoted(name) +
                             " (expected one of SHA-512-256, SHA-256, MD5, in preference order)");
        return;
      }
      if (std::find(list.begin(), list.end(), *alg) != list.end()) {
        diags_.error(at, "digest algorithm " + quoted(name) + " listed twice");
        return;
      }
      list.push_back(*alg);
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
      col += static_cast<uint32_t>(comma + 1);
    }
    if (claim_setting("control algorithms", v.where)) c.algorithms = std::move(list);
  }

  void core(const Args& a) {
    const Value& id = a.positional(0);
    bool ok = claim_id(id);
    const Value& av = a.positional(1);
    const auto address = single_address(av, "core", "e.g. 192.0.2.20, and the port in port=");
    ok = ok && address.has_value();
    CoreDecl d{id.text, a.statement().where, address.value_or(IpAddress{}), 5060};
    if (const Value* v = a.key("port")) {
      const auto n = number(*v, "port", 1, 65535);
      ok = n.has_value() && ok;
      if (n) d.port = static_cast<uint16_t>(*n);
    }
    if (!ok) return;
    if (out_.control.core) {
      diags_.error(a.statement().where, "a second core (the first is " +
                                            quoted(out_.control.core->id) + " at " +
                                            out_.control.core->where.to_string() + ")");
      return;
    }
    out_.control.core = std::move(d);
  }

  void trunk(const Args& a) {
    const Value& id = a.positional(0);
    bool ok = claim_id(id);
    const Value& pv = a.positional(1);
    const auto prefixes = prefix_list(pv);
    ok = prefixes.has_value() && ok;
    TrunkDecl d{id.text, a.statement().where, prefixes.value_or(std::vector<IpPrefix>{}), false,
                std::nullopt};
    if (const Value* v = a.key("digest")) {
      const auto c = choice(*v, "digest", {"yes", "no"});
      ok = c.has_value() && ok;
      d.digest = c == 0u;
    }
    if (const Value* v = a.key("nonce-binding")) {
      const auto b = binding(*v, "nonce-binding");
      ok = b.has_value() && ok;
      d.nonce_binding = b;
    }
    if (!ok) return;
    // A source belongs to one trunk: the same prefix in two would make the answer depend on
    // the order of the statements.
    for (const TrunkDecl& prev : out_.control.trunks) {
      for (const IpPrefix& p : d.prefixes) {
        if (std::find(prev.prefixes.begin(), prev.prefixes.end(), p) != prev.prefixes.end()) {
          diags_.error(pv.where, "prefix " + p.to_string() + " is already in trunk " +
                                     quoted(prev.id) + " (at " + prev.where.to_string() + ")");
          return;
        }
      }
    }
    out_.control.trunks.push_back(std::move(d));
  }

  void account(const Args& a) {
    const Value& id = a.positional(0);
    bool ok = claim_id(id);
    const Value& uv = a.positional(1);
    if (uv.kind == TokenKind::pattern || uv.text.empty() ||
        uv.text.find_first_of("@ \t\"\\") != std::string::npos) {
      diags_.error(uv.where, "bad user " + Args::describe(uv) +
                                 " (expected the digest user name without '@realm', e.g. alice)");
      ok = false;
    }
    AccountDecl d{id.text, a.statement().where, uv.text, {}};
    if (const Value* v = a.key("sources")) {
      const auto prefixes = prefix_list(*v);
      ok = prefixes.has_value() && ok;
      if (prefixes) d.sources = *prefixes;
    }
    if (!ok) return;
    for (const AccountDecl& prev : out_.control.accounts) {
      if (prev.user == d.user) {
        diags_.error(uv.where, "user " + quoted(d.user) + " already has account " +
                                   quoted(prev.id) + " (at " + prev.where.to_string() + ")");
        return;
      }
    }
    out_.control.accounts.push_back(std::move(d));
  }

  void brute_force(const Args& a) {
    struct Field {
      std::string_view key;
      uint64_t min, max;
      uint32_t BruteForceSettings::*member;
    };
    static constexpr Field kFields[] = {
        {"source-failures", 1, 1'000'000, &BruteForceSettings::source_failures},
        {"account-failures", 1, 1'000'000, &BruteForceSettings::account_failures},
        {"window", 1, 86400, &BruteForceSettings::window_s},
        {"ban", 1, 31'536'000, &BruteForceSettings::ban_s},
        {"ban-max", 1, 31'536'000, &BruteForceSettings::ban_max_s},
        {"lockout", 1, 86400, &BruteForceSettings::lockout_s},
        {"trust", 10, 86400, &BruteForceSettings::trust_s},
    };
    BruteForceSettings& b = out_.control.settings.brute_force;
    for (const Field& f : kFields) {
      const Value* v = a.key(f.key);
      if (!v) continue;
      const auto n = number(*v, f.key, f.min, f.max);
      if (n && claim_setting("brute-force " + std::string(f.key), v->where)) {
        b.*f.member = static_cast<uint32_t>(*n);
      }
    }
    if (b.ban_max_s < b.ban_s) {
      diags_.error(a.statement().where, "brute-force ban-max= (" + std::to_string(b.ban_max_s) +
                                            ") is shorter than ban= (" + std::to_string(b.ban_s) +
                                            ")");
    }
  }

  // ---- stateful statements ------------------------------------------------------------------

  void trust(const Args& a) {
    const Value& id = a.positional(0);
    bool ok = claim_id(id);
    const Value& pv = a.positional(1);
    const auto p = prefix(pv);
    ok = p.has_value() && ok;
    TrustDecl d{id.text, a.statement().where, {}, pv.where};
    if (p) d.entry.prefix = *p;
    if (const Value* v = a.key("reserve")) {
      const auto n = number(*v, "reserve", 0, 100'000'000);
      ok = n.has_value() && ok;
      if (n) d.entry.reserve = static_cast<uint32_t>(*n);
    }
    if (!ok) return;
    for (const TrustDecl& prev : out_.trust) {
      if (prev.entry.prefix == d.entry.prefix) {
        diags_.error(pv.where, "prefix " + d.entry.prefix.to_string() + " is already trusted by " +
                                   quoted(prev.id) + " (at " + prev.where.to_string() + ")");
        return;
      }
    }
    out_.trust.push_back(std::move(d));
  }

  // Reserves are carved out of the trusted part of the punt budget, so together they must fit
  // in it; the error points at the first `trust` that goes over, whatever the order.
  void check_reserves() {
    const BudgetRate& b = out_.settings.punt_budget;
    const uint64_t trusted_part = b.messages_per_s * (100 - b.untrusted_percent) / 100;
    uint64_t sum = 0;
    size_t reserving = 0;
    for (const TrustDecl& d : out_.trust) {
      if (d.entry.reserve > 0 && ++reserving > kMaxReserves) {
        diags_.error(d.where, "more than " + std::to_string(kMaxReserves) +
                                  " trust statements with a reserve (this is the first one over)");
        return;
      }
      sum += d.entry.reserve;
      if (sum > trusted_part) {
        diags_.error(d.where, "trust reserves add up to " + std::to_string(sum) +
                                  " messages/s here, more than the trusted part of the punt "
                                  "budget (" +
                                  std::to_string(trusted_part) +
                                  " messages/s: punt-budget messages= minus untrusted-share=)");
        return;
      }
    }
  }

  void service(const Args& a) {
    const Value& id = a.positional(0);
    bool ok = claim_id(id);
    const Value& av = a.positional(1);
    const auto address =
        single_address(av, "service", "e.g. 192.0.2.10 or 2001:db8::10, no prefix length");
    if (!address) return;
    for (const ServiceDecl& prev : out_.services) {
      if (prev.address == *address) {
        diags_.error(av.where, "service address " + address->to_string() +
                                   " is already listed by " + quoted(prev.id) + " (at " +
                                   prev.where.to_string() + ")");
        return;
      }
    }
    if (ok) out_.services.push_back({id.text, a.statement().where, *address});
  }

  void limit(const Args& a) {
    const Value& id = a.positional(0);
    LimitDecl d;
    d.id = id.text;
    d.where = a.statement().where;
    bool ok = claim_id(id);

    const Value* cls = a.key("class");
    const Value* methods = a.key("methods");
    if ((cls == nullptr) == (methods == nullptr)) {
      diags_.error(cls ? cls->where : a.statement().where,
                   "'limit' needs exactly one of class= or methods=");
      ok = false;
    } else if (cls) {
      static constexpr std::string_view kClasses[] = {"sip",   "invite", "register", "options",
                                                      "other", "rtp",    "tcp-syn"};
      const auto c = choice(*cls, "class",
                            {"sip", "invite", "register", "options", "other", "rtp", "tcp-syn"});
      if (!c) {
        ok = false;
      } else if (*c == 0) {
        d.scope = LimitScope::sip_all;
      } else if (*c == 4) {
        d.scope = LimitScope::other_methods;
      } else if (*c == 5) {
        d.scope = LimitScope::rtp_flow;
      } else if (*c == 6) {
        d.scope = LimitScope::tcp_syn;
      } else {
        // invite/register/options are shorthands for one-method lists.
        d.scope = LimitScope::methods;
        std::string m(kClasses[*c]);
        std::transform(m.begin(), m.end(), m.begin(),
                       [](char ch) { return static_cast<char>(ch - 'a' + 'A'); });
        d.methods.push_back(m);
        d.method_where.push_back(cls->where);
      }
    } else {
      d.scope = LimitScope::methods;
      ok = method_list(*methods, d) && ok;
    }

    const auto rate = number(*a.key("rate"), "rate", 0, UINT32_MAX);
    const auto burst = number(*a.key("burst"), "burst", 0, UINT32_MAX);
    if (rate && burst) {
      d.params = {static_cast<uint32_t>(*rate), static_cast<uint32_t>(*burst)};
    } else {
      ok = false;
    }
    if (const Value* v = a.key("ipv4-prefix")) {
      const auto n = number(*v, "ipv4-prefix", 0, 32);
      ok = n.has_value() && ok;
      if (n) d.v4_prefix = static_cast<uint8_t>(*n);
    }
    if (const Value* v = a.key("ipv6-prefix")) {
      const auto n = number(*v, "ipv6-prefix", 0, 128);
      ok = n.has_value() && ok;
      if (n) d.v6_prefix = static_cast<uint8_t>(*n);
    }
    if (ok) out_.limits.push_back(std::move(d));
  }

  bool method_list(const Value& v, LimitDecl& d) {
    if (!expect_text(v, "a method list")) return false;
    std::string_view rest = v.text;
    uint32_t col = v.where.column;
    while (true) {
      const size_t comma = rest.find(',');
      const std::string_view m = rest.substr(0, comma);
      const SourceLocation at{v.where.file, v.where.line, col};
      if (!is_token(m)) {
        diags_.error(at, "bad method " + quoted(m) +
                             " in methods= (expected SIP method tokens separated by ',', e.g. "
                             "INVITE,REGISTER)");
        return false;
      }
      if (std::find(d.methods.begin(), d.methods.end(), m) != d.methods.end()) {
        diags_.error(at, "method " + quoted(m) + " listed twice");
        return false;
      }
      d.methods.emplace_back(m);
      d.method_where.push_back(at);
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
      col += static_cast<uint32_t>(comma + 1);
    }
    return true;
  }

  void override_(const Args& a) {
    const Value& id = a.positional(0);
    OverrideDecl d;
    d.id = id.text;
    d.where = a.statement().where;
    bool ok = claim_id(id);
    const Value& pv = *a.key("prefix");
    const auto p = prefix(pv);
    ok = p.has_value() && ok;
    if (p) d.prefix = *p;
    d.prefix_where = pv.where;
    const Value& lv = *a.key("limit");
    ok = expect_text(lv, "a limit id") && ok;
    d.limit = lv.text;
    d.limit_where = lv.where;
    if (const Value* v = a.key("rate")) {
      const auto n = number(*v, "rate", 0, UINT32_MAX);
      ok = n.has_value() && ok;
      if (n) d.rate = static_cast<uint32_t>(*n);
    }
    if (const Value* v = a.key("burst")) {
      const auto n = number(*v, "burst", 0, UINT32_MAX);
      ok = n.has_value() && ok;
      if (n) d.burst = static_cast<uint32_t>(*n);
    }
    if (!a.key("rate") && !a.key("burst")) {
      diags_.error(a.statement().where, "'override' needs rate= or burst= (or both)");
      ok = false;
    }
    if (ok) out_.overrides.push_back(std::move(d));
  }

  void acl(const Args& a, AclAction action) {
    const Value& id = a.positional(0);
    bool ok = claim_id(id);
    const Value& pv = a.positional(1);
    const auto p = prefix(pv);
    if (ok && p) out_.acl.push_back({id.text, a.statement().where, {*p, action}, pv.where});
  }

  void signature(const Args& a) {
    const Value& id = a.positional(0);
    SignatureDecl d;
    d.rule.id = id.text;
    d.where = a.statement().where;
    bool ok = claim_id(id);

    if (const Value* v = a.key("action")) {
      const auto c = choice(*v, "action", {"drop", "alert"});
      ok = c.has_value() && ok;
      if (c) d.rule.action = *c == 0 ? SignatureAction::drop : SignatureAction::alert;
    }
    ok = scope(*a.key("scope"), d.rule) && ok;
    if (const Value* v = a.key("msg")) {
      ok = expect_text(*v, "a message string") && ok;
      d.rule.message = v->text;
    }
    const Value& pv = *a.key("pattern");
    d.pattern_where = pv.where;
    ok = pattern(pv, d.rule) && ok;
    if (ok) out_.signatures.push_back(std::move(d));
  }

  bool scope(const Value& v, SignatureRule& r) {
    constexpr std::string_view kHeader = "header:";
    if (v.kind == TokenKind::word && v.text.starts_with(kHeader)) {
      const std::string_view name = std::string_view(v.text).substr(kHeader.size());
      if (!is_token(name)) {
        diags_.error(v.where, "bad header name " + quoted(name) +
                                  " in scope (expected header:NAME, e.g. header:User-Agent)");
        return false;
      }
      r.scope = SignatureScopeKind::header;
      r.header = std::string(name);
      return true;
    }
    const auto c = choice(v, "scope", {"header:NAME", "request-uri", "body", "message"});
    if (!c || *c == 0) return false;
    r.scope = *c == 1   ? SignatureScopeKind::request_uri
              : *c == 2 ? SignatureScopeKind::body
                        : SignatureScopeKind::message;
    return true;
  }

  bool pattern(const Value& v, SignatureRule& r) {
    if (v.kind != TokenKind::pattern) {
      diags_.error(v.where,
                   "expected a pattern /REGEX/FLAGS for 'pattern', found " + Args::describe(v));
      return false;
    }
    if (v.text.empty()) {
      diags_.error(v.where, "empty pattern (it would match every message)");
      return false;
    }
    bool caseless = false;
    bool dotall = false;
    bool multiline = false;
    for (const char f : v.flags) {
      bool* target = f == 'i' ? &caseless : f == 's' ? &dotall : f == 'm' ? &multiline : nullptr;
      if (target == nullptr) {
        diags_.error(v.where, "unknown pattern flag '" + std::string(1, f) +
                                  "' (expected i caseless, s dotall, m multiline)");
        return false;
      }
      *target = true;
    }
    r.caseless = caseless;
    r.pattern = apply_pattern_flags(v.text, dotall, multiline);
    return true;
  }

  Diagnostics& diags_;
  RuleSet out_;
  std::unordered_map<std::string, SourceLocation> ids_;
  std::unordered_map<std::string, SourceLocation> settings_seen_;
};

}  // namespace

std::string apply_pattern_flags(std::string_view pattern, bool dotall, bool multiline) {
  std::string out;
  if (multiline) out += "(?m)";
  std::string_view rest = pattern;
  if (!multiline && dotall) {
    for (std::string_view anchor : {"^", "\\A"}) {
      if (rest.starts_with(anchor)) {
        out += anchor;
        rest.remove_prefix(anchor.size());
        break;
      }
    }
  }
  if (dotall) out += "(?s)";
  out += rest;
  return out;
}

RuleSet decode_rules(std::span<const Statement> statements, Diagnostics& diags) {
  return Decoder(diags).run(statements);
}

}  // namespace sipwall::rules
