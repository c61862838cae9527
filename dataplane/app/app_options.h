#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "pipeline/filter_config.h"

namespace sipwall {

enum class AppMode : uint8_t { live, offline, help, version };

struct LiveOptions {
  uint16_t outside_port = 0;
  uint16_t inside_port = 1;
  std::optional<uint16_t> punt_port;               // default: port 2 when it exists
  unsigned stats_interval_s = 0;                   // 0 = only the final counters
  std::string metrics_address = "127.0.0.1:9464";  // Prometheus /metrics; empty = off
  std::string control_path;                        // control socket; empty = none
  std::string control_group;                       // also admitted to the control socket
  std::string state_file;                          // dynamic state saved/restored; empty = none
  bool watch_rules = true;                         // reload when a rule file changes
  uint32_t idle_sleep_us = 0;                      // 0: busy-poll (WorkerSetup::idle_sleep_us)
  uint8_t tap_v4_prefix = 32;                      // on-link prefix of the tap's addresses
  uint8_t tap_v6_prefix = 128;
  std::vector<IpAddress> tap_gateways;  // default routes of the tap (one per family)
};

// A reload in an offline run, so reloads can be proven deterministically: the rule file is
// compiled and, if valid, used from packet `before_packet` (1-based, as in verdicts.jsonl) on.
struct ScheduledReload {
  uint64_t before_packet = 0;
  std::string file;
};

// A control command in an offline run (--control-at N:COMMAND, or a line "N COMMAND" of
// --control-file): applied before packet `before_packet` (1-based), with that packet's time.
struct ScheduledCommand {
  uint64_t before_packet = 0;
  std::string line;
};

struct OfflineOptions {
  std::string input;
  std::string out_dir;
  std::vector<ScheduledReload> reloads;    // in packet order
  std::vector<ScheduledCommand> commands;  // --control-at, in the order given
  std::string control_file;                // read by offline mode; merged by packet number
};

// Parses "N COMMAND" (a --control-file line; `separator` ' ') or "N:COMMAND" (--control-at,
// ':'). Nothing when N is not a packet number from 1 or the command is empty.
std::optional<ScheduledCommand> parse_scheduled_command(std::string_view text, char separator);

// Filter settings given on the command line. They override single settings of the rule file
// (or the default set), so an operator can try a change without editing the file.
struct FilterOverrides {
  std::optional<SipProfile> profile;
  std::optional<std::vector<PortRange>> sip_ports;  // UDP and TCP
  std::optional<std::vector<PortRange>> tls_ports;
  std::optional<std::vector<PortRange>> media_ports;
  std::optional<size_t> source_table_size;
  std::optional<uint8_t> v4_prefix;
  std::optional<uint8_t> v6_prefix;
  std::vector<AclEntry> acl;                 // added to the rule file's ACL
  std::vector<IpAddress> service_addresses;  // added to the rule file's service addresses
  bool enforce_pinholes = false;
  // Compile budget for every rule load and reload (0: the default of the rule compiler).
  size_t max_signatures = 0;
  uint64_t max_compile_ms = 0;

  void apply(FilterConfig& config) const;
};

struct AppOptions {
  AppMode mode = AppMode::live;
  LiveOptions live;
  OfflineOptions offline;
  std::string rules_file;  // empty: the default set
  FilterOverrides overrides;
};

struct AppOptionsParse {
  AppOptions options;
  std::string error;  // empty on success
};

// Parses the application's own arguments: everything after "--" live, or the whole command line
// when it starts with --offline (offline mode builds its own EAL arguments).
AppOptionsParse parse_app_options(std::span<const std::string> args);

// True when argv asks for offline mode, help or version, i.e. EAL must not see it.
bool handles_own_arguments(std::span<const std::string> args);

std::string usage_text(const std::string& program);

}  // namespace sipwall
