// DataplaneClient's journal file: read back what was written (expired entries left out), bad
// lines refused with their number. The socket side is covered by the control_relay
// integration test (a fake and the real dataplane).
#include "control/app/dataplane_client.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

namespace sipwall::control {
namespace {

constexpr Nanos kT0 = 1'767'225'600 * kNanosPerSecond;

std::string temp_path(const char* name) {
  return ::testing::TempDir() + "/control9-" + std::to_string(getpid()) + "-" + name;
}

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

Command ban(const char* prefix, uint64_t ttl) {
  PrefixAddCommand c;
  c.prefix = *IpPrefix::parse(prefix);
  c.ttl_seconds = ttl;
  c.as = Owner::control;
  return c;
}

TEST(DataplaneClientJournal, WrittenAndReadBack) {
  const std::string path = temp_path("journal");
  std::remove(path.c_str());
  EventLoop loop;
  {
    DataplaneClient client(loop, "");  // no socket: only the journal
    EXPECT_EQ(client.use_journal(path, kT0), "");
    client.send(ban("192.0.2.1", 60), kT0);
    client.send(ban("192.0.2.2", 5), kT0);
    PrefixDelCommand del;
    del.prefix = *IpPrefix::parse("192.0.2.2/32");
    del.as = Owner::control;
    client.send(ban("192.0.2.3", 60), kT0);
    client.send(del, kT0);
    client.tick(kT0 + 2 * kNanosPerSecond);
    EXPECT_EQ(client.counters().journal_writes, 1u);
  }
  const std::string text = read(path);
  EXPECT_NE(text.find(std::to_string(kT0 + 60 * kNanosPerSecond) +
                      " ban add 192.0.2.1/32 ttl=60 as=control\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("192.0.2.2"), std::string::npos);  // deleted
  // Read back 30 s later and written again: the same entries, the ttl of the remaining time.
  DataplaneClient again(loop, "");
  EXPECT_EQ(again.use_journal(path, kT0 + 30 * kNanosPerSecond), "");
  again.send(ban("192.0.2.9", 600), kT0 + 30 * kNanosPerSecond);
  again.tick(kT0 + 32 * kNanosPerSecond);
  const std::string second = read(path);
  EXPECT_NE(second.find("ban add 192.0.2.1/32"), std::string::npos);
  EXPECT_NE(second.find("ban add 192.0.2.3/32"), std::string::npos);
  EXPECT_NE(second.find("ban add 192.0.2.9/32"), std::string::npos);
  // 61 s after the first adds they are gone from the next write.
  again.send(ban("192.0.2.10", 600), kT0 + 61 * kNanosPerSecond);
  again.tick(kT0 + 63 * kNanosPerSecond);
  EXPECT_EQ(read(path).find("192.0.2.1/32"), std::string::npos);
  std::remove(path.c_str());
}

TEST(DataplaneClientJournal, BadLineIsRefusedWithItsNumber) {
  const std::string path = temp_path("bad-journal");
  {
    std::ofstream out(path);
    out << "# comment\n"
        << kT0 << " ban add 192.0.2.1/32 ttl=60 as=control\n"
        << "12 ban del 192.0.2.1/32\n";
  }
  EventLoop loop;
  DataplaneClient client(loop, "");
  EXPECT_EQ(client.use_journal(path, kT0),
            path + ":3: not EXPIRY-NS followed by ban add or trust add");
  std::remove(path.c_str());
}

}  // namespace
}  // namespace sipwall::control
