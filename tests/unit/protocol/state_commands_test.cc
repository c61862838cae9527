#include "control/protocol/state_commands.h"

#include <gtest/gtest.h>

#include <limits>
#include <vector>

#include "state/dynamic_state.h"

namespace sipwall {
namespace {

constexpr Nanos kSec = kNanosPerSecond;

Command parsed(std::string_view line) {
  const ParseResult r = parse_command(line);
  EXPECT_TRUE(std::holds_alternative<Command>(r)) << line;
  return std::holds_alternative<Command>(r) ? std::get<Command>(r) : Command{};
}

StateUpdate update(std::string_view line, Nanos now) {
  const auto u = to_state_update(parsed(line), now);
  EXPECT_TRUE(u.has_value()) << line;
  return u.value_or(StateUpdate{});
}

TEST(StateCommands, TtlsBecomeAbsoluteExpiriesAndAsBecomesTheOwner) {
  const Nanos now = 1000 * kSec + 5;
  const auto ban =
      std::get<AddPrefix>(update("ban add 192.0.2.0/24 ttl=60 id=x as=control", now).op);
  EXPECT_EQ(ban.table, StateTable::ban);
  EXPECT_EQ(ban.prefix, *IpPrefix::parse("192.0.2.0/24"));
  EXPECT_EQ(ban.until, now + 60 * kSec);
  EXPECT_EQ(ban.id.view(), "x");
  EXPECT_EQ(ban.owner, Owner::control);
  const auto trust = std::get<AddPrefix>(update("trust add 2001:db8::/64 ttl=1", now).op);
  EXPECT_EQ(trust.table, StateTable::trust);
  EXPECT_EQ(trust.owner, Owner::operator_);
  const auto open = std::get<OpenPinhole>(
      update("pinhole open 198.51.100.2 4000 ttl=30 src=203.0.113.0/24 call=c9", now).op);
  EXPECT_EQ(open.until, now + 30 * kSec);
  EXPECT_EQ(open.src, IpPrefix::parse("203.0.113.0/24"));
  EXPECT_EQ(open.call.view(), "c9");
  const auto close = std::get<ClosePinhole>(update("pinhole close 198.51.100.2 4000", now).op);
  EXPECT_TRUE(close.call.empty());
  EXPECT_EQ(std::get<RemovePrefix>(update("trust del 192.0.2.1", now).op).table, StateTable::trust);
  EXPECT_EQ(std::get<FlushTable>(update("ban flush as=control", now).op).owner, Owner::control);
  EXPECT_EQ(std::get<FlushTable>(update("ban flush owner=all", now).op).owner, std::nullopt);
  EXPECT_EQ(std::get<FlushTable>(update("pinhole flush owner=rules", now).op).owner, Owner::rules);
  EXPECT_TRUE(std::get<SetPinholeEnforcement>(update("pinholes enforce on", now).op).on);
  for (const char* line : {"ping", "ban list", "sync begin 3", "sync end", "reload"}) {
    EXPECT_FALSE(to_state_update(parsed(line), now)) << line;
  }
}

TEST(StateCommands, ExpirySaturatesAtTheEndOfTime) {
  const Nanos late = std::numeric_limits<Nanos>::max() - kSec;
  const auto ban = std::get<AddPrefix>(update("ban add 192.0.2.1 ttl=315360000", late).op);
  EXPECT_EQ(ban.until, std::numeric_limits<Nanos>::max());
}

// From a command line to a worker's table and back to the line a list reply shows.
TEST(StateCommands, ListedEntriesReadAsTheCommandsThatAddThem) {
  DynamicState state(DynamicStateConfig{16, 16, 16, true, 3});
  const Nanos now = 50 * kSec;
  for (const char* line :
       {"ban add 192.0.2.0/24 ttl=60 id=scan-1 as=control", "trust add 2001:db8::/64 ttl=10",
        "pinhole open 198.51.100.2 4000 ttl=30 src=203.0.113.0/24 call=c9 as=control"}) {
    ASSERT_EQ(state.apply(update(line, now), now).outcome, Outcome::added) << line;
  }
  // 0.5 s later the time left rounds up to whole seconds.
  const Nanos later = now + kSec / 2;
  std::vector<std::string> lines;
  state.bans().for_each([&](auto, const TableEntry& e, const IpPrefix&) {
    lines.push_back(format_entry(StateTable::ban, e, later).value_or("?"));
  });
  state.trust().for_each([&](auto, const TableEntry& e, const IpPrefix&) {
    lines.push_back(format_entry(StateTable::trust, e, later).value_or("?"));
  });
  state.pinholes().for_each([&](auto, const TableEntry& e, const IpAddress&, uint16_t) {
    lines.push_back(format_entry(StateTable::pinhole, e, later).value_or("?"));
  });
  EXPECT_EQ(lines,
            (std::vector<std::string>{
                "ban add 192.0.2.0/24 ttl=60 id=scan-1 as=control",
                "trust add 2001:db8::/64 ttl=10",
                "pinhole open 198.51.100.2 4000 ttl=30 src=203.0.113.0/24 call=c9 as=control",
            }));
  // An expired entry is not listed.
  state.trust().for_each([&](auto, const TableEntry& e, const IpPrefix&) {
    EXPECT_FALSE(format_entry(StateTable::trust, e, now + 10 * kSec));
  });
}

TEST(StateCommands, ListRepliesFilterByOverlapAndSkipExpiredEntries) {
  DynamicState state(DynamicStateConfig{16, 16, 16, false, 3});
  for (const char* line :
       {"ban add 192.0.2.0/24 ttl=60", "ban add 192.0.2.7/32 ttl=5 id=one as=control",
        "ban add 198.51.100.0/24 ttl=60", "ban add 2001:db8::/32 ttl=60",
        "ban add 10.0.0.0/8 ttl=1", "trust add 192.0.2.0/24 ttl=60",
        "pinhole open 192.0.2.1 4000 ttl=60 call=b", "pinhole open 192.0.2.1 4000 ttl=60 call=a"}) {
    ASSERT_EQ(state.apply(update(line, 0), 0).outcome, Outcome::added) << line;
  }
  const Nanos now = 2 * kSec;  // the 10.0.0.0/8 ban has expired (not yet reclaimed)
  const auto list = [&](const char* line) {
    return format_reply(list_reply(std::get<ListCommand>(parsed(line)), state, now));
  };
  EXPECT_EQ(list("ban list"),
            "ok count=4\n"
            "ban add 192.0.2.0/24 ttl=58\n"
            "ban add 192.0.2.7/32 ttl=3 id=one as=control\n"
            "ban add 198.51.100.0/24 ttl=58\n"
            "ban add 2001:db8::/32 ttl=58");
  // Inside the prefix or containing it.
  EXPECT_EQ(
      list("ban list 192.0.2.7"),
      "ok count=2\nban add 192.0.2.0/24 ttl=58\nban add 192.0.2.7/32 ttl=3 id=one as=control");
  EXPECT_EQ(
      list("ban list 192.0.0.0/16"),
      "ok count=2\nban add 192.0.2.0/24 ttl=58\nban add 192.0.2.7/32 ttl=3 id=one as=control");
  EXPECT_EQ(list("ban list 2001:db8:1::/48"), "ok count=1\nban add 2001:db8::/32 ttl=58");
  EXPECT_EQ(list("ban list 10.1.2.3"), "ok count=0");
  EXPECT_EQ(list("trust list"), "ok count=1\ntrust add 192.0.2.0/24 ttl=58");
  EXPECT_EQ(list("pinhole list"),
            "ok count=2\npinhole open 192.0.2.1 4000 ttl=58 call=a\n"
            "pinhole open 192.0.2.1 4000 ttl=58 call=b");
}

TEST(StateCommands, Overlaps) {
  const auto p = [](const char* s) { return *IpPrefix::parse(s); };
  EXPECT_TRUE(overlaps(p("192.0.2.0/24"), p("192.0.2.7")));
  EXPECT_TRUE(overlaps(p("192.0.2.7"), p("192.0.2.0/24")));
  EXPECT_TRUE(overlaps(p("0.0.0.0/0"), p("203.0.113.0/24")));
  EXPECT_FALSE(overlaps(p("192.0.2.0/24"), p("192.0.3.0/24")));
  EXPECT_FALSE(overlaps(p("0.0.0.0/0"), p("::/0")));
}

}  // namespace
}  // namespace sipwall
