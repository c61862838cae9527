#pragma once

// The credentials file of sipwall-control, written by sipwall-passwd: per user and realm one
// HA1 per digest algorithm, never the password (an HA1 opens only its own realm, and a
// leaked file cannot be replayed elsewhere). Text, one account per line:
//
//   # comment
//   alice@sip.example.com MD5=<32 hex> SHA-256=<64 hex> SHA-512-256=<64 hex>
//
// The user is everything before the first '@' (a SIP user part has none unescaped), the
// realm the rest; neither holds white space or control octets. Algorithms may be any subset,
// each at most once. Comments and blank lines are kept when the tool rewrites the file.

#include <array>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "control/auth/digest_hash.h"

namespace sipwall {

struct CredentialEntry {
  std::string user;
  std::string realm;
  std::array<std::string, kDigestAlgorithmCount> ha1;  // lower-case hex; empty: not stored

  const std::string& ha1_of(DigestAlgorithm a) const { return ha1[static_cast<size_t>(a)]; }
  bool operator==(const CredentialEntry&) const = default;
};

class CredentialsFile {
 public:
  static constexpr size_t kMaxLineBytes = 4096;

  // Parses the file's text; `name` prefixes every error ("name:line: message"), one line per
  // error, every error of the file reported at once.
  static Result<CredentialsFile> parse(std::string_view text, std::string_view name);
  // Reads and parses `path`; a missing file is an error too (the tool's -c creates one).
  static Result<CredentialsFile> load(const std::string& path);

  const CredentialEntry* find(std::string_view user, std::string_view realm) const;
  // The stored HA1, nothing when the account or that algorithm is absent.
  std::optional<std::string_view> ha1(std::string_view user, std::string_view realm,
                                      DigestAlgorithm a) const;
  const std::vector<CredentialEntry>& entries() const { return entries_; }

  // Adds the account, or replaces all of its HA1s (an algorithm left out is dropped).
  void set(CredentialEntry entry);
  // False when there was no such account.
  bool remove(std::string_view user, std::string_view realm);

  // The file's text: comments and blank lines where they were, accounts in canonical form.
  std::string format() const;

  // A name this file can hold: not empty, no white space, control octet or '#', and for a
  // user no '@'. Returns why not.
  static std::optional<std::string> user_problem(std::string_view user);
  static std::optional<std::string> realm_problem(std::string_view realm);

 private:
  // A line as it was (comment, blank) or the index of an account.
  struct Line {
    std::string text;
    std::optional<size_t> entry;
  };

  std::vector<Line> lines_;
  std::vector<CredentialEntry> entries_;
};

// The canonical line of an account ("alice@sip.example.com MD5=... SHA-256=...").
std::string format_credential(const CredentialEntry& e);

// The account's entry for `password`: HA1 = H(user ":" realm ":" password) for each of
// `algorithms`.
CredentialEntry make_credential(std::string_view user, std::string_view realm,
                                std::string_view password,
                                std::span<const DigestAlgorithm> algorithms);
// True when every HA1 stored in `e` is the one of `password` (and at least one is stored).
bool credential_matches(const CredentialEntry& e, std::string_view password);

}  // namespace sipwall
