#include "metrics.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

namespace sipwall {
namespace {

const prometheus::MetricFamily* find(const std::vector<prometheus::MetricFamily>& fams,
                                     const std::string& name) {
  for (const auto& f : fams) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

double value(const prometheus::MetricFamily& f, const std::string& label, const std::string& v) {
  for (const auto& m : f.metric) {
    for (const auto& l : m.label) {
      if (l.name == label && l.value == v) return m.counter.value;
    }
  }
  return -1;
}

MetricsSnapshot sample() {
  MetricsSnapshot s;
  s.filter.resize_rules(2);
  s.filter.count(Decision::punt());
  s.filter.count(Decision::drop(DropReason::flood));
  s.filter.count(Decision::drop(DropReason::signature, 1));
  s.filter.signature_hits[1] = 1;  // the pipeline counts hits by counter slot
  s.filter.sip_errors[static_cast<size_t>(SipError::bad_cseq)] = 4;
  s.io.rx_outside = 3;
  s.io.rx_punt = 5;
  s.io.tx_by_port[static_cast<size_t>(PortRole::punt)] = 4;
  s.io.exception.ingress[static_cast<size_t>(BridgeSide::inside)]
                        [static_cast<size_t>(TapIngress::not_served)] = 6;
  s.io.exception.egress[static_cast<size_t>(TapEgress::flood)] = 2;
  s.filter.punt_granted[static_cast<size_t>(Tier::trusted)] = 7;
  s.filter.punt_refused[static_cast<size_t>(Tier::untrusted)] = 9;
  s.rule_ids = {"sipwall:a", "sipwall:b"};
  s.rules_source = "/etc/sipwall/site.rules";
  s.rules_version = "fnv1a64:0123";
  return s;
}

TEST(Metrics, BanDropsAreNamedByTheOperatorsIdsAndTheRestIsOther) {
  MetricsSnapshot s = sample();
  s.commands.ban_labels = {"other", "scan-42", "scan-43"};
  s.filter.ban_drops[0] = 5;
  s.filter.ban_drops[1] = 2;
  const auto fams = to_metric_families(s);
  const auto* bans = find(fams, "sipwall_ban_drops_total");
  ASSERT_NE(bans, nullptr);
  EXPECT_EQ(bans->metric.size(), 3u) << "one series per label given, no more";
  EXPECT_EQ(value(*bans, "ban", "other"), 5);
  EXPECT_EQ(value(*bans, "ban", "scan-42"), 2);
  EXPECT_EQ(value(*bans, "ban", "scan-43"), 0);
  // Before any ban: the `other` series alone, at zero.
  const auto none = to_metric_families(sample());
  const auto* empty = find(none, "sipwall_ban_drops_total");
  ASSERT_NE(empty, nullptr);
  ASSERT_EQ(empty->metric.size(), 1u);
  EXPECT_EQ(value(*empty, "ban", "other"), 0);
}

TEST(Metrics, TheCommandChannelsTablesCommandsAndLatency) {
  MetricsSnapshot s = sample();
  s.commands.applied = {{"ban add", 3}, {"pinhole open", 1}};
  s.commands.tables[0] = {5, 65536, 2};  // bans: entries, capacity, full rejections
  s.commands.tables[2] = {1, 16, 7};     // pinholes
  s.commands.apply_latency.count = 4;
  s.commands.apply_latency.cumulative.fill(4);
  const auto fams = to_metric_families(s);
  const auto* applied = find(fams, "sipwall_commands_applied_total");
  ASSERT_NE(applied, nullptr);
  EXPECT_EQ(value(*applied, "command", "ban add"), 3);
  EXPECT_EQ(value(*applied, "command", "pinhole open"), 1);
  auto gauge = [&](const char* family, const char* table) {
    for (const auto& m : find(fams, family)->metric) {
      if (m.label[0].value == table) return m.gauge.value;
    }
    return -1.0;
  };
  EXPECT_EQ(gauge("sipwall_dynamic_entries", "ban"), 5);
  EXPECT_EQ(gauge("sipwall_dynamic_capacity", "ban"), 65536);
  EXPECT_EQ(gauge("sipwall_dynamic_entries", "trust"), 0);
  EXPECT_EQ(gauge("sipwall_dynamic_capacity", "pinhole"), 16);
  const auto* full = find(fams, "sipwall_dynamic_full_total");
  ASSERT_NE(full, nullptr);
  EXPECT_EQ(value(*full, "table", "ban"), 2);
  EXPECT_EQ(value(*full, "table", "pinhole"), 7);
  EXPECT_EQ(value(*full, "table", "trust"), 0);
  const auto* latency = find(fams, "sipwall_command_apply_seconds");
  ASSERT_NE(latency, nullptr);
  ASSERT_EQ(latency->metric.size(), 1u);
  EXPECT_EQ(latency->metric[0].histogram.sample_count, 4u);
}

TEST(Metrics, FamiliesCarryEveryLabelValueAndTheCounts) {
  const auto fams = to_metric_families(sample());
  const auto* packets = find(fams, "sipwall_packets_total");
  ASSERT_NE(packets, nullptr);
  EXPECT_EQ(packets->type, prometheus::MetricType::Counter);
  EXPECT_EQ(value(*packets, "verdict", "punt"), 1);
  EXPECT_EQ(value(*packets, "verdict", "drop"), 2);
  EXPECT_EQ(value(*packets, "verdict", "pass"), 0);
  const auto* drops = find(fams, "sipwall_drops_total");
  ASSERT_NE(drops, nullptr);
  EXPECT_EQ(drops->metric.size(), kDropReasonCount - 1);  // every reason, zeros included
  EXPECT_EQ(value(*drops, "reason", "flood"), 1);
  EXPECT_EQ(value(*drops, "reason", "rtp_no_pinhole"), 0);
  const auto* hits = find(fams, "sipwall_signature_hits_total");
  ASSERT_NE(hits, nullptr);
  EXPECT_EQ(value(*hits, "rule", "sipwall:b"), 1);
  EXPECT_EQ(value(*hits, "rule", "sipwall:a"), 0);
  EXPECT_EQ(value(*find(fams, "sipwall_malformed_sip_total"), "error", "bad_cseq"), 4);
  EXPECT_EQ(value(*find(fams, "sipwall_rx_packets_total"), "port", "outside"), 3);
  EXPECT_EQ(value(*find(fams, "sipwall_rx_packets_total"), "port", "punt"), 5);
  EXPECT_EQ(value(*find(fams, "sipwall_tx_port_packets_total"), "port", "punt"), 4);
  EXPECT_EQ(value(*find(fams, "sipwall_tx_port_packets_total"), "port", "inside"), 0);
  const auto* ingress = find(fams, "sipwall_tap_ingress_frames_total");
  ASSERT_NE(ingress, nullptr);
  ASSERT_EQ(ingress->metric.size(), 2 * kTapIngressCount);  // every side and decision
  double inside_not_served = -1;
  for (const auto& m : ingress->metric) {
    if (m.label[0].value == "inside" && m.label[1].value == "not_served") {
      inside_not_served = m.counter.value;
    }
  }
  EXPECT_EQ(inside_not_served, 6);
  EXPECT_EQ(value(*find(fams, "sipwall_tap_egress_frames_total"), "decision", "flood"), 2);
  EXPECT_EQ(value(*find(fams, "sipwall_tap_egress_frames_total"), "decision", "outside"), 0);
  const auto* budget = find(fams, "sipwall_budget_messages_total");
  ASSERT_NE(budget, nullptr);
  ASSERT_EQ(budget->metric.size(), 8u);  // 2 budgets x 2 tiers x granted/refused
  auto budget_value = [&](const std::string& b, const std::string& tier, const std::string& o) {
    for (const auto& m : budget->metric) {
      if (m.label[0].value == b && m.label[1].value == tier && m.label[2].value == o) {
        return m.counter.value;
      }
    }
    return -1.0;
  };
  EXPECT_EQ(budget_value("punt", "trusted", "granted"), 7);
  EXPECT_EQ(budget_value("punt", "untrusted", "refused"), 9);
  EXPECT_EQ(budget_value("pass", "trusted", "granted"), 0);
  const auto* info = find(fams, "sipwall_rules_info");
  ASSERT_NE(info, nullptr);
  ASSERT_EQ(info->metric.size(), 1u);
  EXPECT_EQ(info->metric[0].gauge.value, 1);
  EXPECT_EQ(info->metric[0].label[1].value, "fnv1a64:0123");
}

// The sample of `family` whose labels are exactly `labels` (-1 when there is none).
double sample_of(const std::vector<prometheus::MetricFamily>& fams, const std::string& family,
                 const std::vector<prometheus::ClientMetric::Label>& labels) {
  const auto* f = find(fams, family);
  if (!f) return -1;
  for (const auto& m : f->metric) {
    if (m.label.size() != labels.size()) continue;
    bool same = true;
    for (size_t i = 0; i < labels.size(); ++i) {
      same = same && m.label[i].name == labels[i].name && m.label[i].value == labels[i].value;
    }
    if (same) return f->type == prometheus::MetricType::Gauge ? m.gauge.value : m.counter.value;
  }
  return -1;
}

TEST(Metrics, EachWorkerReportsItsLoadAndTableUse) {
  MetricsSnapshot s = sample();
  s.tsc_hz = 2'000'000'000;
  WorkerSample w0;
  w0.io.busy_polls = 10;
  w0.io.idle_polls = 90;
  w0.io.busy_cycles = 3'000'000'000;  // 1.5 s at 2 GHz
  w0.io.idle_cycles = 1'000'000'000;
  w0.tables.buckets = {
      .capacity = 1024, .size = 7, .inserts = 9, .evictions_idle = 1, .evictions_busy = 2};
  w0.tables.fragments_in_use = 3;
  w0.tables.fragments_capacity = 64;
  s.workers = {w0, WorkerSample{}};
  s.io.tx_failed_by_port[static_cast<size_t>(PortRole::punt)] = 11;
  s.start_time_seconds = 1700000000.5;
  const auto fams = to_metric_families(s);
  EXPECT_EQ(sample_of(fams, "sipwall_worker_polls_total", {{"worker", "0"}, {"result", "busy"}}),
            10);
  EXPECT_EQ(sample_of(fams, "sipwall_worker_polls_total", {{"worker", "0"}, {"result", "idle"}}),
            90);
  EXPECT_EQ(sample_of(fams, "sipwall_worker_seconds_total", {{"worker", "0"}, {"mode", "busy"}}),
            1.5);
  EXPECT_EQ(sample_of(fams, "sipwall_worker_seconds_total", {{"worker", "0"}, {"mode", "idle"}}),
            0.5);
  // The second worker has its series too, at zero.
  EXPECT_EQ(sample_of(fams, "sipwall_worker_seconds_total", {{"worker", "1"}, {"mode", "busy"}}),
            0);
  EXPECT_EQ(sample_of(fams, "sipwall_bucket_table_entries", {{"worker", "0"}}), 7);
  EXPECT_EQ(sample_of(fams, "sipwall_bucket_table_capacity", {{"worker", "0"}}), 1024);
  EXPECT_EQ(sample_of(fams, "sipwall_bucket_table_inserts_total", {{"worker", "0"}}), 9);
  EXPECT_EQ(
      sample_of(fams, "sipwall_bucket_table_evictions_total", {{"worker", "0"}, {"kind", "idle"}}),
      1);
  EXPECT_EQ(
      sample_of(fams, "sipwall_bucket_table_evictions_total", {{"worker", "0"}, {"kind", "busy"}}),
      2);
  EXPECT_EQ(sample_of(fams, "sipwall_fragment_table_datagrams", {{"worker", "0"}}), 3);
  EXPECT_EQ(sample_of(fams, "sipwall_fragment_table_capacity", {{"worker", "0"}}), 64);
  EXPECT_EQ(sample_of(fams, "sipwall_fragment_table_capacity", {{"worker", "1"}}), 0);
  EXPECT_EQ(sample_of(fams, "sipwall_tx_port_failed_total", {{"port", "punt"}}), 11);
  EXPECT_EQ(sample_of(fams, "sipwall_tx_port_failed_total", {{"port", "inside"}}), 0);
  EXPECT_EQ(sample_of(fams, "sipwall_start_time_seconds", {}), 1700000000.5);
  EXPECT_EQ(find(fams, "sipwall_worker_seconds_total")->metric.size(), 4u);
}

std::string http_get(uint16_t port, const std::string& path) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return {};
  }
  const std::string req = "GET " + path + " HTTP/1.0\r\nHost: localhost\r\n\r\n";
  if (write(fd, req.data(), req.size()) != static_cast<ssize_t>(req.size())) {
    close(fd);
    return {};
  }
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  close(fd);
  return out;
}

TEST(Metrics, EndpointServesTheSnapshotOverHttp) {
  int scrapes = 0;
  MetricsEndpoint endpoint("127.0.0.1:0", [&] {
    ++scrapes;
    return sample();
  });
  ASSERT_NE(endpoint.port(), 0);
  const std::string body = http_get(endpoint.port(), "/metrics");
  EXPECT_NE(body.find("200 OK"), std::string::npos) << body;
  EXPECT_NE(body.find("sipwall_packets_total{verdict=\"punt\"} 1"), std::string::npos) << body;
  EXPECT_NE(body.find("sipwall_signature_hits_total{rule=\"sipwall:b\"} 1"), std::string::npos);
  EXPECT_EQ(scrapes, 1);
}

}  // namespace
}  // namespace sipwall
