#include "state_file.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "state_service.h"

namespace sipwall {
namespace {

namespace fs = std::filesystem;
constexpr Nanos kSec = kNanosPerSecond;
constexpr int64_t kWall = 1'767'225'600'000;  // the wall clock when the file is written (ms)

Command cmd(std::string_view line) {
  return std::get<Command>(parse_command(line));
}

std::string text(const Command& c) {
  return format_command(c);
}

class StateFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "sipwall-state-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A master copy with a ban, a trusted source and a pinhole, at dataplane time `now`.
  std::string saved(Nanos now) {
    StateService s(DynamicStateConfig{16, 16, 16, false, 3});
    for (const char* line :
         {"ban add 192.0.2.0/24 ttl=60 id=scan-1 as=control", "trust add 198.51.100.7 ttl=600",
          "pinholes enforce on", "pinhole open 203.0.113.9 20000 ttl=30 src=192.0.2.5 call=c1"}) {
      EXPECT_FALSE(s.execute(1, cmd(line), 0).reply.has_value()) << line;
    }
    return format_state_file(s.state(), now, kWall);
  }

  fs::path dir_;
};

TEST_F(StateFileTest, EntriesComeBackWithTheWallClockTimeLeft) {
  // Written 10 s after the entries were added; read 5 s later on the wall clock.
  const StateFileLoad load = parse_state_file(saved(10 * kSec), kWall + 5000);
  ASSERT_EQ(load.error, "");
  EXPECT_EQ(load.expired, 0u);
  std::vector<std::string> got;
  for (const Command& c : load.commands) got.push_back(text(c));
  EXPECT_EQ(got, (std::vector<std::string>{
                     "ban add 192.0.2.0/24 ttl=45 id=scan-1 as=control",
                     "trust add 198.51.100.7/32 ttl=585",
                     "pinhole open 203.0.113.9 20000 ttl=15 src=192.0.2.5/32 call=c1",
                     "pinholes enforce on"}));
}

TEST_F(StateFileTest, ExpiredEntriesAreSkipped) {
  // 20 s later on the wall clock: the pinhole (15 s left) and the ban (45 s) differ.
  const StateFileLoad late = parse_state_file(saved(10 * kSec), kWall + 20'000);
  ASSERT_EQ(late.error, "");
  EXPECT_EQ(late.expired, 1u);
  EXPECT_EQ(late.commands.size(), 3u);
  const StateFileLoad gone = parse_state_file(saved(10 * kSec), kWall + 3'600'000);
  EXPECT_EQ(gone.expired, 3u);
  ASSERT_EQ(gone.commands.size(), 1u);  // only the switch, which does not expire
}

TEST_F(StateFileTest, CorruptFilesAreRefusedWholeWithTheLine) {
  const std::string good = saved(0);
  for (const auto& [bad, line] : std::vector<std::pair<std::string, std::string>>{
           {"", "line 0"},
           {"garbage\n", "line 1"},
           {good + "expires=12x ban add 192.0.2.1 ttl=5\n", "line 6"},
           {good + "expires=99999999999999 ban add 192.0.2.300 ttl=5\n", "line 6"},
           {good + "ban add 192.0.2.1 ttl=5\n", "line 6"},
           {good + "expires=99999999999999 ban list\n", "line 6"}}) {
    const StateFileLoad load = parse_state_file(bad, kWall);
    EXPECT_NE(load.error.find(line), std::string::npos) << bad << "\n-> " << load.error;
    EXPECT_TRUE(load.commands.empty()) << bad;
  }
}

TEST_F(StateFileTest, WrittenAtomicallyAndAMissingFileIsAnEmptyState) {
  const std::string path = (dir_ / "state").string();
  const StateFileLoad none = load_state_file(path, kWall);
  EXPECT_EQ(none.error, "");
  EXPECT_TRUE(none.commands.empty());
  ASSERT_EQ(write_state_file(path, saved(0)), "");
  EXPECT_FALSE(fs::exists(path + ".tmp"));
  const StateFileLoad load = load_state_file(path, kWall);
  EXPECT_EQ(load.error, "");
  EXPECT_EQ(load.commands.size(), 4u);
  { std::ofstream(path) << "not a state file\n"; }
  const StateFileLoad bad = load_state_file(path, kWall);
  EXPECT_NE(bad.error.find(path), std::string::npos) << bad.error;
  EXPECT_NE(write_state_file((dir_ / "missing" / "state").string(), "x"), "");
}

}  // namespace
}  // namespace sipwall
