// sipwallctl: talks to a running sipwall-dataplane over its control socket.
//
//   sipwallctl [--socket PATH] reload|status|counters
//
// Prints the reply; exits 0 when the command succeeded, 1 when it was refused or failed
// (e.g. a reload of a broken rule file), 2 on usage errors.
#include <cstdio>
#include <exception>
#include <string>
#include <string_view>

#include "control_socket.h"

namespace {

constexpr const char* kDefaultSocket = "/run/sipwall/dataplane.sock";
constexpr int kTimeoutMs = 60'000;  // a reload compiles the whole rule set

int usage() {
  std::fprintf(stderr, "usage: sipwallctl [--socket PATH] reload|status|counters\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string path = kDefaultSocket;
  std::string command;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--socket" && i + 1 < argc) {
      path = argv[++i];
    } else if (a == "-h" || a == "--help") {
      return usage();
    } else if (command.empty() && !a.starts_with("-")) {
      command = a;
    } else {
      return usage();
    }
  }
  if (command.empty()) return usage();
  try {
    const std::string reply = sipwall::control_request(path, command, kTimeoutMs);
    std::fputs(reply.c_str(), stdout);
    const bool failed = reply.starts_with("error") || reply.starts_with("refused");
    return failed ? 1 : 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sipwallctl: %s: %s\n", path.c_str(), e.what());
    return 1;
  }
}
