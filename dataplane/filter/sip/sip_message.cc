#include "sip/sip_message.h"

#include <array>

#include "sip/sip_char_class.h"

namespace sipwall {
namespace {

struct HeaderName {
  std::string_view full;
  char compact;  // '\0' when the header has no compact form
};

// Indexed by SipHeader.
constexpr std::array<HeaderName, kSipHeaderCount> kHeaderNames = {{
    {"", '\0'},
    {"Via", 'v'},
    {"From", 'f'},
    {"To", 't'},
    {"Call-ID", 'i'},
    {"CSeq", '\0'},
    {"Max-Forwards", '\0'},
    {"Content-Length", 'l'},
    {"Content-Type", 'c'},
    {"Contact", 'm'},
    {"User-Agent", '\0'},
    {"Subject", 's'},
    {"Supported", 'k'},
    {"Content-Encoding", 'e'},
    {"Allow-Events", 'u'},
    {"Event", 'o'},
    {"Refer-To", 'r'},
    {"Route", '\0'},
    {"Record-Route", '\0'},
    {"Authorization", '\0'},
    {"Proxy-Authorization", '\0'},
    {"Date", '\0'},
    {"Expires", '\0'},
    {"Server", '\0'},
}};

constexpr char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

}  // namespace

SipHeader sip_header_from_name(std::string_view name) {
  if (name.size() == 1) {
    const char c = lower(name[0]);
    for (size_t i = 1; i < kHeaderNames.size(); ++i) {
      if (kHeaderNames[i].compact == c) return static_cast<SipHeader>(i);
    }
    return SipHeader::other;
  }
  for (size_t i = 1; i < kHeaderNames.size(); ++i) {
    if (iequals(kHeaderNames[i].full, name)) return static_cast<SipHeader>(i);
  }
  return SipHeader::other;
}

std::string_view sip_header_name(SipHeader h) {
  const auto i = static_cast<size_t>(h);
  return i < kHeaderNames.size() ? kHeaderNames[i].full : std::string_view{};
}

SipMethod sip_method_from_token(std::string_view token) {
  // sipchar::equals is a fixed-size compare (no memcmp call); its length check comes first.
  using sipchar::equals;
  if (equals(token, "INVITE")) return SipMethod::invite;
  if (equals(token, "REGISTER")) return SipMethod::register_;
  if (equals(token, "OPTIONS")) return SipMethod::options;
  if (equals(token, "ACK")) return SipMethod::ack;
  if (equals(token, "BYE")) return SipMethod::bye;
  if (equals(token, "CANCEL")) return SipMethod::cancel;
  return SipMethod::other;
}

}  // namespace sipwall
