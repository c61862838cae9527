#pragma once

// Where each header line of a validated message lies in its text, so a proxy can copy the
// message with a few lines added, changed or left out and everything else byte for byte
// (folds, spacing, unknown headers and the body untouched).

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sip/sip_message.h"

namespace sipwall::relay {

struct MessageLayout {
  std::string_view start_line;          // with its CRLF
  std::vector<std::string_view> lines;  // by index of SipMessage::headers, each with its CRLF
  std::string_view body;                // everything after the empty line
};

// Nothing valid to lay out when the message has no CRLF CRLF (a datagram the liberal
// profile accepted without one): the caller refuses to relay it.
bool lay_out(const SipMessage& m, MessageLayout& out);

// Via params without `names` (case-insensitive), for rewriting received/rport.
std::string without_params(std::string_view params, std::span<const std::string_view> names);

}  // namespace sipwall::relay
