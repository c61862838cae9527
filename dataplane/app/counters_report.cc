#include "counters_report.h"

#include <cinttypes>
#include <cstdio>

namespace sipwall {
namespace {

// "<prefix>ban.<id>" for every ban label whose drops are not 0.
template <typename Add>
void add_ban_drops(const WorkerCounters& filter, std::span<const std::string> ban_labels,
                   const std::string& prefix, Add&& add) {
  for (size_t i = 0; i < ban_labels.size() && i < filter.ban_drops.size(); ++i) {
    if (filter.ban_drops[i] != 0) add(prefix + "ban." + ban_labels[i], filter.ban_drops[i]);
  }
}

}  // namespace

std::string format_counters(const WorkerCounters& filter, const IoCounters& io,
                            const std::function<std::string(RuleIndex)>& rule_id,
                            std::span<const std::string> ban_labels) {
  std::string out;
  char line[256];
  auto add = [&](const char* name, uint64_t value) {
    std::snprintf(line, sizeof line, "  %-28s %" PRIu64 "\n", name, value);
    out += line;
  };
  out += "sipwall counters\n";
  add("rx_outside", io.rx_outside);
  add("rx_inside (forwarded out)", io.rx_inside);
  add("judged", filter.packets);
  add("pass", filter.verdict(Verdict::pass));
  add("punt", filter.verdict(Verdict::punt));
  add("drop", filter.verdict(Verdict::drop));
  for (size_t i = 1; i < kDropReasonCount; ++i) {
    const auto reason = static_cast<DropReason>(i);
    const std::string name = "drop." + std::string(to_string(reason));
    add(name.c_str(), filter.drop(reason));
  }
  add_ban_drops(filter, ban_labels, "",
                [&](const std::string& name, uint64_t n) { add(name.c_str(), n); });
  add("datagrams_reassembled", filter.datagrams_reassembled);
  auto add_detail = [&](std::string_view prefix, std::string_view name, uint64_t value) {
    if (value == 0) return;
    const std::string key = std::string(prefix) + std::string(name);
    add(key.c_str(), value);
  };
  for (size_t i = 1; i < kSipErrorCount; ++i) {
    add_detail("malformed_sip.", to_string(static_cast<SipError>(i)), filter.sip_errors[i]);
  }
  for (size_t i = 1; i < kFragmentDropCount; ++i) {
    add_detail("fragment.", to_string(static_cast<FragmentDrop>(i)), filter.fragment_drops[i]);
  }
  for (size_t i = 1; i < kRtpCheckCount; ++i) {
    add_detail("rtp_invalid.", to_string(static_cast<RtpCheck>(i)), filter.rtp_errors[i]);
  }
  add_detail("", "signature_scan_errors", filter.signature_scan_errors);
  for (size_t t = 0; t < kTierCount; ++t) {
    const std::string tier(to_string(static_cast<Tier>(t)));
    add(("punt_budget.granted." + tier).c_str(), filter.punt_granted[t]);
    add(("punt_budget.refused." + tier).c_str(), filter.punt_refused[t]);
    add_detail("pass_budget.granted.", tier, filter.pass_granted[t]);
    add_detail("pass_budget.refused.", tier, filter.pass_refused[t]);
  }
  add("tx_sent", io.tx_sent);
  add("tx_failed", io.tx_failed);
  add("rx_punt", io.rx_punt);                                          // frames the tap sent
  add("tx_punt", io.tx_by_port[static_cast<size_t>(PortRole::punt)]);  // frames to the tap
  add_detail("", "idle_sleeps", io.idle_sleeps);
  // The exception path, per direction: to the tap by the port a frame came from, and from it.
  for (const auto side : {BridgeSide::outside, BridgeSide::inside}) {
    const std::string prefix = side == BridgeSide::outside ? "to_tap.outside." : "to_tap.inside.";
    for (size_t i = 1; i < kTapIngressCount; ++i) {
      const auto r = static_cast<TapIngress>(i);
      add_detail(prefix, to_string(r), io.exception.in(side, r));
    }
  }
  for (size_t i = 0; i < kTapEgressCount; ++i) {
    const auto r = static_cast<TapEgress>(i);
    add_detail("from_tap.", to_string(r), io.exception.out(r));
  }
  for (size_t i = 0; i < filter.signature_hits.size(); ++i) {
    if (filter.signature_hits[i] == 0 && filter.signature_alerts[i] == 0) continue;
    const std::string name = "signature." + rule_id(static_cast<RuleIndex>(i));
    add(name.c_str(), filter.signature_hits[i] + filter.signature_alerts[i]);
  }
  return out;
}

std::string format_worker_counters(size_t worker, const WorkerCounters& filter,
                                   std::span<const std::string> ban_labels) {
  std::string out;
  char line[256];
  const std::string prefix = "worker" + std::to_string(worker) + ".";
  auto add = [&](const std::string& name, uint64_t value) {
    std::snprintf(line, sizeof line, "  %-28s %" PRIu64 "\n", (prefix + name).c_str(), value);
    out += line;
  };
  add("judged", filter.packets);
  add("pass", filter.verdict(Verdict::pass));
  add("punt", filter.verdict(Verdict::punt));
  add("drop", filter.verdict(Verdict::drop));
  add("drop.ban", filter.drop(DropReason::ban));
  add_ban_drops(filter, ban_labels, "", add);
  return out;
}

}  // namespace sipwall
