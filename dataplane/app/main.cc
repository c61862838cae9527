// sipwall-dataplane: the DPDK shell around the filter library.
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_random.h>

#include <poll.h>

#include <array>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "app_options.h"
#include "control_socket.h"
#include "counters_report.h"
#include "exception_tables.h"
#include "metrics.h"
#include "offline_mode.h"
#include "port_setup.h"
#include "rule_file_watcher.h"
#include "rule_reloader.h"
#include "sig/signature_set.h"
#include "worker.h"

namespace sipwall {
namespace {

std::atomic<bool> g_stop{false};
std::atomic<bool> g_reload{false};

void on_signal(int) {
  g_stop.store(true);
}

void on_reload_signal(int) {
  g_reload.store(true);
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
    t.io += w->io();
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

  // Worker lcores poll; with a single lcore, the main lcore polls itself.
  std::vector<unsigned> lcores;
  unsigned lcore = 0;
  RTE_LCORE_FOREACH_WORKER(lcore) {
    lcores.push_back(lcore);
  }
  const bool main_polls = lcores.empty();
  if (main_polls) lcores.push_back(rte_lcore_id());
  const auto queues = static_cast<uint16_t>(lcores.size());

  std::string err;
  auto reloader =
      RuleReloader::create(options.rules_file, options.overrides, queues, rte_rand(), err);
  if (!reloader) return fail("rules refused:\n" + err);

  const uint16_t ports = rte_eth_dev_count_avail();
  WorkerPorts roles{options.live.outside_port, options.live.inside_port, options.live.punt_port};
  if (!roles.punt && ports > 2) roles.punt = 2;
  const unsigned pool_size = 8192 * (queues + 1) - 1;
  rte_mempool* pool = rte_pktmbuf_pool_create("sipwall_pool", pool_size, 256, 0,
                                              RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
  if (!pool) return fail("cannot create the mbuf pool: " + std::string(rte_strerror(rte_errno)));
  err = setup_port(roles.outside, {queues, queues}, pool);
  if (err.empty()) err = setup_port(roles.inside, {queues, queues}, pool);
  // A tap punt port is the exception path both ways: every worker polls its own RX queue.
  const bool tap_punt = roles.punt && is_tap_port(*roles.punt);
  if (err.empty() && roles.punt) {
    err = setup_port(*roles.punt, {tap_punt ? queues : uint16_t{1}, queues}, pool);
  }
  if (!err.empty()) return fail(err);
  ExceptionTables exception;
  if (tap_punt) {
    err = exception.start(*roles.punt, roles.outside, reloader->current().config(), options.live);
    if (!err.empty()) return fail(err);
  }

  const auto first = reloader->status();
  std::printf("sipwall-dataplane: rules %s (%s)\n", first.source.c_str(), first.version.c_str());
  std::printf("sipwall-dataplane: outside=%s inside=%s punt=%s workers=%u signatures=%zu\n",
              port_name(roles.outside).c_str(), port_name(roles.inside).c_str(),
              roles.punt ? port_name(*roles.punt).c_str() : "(none: punted packets are dropped)",
              queues, reloader->current().signatures().size());
  std::fflush(stdout);

  std::vector<std::unique_ptr<Worker>> workers;
  const size_t counter_slots = reloader->slots().capacity();
  try {
    for (uint16_t q = 0; q < queues; ++q) {
      WorkerSetup setup{roles,
                        q,
                        true,
                        ClockMode::tsc,
                        {},
                        0,
                        reloader->feed(q),
                        exception.shared(),
                        options.live.idle_sleep_us};
      workers.push_back(std::make_unique<Worker>(setup, reloader->current(), counter_slots));
    }
  } catch (const std::exception& e) {
    return fail(std::string("cannot build the filter: ") + e.what());
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::signal(SIGHUP, on_reload_signal);
  // Counters are kept by stable slot, named by the slot registry across reloads.
  auto slot_id = [&](RuleIndex slot) { return reloader->slots().id(slot); };

  std::unique_ptr<MetricsEndpoint> metrics;
  if (!options.live.metrics_address.empty()) {
    try {
      metrics = std::make_unique<MetricsEndpoint>(options.live.metrics_address, [&] {
        const Totals t = sum(workers);
        const auto st = reloader->status();
        std::vector<std::string> ids;
        for (size_t i = 0; i < reloader->slots().size(); ++i) ids.push_back(slot_id(i));
        return MetricsSnapshot{t.filter,         t.io,       std::move(ids),
                               st.source,        st.version, st.reloads_applied,
                               st.reloads_failed};
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

  // The control thread: reloads (SIGHUP, rule file changes, control socket) and periodic
  // counters, never on a worker core.
  RuleFileWatcher watcher;
  if (options.live.watch_rules) {
    if (auto e = watcher.watch(reloader->watched_files()); !e.empty()) {
      std::fprintf(stderr, "sipwall-dataplane: rule file watch: %s\n", e.c_str());
    }
  }
  auto reload = [&](const char* why) {
    const std::string result = reloader->reload();
    std::printf("sipwall-dataplane: reload (%s): %s\n", why, result.c_str());
    std::fflush(stdout);
    if (options.live.watch_rules) watcher.watch(reloader->watched_files());
    return result;
  };
  ControlSocket control_socket;
  if (!options.live.control_path.empty()) {
    auto handler = [&](std::string_view command) -> std::string {
      if (command == "reload") return reload("control socket");
      if (command == "status") {
        const auto st = reloader->status();
        return "rules " + st.source + "\nversion " + st.version + "\nreloads applied " +
               std::to_string(st.reloads_applied) + "\nreloads refused " +
               std::to_string(st.reloads_failed) +
               (st.last_error.empty() ? "" : "\nlast refusal:\n" + st.last_error);
      }
      if (command == "counters") {
        const Totals t = sum(workers);
        return format_counters(t.filter, t.io, slot_id);
      }
      return "error: unknown command '" + std::string(command) +
             "' (commands: reload, status, counters)";
    };
    if (auto e = control_socket.open(options.live.control_path, handler); !e.empty()) {
      return fail("control socket: " + e);
    }
  }
  std::thread control([&] {
    using Clock = std::chrono::steady_clock;
    // An editor's save is a burst of events: reload once the files were quiet this long.
    constexpr auto kQuiet = std::chrono::milliseconds(200);
    std::optional<Clock::time_point> changed_at;
    auto next_stats = Clock::now();
    while (!g_stop.load()) {
      std::array<pollfd, 2> fds = {pollfd{watcher.fd(), POLLIN, 0},
                                   pollfd{control_socket.fd(), POLLIN, 0}};
      poll(fds.data(), fds.size(), 50);
      if (fds[0].revents & POLLIN && watcher.changed()) changed_at = Clock::now();
      if (fds[1].revents & POLLIN) control_socket.service();
      control_socket.close_idle(ControlSocket::Clock::now());
      if (g_reload.exchange(false)) reload("SIGHUP");
      if (changed_at && Clock::now() - *changed_at >= kQuiet) {
        changed_at.reset();
        reload("rule file changed");
      }
      if (options.live.stats_interval_s == 0 || Clock::now() < next_stats) continue;
      next_stats += std::chrono::seconds(options.live.stats_interval_s);
      const Totals t = sum(workers);
      std::printf("%s", format_counters(t.filter, t.io, slot_id).c_str());
      std::fflush(stdout);
    }
  });

  if (main_polls) {
    workers[0]->run(g_stop);
  } else {
    for (size_t i = 0; i < lcores.size(); ++i) {
      rte_eal_remote_launch(worker_main, workers[i].get(), lcores[i]);
    }
    rte_eal_mp_wait_lcore();
  }
  control.join();
  metrics.reset();  // its scrape thread reads the workers
  const Totals t = sum(workers);
  std::printf("%s", format_counters(t.filter, t.io, slot_id).c_str());
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
  reloader.reset();
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
