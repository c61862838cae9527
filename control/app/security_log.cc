#include "control/app/security_log.h"

#include <algorithm>

#include "common/json_string.h"

namespace sipwall::control {

SecurityLog::SecurityLog(std::FILE* out, uint32_t per_second, uint32_t burst, bool mask_users)
    : out_(out),
      per_ns_(static_cast<double>(per_second) / 1e9),
      burst_(burst),
      tokens_(burst),
      mask_users_(mask_users) {}

std::string SecurityLog::mask(std::string_view user) {
  if (user.empty()) return {};
  // The first octet, or the whole of a multi-octet UTF-8 character would be cut: keep ASCII.
  const char c = user.front();
  return std::string(1, (c & 0x80) ? '*' : c) + "***";
}

bool SecurityLog::take(Nanos now) {
  if (now > last_) {
    tokens_ = std::min(burst_, tokens_ + static_cast<double>(now - last_) * per_ns_);
    last_ = now;
  }
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

void SecurityLog::write(const SecurityEvent& e, Nanos now) {
  if (!out_) return;
  if (!take(now)) {
    ++suppressed_;
    ++suppressed_total_;
    return;
  }
  std::string line = "{\"time\":";
  line += std::to_string(now / kNanosPerSecond) + "." + [&] {
    char ms[8];
    std::snprintf(ms, sizeof ms, "%03u", static_cast<unsigned>(now / 1'000'000 % 1000));
    return std::string(ms);
  }();
  line += ",\"event\":" + json_string(e.event);
  line += ",\"source\":" + json_string(e.source.to_string());
  line += ",\"port\":" + std::to_string(e.port);
  if (!e.transport.empty()) line += ",\"transport\":" + json_string(e.transport);
  if (!e.method.empty()) line += ",\"method\":" + json_string(e.method);
  if (!e.user.empty()) {
    line += ",\"user\":" + json_string(mask_users_ ? mask(e.user) : std::string(e.user));
  }
  if (!e.trunk.empty()) line += ",\"trunk\":" + json_string(e.trunk);
  if (e.ttl_seconds) line += ",\"ttl\":" + std::to_string(e.ttl_seconds);
  if (suppressed_) line += ",\"suppressed\":" + std::to_string(suppressed_);
  line += "}\n";
  suppressed_ = 0;
  std::fwrite(line.data(), 1, line.size(), out_);
  std::fflush(out_);
  ++written_;
}

}  // namespace sipwall::control
