#include "state_file.h"

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>

#include "common/atomic_file.h"
#include "control/protocol/state_commands.h"

namespace sipwall {
namespace {

constexpr std::string_view kExpires = "expires=";

std::string errno_text(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

// Whole seconds left until `expires_ms`, rounded up; 0 when it has passed.
uint64_t seconds_left(int64_t expires_ms, int64_t wall_now_ms) {
  if (expires_ms <= wall_now_ms) return 0;
  return static_cast<uint64_t>((expires_ms - wall_now_ms + 999) / 1000);
}

bool set_ttl(Command& command, uint64_t ttl) {
  return std::visit(
      [ttl](auto& c) {
        if constexpr (requires { c.ttl_seconds; }) {
          c.ttl_seconds = std::min(ttl, kMaxTtlSeconds);
          return true;
        } else {
          return false;
        }
      },
      command);
}

}  // namespace

int64_t wall_clock_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string format_state_file(const DynamicState& state, Nanos now, int64_t wall_now_ms) {
  std::string out(kStateFileHeader);
  out += '\n';
  auto line = [&](StateTable table, const TableEntry& e) {
    if (e.owner == Owner::rules || e.until <= now) return;
    const auto text = format_entry(table, e, now);
    if (!text) return;
    const int64_t expires_ms = wall_now_ms + static_cast<int64_t>((e.until - now) / kNanosPerMilli);
    out += std::string(kExpires) + std::to_string(expires_ms) + ' ' + *text + '\n';
  };
  state.bans().for_each([&](auto, const TableEntry& e, const auto&) { line(StateTable::ban, e); });
  state.trust().for_each(
      [&](auto, const TableEntry& e, const auto&) { line(StateTable::trust, e); });
  state.pinholes().for_each(
      [&](auto, const TableEntry& e, const auto&, uint16_t) { line(StateTable::pinhole, e); });
  if (state.enforcing_pinholes()) out += "pinholes enforce on\n";
  return out;
}

StateFileLoad parse_state_file(std::string_view text, int64_t wall_now_ms) {
  StateFileLoad load;
  size_t number = 0;
  auto corrupt = [&](const std::string& why) {
    StateFileLoad bad;
    bad.error = "line " + std::to_string(number) + ": " + why;
    return bad;
  };
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ++number;
    if (number == 1) {
      if (line != kStateFileHeader) return corrupt("not a sipwall state file");
      continue;
    }
    if (line.empty() || line.front() == '#') continue;
    std::optional<int64_t> expires;
    if (line.starts_with(kExpires)) {
      line.remove_prefix(kExpires.size());
      const size_t space = line.find(' ');
      if (space == std::string_view::npos) return corrupt("expires= without an entry");
      int64_t ms = 0;
      const auto [end, ec] = std::from_chars(line.data(), line.data() + space, ms);
      if (ec != std::errc{} || end != line.data() + space) return corrupt("bad expires= value");
      expires = ms;
      line.remove_prefix(space + 1);
    }
    ParseResult parsed = parse_command(line);
    if (const auto* e = std::get_if<ParseError>(&parsed)) {
      return corrupt("column " + std::to_string(e->column) + ": " + e->message);
    }
    Command command = std::get<Command>(std::move(parsed));
    if (!changes_state(command)) return corrupt("not a state change");
    const bool has_ttl = set_ttl(command, 1);
    if (has_ttl != expires.has_value()) return corrupt("expires= goes with entries that expire");
    if (expires) {
      const uint64_t left = seconds_left(*expires, wall_now_ms);
      if (left == 0) {
        ++load.expired;
        continue;
      }
      set_ttl(command, left);
    }
    load.commands.push_back(std::move(command));
  }
  if (number == 0) return corrupt("empty file");
  return load;
}

StateFileLoad load_state_file(const std::string& path, int64_t wall_now_ms) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    StateFileLoad load;
    if (errno != ENOENT) load.error = errno_text(path);
    return load;
  }
  std::ostringstream text;
  text << in.rdbuf();
  StateFileLoad load = parse_state_file(text.str(), wall_now_ms);
  if (!load.error.empty()) load.error = path + ": " + load.error;
  return load;
}

std::string write_state_file(const std::string& path, std::string_view text) {
  return write_file_atomically(path, text);
}

}  // namespace sipwall
