#include "offline_report.h"

#include <pcap/pcap.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>

namespace sipwall {
namespace {

using PcapHandle = std::unique_ptr<pcap_t, decltype(&pcap_close)>;
using DumperHandle = std::unique_ptr<pcap_dumper_t, decltype(&pcap_dump_close)>;

}  // namespace

std::string write_offline_report(const OfflineReportInput& in, const std::string& out_dir) {
  const auto& verdicts = *in.verdicts;
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  const auto precision =
      in.nanosecond_file ? PCAP_TSTAMP_PRECISION_NANO : PCAP_TSTAMP_PRECISION_MICRO;
  PcapHandle input(
      pcap_open_offline_with_tstamp_precision(in.capture_path.c_str(), precision, errbuf),
      &pcap_close);
  if (!input) return "cannot reopen capture: " + std::string(errbuf);

  std::array<DumperHandle, 3> dumpers{DumperHandle(nullptr, &pcap_dump_close),
                                      DumperHandle(nullptr, &pcap_dump_close),
                                      DumperHandle(nullptr, &pcap_dump_close)};
  for (const Verdict v : {Verdict::pass, Verdict::punt, Verdict::drop}) {
    const std::string path = out_dir + "/" + std::string(to_string(v)) + ".pcap";
    dumpers[static_cast<size_t>(v)].reset(pcap_dump_open(input.get(), path.c_str()));
    if (!dumpers[static_cast<size_t>(v)]) {
      return "cannot write " + path + ": " + pcap_geterr(input.get());
    }
  }
  std::ofstream jsonl(out_dir + "/verdicts.jsonl", std::ios::trunc);
  if (!jsonl) return "cannot write " + out_dir + "/verdicts.jsonl";

  std::array<uint64_t, 3> by_verdict{};
  std::map<std::string, uint64_t> by_reason;
  std::map<std::string, uint64_t> by_rule;
  std::map<std::string, uint64_t> by_ban;  // ban drops by the ban's id (offline: every id)
  pcap_pkthdr* header = nullptr;
  const u_char* data = nullptr;
  size_t n = 0;
  while (pcap_next_ex(input.get(), &header, &data) == 1) {
    if (n >= verdicts.size() || !verdicts[n].decided) {
      return "internal error: packet " + std::to_string(n + 1) + " has no verdict";
    }
    const Decision& d = verdicts[n].decision;
    pcap_dump(reinterpret_cast<u_char*>(dumpers[static_cast<size_t>(d.verdict)].get()), header,
              data);
    ++by_verdict[static_cast<size_t>(d.verdict)];
    const std::string rule = in.decided_by(n, d, verdicts[n].generation);
    if (d.verdict == Verdict::drop) ++by_reason[std::string(to_string(d.reason))];
    if (d.reason == DropReason::signature && !rule.empty()) ++by_rule[rule];
    if (d.reason == DropReason::ban && !rule.empty()) ++by_ban[rule];
    ++n;
    jsonl << "{\"n\":" << n << ",\"verdict\":\"" << to_string(d.verdict)
          << "\",\"reason\":" << json_string(d.verdict == Verdict::drop ? to_string(d.reason) : "")
          << ",\"rule\":" << json_string(rule) << "}\n";
  }
  if (n != verdicts.size()) {
    return "capture changed while it was judged (" + std::to_string(n) + " packets now, " +
           std::to_string(verdicts.size()) + " before)";
  }

  std::ofstream summary(out_dir + "/summary.json", std::ios::trunc);
  if (!summary) return "cannot write " + out_dir + "/summary.json";
  auto write_map = [&summary](const std::map<std::string, uint64_t>& m) {
    summary << "{";
    const char* sep = "";
    for (const auto& [k, v] : m) {
      summary << sep << json_string(k) << ":" << v;
      sep = ",";
    }
    summary << "}";
  };
  summary << "{\"packets\":" << n << ",\"pass\":" << by_verdict[0] << ",\"punt\":" << by_verdict[1]
          << ",\"drop\":" << by_verdict[2] << ",\"drop_reasons\":";
  write_map(by_reason);
  summary << ",\"signature_hits\":";
  write_map(by_rule);
  summary << ",\"ban_drops\":";
  write_map(by_ban);
  summary << "}\n";
  jsonl.flush();
  summary.flush();
  if (!jsonl || !summary) return "writing the report to " + out_dir + " failed";
  return {};
}

}  // namespace sipwall
