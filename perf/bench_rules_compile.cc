// Parse + compile cost of generated rule sets: 10, 1,000 and 10,000 signatures of the shapes
// operators write (anchored User-Agent literals, floating header literals, some regexes).
// One line per size: signatures=N compile_ms=F db_bytes=N (compile_ms is parse + compile).

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "rules/rule_compiler.h"

namespace {

std::string generate(size_t n) {
  static constexpr std::string_view kHeaders[] = {"From", "To", "Contact", "Subject", "X-Custom"};
  std::string text = "profile strict\nlimit b:sip class=sip rate=50 burst=100\n";
  for (size_t i = 0; i < n; ++i) {
    const std::string id = "bench:sig." + std::to_string(i);
    const std::string tag = "tool" + std::to_string(i * 7919 % 100000);
    switch (i % 10) {
      case 0:
      case 1:
      case 2:
      case 3:  // scanner User-Agent, anchored literal
        text += "signature " + id + " scope=header:User-Agent pattern=/^" + tag +
                "\\b/i msg=\"scanner " + tag + "\"\n";
        break;
      case 4:
      case 5:
      case 6:  // floating literal in a header value
        text += "signature " + id + " scope=header:" + std::string(kHeaders[i % 5]) + " pattern=/" +
                tag + "-probe/i msg=\"probe\"\n";
        break;
      case 7:  // literal with a character class tail
        text += "signature " + id + " scope=request-uri pattern=/sip:" + tag +
                "[0-9]{2,6}@/ msg=\"dialer\"\n";
        break;
      case 8:  // alternation regex
        text += "signature " + id + " action=alert scope=header:From pattern=/(?:" + tag + "|x" +
                tag + ")\\s?(?:=|like\\s)/i msg=\"sqli-ish\"\n";
        break;
      default:  // bounded body regex
        text += "signature " + id + " scope=body pattern=/a=" + tag +
                ":[^\\r\\n]{1,32}\\r?\\n/ msg=\"sdp\"\n";
        break;
    }
  }
  return text;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<size_t> sizes{10, 1000, 10000};
  if (argc > 1) {
    sizes.clear();
    for (int i = 1; i < argc; ++i) sizes.push_back(std::strtoul(argv[i], nullptr, 10));
  }
  sipwall::rules::CompileOptions options;
  options.budget.max_compile_ms = 600'000;  // measure, do not refuse
  for (size_t n : sizes) {
    const std::string text = generate(n);
    const auto r = sipwall::rules::compile_rules_text(text, "bench.rules", options);
    if (!r.ok()) {
      std::fprintf(stderr, "%s", r.diagnostics.to_string().c_str());
      return 1;
    }
    const auto& s = r.rules->stats;
    std::printf("signatures=%zu compile_ms=%.1f db_bytes=%zu (parse_ms=%.1f hyperscan_ms=%.1f)\n",
                s.signatures, s.parse_ms + s.compile_ms, s.database_bytes, s.parse_ms,
                s.compile_ms);
    std::fflush(stdout);
  }
  return 0;
}
