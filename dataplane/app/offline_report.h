#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/json_string.h"
#include "common/verdict.h"

namespace sipwall {

struct PacketVerdict {
  Decision decision;
  uint16_t generation = 0;  // which rule set judged it (0 = the first, +1 per applied reload)
  bool decided = false;
};

struct OfflineReportInput {
  std::string capture_path;
  bool nanosecond_file = false;
  const std::vector<PacketVerdict>* verdicts = nullptr;  // index = 0-based packet number
  // The id of the rule that decided a drop, in the rule set of that generation.
  std::function<std::string(const Decision&, uint16_t generation)> decided_by;
};

// Writes DIR/pass.pcap, punt.pcap, drop.pcap (original bytes and timestamps, input order),
// verdicts.jsonl and summary.json. Returns an error text, empty on success.
std::string write_offline_report(const OfflineReportInput& in, const std::string& out_dir);

}  // namespace sipwall
