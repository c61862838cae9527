// sipwallctl: the operator's client for a running sipwall-dataplane's control socket.
//
//   sipwallctl [--socket PATH] [--json] [--timeout SECONDS] COMMAND [WORDS...]
//
// The command's words are joined with single spaces and sent as one line, e.g.
//   sipwallctl ban add 192.0.2.0/24 ttl=60 id=scan-42
//   sipwallctl --json ban list
// (`sipwallctl help` lists what the dataplane serves; the grammar is control/protocol/command.h).
// Output: the dataplane's reply as it is, or with --json one JSON object on one line.
// Exit status:
//   0  done: "ok ...", "exists: ...", or the text of status, counters, help, a reload applied
//   1  refused by the dataplane: "full", "not found", "error: ...", a reload refused
//   2  usage error (nothing sent)
//   3  the dataplane could not be reached, or closed or timed out before replying
#include <charconv>
#include <cstdio>
#include <exception>
#include <string>
#include <string_view>

#include "control/protocol/reply.h"
#include "control_socket.h"

namespace {

constexpr const char* kDefaultSocket = "/run/sipwall/dataplane.sock";
constexpr int kDefaultTimeoutS = 60;  // a reload compiles the whole rule set

int usage() {
  std::fprintf(stderr,
               "usage: sipwallctl [--socket PATH] [--json] [--timeout SECONDS] COMMAND [WORDS...]\n"
               "  e.g. sipwallctl ban add 192.0.2.0/24 ttl=60; sipwallctl help lists commands\n"
               "exit: 0 done, 1 refused by the dataplane, 2 usage, 3 dataplane unreachable\n");
  return 2;
}

// True when the reply says the command was not carried out.
bool refused(const std::string& text, const std::optional<sipwall::Reply>& reply) {
  using sipwall::ReplyStatus;
  if (reply) {
    return reply->status == ReplyStatus::full || reply->status == ReplyStatus::not_found ||
           reply->status == ReplyStatus::error;
  }
  return text.starts_with("error") || text.starts_with("refused");
}

}  // namespace

int main(int argc, char** argv) {
  std::string path = kDefaultSocket;
  bool json = false;
  int timeout_s = kDefaultTimeoutS;
  std::string command;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (command.empty() && a == "--socket" && i + 1 < argc) {
      path = argv[++i];
    } else if (command.empty() && a == "--json") {
      json = true;
    } else if (command.empty() && a == "--timeout" && i + 1 < argc) {
      const std::string_view v = argv[++i];
      const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), timeout_s);
      if (ec != std::errc{} || end != v.data() + v.size() || timeout_s <= 0) return usage();
    } else if (command.empty() && (a == "-h" || a == "--help")) {
      usage();
      return 0;
    } else if (command.empty() && a.starts_with("-")) {
      return usage();
    } else {
      if (!command.empty()) command += ' ';
      command += a;
    }
  }
  if (command.empty()) return usage();
  if (command.find('\n') != std::string::npos) return usage();
  std::string text;
  try {
    text = sipwall::control_request(path, command, timeout_s * 1000);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sipwallctl: %s: %s\n", path.c_str(), e.what());
    return 3;
  }
  if (!text.empty() && text.back() == '\n') text.pop_back();
  const std::optional<sipwall::Reply> reply = sipwall::parse_reply(text);
  const bool failed = refused(text, reply);
  if (!json) {
    std::printf("%s\n", text.c_str());
  } else if (reply) {
    std::printf("%s\n", sipwall::format_reply_json(*reply).c_str());
  } else if (failed) {
    std::printf("%s\n", sipwall::format_reply_json(sipwall::Reply::error(text)).c_str());
  } else {
    std::printf("%s\n", sipwall::text_reply_json(text).c_str());
  }
  return failed ? 1 : 0;
}
