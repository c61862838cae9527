// parse_command(): the grammar in command.h and COMMANDS.md.
#include <charconv>
#include <cstdio>
#include <string>
#include <vector>

#include "control/protocol/command.h"

namespace sipwall {
namespace {

struct Word {
  std::string_view text;
  size_t column = 0;  // 1-based
};

// A key=value option after the positional words.
struct Option {
  std::string_view key;
  std::string_view value;
  size_t column = 0;        // of the key
  size_t value_column = 0;  // of the value
};

// Thrown inside the parser only; parse_command() turns it into a ParseError.
struct Failure {
  ParseError error;
};

// The message is the concatenation of `parts` (appended one by one: GCC 12 warns wrongly
// about chains of operator+ on strings).
template <typename... Parts>
[[noreturn]] void fail(size_t column, const Parts&... parts) {
  std::string message;
  (message.append(std::string_view(parts)), ...);
  throw Failure{{column, std::move(message)}};
}

std::string quoted(std::string_view s) {
  std::string q = "'";
  q.append(s).append("'");
  return q;
}

class Parser {
 public:
  explicit Parser(std::string_view line) : end_column_(line.size() + 1) {
    size_t i = 0;
    while (i < line.size()) {
      if (line[i] == ' ' || line[i] == '\t') {
        ++i;
        continue;
      }
      const size_t start = i;
      while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
      words_.push_back({line.substr(start, i - start), start + 1});
    }
  }

  bool empty() const { return words_.empty(); }

  // The next positional word, described by `what` when it is missing.
  Word word(std::string_view what) {
    if (next_ < words_.size() && words_[next_].text.find('=') == std::string_view::npos) {
      return words_[next_++];
    }
    if (next_ < words_.size()) fail(words_[next_].column, "missing ", std::string(what));
    fail(end_column_, "missing ", std::string(what));
  }
  bool more_words() const {
    return next_ < words_.size() && words_[next_].text.find('=') == std::string_view::npos;
  }

  // The rest of the line as options, each key from `allowed` at most once.
  void options(std::string_view command, std::initializer_list<std::string_view> allowed) {
    for (; next_ < words_.size(); ++next_) {
      const Word& w = words_[next_];
      const size_t eq = w.text.find('=');
      if (eq == std::string_view::npos) fail(w.column, "unexpected ", quoted(w.text));
      const std::string_view key = w.text.substr(0, eq);
      bool known = false;
      for (const std::string_view a : allowed) known |= a == key;
      if (!known) {
        std::string keys;
        for (const std::string_view a : allowed)
          keys += (keys.empty() ? "" : ", ") + std::string(a);
        if (keys.empty())
          fail(w.column, "unknown option ", quoted(key), " for '", command, "' (it takes none)");
        fail(w.column, "unknown option ", quoted(key), " for '", command, "' (options: ", keys,
             ")");
      }
      for (const Option& o : options_) {
        if (o.key == key) fail(w.column, "duplicate option ", quoted(key));
      }
      if (eq + 1 == w.text.size()) fail(w.column, "empty value for ", quoted(key));
      options_.push_back({key, w.text.substr(eq + 1), w.column, w.column + eq + 1});
    }
  }

  const Option* option(std::string_view key) const {
    for (const Option& o : options_) {
      if (o.key == key) return &o;
    }
    return nullptr;
  }
  const Option& required(std::string_view key, std::string_view form) const {
    if (const Option* o = option(key)) return *o;
    fail(end_column_, "missing ", std::string(form));
  }

  // Nothing may follow (commands without options).
  void done() {
    if (next_ < words_.size())
      fail(words_[next_].column, "unexpected ", quoted(words_[next_].text));
  }

 private:
  std::vector<Word> words_;
  std::vector<Option> options_;
  size_t next_ = 0;
  size_t end_column_;
};

std::optional<uint64_t> unsigned_number(std::string_view text) {
  uint64_t v = 0;
  if (text.empty() || text.size() > 20) return std::nullopt;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return v;
}

IpPrefix prefix_value(std::string_view text, size_t column) {
  const auto p = IpPrefix::parse(text);
  if (!p) fail(column, "bad prefix ", quoted(text), " (an address, or ADDRESS/LENGTH)");
  // IpPrefix::parse masks host bits away; a typo should not silently widen or move a ban.
  const auto address = IpAddress::parse(text.substr(0, text.find('/')));
  if (address && !(*address == p->address)) {
    fail(column, "host bits set in ", quoted(text), " (did you mean ", p->to_string(), "?)");
  }
  return *p;
}

IpAddress address_value(std::string_view text, size_t column) {
  const auto a = IpAddress::parse(text);
  if (!a) fail(column, "bad address ", quoted(text));
  return *a;
}

uint16_t port_value(std::string_view text, size_t column) {
  const auto v = unsigned_number(text);
  if (!v || *v == 0 || *v > 65535) fail(column, "bad port ", quoted(text), " (1 to 65535)");
  return static_cast<uint16_t>(*v);
}

uint64_t ttl_value(const Option& o) {
  const auto v = unsigned_number(o.value);
  if (!v || *v == 0 || *v > kMaxTtlSeconds) {
    fail(o.value_column, "bad ttl ", quoted(o.value), " (1 to ", std::to_string(kMaxTtlSeconds),
         " seconds)");
  }
  return *v;
}

EntryId id_value(const Option* o) {
  if (!o) return {};
  const auto id = EntryId::parse(o->value);
  if (!id) {
    fail(o->value_column, "bad ", std::string(o->key), " ", quoted(o->value), " (1 to ",
         std::to_string(EntryId::kMaxLength), " characters from A-Z a-z 0-9 . _ - : @ + /)");
  }
  return *id;
}

Owner as_value(const Option* o) {
  if (!o) return Owner::operator_;
  const auto owner = owner_from_string(o->value);
  if (owner == Owner::rules) fail(o->value_column, "as=rules is reserved for the rule file");
  if (!owner) fail(o->value_column, "unknown owner ", quoted(o->value), " (operator, control)");
  return *owner;
}

FlushCommand parse_flush(Parser& p, StateTable table) {
  FlushCommand c;
  c.table = table;
  p.options(table == StateTable::pinhole ? "pinhole flush"
            : table == StateTable::ban   ? "ban flush"
                                         : "trust flush",
            {"owner", "as"});
  c.as = as_value(p.option("as"));
  if (const Option* o = p.option("owner")) {
    if (o->value == "all") {
      c.all_owners = true;
    } else if (const auto owner = owner_from_string(o->value)) {
      c.owner = *owner;
    } else {
      fail(o->value_column, "unknown owner ", quoted(o->value), " (all, operator, control, rules)");
    }
  }
  return c;
}

Command parse_prefix_table(Parser& p, StateTable table) {
  const std::string_view name = table == StateTable::ban ? "ban" : "trust";
  const Word sub = p.word("subcommand (add, del, list, flush)");
  std::string command(name);
  command.append(" ").append(sub.text);
  if (sub.text == "add") {
    const Word w = p.word("PREFIX");
    PrefixAddCommand c;
    c.table = table;
    c.prefix = prefix_value(w.text, w.column);
    p.options(command, {"ttl", "id", "as"});
    c.ttl_seconds = ttl_value(p.required("ttl", "ttl=SECONDS"));
    c.id = id_value(p.option("id"));
    c.as = as_value(p.option("as"));
    return c;
  }
  if (sub.text == "del") {
    const Word w = p.word("PREFIX");
    PrefixDelCommand c;
    c.table = table;
    c.prefix = prefix_value(w.text, w.column);
    p.options(command, {"as"});
    c.as = as_value(p.option("as"));
    return c;
  }
  if (sub.text == "list") {
    ListCommand c;
    c.table = table;
    if (p.more_words()) {
      const Word w = p.word("PREFIX");
      c.prefix = prefix_value(w.text, w.column);
    }
    p.options(command, {});
    return c;
  }
  if (sub.text == "flush") return parse_flush(p, table);
  fail(sub.column, "unknown subcommand ", quoted(sub.text), " for '", std::string(name),
       "' (add, del, list, flush)");
}

Command parse_pinhole(Parser& p) {
  const Word sub = p.word("subcommand (open, close, list, flush)");
  if (sub.text == "open" || sub.text == "close") {
    const Word a = p.word("ADDRESS");
    const IpAddress address = address_value(a.text, a.column);
    const Word port_word = p.word("PORT");
    const uint16_t port = port_value(port_word.text, port_word.column);
    if (sub.text == "open") {
      PinholeOpenCommand c;
      c.address = address;
      c.port = port;
      p.options("pinhole open", {"ttl", "src", "call", "as"});
      c.ttl_seconds = ttl_value(p.required("ttl", "ttl=SECONDS"));
      if (const Option* src = p.option("src")) c.src = prefix_value(src->value, src->value_column);
      c.call = id_value(p.option("call"));
      c.as = as_value(p.option("as"));
      return c;
    }
    PinholeCloseCommand c;
    c.address = address;
    c.port = port;
    p.options("pinhole close", {"call", "as"});
    c.call = id_value(p.option("call"));
    c.as = as_value(p.option("as"));
    return c;
  }
  if (sub.text == "list") {
    p.options("pinhole list", {});
    ListCommand c;
    c.table = StateTable::pinhole;
    return c;
  }
  if (sub.text == "flush") return parse_flush(p, StateTable::pinhole);
  fail(sub.column, "unknown subcommand ", quoted(sub.text),
       " for 'pinhole' (open, close, list, flush)");
}

Command parse_words(Parser& p) {
  const Word name = p.word("command");
  const std::string_view n = name.text;
  if (n == "ping" || n == "reload" || n == "status" || n == "counters") {
    p.done();
    if (n == "ping") return PingCommand{};
    if (n == "reload") return ReloadCommand{};
    if (n == "status") return StatusCommand{};
    return CountersCommand{};
  }
  if (n == "ban" || n == "trust") {
    return parse_prefix_table(p, n == "ban" ? StateTable::ban : StateTable::trust);
  }
  if (n == "pinhole") return parse_pinhole(p);
  if (n == "pinholes") {
    const Word sub = p.word("'enforce'");
    if (sub.text != "enforce")
      fail(sub.column, "unknown subcommand ", quoted(sub.text), " for 'pinholes' (enforce)");
    const Word v = p.word("on or off");
    if (v.text != "on" && v.text != "off")
      fail(v.column, "expected on or off, not ", quoted(v.text));
    PinholesEnforceCommand c;
    c.on = v.text == "on";
    p.options("pinholes enforce", {"as"});
    c.as = as_value(p.option("as"));
    return c;
  }
  if (n == "sync") {
    const Word sub = p.word("'begin EPOCH' or 'end'");
    if (sub.text == "begin") {
      const Word e = p.word("EPOCH");
      const auto epoch = unsigned_number(e.text);
      if (!epoch) fail(e.column, "bad epoch ", quoted(e.text), " (a whole number below 2^64)");
      SyncBeginCommand c;
      c.epoch = *epoch;
      p.options("sync begin", {"as"});
      c.as = as_value(p.option("as"));
      return c;
    }
    if (sub.text == "end") {
      p.done();
      return SyncEndCommand{};
    }
    fail(sub.column, "unknown subcommand ", quoted(sub.text), " for 'sync' (begin, end)");
  }
  fail(name.column, "unknown command ", quoted(n),
       " (ping, ban, trust, pinhole, pinholes, sync, reload, status, counters)");
}

}  // namespace

ParseResult parse_command(std::string_view line) {
  if (line.size() > kMaxCommandLine) {
    std::string message = "line too long (";
    message.append(std::to_string(line.size())).append(" bytes, at most ");
    message.append(std::to_string(kMaxCommandLine)).append(")");
    return ParseError{kMaxCommandLine + 1, std::move(message)};
  }
  for (size_t i = 0; i < line.size(); ++i) {
    const auto c = static_cast<unsigned char>(line[i]);
    if ((c < 0x20 && c != '\t') || c > 0x7e) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02x", c);
      return ParseError{i + 1, std::string("byte ") + hex + " is not printable ASCII"};
    }
  }
  try {
    Parser p(line);
    if (p.empty()) return ParseError{1, "empty command"};
    return parse_words(p);
  } catch (const Failure& f) {
    return f.error;
  }
}

}  // namespace sipwall
