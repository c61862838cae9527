#include "common/verdict.h"

#include <array>

namespace sipwall {
namespace {

constexpr std::array<std::string_view, kDropReasonCount> kReasonNames = {
    "",
    "malformed_l3",
    "malformed_l4",
    "fragment",
    "acl",
    "ban",
    "flood",
    "malformed_sip",
    "signature",
    "rtp_invalid",
    "rtp_no_pinhole",
    "punt_budget",
    "pass_budget",
    "transit",
};

}  // namespace

std::string_view to_string(Verdict v) {
  switch (v) {
    case Verdict::pass:
      return "pass";
    case Verdict::punt:
      return "punt";
    case Verdict::drop:
      return "drop";
  }
  return "?";
}

std::string_view to_string(DropReason r) {
  const auto i = static_cast<size_t>(r);
  return i < kReasonNames.size() ? kReasonNames[i] : "?";
}

std::optional<DropReason> drop_reason_from_string(std::string_view name) {
  for (size_t i = 1; i < kReasonNames.size(); ++i) {
    if (kReasonNames[i] == name) return static_cast<DropReason>(i);
  }
  return std::nullopt;
}

}  // namespace sipwall
