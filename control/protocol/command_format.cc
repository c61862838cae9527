// format_command(), command_name(), changes_state(): the canonical text of a Command.
#include <string>
#include <type_traits>

#include "control/protocol/command.h"

namespace sipwall {
namespace {

class Line {
 public:
  Line& word(std::string_view w) {
    if (!text_.empty()) text_ += ' ';
    text_ += w;
    return *this;
  }
  Line& option(std::string_view key, std::string_view value) {
    std::string w(key);
    return word(w.append("=").append(value));
  }
  Line& id(std::string_view key, const EntryId& id) {
    return id.empty() ? *this : option(key, id.view());
  }
  Line& as(Owner o) { return o == Owner::operator_ ? *this : option("as", to_string(o)); }
  std::string take() { return std::move(text_); }

 private:
  std::string text_;
};

}  // namespace

std::string format_command(const Command& command) {
  return std::visit(
      [](const auto& c) -> std::string {
        using T = std::decay_t<decltype(c)>;
        Line l;
        if constexpr (std::is_same_v<T, PingCommand>) {
          l.word("ping");
        } else if constexpr (std::is_same_v<T, ReloadCommand>) {
          l.word("reload");
        } else if constexpr (std::is_same_v<T, StatusCommand>) {
          l.word("status");
        } else if constexpr (std::is_same_v<T, CountersCommand>) {
          l.word("counters");
        } else if constexpr (std::is_same_v<T, PrefixAddCommand>) {
          l.word(to_string(c.table)).word("add").word(c.prefix.to_string());
          l.option("ttl", std::to_string(c.ttl_seconds)).id("id", c.id).as(c.as);
        } else if constexpr (std::is_same_v<T, PrefixDelCommand>) {
          l.word(to_string(c.table)).word("del").word(c.prefix.to_string()).as(c.as);
        } else if constexpr (std::is_same_v<T, ListCommand>) {
          l.word(to_string(c.table)).word("list");
          if (c.prefix) l.word(c.prefix->to_string());
        } else if constexpr (std::is_same_v<T, FlushCommand>) {
          l.word(to_string(c.table)).word("flush");
          if (c.all_owners) {
            l.option("owner", "all");
          } else if (c.owner) {
            l.option("owner", to_string(*c.owner));
          }
          l.as(c.as);
        } else if constexpr (std::is_same_v<T, PinholeOpenCommand>) {
          l.word("pinhole").word("open").word(c.address.to_string()).word(std::to_string(c.port));
          l.option("ttl", std::to_string(c.ttl_seconds));
          if (c.src) l.option("src", c.src->to_string());
          l.id("call", c.call).as(c.as);
        } else if constexpr (std::is_same_v<T, PinholeCloseCommand>) {
          l.word("pinhole").word("close").word(c.address.to_string()).word(std::to_string(c.port));
          l.id("call", c.call).as(c.as);
        } else if constexpr (std::is_same_v<T, PinholesEnforceCommand>) {
          l.word("pinholes").word("enforce").word(c.on ? "on" : "off").as(c.as);
        } else if constexpr (std::is_same_v<T, SyncBeginCommand>) {
          l.word("sync").word("begin").word(std::to_string(c.epoch)).as(c.as);
        } else {
          static_assert(std::is_same_v<T, SyncEndCommand>);
          l.word("sync").word("end");
        }
        return l.take();
      },
      command);
}

std::string_view command_name(const Command& command) {
  return std::visit(
      [](const auto& c) -> std::string_view {
        using T = std::decay_t<decltype(c)>;
        const bool ban = [&] {
          if constexpr (requires { c.table; }) return c.table == StateTable::ban;
          return false;
        }();
        const bool trust = [&] {
          if constexpr (requires { c.table; }) return c.table == StateTable::trust;
          return false;
        }();
        if constexpr (std::is_same_v<T, PingCommand>) return "ping";
        if constexpr (std::is_same_v<T, ReloadCommand>) return "reload";
        if constexpr (std::is_same_v<T, StatusCommand>) return "status";
        if constexpr (std::is_same_v<T, CountersCommand>) return "counters";
        if constexpr (std::is_same_v<T, PrefixAddCommand>) return ban ? "ban add" : "trust add";
        if constexpr (std::is_same_v<T, PrefixDelCommand>) return ban ? "ban del" : "trust del";
        if constexpr (std::is_same_v<T, ListCommand>) {
          return ban ? "ban list" : trust ? "trust list" : "pinhole list";
        }
        if constexpr (std::is_same_v<T, FlushCommand>) {
          return ban ? "ban flush" : trust ? "trust flush" : "pinhole flush";
        }
        if constexpr (std::is_same_v<T, PinholeOpenCommand>) return "pinhole open";
        if constexpr (std::is_same_v<T, PinholeCloseCommand>) return "pinhole close";
        if constexpr (std::is_same_v<T, PinholesEnforceCommand>) return "pinholes enforce";
        if constexpr (std::is_same_v<T, SyncBeginCommand>) return "sync begin";
        if constexpr (std::is_same_v<T, SyncEndCommand>) return "sync end";
        return "?";
      },
      command);
}

bool changes_state(const Command& command) {
  return std::holds_alternative<PrefixAddCommand>(command) ||
         std::holds_alternative<PrefixDelCommand>(command) ||
         std::holds_alternative<FlushCommand>(command) ||
         std::holds_alternative<PinholeOpenCommand>(command) ||
         std::holds_alternative<PinholeCloseCommand>(command) ||
         std::holds_alternative<PinholesEnforceCommand>(command) ||
         std::holds_alternative<SyncEndCommand>(command);
}

}  // namespace sipwall
