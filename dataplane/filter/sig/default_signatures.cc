#include "sig/default_signatures.h"

#include <string>

namespace sipwall {
namespace {

// Scanner tools by User-Agent, all anchored at the start of the value (an anchored-only database
// costs ~17 ns per User-Agent); \b keeps "smapper" etc. out.
struct UaFingerprint {
  const char* id;
  const char* pattern;
  const char* message;
};
constexpr UaFingerprint kScannerUserAgents[] = {
    // SIPVicious svmap/svwar/svcrack default ("User-Agent: friendly-scanner", all captures).
    {"sipwall:scanner.friendly-scanner", R"(^friendly-scanner\b)", "SIPVicious default User-Agent"},
    {"sipwall:scanner.sipvicious-ua", R"(^sipvicious)", "SIPVicious named in User-Agent"},
    // "User-Agent: sipcli/v1.8" (SIP-3700-unauthorized-401.pcap toll-fraud INVITEs).
    {"sipwall:scanner.sipcli", R"(^sipcli\b)", "sipcli scanner/dialer"},
    {"sipwall:scanner.vaxsip", R"(^VaxSIPUserAgent\b)", "VaxSIPUserAgent scanner"},
    {"sipwall:scanner.pplsip", R"(^pplsip\b)", "pplsip scanner"},
    {"sipwall:scanner.sip-scan", R"(^sip-scan\b)", "sip-scan scanner"},
    {"sipwall:scanner.iwar", R"(^iWar\b)", "iWar war dialer"},
    {"sipwall:scanner.sundayddr", R"(^sundayddr\b)", "sundayddr scanner"},
    {"sipwall:scanner.sivus", R"(^SIVuS\b)", "SIVuS vulnerability scanner"},
    {"sipwall:scanner.gulp", R"(^Gulp\b)", "Gulp scanner"},
    {"sipwall:scanner.smap", R"(^smap\b)", "smap SIP mapper"},
    // SIPPTS (Pepelux) default User-Agent.
    {"sipwall:scanner.sipptk", R"(^sipptk\b)", "SIPPTS scanner"},
};

// SQL-injection-like payloads; each is applied to User-Agent, From and To under its own id
// ("<id>.ua", "<id>.from", "<id>.to"). They need SQL structure, not single punctuation, so
// display names such as "isn't+it" or "Sales' and Marketing" stay clean. Cost: '"' and ';' occur in
// almost every From/To, so nothing may follow them with an unbounded \s* or other optional run
// (that made Hyperscan run its automata on every header: 94 -> 40 ns per From scan).
struct SqliPattern {
  const char* id;
  const char* pattern;
  const char* message;
};
constexpr SqliPattern kSqli[] = {
    // ' or 1=1 / ' OR '1'='1 / 'or'a'='a / admin' and 'x'='x / ') or ('a'='a / ' || 'a'='a
    // One top-level alternative per leading literal: Hyperscan then prefilters on "'or", "' or",
    // ... instead of the bare "or" that is in many User-Agents ("Border Controller").
    {"sipwall:sqli.tautology",
     R"('(?:or|and)[\s'"(]['"]?\w+['"]?\s?(?:=|like\s))"
     R"(|' (?:or|and)[\s'"(]['"]?\w+['"]?\s?(?:=|like\s))"
     R"(|"(?:or|and)[\s'"(]['"]?\w+['"]?\s?(?:=|like\s))"
     R"(|" (?:or|and)[\s'"(]['"]?\w+['"]?\s?(?:=|like\s))"
     R"(|'\) ?(?:or|and)[\s'"(]['"]?\w+['"]?\s?(?:=|like\s))"
     R"(|['"] ?(?:\|\||&&)[\s'"(]['"]?\w+['"]?\s?(?:=|like\s))",
     "SQL tautology after a quote"},
    // union select / union all select / union/**/select / union+select / %27union%20select
    {"sipwall:sqli.union-select",
     R"(union(?:\s|\+|%20|/\*[^*]*\*/)+(?:all(?:\s|\+|%20)+)?select[\s(+%/])", "SQL UNION SELECT"},
    // ; drop table ... / ; delete from / ; insert into / ; exec xp_cmdshell / ; shutdown
    {"sipwall:sqli.stacked-query",
     R"(;\s?(?:drop\s+(?:table|database)|truncate\s+table|delete\s+from|insert\s+into|update\s+\w+\s+set|exec(?:ute)?\s+(?:xp_|sp_)|shutdown))",
     "stacked SQL statement"},
    // admin'-- / 1'# / x'/* / x' -- / x')-- : a quote closing a value, then a SQL comment
    {"sipwall:sqli.quote-comment", R"(\w['"](?:--|#|/\*|\s--|\s#|\)--|\)#))",
     "SQL comment after a closing quote"},
    // sleep(5) / benchmark(1000000,...) / pg_sleep(5) / waitfor delay
    {"sipwall:sqli.time-delay", R"(sleep\s?\(\s?\d|benchmark\s?\(\s?\d|waitfor\s+delay)",
     "time-based SQL injection"},
};

}  // namespace

std::vector<SignatureRule> default_signature_rules() {
  std::vector<SignatureRule> rules;

  // User-Agent first: scope groups are scanned in order of their first rule, and most scanners
  // announce themselves there, so the UA rule decides (and is counted) when several would match.
  for (const auto& ua : kScannerUserAgents) {
    rules.push_back(header_signature(ua.id, "User-Agent", ua.pattern, ua.message));
  }
  rules.push_back(header_signature("sipwall:scanner.sipsak", "User-Agent", R"(^sipsak\b)",
                                   "sipsak test tool (legitimate diagnostics; alert only)",
                                   SignatureAction::alert));

  // SIPVicious without its User-Agent (svmap -c sends compact headers and no User-Agent; other
  // captures change the UA, e.g. "Zeeko"). Every svmap/svwar/svcrack request carries
  //   From: "sipvicious"<sip:100@1.1.1.1>;tag=3766303030303031336164340132333331303131393134
  // svmap puts "sipvicious" in From and To; all three tools build the From tag as
  // hex(ascii(<hex/digits/':'>) + "\x01" + ascii(<decimal random>)), i.e. byte pairs 3x/3a/6[1-6],
  // then the pair 01, then only pairs 3[0-9] up to the end of the tag. The pattern starts one pair
  // before "01" and needs three digit pairs after it: not anchoring at "tag=" (present in every
  // From) keeps Hyperscan on its literal prefilter for ordinary tags.
  rules.push_back(header_signature("sipwall:scanner.sipvicious-from", "From", "sipvicious",
                                   "SIPVicious default From (svmap)"));
  rules.push_back(
      header_signature("sipwall:scanner.sipvicious-tag", "From",
                       R"((?:3[0-9a]|6[1-6])013[0-9]3[0-9]3[0-9](?:3[0-9])*(?:;|$))",
                       "SIPVicious From-tag format (hex of '<id>\\x01<random digits>')"));
  rules.push_back(header_signature("sipwall:scanner.sipvicious-to", "To", "sipvicious",
                                   "SIPVicious default To (svmap)"));

  struct Scope {
    const char* suffix;
    const char* header;
  };
  constexpr Scope kSqliScopes[] = {{".ua", "User-Agent"}, {".from", "From"}, {".to", "To"}};
  for (const auto& s : kSqliScopes) {
    for (const auto& p : kSqli) {
      rules.push_back(header_signature(std::string(p.id) + s.suffix, s.header, p.pattern,
                                       std::string(p.message) + " in " + s.header));
    }
  }
  return rules;
}

}  // namespace sipwall
