#include "command_table.h"

#include <gtest/gtest.h>

namespace sipwall {
namespace {

TEST(CommandTable, DispatchesByFirstWordAndGeneratesHelp) {
  CommandTable t;
  std::vector<std::string> seen;
  t.add({"ban", "ban add PREFIX ttl=SECONDS", "drop a prefix",
         [&](uint64_t client, std::string_view line) -> std::optional<std::string> {
           seen.push_back(std::to_string(client) + ":" + std::string(line));
           return "ok";
         }});
  t.add({"reload", "reload", "compile again",
         [](uint64_t, std::string_view) -> std::optional<std::string> { return std::nullopt; }});
  EXPECT_EQ(t.dispatch(3, "ban add 192.0.2.1 ttl=5"), "ok");
  EXPECT_EQ(t.dispatch(4, "  ban list"), "ok");
  EXPECT_EQ(seen, (std::vector<std::string>{"3:ban add 192.0.2.1 ttl=5", "4:  ban list"}));
  EXPECT_EQ(t.dispatch(1, "reload"), std::nullopt);
  EXPECT_EQ(t.dispatch(1, "  bans list"),
            "error: 3: unknown command 'bans' (commands: ban, reload)");
  EXPECT_EQ(t.dispatch(1, "banadd"), "error: 1: unknown command 'banadd' (commands: ban, reload)");
  EXPECT_EQ(t.help(), "ban add PREFIX ttl=SECONDS\n    drop a prefix\nreload\n    compile again");
  EXPECT_EQ(t.names(), (std::vector<std::string>{"ban", "reload"}));
}

}  // namespace
}  // namespace sipwall
