#include "app_options.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sipwall {
namespace {

AppOptionsParse parse(std::vector<std::string> args) {
  return parse_app_options(args);
}

TEST(AppOptions, OfflineNeedsInputAndOutput) {
  const auto ok = parse({"--offline", "in.pcap", "--out", "dir", "--profile", "liberal"});
  ASSERT_TRUE(ok.error.empty()) << ok.error;
  EXPECT_EQ(ok.options.mode, AppMode::offline);
  EXPECT_EQ(ok.options.offline.input, "in.pcap");
  EXPECT_EQ(ok.options.offline.out_dir, "dir");
  EXPECT_EQ(ok.options.overrides.profile, SipProfile::liberal);
  EXPECT_NE(parse({"--offline", "in.pcap"}).error, "");
  EXPECT_NE(parse({"--offline"}).error, "");
  EXPECT_NE(parse({"--out", "dir"}).error, "");  // --out without --offline
}

TEST(AppOptions, LivePortRolesAndFilterSettings) {
  const auto ok =
      parse({"--outside-port", "2", "--inside-port", "3", "--punt-port", "4", "--sip-ports",
             "5060,5080", "--media-ports", "30000-40000", "--tls-ports", "5071", "--stats-interval",
             "5", "--source-table-size", "4096", "--enforce-pinholes"});
  ASSERT_TRUE(ok.error.empty()) << ok.error;
  const AppOptions& o = ok.options;
  FilterConfig filter;
  o.overrides.apply(filter);
  EXPECT_EQ(o.mode, AppMode::live);
  EXPECT_EQ(o.live.outside_port, 2);
  EXPECT_EQ(o.live.inside_port, 3);
  EXPECT_EQ(o.live.punt_port, 4);
  EXPECT_EQ(o.live.stats_interval_s, 5u);
  ASSERT_EQ(filter.ports.sip_udp.size(), 2u);
  EXPECT_EQ(filter.ports.sip_udp[1], (PortRange{5080, 5080}));
  EXPECT_EQ(filter.ports.sip_tcp, filter.ports.sip_udp);
  EXPECT_EQ(filter.ports.media[0], (PortRange{30000, 40000}));
  EXPECT_EQ(filter.ports.sip_tls[0], (PortRange{5071, 5071}));
  EXPECT_EQ(filter.limits.table_capacity, 4096u);
  EXPECT_TRUE(filter.enforce_pinholes);
}

TEST(AppOptions, AclEntriesAndSourcePrefixes) {
  const auto ok = parse({"--acl-allow", "198.51.100.0/24", "--acl-deny", "2001:db8::/32",
                         "--ipv4-prefix", "24", "--ipv6-prefix", "56"});
  ASSERT_TRUE(ok.error.empty()) << ok.error;
  FilterConfig filter;
  filter.acl = {{*IpPrefix::parse("203.0.113.0/24"), AclAction::deny}};  // from a rule file
  ok.options.overrides.apply(filter);
  ASSERT_EQ(filter.acl.size(), 3u);  // the command line adds to the rule file's ACL
  EXPECT_EQ(filter.acl[1].action, AclAction::allow);
  EXPECT_EQ(filter.acl[2].prefix.to_string(), "2001:db8::/32");
  EXPECT_EQ(filter.limits.v4_prefix, 24);
  EXPECT_EQ(filter.limits.v6_prefix, 56);
  EXPECT_NE(parse({"--acl-deny", "10.0.0.0/33"}).error, "");
  EXPECT_NE(parse({"--ipv6-prefix", "129"}).error, "");
  // The same prefix both allowed and denied is refused before anything starts.
  const auto both = parse({"--acl-allow", "10.0.0.0/8", "--acl-deny", "10.0.0.0/8"});
  EXPECT_NE(both.error.find("10.0.0.0/8"), std::string::npos) << both.error;
}

TEST(AppOptions, ExceptionPathAndIdleBackoff) {
  const auto def = parse({});
  EXPECT_EQ(def.options.live.idle_sleep_us, 0u);  // busy-poll unless asked
  EXPECT_EQ(def.options.live.tap_v4_prefix, 32);
  EXPECT_EQ(def.options.live.tap_v6_prefix, 128);

  const auto ok = parse({"--service-address", "198.51.100.1", "--service-address", "2001:db8::1",
                         "--tap-prefix-length", "24/64", "--tap-gateway", "198.51.100.254",
                         "--idle-sleep-us", "200"});
  ASSERT_TRUE(ok.error.empty()) << ok.error;
  const AppOptions& o = ok.options;
  EXPECT_EQ(o.live.idle_sleep_us, 200u);
  EXPECT_EQ(o.live.tap_v4_prefix, 24);
  EXPECT_EQ(o.live.tap_v6_prefix, 64);
  ASSERT_EQ(o.live.tap_gateways.size(), 1u);
  EXPECT_EQ(o.live.tap_gateways[0], *IpAddress::parse("198.51.100.254"));
  FilterConfig filter;
  filter.service_addresses = {*IpAddress::parse("203.0.113.5")};  // from a rule file
  o.overrides.apply(filter);
  EXPECT_EQ(filter.service_addresses, (std::vector<IpAddress>{*IpAddress::parse("203.0.113.5"),
                                                              *IpAddress::parse("198.51.100.1"),
                                                              *IpAddress::parse("2001:db8::1")}));

  EXPECT_NE(parse({"--service-address", "198.51.100.0/24"}).error, "");
  EXPECT_NE(parse({"--service-address"}).error, "");
  EXPECT_NE(parse({"--tap-prefix-length", "24"}).error, "");
  EXPECT_NE(parse({"--tap-prefix-length", "33/64"}).error, "");
  EXPECT_NE(parse({"--tap-prefix-length", "24/0"}).error, "");
  EXPECT_NE(parse({"--tap-gateway", "gw"}).error, "");
  EXPECT_NE(parse({"--idle-sleep-us", "0"}).error, "");
  EXPECT_NE(parse({"--idle-sleep-us", "1000000"}).error, "");
}

TEST(AppOptions, MetricsEndpointDefaultsOnAndCanBeMovedOrTurnedOff) {
  EXPECT_EQ(parse({}).options.live.metrics_address, "127.0.0.1:9464");
  EXPECT_EQ(parse({"--metrics", "0.0.0.0:9100"}).options.live.metrics_address, "0.0.0.0:9100");
  EXPECT_EQ(parse({"--metrics", "off"}).options.live.metrics_address, "");
  EXPECT_NE(parse({"--metrics", "9100"}).error, "");
}

TEST(AppOptions, BadValuesAreClearErrors) {
  EXPECT_NE(parse({"--profile", "loose"}).error.find("loose"), std::string::npos);
  EXPECT_NE(parse({"--outside-port", "x"}).error, "");
  EXPECT_NE(parse({"--outside-port", "70000"}).error, "");
  EXPECT_NE(parse({"--sip-ports", "5060-"}).error.find("--sip-ports"), std::string::npos);
  EXPECT_NE(parse({"--source-table-size", "3"}).error, "");
  EXPECT_NE(parse({"--bogus"}).error.find("--bogus"), std::string::npos);
}

TEST(AppOptions, UnsetOverridesLeaveTheRuleFileAlone) {
  const auto ok = parse({"--rules", "/etc/sipwall/site.rules"});
  ASSERT_TRUE(ok.error.empty()) << ok.error;
  EXPECT_EQ(ok.options.rules_file, "/etc/sipwall/site.rules");
  FilterConfig filter;
  filter.sip.profile = SipProfile::liberal;
  filter.ports.media = {{30000, 30100}};
  filter.limits.table_capacity = 4096;
  ok.options.overrides.apply(filter);
  EXPECT_EQ(filter.sip.profile, SipProfile::liberal);
  EXPECT_EQ(filter.ports.media[0], (PortRange{30000, 30100}));
  EXPECT_EQ(filter.limits.table_capacity, 4096u);
  EXPECT_FALSE(filter.enforce_pinholes);
}

TEST(AppOptions, ScheduledControlCommandsAndLiveControlOptions) {
  const auto ok =
      parse({"--offline", "in.pcap", "--out", "d", "--control-at", "7:ban add 192.0.2.1 ttl=60",
             "--control-at", "3:ping", "--control-file", "cmds.txt"});
  ASSERT_TRUE(ok.error.empty()) << ok.error;
  ASSERT_EQ(ok.options.offline.commands.size(), 2u);
  EXPECT_EQ(ok.options.offline.commands[0].before_packet, 7u);
  EXPECT_EQ(ok.options.offline.commands[0].line, "ban add 192.0.2.1 ttl=60");
  EXPECT_EQ(ok.options.offline.control_file, "cmds.txt");
  for (const char* bad : {"0:ping", "x:ping", "7:", "7: ", "ping", ":ping"}) {
    EXPECT_NE(parse({"--offline", "in.pcap", "--out", "d", "--control-at", bad}).error, "") << bad;
  }
  const auto line = parse_scheduled_command("12 pinhole open 192.0.2.1 20000 ttl=5", ' ');
  ASSERT_TRUE(line);
  EXPECT_EQ(line->before_packet, 12u);
  EXPECT_EQ(line->line, "pinhole open 192.0.2.1 20000 ttl=5");
  const auto live = parse({"--control", "/run/s.sock", "--control-group", "sipwall", "--state-file",
                           "/var/lib/sipwall/state"});
  ASSERT_TRUE(live.error.empty()) << live.error;
  EXPECT_EQ(live.options.live.control_group, "sipwall");
  EXPECT_EQ(live.options.live.state_file, "/var/lib/sipwall/state");
  // Each mode's options are refused in the other.
  EXPECT_NE(parse({"--control-at", "1:ping"}).error, "");
  EXPECT_NE(parse({"--offline", "in.pcap", "--out", "d", "--state-file", "s"}).error, "");
  EXPECT_NE(parse({"--offline", "in.pcap", "--out", "d", "--control-group", "g"}).error, "");
}

TEST(AppOptions, OwnArgumentsAreKeptAwayFromEal) {
  const std::vector<std::string> offline = {"--offline", "x", "--out", "y"};
  const std::vector<std::string> live = {"-l", "0-1", "--no-huge", "--", "--offline", "x"};
  const std::vector<std::string> help = {"--help"};
  EXPECT_TRUE(handles_own_arguments(offline));
  EXPECT_TRUE(handles_own_arguments(help));
  EXPECT_FALSE(handles_own_arguments(live));  // after "--" it is the live app's business
}

}  // namespace
}  // namespace sipwall
