#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "budget/budget_config.h"
#include "common/verdict.h"
#include "packet/fragment_table.h"
#include "rtp/rtp_checker.h"
#include "sip/sip_validator.h"
#include "state/ban_labels.h"

namespace sipwall {

// Plain per-worker memory: only its own worker writes it, readers sum copies when scraping.
struct WorkerCounters {
  uint64_t packets = 0;
  std::array<uint64_t, 3> verdicts{};              // indexed by Verdict
  std::array<uint64_t, kDropReasonCount> drops{};  // indexed by DropReason
  std::vector<uint64_t> signature_hits;            // packets per signature rule index
  std::vector<uint64_t> signature_alerts;          // alert-only matches per rule index
  uint64_t datagrams_reassembled = 0;
  // Why, within one drop reason: operators ask what exactly was malformed.
  std::array<uint64_t, kSipErrorCount> sip_errors{};          // malformed_sip by SipError
  std::array<uint64_t, kFragmentDropCount> fragment_drops{};  // fragment by FragmentDrop
  std::array<uint64_t, kRtpCheckCount> rtp_errors{};          // rtp_invalid by RtpCheck
  uint64_t signature_scan_errors = 0;  // Hyperscan failed; the message was let through
  // Budget use by tier (Tier): messages granted and refused (refused = punt_budget/pass_budget).
  std::array<uint64_t, kTierCount> punt_granted{}, punt_refused{};
  std::array<uint64_t, kTierCount> pass_granted{}, pass_refused{};
  // `ban` drops by the ban's metric label (BanLabels: an operator's id, or `other`).
  std::array<uint64_t, kBanLabelCount> ban_drops{};

  void resize_rules(size_t n) {
    signature_hits.assign(n, 0);
    signature_alerts.assign(n, 0);
  }

  void count(const Decision& d) {
    ++packets;
    ++verdicts[static_cast<size_t>(d.verdict)];
    if (d.verdict == Verdict::drop) {
      ++drops[static_cast<size_t>(d.reason)];
    }
  }

  uint64_t verdict(Verdict v) const { return verdicts[static_cast<size_t>(v)]; }
  uint64_t drop(DropReason r) const { return drops[static_cast<size_t>(r)]; }

  WorkerCounters& operator+=(const WorkerCounters& o) {
    packets += o.packets;
    for (size_t i = 0; i < verdicts.size(); ++i) verdicts[i] += o.verdicts[i];
    for (size_t i = 0; i < drops.size(); ++i) drops[i] += o.drops[i];
    if (signature_hits.size() < o.signature_hits.size()) resize_rules(o.signature_hits.size());
    for (size_t i = 0; i < o.signature_hits.size(); ++i) {
      signature_hits[i] += o.signature_hits[i];
      signature_alerts[i] += o.signature_alerts[i];
    }
    datagrams_reassembled += o.datagrams_reassembled;
    for (size_t i = 0; i < sip_errors.size(); ++i) sip_errors[i] += o.sip_errors[i];
    for (size_t i = 0; i < fragment_drops.size(); ++i) fragment_drops[i] += o.fragment_drops[i];
    for (size_t i = 0; i < rtp_errors.size(); ++i) rtp_errors[i] += o.rtp_errors[i];
    signature_scan_errors += o.signature_scan_errors;
    for (size_t i = 0; i < kTierCount; ++i) {
      punt_granted[i] += o.punt_granted[i];
      punt_refused[i] += o.punt_refused[i];
      pass_granted[i] += o.pass_granted[i];
      pass_refused[i] += o.pass_refused[i];
    }
    for (size_t i = 0; i < ban_drops.size(); ++i) ban_drops[i] += o.ban_drops[i];
    return *this;
  }
};

}  // namespace sipwall
