#include "live_mode.h"

#include <grp.h>
#include <poll.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_random.h>

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
#include "background_reload.h"
#include "budget/shared_budget.h"
#include "command_channel.h"
#include "command_table.h"
#include "control/protocol/reply.h"
#include "control_socket.h"
#include "counters_report.h"
#include "exception_tables.h"
#include "metrics.h"
#include "port_set.h"
#include "rule_file_watcher.h"
#include "rule_reloader.h"
#include "service_notify.h"
#include "sig/signature_set.h"
#include "state_file.h"
#include "tsc_clock.h"
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

void say(const std::string& line) {
  std::printf("sipwall-dataplane: %s\n", line.c_str());
  std::fflush(stdout);
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

// Worker lcores poll; with a single lcore, the main lcore polls itself.
std::vector<unsigned> polling_lcores(bool& main_polls) {
  std::vector<unsigned> lcores;
  unsigned lcore = 0;
  RTE_LCORE_FOREACH_WORKER(lcore) {
    lcores.push_back(lcore);
  }
  main_polls = lcores.empty();
  if (main_polls) lcores.push_back(rte_lcore_id());
  return lcores;
}

// Everything the control thread serves: reloads (SIGHUP, rule file changes, the control
// socket, compiled on their own thread), state commands, periodic counters and the state file.
// Never on a worker core.
class ControlLoop {
 public:
  ControlLoop(const AppOptions& options, RuleReloader& reloader,
              const std::vector<std::unique_ptr<Worker>>& workers, CommandChannel& channel)
      : options_(options),
        reloader_(reloader),
        workers_(workers),
        channel_(channel),
        boot_epoch_(wall_clock_ms() / 1000),
        reload_([&reloader] { return reloader.reload(); }) {
    build_commands();
  }

  std::string open(std::optional<gid_t> group);
  void run();
  uint64_t refused() const { return socket_.refused(); }
  std::string counters_text() const;

 private:
  void build_commands();
  void on_reloads_done();
  void print_stats();
  void feed_watchdog();

  const AppOptions& options_;
  RuleReloader& reloader_;
  const std::vector<std::unique_ptr<Worker>>& workers_;
  CommandChannel& channel_;
  const int64_t boot_epoch_;
  RuleFileWatcher watcher_;
  BackgroundReload reload_;
  ControlSocket socket_;
  CommandTable commands_;
  ServiceNotifier notifier_;  // systemd Type=notify: READY, WATCHDOG, STOPPING
  LoopProgress progress_;
  int reported_stuck_ = -1;
};

std::string ControlLoop::counters_text() const {
  const Totals t = sum(workers_);
  const std::vector<std::string> ban_labels = channel_.metrics().ban_labels;
  std::string out = format_counters(
      t.filter, t.io, [this](RuleIndex i) { return reloader_.slots().id(i); }, ban_labels);
  if (workers_.size() > 1) {
    for (size_t w = 0; w < workers_.size(); ++w) {
      out += format_worker_counters(w, workers_[w]->counters(), ban_labels);
    }
  }
  return out;
}

void ControlLoop::build_commands() {
  auto state = [this](uint64_t client, std::string_view line) {
    return channel_.execute(client, line);
  };
  commands_.add({"ping", "ping", "answers ok epoch=BOOT (the dataplane's start, Unix seconds)",
                 [this](uint64_t, std::string_view) -> std::optional<std::string> {
                   return format_reply(Reply::ok().with("epoch", std::to_string(boot_epoch_)));
                 }});
  commands_.add({"ban",
                 "ban add PREFIX ttl=SECONDS [id=ID] [as=OWNER] | ban del PREFIX\n"
                 "ban list [PREFIX] | ban flush [owner=OWNER|all]",
                 "drop every packet from a prefix for a while (reason ban)", state});
  commands_.add({"trust",
                 "trust add PREFIX ttl=SECONDS [id=ID] [as=OWNER] | trust del PREFIX\n"
                 "trust list [PREFIX] | trust flush [owner=OWNER|all]",
                 "promote a source to the trusted tier for a while", state});
  commands_.add({"pinhole",
                 "pinhole open ADDRESS PORT ttl=SECONDS [src=PREFIX] [call=ID] [as=OWNER]\n"
                 "pinhole close ADDRESS PORT [call=ID] | pinhole list | pinhole flush",
                 "admit media to an address and port (reference-counted per call)", state});
  commands_.add({"pinholes", "pinholes enforce on|off",
                 "drop media no pinhole admits (rtp_no_pinhole), or admit all media", state});
  commands_.add({"sync", "sync begin EPOCH [as=OWNER] ... sync end",
                 "replace the caller's own entries with the adds in between, in one step", state});
  commands_.add({"reload", "reload",
                 "compile the rule file again and switch to it (answers once done)",
                 [this](uint64_t client, std::string_view) -> std::optional<std::string> {
                   reload_.request({"control socket", client});
                   return std::nullopt;
                 }});
  commands_.add({"status", "status", "the rule set in force and the reload history",
                 [this](uint64_t, std::string_view) -> std::optional<std::string> {
                   const auto st = reloader_.status();
                   const DynamicState& s = channel_.state();
                   return "rules " + st.source + "\nversion " + st.version + "\nreloads applied " +
                          std::to_string(st.reloads_applied) + "\nreloads refused " +
                          std::to_string(st.reloads_failed) + "\nbans " +
                          std::to_string(s.bans().size()) + "\ntrusted " +
                          std::to_string(s.trust().size()) + "\npinholes " +
                          std::to_string(s.pinholes().size()) +
                          (st.last_error.empty() ? "" : "\nlast refusal:\n" + st.last_error);
                 }});
  commands_.add({"counters", "counters", "the counters, as printed at exit",
                 [this](uint64_t, std::string_view) -> std::optional<std::string> {
                   return counters_text();
                 }});
  commands_.add({"help", "help", "this list",
                 [this](uint64_t, std::string_view) -> std::optional<std::string> {
                   return commands_.help();
                 }});
}

std::string ControlLoop::open(std::optional<gid_t> group) {
  if (options_.live.watch_rules) {
    if (auto e = watcher_.watch(reloader_.watched_files()); !e.empty())
      say("rule file watch: " + e);
  }
  if (options_.live.control_path.empty()) return {};
  AccessPolicy access = AccessPolicy::owner_and_root();
  access.group = group;
  return socket_.open(
      options_.live.control_path,
      [this](uint64_t client, std::string_view line) { return commands_.dispatch(client, line); },
      [this](uint64_t client) { channel_.end_session(client); }, access, group);
}

void ControlLoop::on_reloads_done() {
  for (const auto& result : reload_.done()) {
    for (const auto& r : result.requests) {
      say("reload (" + r.why + "): " + result.outcome);
      if (r.client != 0) socket_.complete(r.client, result.outcome);
    }
    if (options_.live.watch_rules) watcher_.watch(reloader_.watched_files());
  }
}

void ControlLoop::print_stats() {
  std::printf("%s", counters_text().c_str());
  std::fflush(stdout);
}

// Fed only while every worker's poll loop advances: systemd restarts a dataplane whose worker
// is stuck (WatchdogSec= in the unit), since its link would otherwise stay silently dead.
void ControlLoop::feed_watchdog() {
  std::vector<uint64_t> loops;
  for (const auto& w : workers_) {
    const IoCounters io = w->io();
    loops.push_back(io.busy_polls + io.idle_polls);
  }
  const int stuck = progress_.stuck_worker(loops);
  if (stuck < 0) {
    notifier_.notify("WATCHDOG=1");
  } else if (stuck != reported_stuck_) {
    say("worker " + std::to_string(stuck) + " stopped polling: systemd watchdog not fed");
  }
  reported_stuck_ = stuck;
}

void ControlLoop::run() {
  using Clock = std::chrono::steady_clock;
  notifier_.notify("READY=1\nSTATUS=filtering");
  const auto watchdog_period = notifier_.watchdog_interval() / 2;
  auto next_watchdog = Clock::now();
  // An editor's save is a burst of events: reload once the files were quiet this long.
  constexpr auto kQuiet = std::chrono::milliseconds(200);
  std::optional<Clock::time_point> changed_at;
  auto next_stats = Clock::now();
  while (!g_stop.load()) {
    std::array<pollfd, 3> fds = {pollfd{watcher_.fd(), POLLIN, 0}, pollfd{socket_.fd(), POLLIN, 0},
                                 pollfd{reload_.fd(), POLLIN, 0}};
    // While workers are applying a command, look again soon: its reply waits for them.
    const timespec wait = channel_.busy() ? timespec{0, 20'000} : timespec{0, 50'000'000};
    ppoll(fds.data(), fds.size(), &wait, nullptr);
    if (fds[0].revents & POLLIN && watcher_.changed()) changed_at = Clock::now();
    if (fds[1].revents & POLLIN) socket_.service();
    if (fds[2].revents & POLLIN) on_reloads_done();
    channel_.poll(
        [this](uint64_t client, const std::string& reply) { socket_.complete(client, reply); });
    socket_.close_idle(ControlSocket::Clock::now());
    if (g_reload.exchange(false)) reload_.request({"SIGHUP", 0});
    if (changed_at && Clock::now() - *changed_at >= kQuiet) {
      changed_at.reset();
      reload_.request({"rule file changed", 0});
    }
    if (watchdog_period.count() > 0 && Clock::now() >= next_watchdog) {
      next_watchdog = Clock::now() + watchdog_period;
      feed_watchdog();
    }
    if (options_.live.stats_interval_s == 0 || Clock::now() < next_stats) continue;
    next_stats += std::chrono::seconds(options_.live.stats_interval_s);
    print_stats();
  }
  notifier_.notify("STOPPING=1");
}

std::optional<gid_t> control_group(const std::string& name, std::string& error) {
  if (name.empty()) return std::nullopt;
  const group* g = getgrnam(name.c_str());
  if (!g) {
    error = "--control-group: no group named '" + name + "'";
    return std::nullopt;
  }
  return g->gr_gid;
}

}  // namespace

int run_live(int argc, char** argv) {
  EalSession eal(argc, argv);
  if (!eal.ok()) return fail("EAL initialisation failed: " + std::string(rte_strerror(rte_errno)));
  const std::vector<std::string> app_args(argv + eal.consumed() + 1, argv + argc);
  auto parsed = parse_app_options(app_args);
  if (!parsed.error.empty()) return fail(parsed.error + " (see --help)");
  const AppOptions& options = parsed.options;
  std::string err;
  const auto group = control_group(options.live.control_group, err);
  if (!err.empty()) return fail(err);

  bool main_polls = false;
  const std::vector<unsigned> lcores = polling_lcores(main_polls);
  const auto queues = static_cast<uint16_t>(lcores.size());
  auto reloader =
      RuleReloader::create(options.rules_file, options.overrides, queues, rte_rand(), err);
  if (!reloader) return fail("rules refused:\n" + err);

  WorkerPorts roles{options.live.outside_port, options.live.inside_port, options.live.punt_port};
  if (!roles.punt && rte_eth_dev_count_avail() > 2) roles.punt = 2;
  PortSet ports;
  err = ports.create_pool("sipwall_pool", 8192 * (queues + 1) - 1);
  if (err.empty()) err = ports.start(roles.outside, {queues, queues});
  if (err.empty()) err = ports.start(roles.inside, {queues, queues});
  // A tap punt port is the exception path both ways: every worker polls its own RX queue.
  const bool tap_punt = roles.punt && is_tap_port(*roles.punt);
  if (err.empty() && roles.punt) {
    err = ports.start(*roles.punt, {tap_punt ? queues : uint16_t{1}, queues});
  }
  if (!err.empty()) return fail(err);
  ExceptionTables exception;
  if (tap_punt) {
    err = exception.start(*roles.punt, roles.outside, reloader->current().config(), options.live);
    if (!err.empty()) return fail(err);
  }

  const auto first = reloader->status();
  say("rules " + first.source + " (" + first.version + ")");
  say("outside=" + port_name(roles.outside) + " inside=" + port_name(roles.inside) +
      " punt=" + (roles.punt ? port_name(*roles.punt) : "(none: punted packets are dropped)") +
      " workers=" + std::to_string(queues) +
      " signatures=" + std::to_string(reloader->current().signatures().size()));

  CommandChannel channel(dynamic_state_config(reloader->current().config()),
                         options.live.state_file, tsc_nanos);
  if (auto e = channel.create_mailboxes(queues); !e.empty()) return fail(e);
  if (auto msg = channel.restore(); !msg.empty()) say(msg);

  std::vector<std::unique_ptr<Worker>> workers;
  // One punt and one pass budget for all workers together (see README, trust tiers).
  const auto budgets = std::make_unique<SharedBudgets>();
  try {
    for (uint16_t q = 0; q < queues; ++q) {
      WorkerSetup setup{roles,
                        q,
                        true,
                        ClockMode::tsc,
                        {},
                        0,
                        reloader->feed(q),
                        channel.mailbox(q),
                        budgets.get(),
                        exception.shared(),
                        options.live.idle_sleep_us};
      workers.push_back(
          std::make_unique<Worker>(setup, reloader->current(), reloader->slots().capacity()));
    }
  } catch (const std::exception& e) {
    return fail(std::string("cannot build the filter: ") + e.what());
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::signal(SIGHUP, on_reload_signal);

  ControlLoop control(options, *reloader, workers, channel);
  const double started_at = static_cast<double>(wall_clock_ms()) / 1000.0;
  std::unique_ptr<MetricsEndpoint> metrics;
  if (!options.live.metrics_address.empty()) {
    try {
      metrics = std::make_unique<MetricsEndpoint>(options.live.metrics_address, [&] {
        const Totals t = sum(workers);
        const auto st = reloader->status();
        std::vector<std::string> ids;
        for (size_t i = 0; i < reloader->slots().size(); ++i)
          ids.push_back(reloader->slots().id(i));
        MetricsSnapshot snapshot;
        snapshot.filter = t.filter;
        snapshot.io = t.io;
        snapshot.rule_ids = std::move(ids);
        snapshot.rules_source = st.source;
        snapshot.rules_version = st.version;
        snapshot.reloads_applied = st.reloads_applied;
        snapshot.reloads_failed = st.reloads_failed;
        snapshot.commands = channel.metrics();
        snapshot.control_refused = control.refused();
        for (const auto& w : workers) snapshot.workers.push_back({w->io(), w->table_use()});
        snapshot.tsc_hz = rte_get_tsc_hz();
        snapshot.start_time_seconds = started_at;
        return snapshot;
      });
    } catch (const std::exception& e) {
      return fail("cannot serve metrics on " + options.live.metrics_address + ": " + e.what());
    }
    const auto& address = options.live.metrics_address;
    say("metrics on http://" + address.substr(0, address.rfind(':')) + ":" +
        std::to_string(metrics->port()) + "/metrics");
  }
  if (auto e = control.open(group); !e.empty()) return fail("control socket: " + e);

  std::thread control_thread([&] { control.run(); });
  if (main_polls) {
    workers[0]->run(g_stop);
  } else {
    for (size_t i = 0; i < lcores.size(); ++i) {
      rte_eal_remote_launch(worker_main, workers[i].get(), lcores[i]);
    }
    rte_eal_mp_wait_lcore();
  }
  control_thread.join();
  if (auto e = channel.save(); !e.empty()) say(e);
  metrics.reset();  // its scrape thread reads the workers
  std::printf("%s", control.counters_text().c_str());
  std::fflush(stdout);
  return 0;
}

}  // namespace sipwall
