// sipwall-control: the SIP edge of the protected domain (control/README.md).
//
//   sipwall-control --rules FILE [--events FILE|-] [--show-users] [--counters FILE]
//
// Reads the control statements of the rule set (rules/FORMAT.md, "Control plane"), binds the
// service addresses, and runs until SIGTERM or SIGINT; then writes its counters to stderr (or
// --counters FILE). SIGUSR1 writes them too, without stopping. SIGHUP reloads the rule set and
// the credentials file: a set or file with errors is refused (the errors on stderr) and the
// running policy stays.

#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "control/app/configuration_loader.h"
#include "control/app/control_server.h"

namespace {

volatile std::sig_atomic_t g_stop = 0;
volatile std::sig_atomic_t g_dump = 0;
volatile std::sig_atomic_t g_reload = 0;

void on_reload(int) {
  g_reload = 1;
}
void on_stop(int) {
  g_stop = 1;
}
void on_dump(int) {
  g_dump = 1;
}

sipwall::Nanos wall_now() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<sipwall::Nanos>(ts.tv_sec) * sipwall::kNanosPerSecond +
         static_cast<sipwall::Nanos>(ts.tv_nsec);
}

int usage(std::FILE* out) {
  std::fputs(
      "usage: sipwall-control --rules FILE [--events FILE|-] [--show-users] [--counters FILE]\n"
      "                       [--journal FILE]\n"
      "  --rules FILE     the rule set (control, core, trunk, account, brute-force, service,\n"
      "                   ports statements: rules/FORMAT.md)\n"
      "  --events FILE    security events as JSON lines ('-': standard output; default none)\n"
      "  --show-users     do not mask user names in events\n"
      "  --counters FILE  where the counters go on SIGUSR1 and at exit (default stderr)\n"
      "  --journal FILE   keep the bans and trust entries sent to the dataplane there, and\n"
      "                   replay them (sync) after a restart of either process\n",
      out);
  return out == stdout ? 0 : 2;
}

void write_counters(const sipwall::control::ControlServer& server, const std::string& path) {
  const std::string report = server.counters_report();
  if (path.empty()) {
    std::fputs(report.c_str(), stderr);
    return;
  }
  const std::string tmp = path + ".tmp";
  if (std::FILE* f = std::fopen(tmp.c_str(), "w")) {
    std::fputs(report.c_str(), f);
    std::fclose(f);
    std::rename(tmp.c_str(), path.c_str());
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string rules_path;
  std::string events_path;
  std::string counters_path;
  std::string journal_path;
  bool mask_users = true;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--rules" && has_value) {
      rules_path = argv[++i];
    } else if (a == "--events" && has_value) {
      events_path = argv[++i];
    } else if (a == "--counters" && has_value) {
      counters_path = argv[++i];
    } else if (a == "--journal" && has_value) {
      journal_path = argv[++i];
    } else if (a == "--show-users") {
      mask_users = false;
    } else if (a == "--help" || a == "-h") {
      return usage(stdout);
    } else {
      std::fprintf(stderr, "sipwall-control: unknown or incomplete option '%s'\n", argv[i]);
      return usage(stderr);
    }
  }
  if (rules_path.empty()) return usage(stderr);

  auto loaded = sipwall::control::load_configuration(rules_path);
  if (!loaded) {
    std::fprintf(stderr, "%s", loaded.error().c_str());
    if (!loaded.error().ends_with("\n")) std::fputc('\n', stderr);
    return 1;
  }
  const sipwall::rules::CompiledRules& rules = *loaded->rules;
  if (!loaded->credentials) {
    std::fprintf(stderr,
                 "sipwall-control: no credentials file (control credentials=): every "
                 "user is unknown\n");
  }

  std::FILE* events = nullptr;
  if (events_path == "-") {
    events = stdout;
  } else if (!events_path.empty()) {
    events = std::fopen(events_path.c_str(), "a");
    if (!events) {
      std::fprintf(stderr, "sipwall-control: %s: %s\n", events_path.c_str(), std::strerror(errno));
      return 1;
    }
  }

  // A fresh nonce key per start: nonces of a previous run are answered with a new challenge.
  std::vector<uint8_t> secret(32);
  std::FILE* rnd = std::fopen("/dev/urandom", "rb");
  if (!rnd || std::fread(secret.data(), 1, secret.size(), rnd) != secret.size()) {
    std::fprintf(stderr, "sipwall-control: cannot read /dev/urandom\n");
    return 1;
  }
  std::fclose(rnd);

  std::signal(SIGPIPE, SIG_IGN);
  std::signal(SIGTERM, on_stop);
  std::signal(SIGINT, on_stop);
  std::signal(SIGUSR1, on_dump);
  std::signal(SIGHUP, on_reload);

  sipwall::control::EventLoop loop;
  sipwall::control::ControlServer server(loop, rules, loaded->credentials, secret, events,
                                         mask_users, wall_now);
  if (!journal_path.empty()) {
    const std::string error = server.use_journal(journal_path);
    if (!error.empty()) {
      std::fprintf(stderr, "sipwall-control: %s\n", error.c_str());
      return 1;
    }
  }
  const auto opened = server.open();
  if (!opened) {
    std::fprintf(stderr, "sipwall-control: %s\n", opened.error().c_str());
    return 1;
  }
  for (const std::string& e : server.endpoints()) {
    std::fprintf(stderr, "sipwall-control: listening on %s\n", e.c_str());
  }
  std::fprintf(stderr, "sipwall-control: core %s, realm %s, %zu trunks, %zu accounts\n",
               rules.control.core->address.to_string().c_str(),
               rules.control.settings.realm.c_str(), rules.control.trunks.size(),
               rules.control.accounts.size());
  while (!g_stop) {
    loop.run_once(100);
    server.tick(wall_now());
    if (g_reload) {
      g_reload = 0;
      auto next = sipwall::control::load_configuration(rules_path);
      if (!next) {
        std::fprintf(stderr, "sipwall-control: reload refused, the running policy stays:\n%s",
                     next.error().c_str());
        if (!next.error().ends_with("\n")) std::fputc('\n', stderr);
      } else {
        const std::string restart = server.reconfigure(*next->rules, next->credentials);
        std::fprintf(stderr, "sipwall-control: reloaded %s (%s)%s%s\n", rules_path.c_str(),
                     next->rules->version.c_str(), restart.empty() ? "" : "; ", restart.c_str());
      }
    }
    if (g_dump) {
      g_dump = 0;
      write_counters(server, counters_path);
    }
  }
  server.save_journal();
  write_counters(server, counters_path);
  if (events && events != stdout) std::fclose(events);
  return 0;
}
