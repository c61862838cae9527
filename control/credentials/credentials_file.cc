#include "control/credentials/credentials_file.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "sip/sip_char_class.h"

namespace sipwall {

namespace {

constexpr size_t kMaxErrorsShown = 20;

bool is_blank(char c) {
  return c == ' ' || c == '\t';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
  return s;
}

// Splits at runs of blanks.
std::vector<std::string_view> fields_of(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && is_blank(s[i])) ++i;
    const size_t b = i;
    while (i < s.size() && !is_blank(s[i])) ++i;
    if (i > b) out.push_back(s.substr(b, i - b));
  }
  return out;
}

std::optional<std::string> name_problem(std::string_view what, std::string_view name,
                                        bool allow_at) {
  if (name.empty()) return "empty " + std::string(what);
  for (const char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return std::string(what) + " holds white space or a control octet";
    if (c == '#') return std::string(what) + " holds '#'";
    if (c == '@' && !allow_at) return std::string(what) + " holds '@'";
  }
  return std::nullopt;
}

// Collects "name:line: message" lines, the first kMaxErrorsShown of them.
class Errors {
 public:
  explicit Errors(std::string_view name) : name_(name) {}
  void add(size_t line, const std::string& message) {
    if (count_++ < kMaxErrorsShown) {
      if (!text_.empty()) text_ += '\n';
      text_ += name_ + ":" + std::to_string(line) + ": " + message;
    }
  }
  bool any() const { return count_ > 0; }
  std::string text() const {
    if (count_ <= kMaxErrorsShown) return text_;
    return text_ + "\n" + name_ + ": " + std::to_string(count_ - kMaxErrorsShown) + " more errors";
  }

 private:
  std::string name_;
  std::string text_;
  size_t count_ = 0;
};

// One account line, or the reason it is not one.
Result<CredentialEntry> parse_account(std::string_view line) {
  const std::vector<std::string_view> fields = fields_of(line);
  const std::string_view account = fields.front();
  const size_t at = account.find('@');
  if (at == std::string_view::npos) {
    return Result<CredentialEntry>::failure("expected USER@REALM first, got '" +
                                            std::string(account) + "'");
  }
  CredentialEntry e{.user = std::string(account.substr(0, at)),
                    .realm = std::string(account.substr(at + 1)),
                    .ha1 = {}};
  if (const auto p = CredentialsFile::user_problem(e.user)) {
    return Result<CredentialEntry>::failure(*p);
  }
  if (const auto p = CredentialsFile::realm_problem(e.realm)) {
    return Result<CredentialEntry>::failure(*p);
  }
  if (fields.size() == 1) {
    return Result<CredentialEntry>::failure("no HA1 for " + std::string(account) +
                                            " (expected ALGORITHM=HEX)");
  }
  for (size_t i = 1; i < fields.size(); ++i) {
    const std::string_view f = fields[i];
    const size_t eq = f.find('=');
    const std::string_view name = f.substr(0, eq);
    const std::optional<DigestAlgorithm> a = digest_algorithm_from_name(name);
    if (eq == std::string_view::npos || !a) {
      return Result<CredentialEntry>::failure(
          "expected ALGORITHM=HEX (MD5, SHA-256, "
          "SHA-512-256), got '" +
          std::string(f) + "'");
    }
    std::string& slot = e.ha1[static_cast<size_t>(*a)];
    if (!slot.empty()) {
      return Result<CredentialEntry>::failure(std::string(digest_algorithm_name(*a)) +
                                              " given twice");
    }
    const std::string_view hex = f.substr(eq + 1);
    const size_t want = digest_hex_size(*a);
    if (hex.size() != want || !std::all_of(hex.begin(), hex.end(),
                                           [](char c) { return sipchar::is(c, sipchar::kHex); })) {
      return Result<CredentialEntry>::failure(std::string(digest_algorithm_name(*a)) +
                                              " HA1 must be " + std::to_string(want) +
                                              " hex digits");
    }
    slot.reserve(hex.size());
    for (const char c : hex) slot += sipchar::lower(c);
  }
  return e;
}

}  // namespace

std::optional<std::string> CredentialsFile::user_problem(std::string_view user) {
  return name_problem("user", user, /*allow_at=*/false);
}

std::optional<std::string> CredentialsFile::realm_problem(std::string_view realm) {
  return name_problem("realm", realm, /*allow_at=*/true);
}

Result<CredentialsFile> CredentialsFile::parse(std::string_view text, std::string_view name) {
  CredentialsFile file;
  Errors errors(name);
  size_t number = 0;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ++number;
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (line.size() > kMaxLineBytes) {
      errors.add(number, "line longer than " + std::to_string(kMaxLineBytes) + " octets");
      continue;
    }
    const std::string_view content = trim(line);
    if (content.empty() || content.front() == '#') {
      file.lines_.push_back(Line{.text = std::string(line), .entry = std::nullopt});
      continue;
    }
    Result<CredentialEntry> entry = parse_account(content);
    if (!entry) {
      errors.add(number, entry.error());
      continue;
    }
    if (file.find(entry->user, entry->realm) != nullptr) {
      errors.add(number, entry->user + "@" + entry->realm + " is defined twice");
      continue;
    }
    file.lines_.push_back(Line{.text = {}, .entry = file.entries_.size()});
    file.entries_.push_back(std::move(entry).value());
  }
  if (errors.any()) return Result<CredentialsFile>::failure(errors.text());
  return file;
}

Result<CredentialsFile> CredentialsFile::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Result<CredentialsFile>::failure(path + ": " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  return parse(text.str(), path);
}

const CredentialEntry* CredentialsFile::find(std::string_view user, std::string_view realm) const {
  for (const CredentialEntry& e : entries_) {
    if (e.user == user && e.realm == realm) return &e;
  }
  return nullptr;
}

std::optional<std::string_view> CredentialsFile::ha1(std::string_view user, std::string_view realm,
                                                     DigestAlgorithm a) const {
  const CredentialEntry* e = find(user, realm);
  if (e == nullptr || e->ha1_of(a).empty()) return std::nullopt;
  return e->ha1_of(a);
}

void CredentialsFile::set(CredentialEntry entry) {
  for (CredentialEntry& e : entries_) {
    if (e.user == entry.user && e.realm == entry.realm) {
      e = std::move(entry);
      return;
    }
  }
  lines_.push_back(Line{.text = {}, .entry = entries_.size()});
  entries_.push_back(std::move(entry));
}

bool CredentialsFile::remove(std::string_view user, std::string_view realm) {
  const CredentialEntry* e = find(user, realm);
  if (e == nullptr) return false;
  const size_t index = static_cast<size_t>(e - entries_.data());
  entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(index));
  std::erase_if(lines_, [&](const Line& l) { return l.entry == index; });
  for (Line& l : lines_) {
    if (l.entry && *l.entry > index) --*l.entry;
  }
  return true;
}

std::string format_credential(const CredentialEntry& e) {
  std::string out = e.user + "@" + e.realm;
  for (const DigestAlgorithm a : kAllDigestAlgorithms) {
    if (e.ha1_of(a).empty()) continue;
    out += ' ';
    out += digest_algorithm_name(a);
    out += '=';
    out += e.ha1_of(a);
  }
  return out;
}

CredentialEntry make_credential(std::string_view user, std::string_view realm,
                                std::string_view password,
                                std::span<const DigestAlgorithm> algorithms) {
  DigestHasher h;
  CredentialEntry e{.user = std::string(user), .realm = std::string(realm), .ha1 = {}};
  for (const DigestAlgorithm a : algorithms) {
    e.ha1[static_cast<size_t>(a)] = digest_ha1(h, a, user, realm, password);
  }
  return e;
}

bool credential_matches(const CredentialEntry& e, std::string_view password) {
  DigestHasher h;
  bool any = false;
  bool all = true;
  for (const DigestAlgorithm a : kAllDigestAlgorithms) {
    if (e.ha1_of(a).empty()) continue;
    any = true;
    all = constant_time_equal(digest_ha1(h, a, e.user, e.realm, password), e.ha1_of(a)) && all;
  }
  return any && all;
}

std::string CredentialsFile::format() const {
  std::string out;
  for (const Line& l : lines_) {
    out += l.entry ? format_credential(entries_[*l.entry]) : l.text;
    out += '\n';
  }
  return out;
}

}  // namespace sipwall
