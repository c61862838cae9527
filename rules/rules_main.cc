// sipwall-rules: offline tooling for rule files. `check` compiles a set exactly as a reload
// would and says whether the dataplane would accept it.

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "rules/explain.h"
#include "rules/rule_compiler.h"

namespace {

using sipwall::rules::compile_rules_file;
using sipwall::rules::CompileOptions;
using sipwall::rules::CompileStats;
using sipwall::rules::ControlConfig;

constexpr int kValid = 0;
constexpr int kInvalid = 1;
constexpr int kUsage = 2;

void usage(std::FILE* to) {
  std::fputs(
      "usage: sipwall-rules check [OPTIONS] FILE\n"
      "  Parses FILE and its includes, compiles every signature with Hyperscan and reports\n"
      "  errors as file:line:column. Exit status: 0 valid, 1 errors, 2 usage.\n"
      "options:\n"
      "  --max-signatures N      refuse a set with more signatures (default 20000)\n"
      "  --max-compile-ms N      refuse a set whose Hyperscan compile takes longer (default "
      "30000)\n"
      "  --max-database-bytes N  refuse a set whose databases are larger (default 268435456)\n"
      "usage: sipwall-rules explain FILE --pcap CAPTURE [--control-at N:COMMAND]... "
      "[--control-file FILE]\n"
      "  Judges CAPTURE with FILE through sipwall-dataplane's offline mode and prints, for\n"
      "  every packet, its verdict and the signature, limit or ACL entry that decided it;\n"
      "  with control commands replayed (as the dataplane's --control-at/--control-file), a\n"
      "  ban drop names the ban's id and the command that added it.\n",
      to);
}

bool parse_u64(std::string_view s, uint64_t& out) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return !s.empty() && ec == std::errc{} && end == s.data() + s.size();
}

std::string format_ms(double ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", ms);
  return buf;
}

int check(const std::vector<std::string_view>& args) {
  CompileOptions options;
  std::string file;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string_view a = args[i];
    uint64_t value = 0;
    const bool has_value = i + 1 < args.size() && parse_u64(args[i + 1], value);
    if (a == "--max-signatures" || a == "--max-compile-ms" || a == "--max-database-bytes") {
      if (!has_value) {
        std::cerr << "sipwall-rules: " << a << " needs a whole number\n";
        return kUsage;
      }
      ++i;
      if (a == "--max-signatures") options.budget.max_signatures = value;
      if (a == "--max-compile-ms") options.budget.max_compile_ms = value;
      if (a == "--max-database-bytes") options.budget.max_database_bytes = value;
    } else if (a.starts_with("-") && a.size() > 1) {
      std::cerr << "sipwall-rules: unknown option " << a << "\n";
      return kUsage;
    } else if (file.empty()) {
      file = a;
    } else {
      std::cerr << "sipwall-rules: check takes one FILE\n";
      return kUsage;
    }
  }
  if (file.empty()) {
    usage(stderr);
    return kUsage;
  }

  const auto result = compile_rules_file(file, options);
  if (!result.ok()) {
    std::cerr << result.diagnostics.to_string();
    std::cerr << file << ": " << result.diagnostics.count()
              << (result.diagnostics.count() == 1 ? " error" : " errors") << "\n";
    return kInvalid;
  }
  const CompileStats& s = result.rules->stats;
  std::cout << file << ": ok: " << s.signatures << " signatures, " << s.limits << " limits, "
            << s.overrides << " overrides, " << s.acl_entries << " acl entries, " << s.files
            << (s.files == 1 ? " file" : " files") << ", version " << result.rules->version
            << ", parse " << format_ms(s.parse_ms) << " ms, compile " << format_ms(s.compile_ms)
            << " ms, database " << s.database_bytes << " bytes";
  // Only when there is a control plane to speak of, so dataplane-only sets print as before.
  const ControlConfig& c = result.rules->control;
  if (c.core || !c.trunks.empty() || !c.accounts.empty()) {
    std::cout << "; control: core " << (c.core ? c.core->id : "none") << ", " << c.trunks.size()
              << (c.trunks.size() == 1 ? " trunk, " : " trunks, ") << c.accounts.size()
              << (c.accounts.size() == 1 ? " account" : " accounts");
  }
  std::cout << "\n";
  return kValid;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string_view> args(argv + 1, argv + argc);
  if (args.empty()) {
    usage(stderr);
    return kUsage;
  }
  if (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    usage(stdout);
    return kValid;
  }
  if (args[0] == "check") return check({args.begin() + 1, args.end()});
  if (args[0] == "explain") return sipwall::rules::explain_command({args.begin() + 1, args.end()});
  std::cerr << "sipwall-rules: unknown command '" << args[0] << "'\n";
  usage(stderr);
  return kUsage;
}
