#pragma once

#include <cstdint>
#include <span>

#include "rtp/rtp_checker.h"

namespace sipwall {

// What shares a media 5-tuple with RTP/RTCP, told apart by the first octet (RFC 7983 section 7,
// as updated by RFC 9443): ICE/consent STUN, DTLS-SRTP key exchange, ZRTP key agreement.
enum class MediaProtocol : uint8_t {
  rtp_rtcp,      // 128..191
  stun,          // 0..3
  zrtp,          // 16..19
  dtls,          // 20..63 (DTLS 1.3 unified headers are 32..63)
  turn_channel,  // 64..79: TURN ChannelData, only between a TURN client and its server
  unassigned,    // everything else, and the empty datagram
};

MediaProtocol media_protocol(std::span<const uint8_t> udp_payload);

// Structural checks at line-rate cost: header fields and lengths only, no allocation, no
// cryptography (MESSAGE-INTEGRITY, FINGERPRINT, the ZRTP CRC and DTLS MACs are the peer's job).
RtpCheck check_stun(std::span<const uint8_t> message);   // RFC 8489 (5389) section 5
RtpCheck check_dtls(std::span<const uint8_t> datagram);  // RFC 6347 4.1, RFC 9147 4
RtpCheck check_zrtp(std::span<const uint8_t> packet);    // RFC 6189 section 5

// The check the dataplane applies to UDP on media ports: STUN, DTLS and ZRTP by their first
// octet; RTP/RTCP by media_kind(), with SRTCP accepted on the RTCP side. TURN ChannelData and
// the unassigned ranges go to the RTP/RTCP checks too, which refuse them on the version.
RtpCheck check_media(std::span<const uint8_t> udp_payload, uint16_t dst_port);

}  // namespace sipwall
