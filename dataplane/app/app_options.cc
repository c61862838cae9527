#include "app_options.h"

#include <charconv>
#include <string_view>

#include "acl/prefix_table.h"

namespace sipwall {
namespace {

template <typename T>
bool parse_number(std::string_view s, T& out) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return !s.empty() && ec == std::errc{} && end == s.data() + s.size();
}

}  // namespace

std::optional<ScheduledCommand> parse_scheduled_command(std::string_view text, char separator) {
  const size_t sep = text.find(separator);
  ScheduledCommand c;
  if (sep == std::string_view::npos || !parse_number(text.substr(0, sep), c.before_packet) ||
      c.before_packet == 0) {
    return std::nullopt;
  }
  c.line = std::string(text.substr(sep + 1));
  if (c.line.find_first_not_of(" \t") == std::string::npos) return std::nullopt;
  return c;
}

bool handles_own_arguments(std::span<const std::string> args) {
  for (const auto& a : args) {
    if (a == "--") return false;
    if (a == "--offline" || a == "--help" || a == "-h" || a == "--version") return true;
  }
  return false;
}

AppOptionsParse parse_app_options(std::span<const std::string> args) {
  AppOptionsParse r;
  auto& o = r.options;
  auto fail = [&r](std::string msg) {
    r.error = std::move(msg);
    return r;
  };
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::string& out) {
      if (i + 1 >= args.size()) return false;
      out = args[++i];
      return true;
    };
    std::string v;
    if (a == "--help" || a == "-h") {
      o.mode = AppMode::help;
    } else if (a == "--version") {
      o.mode = AppMode::version;
    } else if (a == "--offline") {
      if (!value(o.offline.input)) return fail("--offline needs a capture file");
      o.mode = AppMode::offline;
    } else if (a == "--out") {
      if (!value(o.offline.out_dir)) return fail("--out needs a directory");
    } else if (a == "--reload-at") {
      ScheduledReload r;
      const auto colon = value(v) ? v.find(':') : std::string::npos;
      if (colon == std::string::npos ||
          !parse_number(std::string_view(v).substr(0, colon), r.before_packet) ||
          r.before_packet == 0 || colon + 1 == v.size()) {
        return fail("--reload-at needs PACKET:FILE (PACKET counted from 1)");
      }
      r.file = v.substr(colon + 1);
      if (!o.offline.reloads.empty() && o.offline.reloads.back().before_packet > r.before_packet) {
        return fail("--reload-at: reloads must be given in packet order");
      }
      o.offline.reloads.push_back(std::move(r));
    } else if (a == "--control-at") {
      const auto c = value(v) ? parse_scheduled_command(v, ':') : std::nullopt;
      if (!c) return fail("--control-at needs PACKET:COMMAND (PACKET counted from 1)");
      o.offline.commands.push_back(*c);
    } else if (a == "--control-file") {
      if (!value(o.offline.control_file)) return fail("--control-file needs a file");
    } else if (a == "--control-group") {
      if (!value(o.live.control_group)) return fail("--control-group needs a group name");
    } else if (a == "--state-file") {
      if (!value(o.live.state_file)) return fail("--state-file needs a path");
    } else if (a == "--rules") {
      if (!value(o.rules_file)) return fail("--rules needs a rule file");
    } else if (a == "--profile") {
      if (!value(v)) return fail("--profile needs strict or liberal");
      if (v == "strict") {
        o.overrides.profile = SipProfile::strict;
      } else if (v == "liberal") {
        o.overrides.profile = SipProfile::liberal;
      } else {
        return fail("--profile: '" + v + "' is not strict or liberal");
      }
    } else if (a == "--outside-port" || a == "--inside-port" || a == "--punt-port") {
      uint16_t port = 0;
      if (!value(v) || !parse_number(v, port)) return fail(a + " needs a port id");
      if (a == "--outside-port") o.live.outside_port = port;
      if (a == "--inside-port") o.live.inside_port = port;
      if (a == "--punt-port") o.live.punt_port = port;
    } else if (a == "--metrics") {
      if (!value(v)) return fail("--metrics needs HOST:PORT or off");
      if (v != "off" && v.rfind(':') == std::string::npos) {
        return fail("--metrics: '" + v + "' is not HOST:PORT");
      }
      o.live.metrics_address = v == "off" ? "" : v;
    } else if (a == "--control") {
      if (!value(o.live.control_path)) return fail("--control needs a socket path");
    } else if (a == "--no-watch-rules") {
      o.live.watch_rules = false;
    } else if (a == "--stats-interval") {
      if (!value(v) || !parse_number(v, o.live.stats_interval_s)) {
        return fail("--stats-interval needs seconds");
      }
    } else if (a == "--sip-ports" || a == "--media-ports") {
      if (!value(v)) return fail(a + " needs a port list");
      auto parsed = parse_port_ranges(v);
      if (!parsed.error.empty()) return fail(a + ": " + parsed.error);
      (a == "--sip-ports" ? o.overrides.sip_ports : o.overrides.media_ports) = parsed.ranges;
    } else if (a == "--tls-ports") {
      if (!value(v)) return fail(a + " needs a port list");
      auto parsed = parse_port_ranges(v);
      if (!parsed.error.empty()) return fail(a + ": " + parsed.error);
      o.overrides.tls_ports = parsed.ranges;
    } else if (a == "--source-table-size") {
      size_t size = 0;
      if (!value(v) || !parse_number(v, size) || size < 64) {
        return fail("--source-table-size needs a number of sources (at least 64)");
      }
      o.overrides.source_table_size = size;
    } else if (a == "--acl-allow" || a == "--acl-deny") {
      if (!value(v)) return fail(a + " needs a prefix");
      const auto prefix = IpPrefix::parse(v);
      if (!prefix) return fail(a + ": '" + v + "' is not an address or prefix");
      o.overrides.acl.push_back({*prefix, a == "--acl-allow" ? AclAction::allow : AclAction::deny});
    } else if (a == "--ipv4-prefix" || a == "--ipv6-prefix") {
      const unsigned max = a == "--ipv4-prefix" ? 32 : 128;
      unsigned len = 0;
      if (!value(v) || !parse_number(v, len) || len == 0 || len > max) {
        return fail(a + " needs a prefix length from 1 to " + std::to_string(max));
      }
      (a == "--ipv4-prefix" ? o.overrides.v4_prefix : o.overrides.v6_prefix) =
          static_cast<uint8_t>(len);
    } else if (a == "--max-signatures" || a == "--max-compile-ms") {
      uint64_t n = 0;
      if (!value(v) || !parse_number(v, n) || n == 0) return fail(a + " needs a positive number");
      if (a == "--max-signatures") {
        o.overrides.max_signatures = n;
      } else {
        o.overrides.max_compile_ms = n;
      }
    } else if (a == "--service-address" || a == "--tap-gateway") {
      const auto address = value(v) ? IpAddress::parse(v) : std::nullopt;
      if (!address) return fail(a + " needs an IPv4 or IPv6 address");
      (a == "--service-address" ? o.overrides.service_addresses : o.live.tap_gateways)
          .push_back(*address);
    } else if (a == "--tap-prefix-length") {
      // V4LEN/V6LEN, e.g. 24/64: the subnet the service addresses are on-link in.
      const auto slash = value(v) ? v.find('/') : std::string::npos;
      unsigned v4 = 0, v6 = 0;
      if (slash == std::string::npos || !parse_number(std::string_view(v).substr(0, slash), v4) ||
          !parse_number(std::string_view(v).substr(slash + 1), v6) || v4 == 0 || v4 > 32 ||
          v6 == 0 || v6 > 128) {
        return fail("--tap-prefix-length needs V4LEN/V6LEN (1-32/1-128), e.g. 24/64");
      }
      o.live.tap_v4_prefix = static_cast<uint8_t>(v4);
      o.live.tap_v6_prefix = static_cast<uint8_t>(v6);
    } else if (a == "--idle-sleep-us") {
      if (!value(v) || !parse_number(v, o.live.idle_sleep_us) || o.live.idle_sleep_us == 0 ||
          o.live.idle_sleep_us > 100'000) {
        return fail("--idle-sleep-us needs microseconds from 1 to 100000");
      }
    } else if (a == "--enforce-pinholes") {
      o.overrides.enforce_pinholes = true;
    } else {
      return fail("unknown option '" + a + "'");
    }
  }
  if (const auto acl = PrefixTable::build(o.overrides.acl); !acl.ok()) return fail(acl.error());
  if (o.mode == AppMode::offline && o.offline.out_dir.empty()) {
    return fail("--offline needs --out DIR");
  }
  if (o.mode == AppMode::live && !o.offline.reloads.empty()) {
    return fail("--reload-at only goes with --offline (live reloads: SIGHUP, file changes)");
  }
  if (o.mode == AppMode::live && (!o.offline.commands.empty() || !o.offline.control_file.empty())) {
    return fail("--control-at and --control-file only go with --offline (live: --control)");
  }
  if (o.mode == AppMode::offline && (!o.live.control_group.empty() || !o.live.state_file.empty())) {
    return fail("--control-group and --state-file only go with live mode");
  }
  if (o.mode == AppMode::live && !o.offline.out_dir.empty()) {
    return fail("--out only goes with --offline");
  }
  return r;
}

void FilterOverrides::apply(FilterConfig& config) const {
  if (profile) config.sip.profile = *profile;
  if (sip_ports) config.ports.sip_udp = config.ports.sip_tcp = *sip_ports;
  if (tls_ports) config.ports.sip_tls = *tls_ports;
  if (media_ports) config.ports.media = *media_ports;
  if (source_table_size) config.limits.table_capacity = *source_table_size;
  if (v4_prefix) config.limits.v4_prefix = *v4_prefix;
  if (v6_prefix) config.limits.v6_prefix = *v6_prefix;
  if (config.limit_spec) {  // a rule file's limits aggregate per limit: override them all
    for (auto& slot : config.limit_spec->slots) {
      if (v4_prefix) slot.v4_prefix = *v4_prefix;
      if (v6_prefix) slot.v6_prefix = *v6_prefix;
    }
  }
  config.acl.insert(config.acl.end(), acl.begin(), acl.end());
  config.service_addresses.insert(config.service_addresses.end(), service_addresses.begin(),
                                  service_addresses.end());
  if (enforce_pinholes) config.enforce_pinholes = true;
}

std::string usage_text(const std::string& program) {
  return "Usage:\n"
         "  " +
         program +
         " [EAL options] -- [options]      filter live traffic\n"
         "  " +
         program +
         " --offline IN.pcap --out DIR [options]   judge a capture\n"
         "\n"
         "Live: port 0 faces the carrier (filtered), port 1 the voice core (forwarded back\n"
         "unfiltered), port 2 (if present) is the punt port towards the control plane.\n"
         "  --outside-port N  --inside-port N  --punt-port N   override the port roles\n"
         "  --stats-interval SEC    print counters every SEC seconds (default: only at exit)\n"
         "  --metrics HOST:PORT|off Prometheus /metrics endpoint (default 127.0.0.1:9464)\n"
         "  --control PATH          control socket (sipwallctl; `sipwallctl help` lists commands)\n"
         "  --control-group GROUP   members of GROUP may use the control socket too (default:\n"
         "                          root and the dataplane's own user only)\n"
         "  --state-file PATH       keep bans, trusted sources and pinholes across restarts:\n"
         "                          loaded at start, written every 5 s and at exit\n"
         "  --no-watch-rules        do not reload when a rule file changes (SIGHUP still does)\n"
         "  --idle-sleep-us N       sleep N us between polls once the queues were empty for a\n"
         "                          while (default: busy-poll); for CPUs shared with SIP peers\n"
         "  --tap-prefix-length V4/V6   on-link prefix of the service addresses on the net_tap\n"
         "                          punt port (default 32/128)\n"
         "  --tap-gateway ADDR      default route of the tap via ADDR (repeatable, per family)\n"
         "\n"
         "Offline: writes DIR/pass.pcap, punt.pcap, drop.pcap, verdicts.jsonl, summary.json;\n"
         "time comes from the packet timestamps, so a run is deterministic.\n"
         "  --reload-at N:FILE      reload FILE before packet N (repeatable; DIR/reloads.jsonl)\n"
         "  --control-at N:COMMAND  run a control command before packet N (repeatable;\n"
         "                          DIR/control.jsonl), e.g. --control-at '5:ban add 192.0.2.1 "
         "ttl=60'\n"
         "  --control-file FILE     the same from a file, one \"N COMMAND\" per line (# comments)\n"
         "\n"
         "Filter options (both modes). The rule file is the base; these override it:\n"
         "  --rules FILE                 rule file (default: the shipped default.rules)\n"
         "  --profile strict|liberal     SIP validation profile (default strict)\n"
         "  --sip-ports LIST             UDP and TCP SIP ports (default 5060)\n"
         "  --tls-ports LIST             SIP over TLS ports (default 5061)\n"
         "  --media-ports LIST           RTP/RTCP ports (default 10000-20000)\n"
         "  --source-table-size N        token-bucket sources per worker (default 1048576)\n"
         "  --acl-allow PREFIX           trusted source: not rate-limited or banned (repeatable)\n"
         "  --acl-deny PREFIX            drop everything from this source (repeatable)\n"
         "  --ipv4-prefix N, --ipv6-prefix N   source aggregation for limits (default 32, 64)\n"
         "  --enforce-pinholes           drop media to ports the control plane did not open\n"
         "  --service-address ADDR       a control-plane address on the punt port (repeatable)\n"
         "  --max-signatures N, --max-compile-ms N   refuse a rule set over this budget\n"
         "  --help, --version\n";
}

}  // namespace sipwall
