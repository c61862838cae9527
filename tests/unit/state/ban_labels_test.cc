#include "state/ban_labels.h"

#include <gtest/gtest.h>

#include <string>

namespace sipwall {
namespace {

EntryId id(const std::string& text) {
  return *EntryId::parse(text);
}

TEST(BanLabels, OperatorIdsGetTheirOwnSeriesOnce) {
  BanLabels labels;
  EXPECT_EQ(labels.size(), 1u);  // `other` only
  const BanLabel scan = labels.label(id("scan-42"), Owner::operator_);
  EXPECT_NE(scan, kOtherBanLabel);
  EXPECT_EQ(labels.name(scan), "scan-42");
  EXPECT_EQ(labels.label(id("scan-42"), Owner::operator_), scan) << "one series per id";
  EXPECT_EQ(labels.label(id("scan-42"), Owner::rules), scan);
  EXPECT_NE(labels.label(id("scan-43"), Owner::operator_), scan);
  EXPECT_EQ(labels.size(), 3u);
  EXPECT_EQ(labels.name(kOtherBanLabel), "other");
}

TEST(BanLabels, ControlPlaneBansUnnamedBansAndOtherShareOneSeries) {
  BanLabels labels;
  // The control plane bans per offending source: ids without bound, so never a series each.
  EXPECT_EQ(labels.label(id("auth-fail-1234"), Owner::control), kOtherBanLabel);
  EXPECT_EQ(labels.label(EntryId{}, Owner::operator_), kOtherBanLabel);
  EXPECT_EQ(labels.label(id("other"), Owner::operator_), kOtherBanLabel);
  EXPECT_EQ(labels.size(), 1u);
}

TEST(BanLabels, SeriesAreCappedAndIdsPastTheCapCountAsOther) {
  BanLabels labels;
  for (size_t i = 1; i < kBanLabelCount; ++i) {
    EXPECT_EQ(labels.label(id("op-" + std::to_string(i)), Owner::operator_), i);
  }
  EXPECT_EQ(labels.size(), kBanLabelCount);
  EXPECT_EQ(labels.label(id("one-too-many"), Owner::operator_), kOtherBanLabel);
  EXPECT_EQ(labels.label(id("op-7"), Owner::operator_), 7u) << "known ids keep their series";
  EXPECT_EQ(labels.name(kBanLabelCount - 1), "op-64");
  EXPECT_EQ(labels.name(200), "other");
}

}  // namespace
}  // namespace sipwall
