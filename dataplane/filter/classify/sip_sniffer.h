#pragma once

#include <cstdint>
#include <span>

namespace sipwall {

// True when a UDP payload begins like a SIP start line: "SIP/2.0 " (a response) or a method
// token, one SP and a URI scheme followed by ':' (a request). Peers do answer from ephemeral
// ports and attackers do aim at ports the operator did not list, so SIP is recognised by content
// wherever it turns up. RTP and RTCP (version 2) start with an octet in 0x80-0xBF, never ASCII
// text, so media is never mistaken for SIP.
bool looks_like_sip(std::span<const uint8_t> payload);

}  // namespace sipwall
