#include "metrics.h"

#include <prometheus/exposer.h>

#include <array>
#include <limits>

namespace sipwall {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

MetricFamily counter_family(std::string name, std::string help) {
  return MetricFamily{std::move(name), std::move(help), MetricType::Counter, {}};
}

void add(MetricFamily& family, double value, std::vector<ClientMetric::Label> labels = {}) {
  ClientMetric m;
  m.label = std::move(labels);
  m.counter.value = value;
  family.metric.push_back(std::move(m));
}

template <typename Enum, size_t N>
MetricFamily by_kind(std::string name, std::string help, const std::string& label,
                     const std::array<uint64_t, N>& counts) {
  MetricFamily f = counter_family(std::move(name), std::move(help));
  for (size_t i = 1; i < N; ++i) {  // 0 is "none"/"ok" in every one of these enums
    add(f, static_cast<double>(counts[i]), {{label, std::string(to_string(static_cast<Enum>(i)))}});
  }
  return f;
}

MetricFamily gauge_family(std::string name, std::string help) {
  return MetricFamily{std::move(name), std::move(help), MetricType::Gauge, {}};
}

void add_gauge(MetricFamily& family, double value, std::vector<ClientMetric::Label> labels) {
  ClientMetric m;
  m.label = std::move(labels);
  m.gauge.value = value;
  family.metric.push_back(std::move(m));
}

void add_command_families(const MetricsSnapshot& s, std::vector<MetricFamily>& out) {
  const CommandMetrics& c = s.commands;
  MetricFamily applied = counter_family(
      "sipwall_commands_applied_total",
      "State commands applied on every worker, by command (ban add, pinhole open, ...)");
  for (const auto& [kind, n] : c.applied) add(applied, static_cast<double>(n), {{"command", kind}});
  out.push_back(std::move(applied));

  MetricFamily entries = gauge_family("sipwall_dynamic_entries",
                                      "Entries in a dynamic table (bans, trusted, pinholes)");
  MetricFamily capacity =
      gauge_family("sipwall_dynamic_capacity", "Capacity of a dynamic table (from the rule file)");
  MetricFamily full = counter_family("sipwall_dynamic_full_total",
                                     "Adds refused because the dynamic table was full");
  constexpr std::array<const char*, 3> kTables = {"ban", "trust", "pinhole"};
  for (size_t i = 0; i < kTables.size(); ++i) {
    add_gauge(entries, static_cast<double>(c.tables[i].size), {{"table", kTables[i]}});
    add_gauge(capacity, static_cast<double>(c.tables[i].capacity), {{"table", kTables[i]}});
    add(full, static_cast<double>(c.tables[i].full_rejections), {{"table", kTables[i]}});
  }
  out.push_back(std::move(entries));
  out.push_back(std::move(capacity));
  out.push_back(std::move(full));

  MetricFamily latency{"sipwall_command_apply_seconds",
                       "From a state command's arrival to its reply, sent once every worker "
                       "applied it",
                       MetricType::Histogram,
                       {}};
  ClientMetric h;
  h.histogram.sample_count = c.apply_latency.count;
  h.histogram.sample_sum = c.apply_latency.sum;
  for (size_t i = 0; i < LatencyHistogram::kBounds.size(); ++i) {
    h.histogram.bucket.push_back({c.apply_latency.cumulative[i], LatencyHistogram::kBounds[i]});
  }
  h.histogram.bucket.push_back({c.apply_latency.count, std::numeric_limits<double>::infinity()});
  latency.metric.push_back(std::move(h));
  out.push_back(std::move(latency));

  MetricFamily writes =
      counter_family("sipwall_state_file_writes_total", "State file writes, by outcome");
  add(writes, static_cast<double>(c.state_file_writes), {{"outcome", "written"}});
  add(writes, static_cast<double>(c.state_file_errors), {{"outcome", "failed"}});
  out.push_back(std::move(writes));
  MetricFamily refused = counter_family(
      "sipwall_control_refused_total",
      "Control-socket connections refused by the peer-credential check (--control-group)");
  add(refused, static_cast<double>(s.control_refused));
  out.push_back(std::move(refused));
}

// Per worker: the poll loop's load and the occupancy of the worker's own tables.
void add_worker_families(const MetricsSnapshot& s, std::vector<MetricFamily>& out) {
  MetricFamily polls = counter_family(
      "sipwall_worker_polls_total",
      "Poll-loop iterations per worker: busy (some RX poll returned packets) or idle");
  MetricFamily seconds = counter_family(
      "sipwall_worker_seconds_total",
      "Poll-loop time per worker, busy or idle (sleeps included): busy / (busy + idle) is the "
      "real load of a poll-mode core");
  MetricFamily entries = gauge_family(
      "sipwall_bucket_table_entries",
      "Token buckets tracked per worker (one per source and limit, e.g. all-SIP and INVITE)");
  MetricFamily capacity =
      gauge_family("sipwall_bucket_table_capacity", "Token-bucket table slots per worker");
  MetricFamily inserts = counter_family("sipwall_bucket_table_inserts_total",
                                        "Token buckets created for a source not tracked yet");
  MetricFamily evictions = counter_family(
      "sipwall_bucket_table_evictions_total",
      "Token buckets evicted from a full table: idle (bucket full again, nothing lost) or busy "
      "(below its burst: that source's state was lost)");
  MetricFamily held = gauge_family("sipwall_fragment_table_datagrams",
                                   "IP datagrams held for reassembly per worker");
  MetricFamily held_capacity = gauge_family(
      "sipwall_fragment_table_capacity",
      "Datagrams the fragment table holds at most per worker (beyond: table_full drops)");
  const double hz = s.tsc_hz ? static_cast<double>(s.tsc_hz) : 1.0;
  for (size_t w = 0; w < s.workers.size(); ++w) {
    const IoCounters& io = s.workers[w].io;
    const TableUse& t = s.workers[w].tables;
    const std::string id = std::to_string(w);
    add(polls, static_cast<double>(io.busy_polls), {{"worker", id}, {"result", "busy"}});
    add(polls, static_cast<double>(io.idle_polls), {{"worker", id}, {"result", "idle"}});
    add(seconds, static_cast<double>(io.busy_cycles) / hz, {{"worker", id}, {"mode", "busy"}});
    add(seconds, static_cast<double>(io.idle_cycles) / hz, {{"worker", id}, {"mode", "idle"}});
    add_gauge(entries, static_cast<double>(t.buckets.size), {{"worker", id}});
    add_gauge(capacity, static_cast<double>(t.buckets.capacity), {{"worker", id}});
    add(inserts, static_cast<double>(t.buckets.inserts), {{"worker", id}});
    add(evictions, static_cast<double>(t.buckets.evictions_idle),
        {{"worker", id}, {"kind", "idle"}});
    add(evictions, static_cast<double>(t.buckets.evictions_busy),
        {{"worker", id}, {"kind", "busy"}});
    add_gauge(held, static_cast<double>(t.fragments_in_use), {{"worker", id}});
    add_gauge(held_capacity, static_cast<double>(t.fragments_capacity), {{"worker", id}});
  }
  for (MetricFamily* f :
       {&polls, &seconds, &entries, &capacity, &inserts, &evictions, &held, &held_capacity}) {
    out.push_back(std::move(*f));
  }
}

}  // namespace

std::vector<MetricFamily> to_metric_families(const MetricsSnapshot& s) {
  std::vector<MetricFamily> out;
  const WorkerCounters& c = s.filter;

  MetricFamily packets =
      counter_family("sipwall_packets_total", "Packets judged on the outside port, by verdict");
  for (const Verdict v : {Verdict::pass, Verdict::punt, Verdict::drop}) {
    add(packets, static_cast<double>(c.verdict(v)), {{"verdict", std::string(to_string(v))}});
  }
  out.push_back(std::move(packets));
  out.push_back(
      by_kind<DropReason>("sipwall_drops_total", "Dropped packets, by reason", "reason", c.drops));
  out.push_back(by_kind<SipError>("sipwall_malformed_sip_total",
                                  "SIP messages dropped as malformed, by validation error", "error",
                                  c.sip_errors));
  out.push_back(by_kind<FragmentDrop>("sipwall_fragment_drops_total",
                                      "IP fragments dropped, by cause", "cause", c.fragment_drops));
  out.push_back(by_kind<RtpCheck>(
      "sipwall_rtp_invalid_total",
      "Media-port datagrams (RTP/RTCP, STUN, DTLS, ZRTP) dropped as invalid, by failed check",
      "check", c.rtp_errors));

  MetricFamily hits =
      counter_family("sipwall_signature_hits_total", "Packets dropped by a signature, by rule id");
  MetricFamily alerts = counter_family("sipwall_signature_alerts_total",
                                       "Messages matching an alert-only signature, by rule id");
  for (size_t i = 0; i < s.rule_ids.size(); ++i) {
    const double hit = i < c.signature_hits.size() ? static_cast<double>(c.signature_hits[i]) : 0;
    const double alert =
        i < c.signature_alerts.size() ? static_cast<double>(c.signature_alerts[i]) : 0;
    add(hits, hit, {{"rule", s.rule_ids[i]}});
    add(alerts, alert, {{"rule", s.rule_ids[i]}});
  }
  out.push_back(std::move(hits));
  out.push_back(std::move(alerts));

  // Bounded: `other` plus at most 64 ids an operator chose (state/ban_labels.h).
  MetricFamily ban_drops = counter_family(
      "sipwall_ban_drops_total",
      "Packets dropped by a ban, by the ban's id (operator-chosen ids; the rest as other)");
  const auto& ban_labels = s.commands.ban_labels;
  for (size_t i = 0; i < ban_labels.size() && i < c.ban_drops.size(); ++i) {
    add(ban_drops, static_cast<double>(c.ban_drops[i]), {{"ban", ban_labels[i]}});
  }
  out.push_back(std::move(ban_drops));

  MetricFamily scan_errors = counter_family("sipwall_signature_scan_errors_total",
                                            "Signature scans that failed (message let through)");
  add(scan_errors, static_cast<double>(c.signature_scan_errors));
  out.push_back(std::move(scan_errors));
  MetricFamily reassembled = counter_family("sipwall_datagrams_reassembled_total",
                                            "IP datagrams reassembled from fragments");
  add(reassembled, static_cast<double>(c.datagrams_reassembled));
  out.push_back(std::move(reassembled));

  // Budget use and refusals by budget and tier (refusals are the punt_budget/pass_budget drops).
  MetricFamily budget =
      counter_family("sipwall_budget_messages_total",
                     "Signaling messages per budget (punt, pass), tier and outcome");
  for (size_t t = 0; t < kTierCount; ++t) {
    const std::string tier(to_string(static_cast<Tier>(t)));
    add(budget, static_cast<double>(c.punt_granted[t]),
        {{"budget", "punt"}, {"tier", tier}, {"outcome", "granted"}});
    add(budget, static_cast<double>(c.punt_refused[t]),
        {{"budget", "punt"}, {"tier", tier}, {"outcome", "refused"}});
    add(budget, static_cast<double>(c.pass_granted[t]),
        {{"budget", "pass"}, {"tier", tier}, {"outcome", "granted"}});
    add(budget, static_cast<double>(c.pass_refused[t]),
        {{"budget", "pass"}, {"tier", tier}, {"outcome", "refused"}});
  }
  out.push_back(std::move(budget));

  MetricFamily info{"sipwall_rules_info", "The rule set in force (value 1)", MetricType::Gauge, {}};
  ClientMetric active;
  active.label = {{"source", s.rules_source}, {"version", s.rules_version}};
  active.gauge.value = 1;
  info.metric.push_back(std::move(active));
  out.push_back(std::move(info));
  MetricFamily reloads = counter_family("sipwall_rules_reloads_total",
                                        "Rule reloads, by outcome (a refused set leaves the old)");
  add(reloads, static_cast<double>(s.reloads_applied), {{"outcome", "applied"}});
  add(reloads, static_cast<double>(s.reloads_failed), {{"outcome", "refused"}});
  out.push_back(std::move(reloads));
  MetricFamily failures = counter_family("sipwall_rules_reload_failures_total",
                                         "Rule reloads refused (parse or compile errors)");
  add(failures, static_cast<double>(s.reloads_failed));
  out.push_back(std::move(failures));

  MetricFamily rx = counter_family("sipwall_rx_packets_total", "Packets received, by port role");
  add(rx, static_cast<double>(s.io.rx_outside), {{"port", "outside"}});
  add(rx, static_cast<double>(s.io.rx_inside), {{"port", "inside"}});
  add(rx, static_cast<double>(s.io.rx_punt), {{"port", "punt"}});
  out.push_back(std::move(rx));
  // The exception path (a net_tap punt port): each frame once, by direction and decision.
  MetricFamily to_tap = counter_family(
      "sipwall_tap_ingress_frames_total",
      "Frames from the outside or inside port the exception path judged, by decision");
  for (const auto side : {BridgeSide::outside, BridgeSide::inside}) {
    const std::string side_name = side == BridgeSide::outside ? "outside" : "inside";
    for (size_t i = 0; i < kTapIngressCount; ++i) {
      const auto r = static_cast<TapIngress>(i);
      add(to_tap, static_cast<double>(s.io.exception.in(side, r)),
          {{"side", side_name}, {"decision", std::string(to_string(r))}});
    }
  }
  out.push_back(std::move(to_tap));
  MetricFamily from_tap = counter_family("sipwall_tap_egress_frames_total",
                                         "Frames the tap (control plane) sent, by where they went");
  for (size_t i = 0; i < kTapEgressCount; ++i) {
    const auto r = static_cast<TapEgress>(i);
    add(from_tap, static_cast<double>(s.io.exception.out(r)),
        {{"decision", std::string(to_string(r))}});
  }
  out.push_back(std::move(from_tap));
  MetricFamily sleeps =
      counter_family("sipwall_idle_sleeps_total", "Sleeps of idle workers (--idle-sleep-us)");
  add(sleeps, static_cast<double>(s.io.idle_sleeps));
  out.push_back(std::move(sleeps));
  MetricFamily tx = counter_family("sipwall_tx_packets_total", "Packets sent, by outcome");
  add(tx, static_cast<double>(s.io.tx_sent), {{"outcome", "sent"}});
  add(tx, static_cast<double>(s.io.tx_failed), {{"outcome", "ring_full"}});
  out.push_back(std::move(tx));
  MetricFamily tx_port =
      counter_family("sipwall_tx_port_packets_total", "Packets sent, by port role");
  for (const auto& [role, name] :
       {std::pair{PortRole::outside, "outside"}, std::pair{PortRole::inside, "inside"},
        std::pair{PortRole::punt, "punt"}}) {
    add(tx_port, static_cast<double>(s.io.tx_by_port[static_cast<size_t>(role)]), {{"port", name}});
  }
  out.push_back(std::move(tx_port));
  MetricFamily tx_port_failed = counter_family(
      "sipwall_tx_port_failed_total",
      "Packets not sent because the port's TX ring stayed full, by port role (punt: the "
      "control plane is not reading)");
  for (const auto& [role, name] :
       {std::pair{PortRole::outside, "outside"}, std::pair{PortRole::inside, "inside"},
        std::pair{PortRole::punt, "punt"}}) {
    add(tx_port_failed, static_cast<double>(s.io.tx_failed_by_port[static_cast<size_t>(role)]),
        {{"port", name}});
  }
  out.push_back(std::move(tx_port_failed));
  MetricFamily started =
      gauge_family("sipwall_start_time_seconds", "When the process started, Unix seconds");
  add_gauge(started, s.start_time_seconds, {});
  out.push_back(std::move(started));
  add_worker_families(s, out);
  add_command_families(s, out);
  return out;
}

class MetricsEndpoint::Collector : public prometheus::Collectable {
 public:
  explicit Collector(SnapshotFn fn) : fn_(std::move(fn)) {}
  std::vector<MetricFamily> Collect() const override { return to_metric_families(fn_()); }

 private:
  SnapshotFn fn_;
};

MetricsEndpoint::MetricsEndpoint(const std::string& address, SnapshotFn snapshot)
    : collector_(std::make_shared<Collector>(std::move(snapshot))),
      exposer_(std::make_unique<prometheus::Exposer>(address)) {
  exposer_->RegisterCollectable(collector_);
}

MetricsEndpoint::~MetricsEndpoint() {
  if (exposer_) exposer_->RemoveCollectable(collector_);
}

uint16_t MetricsEndpoint::port() const {
  const auto ports = exposer_->GetListeningPorts();
  return ports.empty() ? 0 : static_cast<uint16_t>(ports.front());
}

}  // namespace sipwall
