// Security events: one JSON line each, users masked, a flood cut to the bucket with the
// suppressed count reported in the next line.
#include "control/app/security_log.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

namespace sipwall::control {
namespace {

std::string read_all(std::FILE* f) {
  std::rewind(f);
  std::string out;
  char buf[4096];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  return out;
}

size_t lines(const std::string& s) {
  size_t n = 0;
  for (const char c : s) n += c == '\n';
  return n;
}

SecurityEvent event(std::string_view user) {
  SecurityEvent e;
  e.event = "auth_failed";
  e.source = *IpAddress::parse("192.0.2.7");
  e.port = 5060;
  e.transport = "udp";
  e.method = "REGISTER";
  e.user = user;
  return e;
}

TEST(SecurityLog, OneJsonLineWithTheUserMasked) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  SecurityLog log(f, 10, 10, true);
  log.write(event("alice\"x"), 1'500'000'000'123'000'000ULL);
  EXPECT_EQ(read_all(f),
            "{\"time\":1500000000.123,\"event\":\"auth_failed\",\"source\":\"192.0.2.7\","
            "\"port\":5060,\"transport\":\"udp\",\"method\":\"REGISTER\",\"user\":\"a***\"}\n");
  std::fclose(f);
}

TEST(SecurityLog, UnmaskedUsersAreEscaped) {
  std::FILE* f = std::tmpfile();
  SecurityLog log(f, 10, 10, false);
  log.write(event("al\"ice"), 0);
  EXPECT_NE(read_all(f).find("\"user\":\"al\\\"ice\""), std::string::npos);
  std::fclose(f);
}

TEST(SecurityLog, AFloodIsCutAndCounted) {
  std::FILE* f = std::tmpfile();
  SecurityLog log(f, 50, 200, true);
  const Nanos t0 = 1000 * kNanosPerSecond;
  for (int i = 0; i < 10'000; ++i) log.write(event("mallory"), t0);  // one instant
  EXPECT_EQ(lines(read_all(f)), 200u);
  EXPECT_EQ(log.suppressed_total(), 9'800u);
  // A second later: 50 more tokens; the first line says what was left out.
  log.write(event("mallory"), t0 + kNanosPerSecond);
  const std::string all = read_all(f);
  EXPECT_EQ(lines(all), 201u);
  EXPECT_NE(all.find("\"suppressed\":9800}"), std::string::npos);
  std::fclose(f);
}

}  // namespace
}  // namespace sipwall::control
