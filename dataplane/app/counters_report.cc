#include "counters_report.h"

#include <cinttypes>
#include <cstdio>

namespace sipwall {

std::string format_counters(const WorkerCounters& filter, const IoCounters& io,
                            const std::function<std::string(RuleIndex)>& rule_id) {
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
  add("datagrams_reassembled", filter.datagrams_reassembled);
  add("tx_sent", io.tx_sent);
  add("tx_failed", io.tx_failed);
  for (size_t i = 0; i < filter.signature_hits.size(); ++i) {
    if (filter.signature_hits[i] == 0 && filter.signature_alerts[i] == 0) continue;
    const std::string name = "signature." + rule_id(static_cast<RuleIndex>(i));
    add(name.c_str(), filter.signature_hits[i] + filter.signature_alerts[i]);
  }
  return out;
}

}  // namespace sipwall
