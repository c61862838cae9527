#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>

namespace sipwall {

// The name of a dynamic entry: a ban's id (named in verdicts, explain and metrics) or the call a
// pinhole reference belongs to. Fixed size, so a worker copies it into its table without
// allocating. Empty means "none given".
//
// 1 to kMaxLength characters from  A-Z a-z 0-9 . _ - : @ + /  (no spaces, no quotes: it is
// printed unquoted in command lines and needs no escaping in JSON). The control plane maps
// longer names (a SIP Call-ID) to one, e.g. by hashing.
class EntryId {
 public:
  static constexpr size_t kMaxLength = 32;

  constexpr EntryId() = default;
  // Nothing when `text` is empty, too long or holds a character outside the set above.
  static std::optional<EntryId> parse(std::string_view text);
  static constexpr bool allowed(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-' || c == ':' || c == '@' || c == '+' || c == '/';
  }

  std::string_view view() const { return {chars_.data(), size_}; }
  bool empty() const { return size_ == 0; }
  bool operator==(const EntryId&) const = default;

 private:
  std::array<char, kMaxLength> chars_{};  // zero past size_, so == compares whole arrays
  uint8_t size_ = 0;
};

inline std::optional<EntryId> EntryId::parse(std::string_view text) {
  if (text.empty() || text.size() > kMaxLength) return std::nullopt;
  EntryId id;
  for (const char c : text) {
    if (!allowed(c)) return std::nullopt;
  }
  std::memcpy(id.chars_.data(), text.data(), text.size());
  id.size_ = static_cast<uint8_t>(text.size());
  return id;
}

}  // namespace sipwall
