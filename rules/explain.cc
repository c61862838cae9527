#include "rules/explain.h"

#include <pcap/pcap.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "common/path_search.h"
#include "control/protocol/command.h"
#include "packet/packet_parser.h"
#include "rules/rule_compiler.h"

namespace sipwall::rules {
namespace {

namespace fs = std::filesystem;

// Appends piecewise: GCC 12 -O3 raises a false -Wrestrict on "literal" + std::string chains.
template <typename... Parts>
std::string concat(const Parts&... parts) {
  std::string out;
  (out.append(std::string_view(parts)), ...);
  return out;
}

constexpr std::string_view kUsageText =
    "usage: sipwall-rules explain FILE --pcap CAPTURE [--control-at N:COMMAND]... "
    "[--control-file FILE]\n";
constexpr int kOk = 0;
constexpr int kFailed = 1;
constexpr int kUsage = 2;

// The dataplane binary: $SIPWALL_DATAPLANE, next to this program, then the paths meson knows.
std::string find_dataplane(const char* self) {
  if (const char* env = std::getenv("SIPWALL_DATAPLANE"); env && *env) return env;
  std::error_code ec;
  const fs::path sibling = fs::absolute(self, ec).parent_path() / "sipwall-dataplane";
  if (!ec && fs::is_regular_file(sibling, ec)) return sibling;
  return first_existing_file(SIPWALL_DATAPLANE_PATHS);
}

int run(const std::vector<std::string>& argv) {
  const pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  if (waitpid(pid, &status, 0) < 0) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// The value of "key":"..." in one verdicts.jsonl line (the dataplane writes no escapes in ids).
std::string field(const std::string& line, std::string_view key) {
  const std::string needle = concat("\"", key, "\":\"");
  const auto at = line.find(needle);
  if (at == std::string::npos) return {};
  const auto start = at + needle.size();
  return line.substr(start, line.find('"', start) - start);
}

// The number after "key": in one JSON line (0 when absent).
uint64_t number_field(const std::string& line, std::string_view key) {
  const std::string needle = concat("\"", key, "\":");
  const auto at = line.find(needle);
  return at == std::string::npos ? 0
                                 : std::strtoull(line.c_str() + at + needle.size(), nullptr, 10);
}

// A ban the replayed commands added: the command line and the packet it came before.
struct AppliedBan {
  uint64_t before_packet = 0;
  std::string line;
  PrefixAddCommand add;
};

// The `ban add` commands of DIR/control.jsonl that the dataplane accepted, in order.
std::vector<AppliedBan> applied_bans(const fs::path& control_log) {
  std::vector<AppliedBan> bans;
  std::ifstream in(control_log);
  std::string line;
  while (std::getline(in, line)) {
    const std::string command = field(line, "command");
    const std::string reply = field(line, "reply");
    const bool accepted = reply == "ok" || reply.starts_with("exists");
    if (!accepted || line.find("\"applied\":true") == std::string::npos) continue;
    const ParseResult parsed = parse_command(command);
    const auto* c = std::get_if<Command>(&parsed);
    const auto* add = c ? std::get_if<PrefixAddCommand>(c) : nullptr;
    if (add && add->table == StateTable::ban) {
      bans.push_back({number_field(line, "before_packet"), command, *add});
    }
  }
  return bans;
}

// The command that added the ban which dropped packet n (1-based) from `source`, named `id`
// ("" for a ban without one): the latest accepted `ban add` before that packet with that id
// whose prefix holds the source.
const AppliedBan* deciding_ban(const std::vector<AppliedBan>& bans, uint64_t n,
                               const std::optional<IpAddress>& source, std::string_view id) {
  for (auto it = bans.rbegin(); it != bans.rend(); ++it) {
    if (it->before_packet > n || it->add.id.view() != id) continue;
    if (source && !it->add.prefix.contains(*source)) continue;
    return &*it;
  }
  return nullptr;
}

std::optional<IpAddress> source_of(std::span<const uint8_t> frame) {
  ParsedPacket p;
  if (parse_packet(frame, p) != ParseStatus::ok || !p.is_ip) return std::nullopt;
  return p.src;
}

std::string endpoint(const IpAddress& a, uint16_t port, bool with_port) {
  const std::string host = a.is_v4() ? a.to_string() : concat("[", a.to_string(), "]");
  return with_port ? concat(host, ":", std::to_string(port)) : host;
}

// "src -> dst  first line" for one frame.
std::string describe(std::span<const uint8_t> frame) {
  ParsedPacket p;
  if (parse_packet(frame, p) != ParseStatus::ok) return "(malformed headers)";
  if (!p.is_ip) return concat("(non-IP, ethertype ", std::to_string(p.ethertype), ")");
  const bool ports = p.l4 == L4Proto::udp || p.l4 == L4Proto::tcp;
  std::string out =
      concat(endpoint(p.src, p.src_port, ports), " -> ", endpoint(p.dst, p.dst_port, ports));
  if (p.frag.is_fragment) {
    return concat(out, "  (IP fragment at offset ", std::to_string(p.frag.offset), ")");
  }
  const std::string_view payload(reinterpret_cast<const char*>(p.l4_payload.data()),
                                 p.l4_payload.size());
  const auto eol = payload.find("\r\n");
  const auto line = payload.substr(0, std::min<size_t>(eol, 72));
  const bool text = !line.empty() && std::all_of(line.begin(), line.end(),
                                                 [](char c) { return c >= 0x20 && c < 0x7f; });
  if (text) out = concat(out, "  ", line);
  return out;
}

}  // namespace

int explain_command(const std::vector<std::string_view>& args) {
  std::string file, capture;
  std::vector<std::string> replay;  // --control-at / --control-file, handed to the dataplane
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--pcap" && i + 1 < args.size()) {
      capture = args[++i];
    } else if ((args[i] == "--control-at" || args[i] == "--control-file") && i + 1 < args.size()) {
      replay.emplace_back(args[i]);
      replay.emplace_back(args[++i]);
    } else if (!args[i].starts_with("-") && file.empty()) {
      file = args[i];
    } else {
      std::cerr << kUsageText;
      return kUsage;
    }
  }
  if (file.empty() || capture.empty()) {
    std::cerr << kUsageText;
    return kUsage;
  }
  const auto compiled = compile_rules_file(file);
  if (!compiled.ok()) {
    std::cerr << compiled.diagnostics.to_string();
    return kFailed;
  }
  // Where each id is defined, to point from a verdict to the line that caused it.
  std::map<std::string, std::string> where;
  const CompiledRules& rules = *compiled.rules;
  for (size_t i = 0; i < rules.signatures->size(); ++i) {
    const SignatureRule& rule = rules.signatures->rule(static_cast<RuleIndex>(i));
    where[rule.id] = concat(rules.signature_where[i].to_string(), " \"", rule.message, "\"");
  }
  for (const auto& slot : rules.limit_plan.slots) {
    where[slot.id] = concat(slot.where.to_string(), " (", std::to_string(slot.params.rate_per_sec),
                            "/s, burst ", std::to_string(slot.params.burst), ")");
  }

  const std::string dataplane = find_dataplane(SIPWALL_SELF_NAME);
  if (dataplane.empty()) {
    std::cerr << "sipwall-rules: cannot find sipwall-dataplane (set SIPWALL_DATAPLANE)\n";
    return kFailed;
  }
  char tmpl[] = "/tmp/sipwall-explain-XXXXXX";
  if (!mkdtemp(tmpl)) {
    std::cerr << "sipwall-rules: cannot create a temporary directory\n";
    return kFailed;
  }
  const fs::path out = tmpl;
  struct Cleanup {
    fs::path dir;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  } cleanup{out};
  std::vector<std::string> argv = {dataplane,    "--offline", capture, "--out",
                                   out.string(), "--rules",   file};
  argv.insert(argv.end(), replay.begin(), replay.end());
  if (run(argv) != 0) {
    std::cerr << "sipwall-rules: the dataplane could not judge " << capture << "\n";
    return kFailed;
  }

  char errbuf[PCAP_ERRBUF_SIZE] = {};
  std::unique_ptr<pcap_t, decltype(&pcap_close)> pcap(pcap_open_offline(capture.c_str(), errbuf),
                                                      &pcap_close);
  std::ifstream verdicts(out / "verdicts.jsonl");
  if (!pcap || !verdicts) {
    std::cerr << "sipwall-rules: cannot read the results: " << errbuf << "\n";
    return kFailed;
  }
  const std::vector<AppliedBan> bans = applied_bans(out / "control.jsonl");
  pcap_pkthdr* header = nullptr;
  const u_char* data = nullptr;
  std::string line;
  size_t n = 0;
  while (pcap_next_ex(pcap.get(), &header, &data) == 1 && std::getline(verdicts, line)) {
    ++n;
    std::string verdict = field(line, "verdict");
    if (const auto reason = field(line, "reason"); !reason.empty())
      verdict = concat(verdict, " ", reason);
    std::cout << "#" << n << "  " << verdict << "  " << describe({data, header->caplen}) << "\n";
    const auto rule = field(line, "rule");
    if (field(line, "reason") == "ban") {
      // Bans come from commands, not the rule file: name the command that added this one.
      std::cout << "      by " << (rule.empty() ? "a ban without id" : concat("ban ", rule));
      const auto* ban = deciding_ban(bans, n, source_of({data, header->caplen}), rule);
      if (ban) {
        std::cout << " from '" << ban->line << "' before packet " << ban->before_packet;
      }
      std::cout << "\n";
    } else if (!rule.empty()) {
      const auto w = where.find(rule);
      std::cout << "      by " << rule;
      if (w != where.end()) std::cout << " at " << w->second;
      std::cout << "\n";
    }
  }
  std::ifstream summary(out / "summary.json");
  std::cout << "summary: " << std::string(std::istreambuf_iterator<char>(summary), {});
  return kOk;
}

}  // namespace sipwall::rules
