// sipwall-passwd: writes the credentials file of sipwall-control, as htpasswd does for a web
// server. It stores one HA1 per digest algorithm for USER@REALM, never the password, after
// checking the password against the policy.
//
//   sipwall-passwd [OPTIONS] FILE USER@REALM     set (add or change) the account's password
//   sipwall-passwd -D FILE USER@REALM            delete the account
//   sipwall-passwd -v FILE USER@REALM            verify a password against the stored HA1s
//   sipwall-passwd --check FILE                  parse the file, print file:line errors
//
// The password is read from the terminal (twice, without echo) or, when standard input is
// not a terminal, as its first line; never from the command line (other users see it there).
// The file is rewritten atomically (a temporary file renamed over it), mode 0600; comments
// and blank lines are kept.
// Exit status: 0 done, 1 refused (policy, bad file, I/O), 2 usage, 3 verify: no match.
#include <termios.h>
#include <unistd.h>

#include <sys/stat.h>
#include <charconv>
#include <cstdio>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "common/atomic_file.h"
#include "control/credentials/credentials_file.h"
#include "control/credentials/password_policy.h"

namespace {

using namespace sipwall;

enum class Mode { set, remove, verify, check };

constexpr int kRefused = 1;
constexpr int kUsage = 2;
constexpr int kNoMatch = 3;

int usage() {
  std::fprintf(
      stderr,
      "usage: sipwall-passwd [-c] [-a ALGORITHMS] [--min-length N] [--no-upper] [--no-lower]\n"
      "                      [--no-digit] FILE USER@REALM\n"
      "       sipwall-passwd -D FILE USER@REALM | -v FILE USER@REALM | --check FILE\n"
      "  -c               create FILE (refused if it exists)\n"
      "  -D               delete the account\n"
      "  -v               verify a password against the stored HA1s\n"
      "  --check          only parse FILE and report its errors\n"
      "  -a LIST          algorithms to store, comma-separated (default MD5,SHA-256,SHA-512-256)\n"
      "  --min-length N   shortest password in characters (default 12)\n"
      "  --no-upper, --no-lower, --no-digit   drop that requirement of the policy\n"
      "The password comes from the terminal, or the first line of standard input.\n"
      "exit: 0 done, 1 refused, 2 usage, 3 verify: no match\n");
  return kUsage;
}

std::optional<std::vector<DigestAlgorithm>> parse_algorithms(std::string_view list) {
  std::vector<DigestAlgorithm> out;
  while (!list.empty()) {
    const size_t comma = list.find(',');
    const std::optional<DigestAlgorithm> a = digest_algorithm_from_name(list.substr(0, comma));
    if (!a) return std::nullopt;
    out.push_back(*a);
    list.remove_prefix(comma == std::string_view::npos ? list.size() : comma + 1);
  }
  if (out.empty()) return std::nullopt;
  return out;
}

// One line from the terminal without echo, the prompt on stderr.
std::optional<std::string> read_hidden(const char* prompt) {
  std::fprintf(stderr, "%s", prompt);
  termios old{};
  const bool tty = tcgetattr(STDIN_FILENO, &old) == 0;
  if (tty) {
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  std::string line;
  const bool ok = static_cast<bool>(std::getline(std::cin, line));
  if (tty) {
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
    std::fprintf(stderr, "\n");
  }
  if (!ok) return std::nullopt;
  return line;
}

std::optional<std::string> read_password(bool confirm) {
  if (!isatty(STDIN_FILENO)) {
    std::string line;
    if (!std::getline(std::cin, line)) return std::nullopt;
    if (line.ends_with('\r')) line.pop_back();
    return line;
  }
  std::optional<std::string> first = read_hidden("Password: ");
  if (!first || !confirm) return first;
  const std::optional<std::string> again = read_hidden("Again: ");
  if (!again || *again != *first) {
    std::fprintf(stderr, "sipwall-passwd: the passwords differ\n");
    return std::nullopt;
  }
  return first;
}

int fail(const std::string& message) {
  std::fprintf(stderr, "sipwall-passwd: %s\n", message.c_str());
  return kRefused;
}

int write(const std::string& path, const CredentialsFile& file) {
  const std::string error = write_file_atomically(path, file.format());
  return error.empty() ? 0 : fail(error);
}

}  // namespace

int main(int argc, char** argv) {
  Mode mode = Mode::set;
  bool create = false;
  PasswordPolicy policy;
  std::vector<DigestAlgorithm> algorithms(kAllDigestAlgorithms.begin(), kAllDigestAlgorithms.end());
  std::vector<std::string> operands;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "-c") {
      create = true;
    } else if (a == "-D") {
      mode = Mode::remove;
    } else if (a == "-v") {
      mode = Mode::verify;
    } else if (a == "--check") {
      mode = Mode::check;
    } else if (a == "-a" && i + 1 < argc) {
      const auto list = parse_algorithms(argv[++i]);
      if (!list) {
        std::fprintf(stderr, "sipwall-passwd: -a takes MD5, SHA-256, SHA-512-256\n");
        return kUsage;
      }
      algorithms = *list;
    } else if (a == "--min-length" && i + 1 < argc) {
      const std::string_view n = argv[++i];
      const auto [end, ec] = std::from_chars(n.data(), n.data() + n.size(), policy.min_length);
      if (ec != std::errc() || end != n.data() + n.size()) return usage();
    } else if (a == "--no-upper") {
      policy.require_upper = false;
    } else if (a == "--no-lower") {
      policy.require_lower = false;
    } else if (a == "--no-digit") {
      policy.require_digit = false;
    } else if (a == "-h" || a == "--help") {
      usage();
      return 0;
    } else if (a.starts_with("-") && a != "-") {
      return usage();
    } else {
      operands.emplace_back(a);
    }
  }
  const size_t want = mode == Mode::check ? 1 : 2;
  if (operands.size() != want || (create && mode != Mode::set)) return usage();
  const std::string& path = operands[0];

  if (mode == Mode::check) {
    const Result<CredentialsFile> file = CredentialsFile::load(path);
    if (!file) return fail("\n" + file.error());
    std::printf("%s: %zu accounts\n", path.c_str(), file->entries().size());
    return 0;
  }

  const std::string& account = operands[1];
  const size_t at = account.find('@');
  if (at == std::string::npos) return fail("expected USER@REALM, got '" + account + "'");
  const std::string user = account.substr(0, at);
  const std::string realm = account.substr(at + 1);
  if (const auto p = CredentialsFile::user_problem(user)) return fail(*p);
  if (const auto p = CredentialsFile::realm_problem(realm)) return fail(*p);

  CredentialsFile file;
  if (create) {
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0) return fail(path + " exists (-c creates a new file)");
  } else {
    Result<CredentialsFile> loaded = CredentialsFile::load(path);
    if (!loaded) return fail(loaded.error());
    file = std::move(loaded).value();
  }

  switch (mode) {
    case Mode::remove:
      if (!file.remove(user, realm)) return fail(account + " is not in " + path);
      return write(path, file);
    case Mode::verify: {
      const CredentialEntry* e = file.find(user, realm);
      if (e == nullptr) return fail(account + " is not in " + path);
      const std::optional<std::string> password = read_password(/*confirm=*/false);
      if (!password) return fail("no password read");
      if (!credential_matches(*e, *password)) {
        std::fprintf(stderr, "sipwall-passwd: password does not match\n");
        return kNoMatch;
      }
      std::printf("password matches\n");
      return 0;
    }
    case Mode::set: {
      const std::optional<std::string> password = read_password(/*confirm=*/true);
      if (!password) return fail("no password read");
      if (const auto problem = password_problem(*password, policy)) {
        return fail("password refused: " + *problem);
      }
      file.set(make_credential(user, realm, *password, algorithms));
      return write(path, file);
    }
    case Mode::check:
      break;
  }
  return 0;
}
