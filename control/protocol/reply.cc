// Replies to typed commands: text form, parsing it back, JSON form.
#include "control/protocol/reply.h"

#include <charconv>

#include "common/json_string.h"

namespace sipwall {
namespace {

constexpr std::string_view kExtended = "exists: ttl extended";
constexpr std::string_view kExists = "exists: ttl kept";
constexpr std::string_view kFull = "full";
constexpr std::string_view kNotFound = "not found";
constexpr std::string_view kError = "error: ";

std::string_view status_text(ReplyStatus s) {
  switch (s) {
    case ReplyStatus::ok:
      return "ok";
    case ReplyStatus::extended:
      return kExtended;
    case ReplyStatus::exists:
      return kExists;
    case ReplyStatus::full:
      return kFull;
    case ReplyStatus::not_found:
      return kNotFound;
    case ReplyStatus::error:
      return "error";
  }
  return "error";
}

}  // namespace

Reply Reply::error(std::string message, size_t column) {
  Reply r;
  r.status = ReplyStatus::error;
  r.column = column;
  r.message = std::move(message);
  return r;
}

Reply& Reply::with(std::string key, std::string value) {
  fields.emplace_back(std::move(key), std::move(value));
  return *this;
}

Reply reply_for(const ApplyResult& result) {
  Reply r;
  switch (result.outcome) {
    case Outcome::added:
    case Outcome::removed:
      return r;
    case Outcome::flushed:
      r.with("removed", std::to_string(result.removed));
      // A sync (ReplaceOwned) also reports what it put back and what found no room; sync_reply()
      // gives every field always, with the epoch first.
      if (result.added != 0 || result.rejected != 0) {
        r.with("added", std::to_string(result.added));
        r.with("full", std::to_string(result.rejected));
      }
      return r;
    case Outcome::extended:
      r.status = ReplyStatus::extended;
      return r;
    case Outcome::exists:
      r.status = ReplyStatus::exists;
      return r;
    case Outcome::full:
      r.status = ReplyStatus::full;
      return r;
    case Outcome::not_found:
      r.status = ReplyStatus::not_found;
      return r;
    case Outcome::invalid:
      break;
  }
  return Reply::error("the dataplane could not apply this change");
}

Reply sync_reply(const ApplyResult& result, uint64_t epoch) {
  if (result.outcome != Outcome::flushed) return reply_for(result);
  return Reply::ok()
      .with("epoch", std::to_string(epoch))
      .with("removed", std::to_string(result.removed))
      .with("added", std::to_string(result.added))
      .with("full", std::to_string(result.rejected));
}

std::string format_reply(const Reply& reply) {
  std::string out;
  if (reply.status == ReplyStatus::error) {
    out = std::string(kError);
    if (reply.column != 0) out += std::to_string(reply.column) + ": ";
    out += reply.message;
  } else {
    out = std::string(status_text(reply.status));
    for (const auto& [k, v] : reply.fields) out.append(" ").append(k).append("=").append(v);
  }
  for (const std::string& line : reply.lines) out.append("\n").append(line);
  return out;
}

std::optional<Reply> parse_reply(std::string_view text) {
  if (text.ends_with('\n')) text.remove_suffix(1);
  const size_t nl = text.find('\n');
  const std::string_view first = text.substr(0, nl);
  Reply r;
  if (first.starts_with(kError)) {
    std::string_view rest = first.substr(kError.size());
    size_t column = 0;
    const auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), column);
    const std::string_view after(end, static_cast<size_t>(rest.data() + rest.size() - end));
    if (ec == std::errc{} && after.starts_with(": ")) {
      rest = after.substr(2);
    } else {
      column = 0;
    }
    r = Reply::error(std::string(rest), column);
  } else if (first == kExtended) {
    r.status = ReplyStatus::extended;
  } else if (first == kExists) {
    r.status = ReplyStatus::exists;
  } else if (first == kFull) {
    r.status = ReplyStatus::full;
  } else if (first == kNotFound) {
    r.status = ReplyStatus::not_found;
  } else if (first == "ok" || first.starts_with("ok ")) {
    std::string_view rest = first.substr(2);
    while (!rest.empty()) {
      rest.remove_prefix(1);  // the space
      const std::string_view field = rest.substr(0, rest.find(' '));
      const size_t eq = field.find('=');
      if (field.empty() || eq == std::string_view::npos || eq == 0) return std::nullopt;
      r.with(std::string(field.substr(0, eq)), std::string(field.substr(eq + 1)));
      rest.remove_prefix(field.size());
    }
  } else {
    return std::nullopt;
  }
  for (std::string_view rest = nl == std::string_view::npos ? "" : text.substr(nl + 1);
       !rest.empty();) {
    const size_t end = rest.find('\n');
    r.lines.emplace_back(rest.substr(0, end));
    rest = end == std::string_view::npos ? "" : rest.substr(end + 1);
  }
  return r;
}

std::string format_reply_json(const Reply& reply) {
  std::string out = "{\"status\":";
  out += json_string(status_text(reply.status));
  if (reply.status == ReplyStatus::error) {
    if (reply.column != 0) out.append(",\"column\":").append(std::to_string(reply.column));
    out.append(",\"message\":").append(json_string(reply.message));
  }
  if (!reply.fields.empty()) {
    out += ",\"fields\":{";
    const char* sep = "";
    for (const auto& [k, v] : reply.fields) {
      out.append(sep).append(json_string(k)).append(":").append(json_string(v));
      sep = ",";
    }
    out += "}";
  }
  if (!reply.lines.empty()) {
    out += ",\"entries\":[";
    const char* sep = "";
    for (const std::string& line : reply.lines) {
      out.append(sep).append(json_string(line));
      sep = ",";
    }
    out += "]";
  }
  return out + "}";
}

std::string text_reply_json(std::string_view text) {
  std::string out = "{\"status\":\"ok\",\"text\":";
  return out.append(json_string(text)).append("}");
}

}  // namespace sipwall
