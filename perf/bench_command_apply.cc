// Latency from a state command to its enforcement on every worker: the live path of a ban
// (parse, master copy, one batch posted to every worker's mailbox, each worker applying it
// between two bursts of real traffic, the control side seeing every worker's sequence number).
//
//   bench_command_apply [--workers N] [--commands N]
//
// Worker lcores run the real Worker loop on net_null ports (a stream of junk frames, so they
// are busy as under load); the main lcore plays the control thread. Each command alternates
// `ban add` and `ban del` of one prefix and is timed from before the parse to the moment every
// worker has applied it. Prints the distribution; last line:
//   RESULT workers=<n> commands=<n> p50_us=<f> p99_us=<f> max_us=<f> mean_us=<f>
// A reference in the same run: the same round trip for a no-op update (the mailbox alone).
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "command_channel.h"
#include "port_set.h"
#include "sig/signature_set.h"
#include "tsc_clock.h"
#include "worker.h"

namespace sipwall::perf {
namespace {

using Clock = std::chrono::steady_clock;
std::atomic<bool> g_stop{false};

int worker_main(void* arg) {
  static_cast<Worker*>(arg)->run(g_stop);
  return 0;
}

struct Stats {
  double p50, p99, max, mean;
};

Stats stats(std::vector<double> us) {
  std::sort(us.begin(), us.end());
  double sum = 0;
  for (double v : us) sum += v;
  return {us[us.size() / 2], us[us.size() * 99 / 100], us.back(), sum / us.size()};
}

int run(int argc, char** argv) {
  size_t commands = 20000;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--commands") == 0 && i + 1 < argc) commands = std::stoul(argv[++i]);
  }
  std::vector<unsigned> lcores;
  unsigned lcore = 0;
  RTE_LCORE_FOREACH_WORKER(lcore) {
    lcores.push_back(lcore);
  }
  if (lcores.empty()) {
    std::fprintf(stderr, "bench: give EAL at least two lcores (main + workers)\n");
    return 1;
  }
  const auto queues = static_cast<uint16_t>(lcores.size());
  PortSet ports;
  if (auto e = ports.create_pool("bench_pool", 8192 * (queues + 1) - 1); !e.empty()) {
    std::fprintf(stderr, "bench: %s\n", e.c_str());
    return 1;
  }
  for (uint16_t p = 0; p < 3; ++p) {
    if (auto e = ports.start(p, {queues, queues}); !e.empty()) {
      std::fprintf(stderr, "bench: %s (needs three net_null vdevs)\n", e.c_str());
      return 1;
    }
  }
  auto signatures = SignatureSet::compile({});
  FilterConfig config;
  config.limits.table_capacity = 4096;
  auto built = FilterPolicy::build(config, std::move(signatures.set), queues);
  if (!built.policy) return 1;
  CommandChannel channel(dynamic_state_config(config), "", tsc_nanos);
  if (auto e = channel.create_mailboxes(queues); !e.empty()) return 1;
  std::vector<std::unique_ptr<Worker>> workers;
  for (uint16_t q = 0; q < queues; ++q) {
    WorkerSetup setup;
    setup.ports = WorkerPorts{0, 1, 2};
    setup.queue = q;
    setup.mailbox = channel.mailbox(q);
    workers.push_back(std::make_unique<Worker>(setup, *built.policy));
  }
  for (size_t i = 0; i < lcores.size(); ++i) {
    rte_eal_remote_launch(worker_main, workers[i].get(), lcores[i]);
  }
  const CommandChannel::Complete nobody = [](uint64_t, const std::string&) {};
  auto round_trip = [&](const char* line) {
    const auto start = Clock::now();
    channel.execute(0, line);
    while (channel.busy()) channel.poll(nobody);
    return std::chrono::duration<double, std::micro>(Clock::now() - start).count();
  };
  std::vector<double> ban_us;
  std::vector<double> ref_us;
  for (size_t i = 0; i < commands; ++i) {
    ban_us.push_back(round_trip(i % 2 ? "ban del 192.0.2.0/24" : "ban add 192.0.2.0/24 ttl=60"));
    // Reference: the same round trip for the cheapest update there is (a switch already set).
    ref_us.push_back(round_trip("pinholes enforce off"));
  }
  g_stop = true;
  rte_eal_mp_wait_lcore();
  const Stats b = stats(ban_us);
  const Stats r = stats(ref_us);
  std::printf("reference (pinholes enforce off): p50=%.1f us p99=%.1f us max=%.1f us\n", r.p50,
              r.p99, r.max);
  std::printf("RESULT workers=%u commands=%zu p50_us=%.1f p99_us=%.1f max_us=%.1f mean_us=%.1f\n",
              queues, commands, b.p50, b.p99, b.max, b.mean);
  workers.clear();
  return 0;
}

}  // namespace
}  // namespace sipwall::perf

int main(int argc, char** argv) {
  sipwall::EalSession eal(argc, argv);
  if (!eal.ok()) return 1;
  return sipwall::perf::run(argc - eal.consumed(), argv + eal.consumed());
}
