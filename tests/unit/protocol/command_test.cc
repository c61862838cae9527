#include "control/protocol/command.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace sipwall {
namespace {

Command parsed(std::string_view line) {
  const ParseResult r = parse_command(line);
  const auto* error = std::get_if<ParseError>(&r);
  EXPECT_EQ(error, nullptr) << line << ": " << error->column << ": " << error->message;
  return error ? Command{} : std::get<Command>(r);
}

ParseError error_of(std::string_view line) {
  const ParseResult r = parse_command(line);
  const auto* error = std::get_if<ParseError>(&r);
  EXPECT_NE(error, nullptr) << line << " parsed";
  return error ? *error : ParseError{};
}

IpPrefix prefix(const char* s) {
  return *IpPrefix::parse(s);
}
IpAddress ip(const char* s) {
  return *IpAddress::parse(s);
}
EntryId id(const char* s) {
  return *EntryId::parse(s);
}

TEST(CommandParser, EveryCommand) {
  EXPECT_EQ(parsed("ping"), Command{PingCommand{}});
  EXPECT_EQ(parsed("reload"), Command{ReloadCommand{}});
  EXPECT_EQ(parsed("status"), Command{StatusCommand{}});
  EXPECT_EQ(parsed("counters"), Command{CountersCommand{}});
  EXPECT_EQ(parsed("ban add 192.0.2.0/24 ttl=600 id=scan-7"),
            Command(PrefixAddCommand{StateTable::ban, prefix("192.0.2.0/24"), 600, id("scan-7"),
                                     Owner::operator_}));
  EXPECT_EQ(parsed("trust add 2001:db8::1 ttl=3600 as=control"),
            Command(PrefixAddCommand{
                StateTable::trust, prefix("2001:db8::1/128"), 3600, {}, Owner::control}));
  EXPECT_EQ(parsed("ban del 192.0.2.1"),
            Command(PrefixDelCommand{StateTable::ban, prefix("192.0.2.1/32"), Owner::operator_}));
  EXPECT_EQ(parsed("trust del 192.0.2.0/24 as=control"),
            Command(PrefixDelCommand{StateTable::trust, prefix("192.0.2.0/24"), Owner::control}));
  EXPECT_EQ(parsed("ban list"), Command(ListCommand{StateTable::ban, std::nullopt}));
  EXPECT_EQ(parsed("trust list 10.0.0.0/8"),
            Command(ListCommand{StateTable::trust, prefix("10.0.0.0/8")}));
  EXPECT_EQ(parsed("pinhole list"), Command(ListCommand{StateTable::pinhole, std::nullopt}));
  EXPECT_EQ(parsed("ban flush"),
            Command(FlushCommand{StateTable::ban, Owner::operator_, false, std::nullopt}));
  const auto flush_all = std::get<FlushCommand>(parsed("trust flush owner=all as=control"));
  EXPECT_TRUE(flush_all.all_owners);
  EXPECT_EQ(flush_all.as, Owner::control);
  EXPECT_EQ(flush_all.scope(), std::nullopt);
  const auto flush_theirs = std::get<FlushCommand>(parsed("pinhole flush owner=control"));
  EXPECT_EQ(flush_theirs.table, StateTable::pinhole);
  EXPECT_EQ(flush_theirs.scope(), Owner::control);
  EXPECT_EQ(std::get<FlushCommand>(parsed("ban flush as=control")).scope(), Owner::control);
  EXPECT_EQ(std::get<FlushCommand>(parsed("ban flush")).scope(), Owner::operator_);
  EXPECT_EQ(parsed("pinhole open 198.51.100.2 10000 ttl=30 src=203.0.113.0/24 call=c1 as=control"),
            Command(PinholeOpenCommand{ip("198.51.100.2"), 10000, 30, prefix("203.0.113.0/24"),
                                       id("c1"), Owner::control}));
  EXPECT_EQ(
      parsed("pinhole open 2001:db8::2 5004 ttl=1"),
      Command(PinholeOpenCommand{ip("2001:db8::2"), 5004, 1, std::nullopt, {}, Owner::operator_}));
  EXPECT_EQ(parsed("pinhole close 198.51.100.2 10000 call=c1"),
            Command(PinholeCloseCommand{ip("198.51.100.2"), 10000, id("c1"), Owner::operator_}));
  EXPECT_EQ(parsed("pinhole close 198.51.100.2 10000"),
            Command(PinholeCloseCommand{ip("198.51.100.2"), 10000, {}, Owner::operator_}));
  EXPECT_EQ(parsed("pinholes enforce on"), Command(PinholesEnforceCommand{true}));
  EXPECT_EQ(parsed("pinholes enforce off as=control"),
            Command(PinholesEnforceCommand{false, Owner::control}));
  EXPECT_EQ(parsed("sync begin 18446744073709551615 as=control"),
            Command(SyncBeginCommand{18446744073709551615ULL, Owner::control}));
  EXPECT_EQ(parsed("sync end"), Command(SyncEndCommand{}));
}

TEST(CommandParser, SpacingAndOptionOrderDoNotMatter) {
  EXPECT_EQ(parsed("  ban\tadd   192.0.2.0/24  id=x   ttl=5 "),
            parsed("ban add 192.0.2.0/24 ttl=5 id=x"));
  EXPECT_EQ(parsed("ban add 192.0.2.0/24 ttl=5 as=operator"), parsed("ban add 192.0.2.0/24 ttl=5"));
  const std::string longest = "ping" + std::string(kMaxCommandLine - 4, ' ');
  EXPECT_EQ(parsed(longest), Command{PingCommand{}});
}

TEST(CommandFormat, CanonicalLinesRoundTrip) {
  for (const char* line : {
           "ping",
           "reload",
           "status",
           "counters",
           "ban add 192.0.2.0/24 ttl=600 id=scan-7",
           "ban add 2001:db8::/64 ttl=315360000 id=a.b_c-d:e@f+g/h as=control",
           "trust add 198.51.100.7/32 ttl=1",
           "ban del 192.0.2.0/24",
           "trust del 2001:db8::1/128 as=control",
           "ban list",
           "trust list 10.0.0.0/8",
           "pinhole list",
           "ban flush",
           "trust flush owner=all",
           "pinhole flush owner=operator as=control",
           "pinhole open 198.51.100.2 10000 ttl=30 src=203.0.113.0/24 call=c1 as=control",
           "pinhole open 2001:db8::2 65535 ttl=5",
           "pinhole close 198.51.100.2 10000 call=c1",
           "pinhole close 198.51.100.2 1",
           "pinholes enforce on",
           "pinholes enforce off as=control",
           "sync begin 0",
           "sync begin 42 as=control",
           "sync end",
       }) {
    EXPECT_EQ(format_command(parsed(line)), line);
  }
}

// Random commands: formatting then parsing gives the same command back.
TEST(CommandFormat, RandomCommandsRoundTrip) {
  std::mt19937_64 rng(5);
  const auto owner = [&] { return rng() % 2 ? Owner::control : Owner::operator_; };
  const auto address = [&] {
    if (rng() % 2) return IpAddress::v4(static_cast<uint32_t>(rng()));
    std::array<uint8_t, 16> b;
    for (auto& x : b) x = static_cast<uint8_t>(rng());
    return IpAddress::v6(b);
  };
  const auto random_prefix = [&] {
    const IpAddress a = address();
    const auto len = static_cast<uint8_t>(rng() % (a.bit_width() + 1));
    return IpPrefix{a.masked(len), len};
  };
  const auto random_id = [&] {
    std::string s(1 + rng() % EntryId::kMaxLength, 'x');
    const std::string_view set = "AZaz09._-:@+/";
    for (char& c : s) c = set[rng() % set.size()];
    return rng() % 3 ? *EntryId::parse(s) : EntryId{};
  };
  const auto table = [&] { return rng() % 2 ? StateTable::ban : StateTable::trust; };
  for (int i = 0; i < 20000; ++i) {
    Command c;
    switch (rng() % 8) {
      case 0:
        c = PrefixAddCommand{table(), random_prefix(), 1 + rng() % kMaxTtlSeconds, random_id(),
                             owner()};
        break;
      case 1:
        c = PrefixDelCommand{table(), random_prefix(), owner()};
        break;
      case 2: {
        ListCommand l{table(), std::nullopt};
        if (rng() % 2) l.prefix = random_prefix();
        c = l;
        break;
      }
      case 3: {
        FlushCommand f{rng() % 3 ? table() : StateTable::pinhole, owner(), false, std::nullopt};
        const auto scope = rng() % 3;  // the caller's, all, or a named owner's
        if (scope == 1) f.all_owners = true;
        if (scope == 2) f.owner = rng() % 2 ? Owner::rules : owner();
        c = f;
        break;
      }
      case 4: {
        PinholeOpenCommand o{address(),
                             static_cast<uint16_t>(1 + rng() % 65535),
                             1 + rng() % kMaxTtlSeconds,
                             std::nullopt,
                             {},
                             Owner::operator_};
        if (rng() % 2) o.src = random_prefix();
        o.call = random_id();
        o.as = owner();
        c = o;
        break;
      }
      case 5:
        c = PinholeCloseCommand{address(), static_cast<uint16_t>(1 + rng() % 65535), random_id(),
                                owner()};
        break;
      case 6:
        c = PinholesEnforceCommand{rng() % 2 == 0, owner()};
        break;
      default:
        c = SyncBeginCommand{rng(), owner()};
    }
    const std::string line = format_command(c);
    ASSERT_EQ(parsed(line), c) << line;
  }
}

struct BadLine {
  std::string line;
  size_t column;
  std::string message_part;
};

TEST(CommandParser, EveryErrorNamesItsColumn) {
  const std::vector<BadLine> cases = {
      {"", 1, "empty command"},
      {"   ", 1, "empty command"},
      {"pong", 1, "unknown command 'pong'"},
      {"BAN add 192.0.2.1 ttl=1", 1, "unknown command 'BAN'"},
      {"ping now", 6, "unexpected 'now'"},
      {"status x=1", 8, "unexpected 'x=1'"},
      {"ban", 4, "missing subcommand"},
      {"ban kick 192.0.2.1", 5, "unknown subcommand 'kick'"},
      {"ban add", 8, "missing PREFIX"},
      {"ban add ttl=5", 9, "missing PREFIX"},
      {"ban add 192.0.2.1", 18, "missing ttl=SECONDS"},
      {"ban add 1.2.3 ttl=5", 9, "bad prefix '1.2.3'"},
      {"ban add 192.0.2.0/33 ttl=5", 9, "bad prefix"},
      {"ban add 2001:db8::/129 ttl=5", 9, "bad prefix"},
      {"ban add 192.0.2.0/ ttl=5", 9, "bad prefix"},
      {"ban add 192.0.2.0/-1 ttl=5", 9, "bad prefix"},
      {"ban add 192.0.2.77/24 ttl=5", 9,
       "host bits set in '192.0.2.77/24' (did you mean 192.0.2.0/24?)"},
      {"ban add 192.0.2.1 ttl=0", 23, "bad ttl '0' (1 to 315360000 seconds)"},
      {"ban add 192.0.2.1 ttl=315360001", 23, "bad ttl"},
      {"ban add 192.0.2.1 ttl=18446744073709551616", 23, "bad ttl"},
      {"ban add 192.0.2.1 ttl=99999999999999999999999999", 23, "bad ttl"},
      {"ban add 192.0.2.1 ttl=-1", 23, "bad ttl"},
      {"ban add 192.0.2.1 ttl=1.5", 23, "bad ttl"},
      {"ban add 192.0.2.1 ttl=", 19, "empty value for 'ttl'"},
      {"ban add 192.0.2.1 ttl=5 ttl=6", 25, "duplicate option 'ttl'"},
      {"ban add 192.0.2.1 ttl=5 reason=x", 25,
       "unknown option 'reason' for 'ban add' (options: ttl, id, as)"},
      {"ban add 192.0.2.1 ttl=5 extra", 25, "unexpected 'extra'"},
      {"ban add 192.0.2.1 ttl=5 id=" + std::string(33, 'a'), 28, "bad id"},
      {"ban add 192.0.2.1 ttl=5 id=a\"b", 28, "bad id"},
      {"ban add 192.0.2.1 ttl=5 as=rules", 28, "as=rules is reserved for the rule file"},
      {"ban add 192.0.2.1 ttl=5 as=root", 28, "unknown owner 'root' (operator, control)"},
      {"ban del 192.0.2.1 ttl=5", 19, "unknown option 'ttl' for 'ban del' (options: as)"},
      {"ban list 192.0.2.1 10.0.0.1", 20, "unexpected '10.0.0.1'"},
      {"ban list as=control", 10, "unknown option 'as' for 'ban list' (it takes none)"},
      {"ban flush owner=nobody", 17, "unknown owner 'nobody' (all, operator, control, rules)"},
      {"trust flush everything", 13, "unexpected 'everything'"},
      {"pinhole", 8, "missing subcommand"},
      {"pinhole drill", 9, "unknown subcommand 'drill'"},
      {"pinhole open", 13, "missing ADDRESS"},
      {"pinhole open 192.0.2.0/24 5000 ttl=5", 14, "bad address '192.0.2.0/24'"},
      {"pinhole open 192.0.2.1", 23, "missing PORT"},
      {"pinhole open 192.0.2.1 0 ttl=5", 24, "bad port '0' (1 to 65535)"},
      {"pinhole open 192.0.2.1 65536 ttl=5", 24, "bad port"},
      {"pinhole open 192.0.2.1 rtp ttl=5", 24, "bad port"},
      {"pinhole open 192.0.2.1 5000", 28, "missing ttl=SECONDS"},
      {"pinhole open 192.0.2.1 5000 ttl=5 src=nowhere", 39, "bad prefix 'nowhere'"},
      {"pinhole open 192.0.2.1 5000 ttl=5 call=", 35, "empty value for 'call'"},
      {"pinhole open 192.0.2.1 5000 ttl=5 call=a b", 42, "unexpected 'b'"},
      {"pinhole close 192.0.2.1 5000 ttl=5", 30, "unknown option 'ttl' for 'pinhole close'"},
      {"pinhole list all", 14, "unexpected 'all'"},
      {"pinholes", 9, "missing 'enforce'"},
      {"pinholes allow", 10, "unknown subcommand 'allow'"},
      {"pinholes enforce", 17, "missing on or off"},
      {"pinholes enforce yes", 18, "expected on or off, not 'yes'"},
      {"sync", 5, "missing 'begin EPOCH' or 'end'"},
      {"sync begin", 11, "missing EPOCH"},
      {"sync begin -1", 12, "bad epoch '-1'"},
      {"sync begin 18446744073709551616", 12, "bad epoch"},
      {"sync end now", 10, "unexpected 'now'"},
      {"sync restart", 6, "unknown subcommand 'restart'"},
      {"ping\r", 5, "byte 0x0d is not printable ASCII"},
      {"ban add 192.0.2.1 ttl=5 id=caf\xc3\xa9", 31, "byte 0xc3 is not printable ASCII"},
      {std::string("ping\0", 5), 5, "byte 0x00"},
      {std::string(kMaxCommandLine + 1, ' '), kMaxCommandLine + 1,
       "line too long (1025 bytes, at most 1024)"},
  };
  for (const BadLine& c : cases) {
    const ParseError e = error_of(c.line);
    EXPECT_EQ(e.column, c.column) << c.line << ": " << e.message;
    EXPECT_NE(e.message.find(c.message_part), std::string::npos)
        << c.line << ": got '" << e.message << "', want '" << c.message_part << "'";
  }
}

TEST(CommandNames, NameEveryKindAndWhatChangesState) {
  EXPECT_EQ(command_name(parsed("ping")), "ping");
  EXPECT_EQ(command_name(parsed("trust add 192.0.2.1 ttl=1")), "trust add");
  EXPECT_EQ(command_name(parsed("ban del 192.0.2.1")), "ban del");
  EXPECT_EQ(command_name(parsed("pinhole list")), "pinhole list");
  EXPECT_EQ(command_name(parsed("ban flush")), "ban flush");
  EXPECT_EQ(command_name(parsed("pinhole close 192.0.2.1 9")), "pinhole close");
  EXPECT_EQ(command_name(parsed("pinholes enforce on")), "pinholes enforce");
  EXPECT_EQ(command_name(parsed("sync end")), "sync end");
  for (const char* line : {"ban add 192.0.2.1 ttl=1", "trust del 192.0.2.1", "ban flush",
                           "pinhole open 192.0.2.1 9 ttl=1", "pinhole close 192.0.2.1 9",
                           "pinholes enforce on", "sync end"}) {
    EXPECT_TRUE(changes_state(parsed(line))) << line;
  }
  for (const char* line :
       {"ping", "reload", "status", "counters", "ban list", "pinhole list", "sync begin 1"}) {
    EXPECT_FALSE(changes_state(parsed(line))) << line;
  }
}

}  // namespace
}  // namespace sipwall
