// Commands <-> dynamic-state updates and entries.
#include "control/protocol/state_commands.h"

#include <algorithm>
#include <limits>
#include <type_traits>

#include "state/expiring_prefix_table.h"
#include "state/pinhole_table.h"

namespace sipwall {
namespace {

Nanos expiry(Nanos now, uint64_t ttl_seconds) {
  // kMaxTtlSeconds keeps the product in range; saturate for a now close to the end of time.
  const Nanos ttl = ttl_seconds * kNanosPerSecond;
  return now > std::numeric_limits<Nanos>::max() - ttl ? std::numeric_limits<Nanos>::max()
                                                       : now + ttl;
}

uint64_t seconds_left(Nanos until, Nanos now) {
  return (until - now + kNanosPerSecond - 1) / kNanosPerSecond;
}

}  // namespace

std::optional<StateUpdate> to_state_update(const Command& command, Nanos now) {
  return std::visit(
      [&](const auto& c) -> std::optional<StateUpdate> {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, PrefixAddCommand>) {
          return StateUpdate{AddPrefix{c.table, c.prefix, expiry(now, c.ttl_seconds), c.id, c.as}};
        } else if constexpr (std::is_same_v<T, PrefixDelCommand>) {
          return StateUpdate{RemovePrefix{c.table, c.prefix}};
        } else if constexpr (std::is_same_v<T, FlushCommand>) {
          return StateUpdate{FlushTable{c.table, c.scope()}};
        } else if constexpr (std::is_same_v<T, PinholeOpenCommand>) {
          return StateUpdate{
              OpenPinhole{c.address, c.port, c.src, c.call, expiry(now, c.ttl_seconds), c.as}};
        } else if constexpr (std::is_same_v<T, PinholeCloseCommand>) {
          return StateUpdate{ClosePinhole{c.address, c.port, c.call}};
        } else if constexpr (std::is_same_v<T, PinholesEnforceCommand>) {
          return StateUpdate{SetPinholeEnforcement{c.on}};
        } else {
          return std::nullopt;
        }
      },
      command);
}

std::optional<std::string> format_entry(StateTable table, const TableEntry& entry, Nanos now) {
  if (entry.key.extra == 0 || entry.until <= now) return std::nullopt;
  const uint64_t ttl = seconds_left(entry.until, now);
  if (table == StateTable::pinhole) {
    PinholeOpenCommand c;
    c.address = PinholeTable::address_of(entry.key);
    c.port = PinholeTable::port_of(entry.key);
    c.ttl_seconds = ttl;
    if (entry.has_src) c.src = entry.src;
    c.call = entry.id;
    c.as = entry.owner;
    return format_command(c);
  }
  PrefixAddCommand c{table, ExpiringPrefixTable::prefix_of(entry.key), ttl, entry.id, entry.owner};
  return format_command(c);
}

bool overlaps(const IpPrefix& a, const IpPrefix& b) {
  return a.length <= b.length ? a.contains(b.address) : b.contains(a.address);
}

Reply list_reply(const ListCommand& command, const DynamicState& state, Nanos now) {
  Reply reply = Reply::ok();
  const auto add = [&](const TableEntry& e, const IpPrefix* prefix) {
    if (command.prefix && prefix && !overlaps(*command.prefix, *prefix)) return;
    if (auto line = format_entry(command.table, e, now)) reply.lines.push_back(std::move(*line));
  };
  switch (command.table) {
    case StateTable::ban:
    case StateTable::trust: {
      const ExpiringPrefixTable& t =
          command.table == StateTable::ban ? state.bans() : state.trust();
      t.for_each([&](auto, const TableEntry& e, const IpPrefix& p) { add(e, &p); });
      break;
    }
    case StateTable::pinhole:
      state.pinholes().for_each(
          [&](auto, const TableEntry& e, const IpAddress&, uint16_t) { add(e, nullptr); });
      break;
  }
  std::sort(reply.lines.begin(), reply.lines.end());
  reply.with("count", std::to_string(reply.lines.size()));
  return reply;
}

}  // namespace sipwall
