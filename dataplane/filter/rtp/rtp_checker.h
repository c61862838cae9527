#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace sipwall {

// Result of the checks on a media-port datagram (RTP/RTCP, and the STUN, DTLS and ZRTP that
// share its 5-tuple, see media_demux.h); one value per failure, all under drop reason rtp_invalid.
enum class RtpCheck : uint8_t {
  ok,
  rtp_too_short,           // fewer than 12 octets
  rtp_bad_version,         // V != 2
  rtp_csrc_overflow,       // 12 + 4*CC exceeds the packet
  rtp_extension_overflow,  // X set: 4-octet extension header + 4*length exceeds the packet
  rtp_bad_padding,         // P set: last octet 0 or larger than the payload after the headers
  rtcp_too_short,          // fewer than 8 octets
  rtcp_bad_version,        // V != 2 in any packet of the compound
  rtcp_bad_type,           // first packet type outside 200..204 (SR, RR, SDES, BYE, APP)
  rtcp_bad_length,         // the packet lengths do not tile the datagram exactly
  stun_too_short,          // fewer than the 20 octets of the STUN header
  stun_bad_type,           // top two bits of the message type not zero
  stun_bad_cookie,         // magic cookie not 0x2112A442 (RFC 3489 STUN without it is refused)
  stun_bad_length,         // message length not a multiple of 4 or not the rest of the datagram
  stun_bad_attribute,      // the attributes (each padded to 4 octets) do not tile the message
  dtls_too_short,          // a record header is cut short
  dtls_bad_type,           // content type outside 20..26 and not a DTLS 1.3 unified header
  dtls_bad_version,        // record version neither 0xFEFF (DTLS 1.0) nor 0xFEFD (1.2, 1.3)
  dtls_bad_length,         // record lengths do not tile the datagram, or a record is too small
  zrtp_too_short,          // fewer than 28 octets (header, the smallest message, CRC)
  zrtp_bad_cookie,         // no 'ZRTP' cookie at offset 4 or no 0x505a message preamble at 12
  zrtp_bad_length,         // the message length does not fill the datagram up to the CRC
};
inline constexpr size_t kRtpCheckCount = 22;
static_assert(static_cast<size_t>(RtpCheck::zrtp_bad_length) + 1 == kRtpCheckCount);

std::string_view to_string(RtpCheck c);

enum class MediaKind : uint8_t { rtp, rtcp };

// RTP on even destination ports, RTCP on odd ones; on an even port a second octet of 192..223
// means RTCP multiplexed with RTP (RFC 5761 section 4: RTCP types 192..223 are kept clear of RTP
// payload types, so M=1 plus PT 64..95 never occurs in RTP).
MediaKind media_kind(std::span<const uint8_t> udp_payload, uint16_t dst_port);

RtpCheck check_rtp(std::span<const uint8_t> packet);
RtpCheck check_rtcp(std::span<const uint8_t> compound);

// check_rtcp, or when its strict walk fails, SRTCP (RFC 3711 section 3.4): a valid cleartext
// first header and a trailer (E flag + SRTCP index, tag) where one can sit; see the .cc for
// what that lets through. Returns check_rtcp's error when neither fits.
RtpCheck check_rtcp_or_srtcp(std::span<const uint8_t> datagram);

// check_rtp, except that a padding count that does not fit is accepted when the packet can be
// SRTP (RFC 3711 section 3.1): there the count octet is encrypted and an authentication tag
// follows it, so the last octet is tag, not count. WebRTC's bandwidth probes are padding-only
// SRTP packets with P set; refusing them would drop a random share of every such call's probes.
RtpCheck check_rtp_or_srtp(std::span<const uint8_t> packet);

}  // namespace sipwall
