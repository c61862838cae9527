#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/verdict.h"

namespace sipwall {

struct PacketVerdict {
  Decision decision;
  bool decided = false;
};

struct OfflineReportInput {
  std::string capture_path;
  bool nanosecond_file = false;
  const std::vector<PacketVerdict>* verdicts = nullptr;    // index = 0-based packet number
  std::function<std::string(const Decision&)> decided_by;  // id of the rule that decided a drop
};

// Writes DIR/pass.pcap, punt.pcap, drop.pcap (original bytes and timestamps, input order),
// verdicts.jsonl and summary.json. Returns an error text, empty on success.
std::string write_offline_report(const OfflineReportInput& in, const std::string& out_dir);

}  // namespace sipwall
