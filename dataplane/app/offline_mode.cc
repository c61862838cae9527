#include "offline_mode.h"

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <sched.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <vector>

#include "capture_scan.h"
#include "offline_driver.h"
#include "offline_report.h"
#include "port_setup.h"
#include "rule_loading.h"
#include "sig/signature_set.h"
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
  if (rte_eal_init(static_cast<int>(argv.size()), argv.data()) < 0) {
    return fail("EAL initialisation failed: " + std::string(rte_strerror(rte_errno)));
  }
  int status = 0;
  {
    const auto outside = port_by_name("net_pcap_offline0");
    const auto inside = port_by_name("net_null_inside0");
    const auto punt = port_by_name("net_null_punt0");
    rte_mempool* pool = rte_pktmbuf_pool_create("offline_pool", kOfflinePoolSize, 256, 0,
                                                RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
    std::string err;
    if (!outside || !inside || !punt) err = "virtual devices did not come up";
    if (err.empty() && !pool) err = "cannot create the mbuf pool";
    for (const auto port : {outside, inside, punt}) {
      if (err.empty()) err = setup_port(*port, PortQueues{1, 1}, pool);
    }
    if (!err.empty()) {
      status = fail(err);
    } else {
      std::vector<PacketVerdict> verdicts(scan.packet_times.size());
      uint64_t out_of_range = 0;
      WorkerSetup setup{WorkerPorts{*outside, *inside, *punt},
                        0,
                        false,
                        ClockMode::tsc,  // unused: OfflineDriver brings the capture clock
                        {},
                        0,
                        {},
                        {},
                        0};
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
      OfflineDriver driver(*worker, scan.packet_times);
      driver.set_observer([&](uint64_t seq, const Decision& d) {
        if (seq >= verdicts.size() || verdicts[seq].decided) {
          ++out_of_range;
          return;
        }
        verdicts[seq] = PacketVerdict{d, static_cast<uint16_t>(generations.size() - 1), true};
      });
      // Scheduled reloads, applied exactly as a live reload: compile off to the side, switch
      // the policy between packets, keep the old rules when the new ones are refused.
      std::ofstream reload_log(options.offline.out_dir + "/reloads.jsonl", std::ios::trunc);
      size_t next_reload = 0;
      driver.set_before_packet([&](uint64_t seq) {
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
          reload_log << "{\"before_packet\":" << r.before_packet
                     << ",\"file\":" << json_string(r.file)
                     << ",\"applied\":" << (error.empty() ? "true" : "false");
          if (error.empty()) {
            reload_log << ",\"version\":" << json_string(next.rules.version) << "}\n";
            generations.push_back({std::move(next.rules), std::move(policy)});
            worker->pipeline().adopt(*generations.back().policy);
          } else {
            reload_log << ",\"error\":" << json_string(error) << "}\n";
          }
        }
      });
      driver.run();
      const uint64_t received = driver.received();
      const WorkerCounters& counted = worker->counters();
      if (received != scan.packet_times.size()) {
        status = fail("read " + std::to_string(received) + " of " +
                      std::to_string(scan.packet_times.size()) + " packets from the capture");
      } else if (out_of_range != 0 || counted.packets != received) {
        status = fail("internal error: " + std::to_string(counted.packets) +
                      " packets counted for " + std::to_string(received) + " received");
      } else {
        OfflineReportInput report{options.offline.input, scan.nanosecond_file, &verdicts,
                                  [&](const Decision& d, uint16_t generation) {
                                    return decided_by(generations[generation].rules, d);
                                  }};
        if (auto e = write_offline_report(report, options.offline.out_dir); !e.empty()) {
          status = fail(e);
        }
      }
      worker.reset();
    }
    for (const auto port : {outside, inside, punt}) {
      if (port) {
        rte_eth_dev_stop(*port);
        rte_eth_dev_close(*port);
      }
    }
    if (pool) rte_mempool_free(pool);
  }
  rte_eal_cleanup();
  return status;
}

}  // namespace sipwall
