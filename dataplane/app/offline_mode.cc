#include "offline_mode.h"

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <unordered_map>
#include <vector>

#include "capture_scan.h"
#include "control/protocol/command.h"
#include "control/protocol/reply.h"
#include "offline_driver.h"
#include "offline_report.h"
#include "port_set.h"
#include "rule_loading.h"
#include "sig/signature_set.h"
#include "state_service.h"
#include "worker.h"

namespace sipwall {
namespace {

namespace fs = std::filesystem;

constexpr unsigned kOfflinePoolSize = 8191;

int fail(const std::string& message) {
  std::fprintf(stderr, "sipwall-dataplane: %s\n", message.c_str());
  return 1;
}

int first_allowed_cpu() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
      if (CPU_ISSET(cpu, &set)) return cpu;
    }
  }
  return 0;
}

// DPDK device arguments are split at ',', so the capture is reached through a link in a private
// directory whose name is known to be safe.
struct CaptureLink {
  fs::path dir;
  fs::path link;
  ~CaptureLink() {
    std::error_code ec;
    if (!dir.empty()) fs::remove_all(dir, ec);
  }
};

std::string make_capture_link(const std::string& input, CaptureLink& out) {
  char tmpl[] = "/tmp/sipwall-offline-XXXXXX";
  if (!mkdtemp(tmpl)) return "cannot create a temporary directory";
  out.dir = tmpl;
  out.link = out.dir / "capture.pcap";
  std::error_code ec;
  fs::create_symlink(fs::absolute(input), out.link, ec);
  if (ec) return "cannot link the capture: " + ec.message();
  return {};
}

// --control-at commands and the lines of --control-file, in packet order (stable: at one
// packet, --control-at first, then the file's lines in file order).
std::string scheduled_commands(const OfflineOptions& o, std::vector<ScheduledCommand>& out) {
  out = o.commands;
  if (!o.control_file.empty()) {
    std::ifstream in(o.control_file);
    if (!in) return "cannot read --control-file " + o.control_file;
    std::string line;
    for (size_t number = 1; std::getline(in, line); ++number) {
      const size_t start = line.find_first_not_of(" \t");
      if (start == std::string::npos || line[start] == '#') continue;
      auto c = parse_scheduled_command(std::string_view(line).substr(start), ' ');
      if (!c) {
        return o.control_file + ":" + std::to_string(number) +
               ": expected \"PACKET COMMAND\" (PACKET counted from 1)";
      }
      out.push_back(std::move(*c));
    }
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& a, const auto& b) { return a.before_packet < b.before_packet; });
  return {};
}

// One scheduled command at packet time `now`, applied as live mode applies it: checked against
// the master copy, then applied to the worker's pipeline between two packets. Returns the reply.
std::string run_command(std::string_view line, StateService& service, Pipeline& pipeline, Nanos now,
                        Nanos first_packet) {
  ParseResult parsed = parse_command(line);
  if (const auto* e = std::get_if<ParseError>(&parsed)) return format_reply(Reply::from(*e));
  const Command& command = std::get<Command>(parsed);
  if (std::holds_alternative<PingCommand>(command)) {
    // The run's "boot": the capture's first packet, so the answer is deterministic.
    return format_reply(Reply::ok().with("epoch", std::to_string(first_packet / kNanosPerSecond)));
  }
  if (std::holds_alternative<ReloadCommand>(command) ||
      std::holds_alternative<StatusCommand>(command) ||
      std::holds_alternative<CountersCommand>(command)) {
    return format_reply(Reply::error("not in offline mode (reloads: --reload-at)"));
  }
  StateService::Step step = service.execute(1, command, now);
  if (step.reply) return format_reply(*step.reply);
  bool full = false;
  for (const StateUpdate& u : step.work->updates) {
    const ApplyResult r = pipeline.apply(u, now);
    full |= r.outcome == Outcome::full || r.rejected > 0;
  }
  return format_reply(StateService::reply_after(*step.work, full));
}

std::optional<uint16_t> port_by_name(const char* name) {
  uint16_t port = 0;
  if (rte_eth_dev_get_port_by_name(name, &port) != 0) return std::nullopt;
  return port;
}

}  // namespace

int run_offline(const AppOptions& options, const std::string& program) {
  const CaptureScan scan = scan_capture(options.offline.input);
  if (!scan.error.empty()) return fail(scan.error);
  std::error_code ec;
  fs::create_directories(options.offline.out_dir, ec);
  if (ec)
    return fail("cannot create output directory '" + options.offline.out_dir +
                "': " + ec.message());

  StableSlots limit_slots(kMaxLimitSlots);  // limit ids keep their buckets across reloads
  const RuleLoad loaded = load_rules(options.rules_file, options.overrides, limit_slots);
  if (!loaded.error.empty()) return fail("rules refused:\n" + loaded.error);
  if (!loaded.warning.empty())
    std::fprintf(stderr, "sipwall-dataplane: %s\n", loaded.warning.c_str());

  std::vector<ScheduledCommand> commands;
  if (auto e = scheduled_commands(options.offline, commands); !e.empty()) return fail(e);

  CaptureLink link;
  if (auto err = make_capture_link(options.offline.input, link); !err.empty()) return fail(err);

  const std::vector<std::string> eal = {
      program,
      "-l",
      std::to_string(first_allowed_cpu()),
      "--no-huge",
      "-m",
      "512",
      "--no-pci",
      "--no-shconf",
      "--no-telemetry",
      "--log-level=error",
      "--file-prefix",
      "sipwall-offline-" + std::to_string(getpid()),
      "--vdev",
      "net_pcap_offline0,rx_pcap=" + link.link.string(),
      "--vdev",
      "net_null_inside0,no-rx=1",
      "--vdev",
      "net_null_punt0,no-rx=1",
  };
  std::vector<char*> argv;
  for (const auto& a : eal) argv.push_back(const_cast<char*>(a.c_str()));
  // Declared in teardown order: the worker goes first, then the ports and the pool, then EAL.
  EalSession eal_session(static_cast<int>(argv.size()), argv.data());
  if (!eal_session.ok()) {
    return fail("EAL initialisation failed: " + std::string(rte_strerror(rte_errno)));
  }
  PortSet ports;
  const auto outside = port_by_name("net_pcap_offline0");
  const auto inside = port_by_name("net_null_inside0");
  const auto punt = port_by_name("net_null_punt0");
  if (!outside || !inside || !punt) return fail("virtual devices did not come up");
  if (auto e = ports.create_pool("offline_pool", kOfflinePoolSize); !e.empty()) return fail(e);
  for (const auto port : {outside, inside, punt}) {
    if (auto e = ports.start(*port, PortQueues{1, 1}); !e.empty()) return fail(e);
  }

  std::vector<PacketVerdict> verdicts(scan.packet_times.size());
  uint64_t out_of_range = 0;
  // The clock fields stay unused: OfflineDriver brings the capture clock.
  WorkerSetup setup;
  setup.ports = WorkerPorts{*outside, *inside, *punt};
  setup.poll_inside = false;
  // Every rule set used in the run stays alive to its end: verdicts name rules by them.
  struct Generation {
    LoadedRules rules;
    std::unique_ptr<const FilterPolicy> policy;
  };
  std::vector<Generation> generations;
  auto first = FilterPolicy::build(loaded.rules.filter, loaded.rules.signatures, 1);
  if (!first.policy) return fail("cannot build the filter: " + first.error);
  generations.push_back({loaded.rules, std::move(first.policy)});
  std::unique_ptr<Worker> worker;
  try {
    worker = std::make_unique<Worker>(setup, *generations.back().policy);
  } catch (const std::exception& e) {
    return fail(std::string("cannot build the filter: ") + e.what());
  }
  // A ban's id is read while the drop is decided: its handle names a table position.
  std::unordered_map<uint64_t, std::string> ban_ids;
  OfflineDriver driver(*worker, scan.packet_times);
  driver.set_observer([&](uint64_t seq, const Decision& d) {
    if (seq >= verdicts.size() || verdicts[seq].decided) {
      ++out_of_range;
      return;
    }
    verdicts[seq] = PacketVerdict{d, static_cast<uint16_t>(generations.size() - 1), true};
    if (d.reason == DropReason::ban && d.rule != kNoRule) {
      ban_ids[seq] = std::string(worker->pipeline().ban_id(d.rule));
    }
  });
  // Scheduled reloads, applied exactly as a live reload: compile off to the side, switch the
  // policy between packets, keep the old rules when the new ones are refused.
  std::ofstream reload_log(options.offline.out_dir + "/reloads.jsonl", std::ios::trunc);
  size_t next_reload = 0;
  auto apply_reloads = [&](uint64_t seq) {
    const auto& schedule = options.offline.reloads;
    for (; next_reload < schedule.size() && schedule[next_reload].before_packet == seq + 1;
         ++next_reload) {
      const ScheduledReload& r = schedule[next_reload];
      RuleLoad next = load_rules(r.file, options.overrides, limit_slots);
      std::string error = next.error;
      std::unique_ptr<const FilterPolicy> policy;
      if (error.empty()) {
        auto built = FilterPolicy::build(next.rules.filter, next.rules.signatures, 1);
        error = built.error;
        policy = std::move(built.policy);
      }
      reload_log << "{\"before_packet\":" << r.before_packet << ",\"file\":" << json_string(r.file)
                 << ",\"applied\":" << (error.empty() ? "true" : "false");
      if (error.empty()) {
        reload_log << ",\"version\":" << json_string(next.rules.version) << "}\n";
        generations.push_back({std::move(next.rules), std::move(policy)});
        worker->pipeline().adopt(*generations.back().policy);
      } else {
        reload_log << ",\"error\":" << json_string(error) << "}\n";
      }
    }
  };
  // Scheduled control commands (DIR/control.jsonl), at the time of the packet they precede.
  StateService service(dynamic_state_config(generations.front().policy->config()));
  std::ofstream control_log(options.offline.out_dir + "/control.jsonl", std::ios::trunc);
  size_t next_command = 0;
  auto log_command = [&](const ScheduledCommand& c, bool applied, const std::string& reply) {
    control_log << "{\"before_packet\":" << c.before_packet
                << ",\"command\":" << json_string(c.line)
                << ",\"applied\":" << (applied ? "true" : "false")
                << ",\"reply\":" << json_string(reply) << "}\n";
  };
  auto apply_commands = [&](uint64_t seq) {
    for (; next_command < commands.size() && commands[next_command].before_packet == seq + 1;
         ++next_command) {
      const ScheduledCommand& c = commands[next_command];
      log_command(c, true,
                  run_command(c.line, service, worker->pipeline(), scan.packet_times[seq],
                              scan.packet_times.front()));
    }
  };
  driver.set_before_packet([&](uint64_t seq) {
    apply_reloads(seq);
    apply_commands(seq);
  });
  driver.run();
  const uint64_t received = driver.received();
  const WorkerCounters& counted = worker->counters();
  if (received != scan.packet_times.size()) {
    return fail("read " + std::to_string(received) + " of " +
                std::to_string(scan.packet_times.size()) + " packets from the capture");
  }
  if (out_of_range != 0 || counted.packets != received) {
    return fail("internal error: " + std::to_string(counted.packets) + " packets counted for " +
                std::to_string(received) + " received");
  }
  for (; next_command < commands.size(); ++next_command) {
    log_command(commands[next_command], false,
                "error: the capture has only " + std::to_string(received) + " packets");
  }
  control_log.flush();
  if (!control_log) return fail("cannot write " + options.offline.out_dir + "/control.jsonl");
  OfflineReportInput report{options.offline.input, scan.nanosecond_file, &verdicts,
                            [&](size_t index, const Decision& d, uint16_t generation) {
                              if (d.reason == DropReason::ban) {
                                auto it = ban_ids.find(index);
                                return it == ban_ids.end() ? std::string() : it->second;
                              }
                              return decided_by(generations[generation].rules, d);
                            }};
  if (auto e = write_offline_report(report, options.offline.out_dir); !e.empty()) return fail(e);
  return 0;
}

}  // namespace sipwall
