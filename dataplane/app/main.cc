// sipwall-dataplane: the DPDK shell around the filter library.
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_random.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "app_options.h"
#include "counters_report.h"
#include "metrics.h"
#include "offline_mode.h"
#include "port_setup.h"
#include "rule_loading.h"
#include "sig/signature_set.h"
#include "worker.h"

namespace sipwall {
namespace {

std::atomic<bool> g_stop{false};

void on_signal(int) {
  g_stop.store(true);
}

int fail(const std::string& message) {
  std::fprintf(stderr, "sipwall-dataplane: %s\n", message.c_str());
  return 1;
}

int worker_main(void* arg) {
  static_cast<Worker*>(arg)->run(g_stop);
  return 0;
}

struct Totals {
  WorkerCounters filter;
  IoCounters io;
};

// Reads other cores' counters without synchronisation: a scrape may be a burst behind.
Totals sum(const std::vector<std::unique_ptr<Worker>>& workers) {
  Totals t;
  for (const auto& w : workers) {
    t.filter += w->counters();
    t.io.rx_outside += w->io().rx_outside;
    t.io.rx_inside += w->io().rx_inside;
    t.io.tx_sent += w->io().tx_sent;
    t.io.tx_failed += w->io().tx_failed;
  }
  return t;
}

int run_live(int argc, char** argv) {
  const int consumed = rte_eal_init(argc, argv);
  if (consumed < 0)
    return fail("EAL initialisation failed: " + std::string(rte_strerror(rte_errno)));
  const std::vector<std::string> app_args(argv + consumed + 1, argv + argc);
  auto parsed = parse_app_options(app_args);
  if (!parsed.error.empty()) {
    rte_eal_cleanup();
    return fail(parsed.error + " (see --help)");
  }
  AppOptions& options = parsed.options;
  RuleLoad loaded = load_rules(options.rules_file, options.overrides);
  if (!loaded.error.empty()) return fail("rules refused:\n" + loaded.error);
  if (!loaded.warning.empty())
    std::fprintf(stderr, "sipwall-dataplane: %s\n", loaded.warning.c_str());
  FilterConfig& filter = loaded.rules.filter;
  filter.hash_seed = rte_rand();
  const SignatureSet& signatures = *loaded.rules.signatures;

  // Worker lcores poll; with a single lcore, the main lcore polls itself.
  std::vector<unsigned> lcores;
  unsigned lcore = 0;
  RTE_LCORE_FOREACH_WORKER(lcore) {
    lcores.push_back(lcore);
  }
  const bool main_polls = lcores.empty();
  if (main_polls) lcores.push_back(rte_lcore_id());
  const auto queues = static_cast<uint16_t>(lcores.size());

  const uint16_t ports = rte_eth_dev_count_avail();
  WorkerPorts roles{options.live.outside_port, options.live.inside_port, options.live.punt_port};
  if (!roles.punt && ports > 2) roles.punt = 2;
  const unsigned pool_size = 8192 * (queues + 1) - 1;
  rte_mempool* pool = rte_pktmbuf_pool_create("sipwall_pool", pool_size, 256, 0,
                                              RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
  if (!pool) return fail("cannot create the mbuf pool: " + std::string(rte_strerror(rte_errno)));
  if (!Worker::register_sequence_field()) return fail("cannot register the mbuf field");
  std::string err = setup_port(roles.outside, {queues, queues}, pool);
  if (err.empty()) err = setup_port(roles.inside, {queues, queues}, pool);
  if (err.empty() && roles.punt) err = setup_port(*roles.punt, {1, queues}, pool);
  if (!err.empty()) return fail(err);

  std::printf("sipwall-dataplane: rules %s (%s)\n", loaded.rules.source.c_str(),
              loaded.rules.version.c_str());
  std::printf("sipwall-dataplane: outside=%s inside=%s punt=%s workers=%u signatures=%zu\n",
              port_name(roles.outside).c_str(), port_name(roles.inside).c_str(),
              roles.punt ? port_name(*roles.punt).c_str() : "(none: punted packets are dropped)",
              queues, signatures.size());
  std::fflush(stdout);

  std::vector<std::unique_ptr<Worker>> workers;
  try {
    for (uint16_t q = 0; q < queues; ++q) {
      workers.push_back(std::make_unique<Worker>(WorkerSetup{roles, q, true, ClockMode::tsc, {}, 0},
                                                 filter, signatures));
    }
  } catch (const std::exception& e) {
    return fail(std::string("cannot build the filter: ") + e.what());
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  auto rule_id = [&](RuleIndex i) { return signatures.rule(i).id; };

  std::unique_ptr<MetricsEndpoint> metrics;
  if (!options.live.metrics_address.empty()) {
    std::vector<std::string> rule_ids;
    for (size_t i = 0; i < signatures.size(); ++i) rule_ids.push_back(rule_id(i));
    try {
      metrics = std::make_unique<MetricsEndpoint>(options.live.metrics_address, [&, rule_ids] {
        const Totals t = sum(workers);
        return MetricsSnapshot{t.filter, t.io, rule_ids, loaded.rules.source, loaded.rules.version};
      });
    } catch (const std::exception& e) {
      return fail("cannot serve metrics on " + options.live.metrics_address + ": " + e.what());
    }
    const auto host =
        options.live.metrics_address.substr(0, options.live.metrics_address.rfind(':'));
    std::printf("sipwall-dataplane: metrics on http://%s:%u/metrics\n", host.c_str(),
                metrics->port());
    std::fflush(stdout);
  }

  if (main_polls) {
    workers[0]->run(g_stop);
  } else {
    for (size_t i = 0; i < lcores.size(); ++i) {
      rte_eal_remote_launch(worker_main, workers[i].get(), lcores[i]);
    }
    auto next = std::chrono::steady_clock::now();
    while (!g_stop.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      if (options.live.stats_interval_s == 0) continue;
      if (std::chrono::steady_clock::now() < next) continue;
      next += std::chrono::seconds(options.live.stats_interval_s);
      const Totals t = sum(workers);
      std::printf("%s", format_counters(t.filter, t.io, rule_id).c_str());
      std::fflush(stdout);
    }
    rte_eal_mp_wait_lcore();
  }
  metrics.reset();  // its scrape thread reads the workers
  const Totals t = sum(workers);
  std::printf("%s", format_counters(t.filter, t.io, rule_id).c_str());
  std::fflush(stdout);
  workers.clear();
  for (uint16_t p : {roles.outside, roles.inside}) {
    rte_eth_dev_stop(p);
    rte_eth_dev_close(p);
  }
  if (roles.punt) {
    rte_eth_dev_stop(*roles.punt);
    rte_eth_dev_close(*roles.punt);
  }
  rte_eal_cleanup();
  return 0;
}

}  // namespace
}  // namespace sipwall

int main(int argc, char** argv) {
  using namespace sipwall;
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (!handles_own_arguments(args)) return run_live(argc, argv);
  auto parsed = parse_app_options(args);
  if (!parsed.error.empty()) return fail(parsed.error + " (see --help)");
  switch (parsed.options.mode) {
    case AppMode::help:
      std::printf("%s", usage_text(argv[0]).c_str());
      return 0;
    case AppMode::version:
      std::printf("sipwall-dataplane %s\n", SIPWALL_VERSION);
      return 0;
    case AppMode::offline:
      return run_offline(parsed.options, argv[0]);
    case AppMode::live:
      break;
  }
  return fail("unexpected arguments\n" + usage_text(argv[0]));
}
