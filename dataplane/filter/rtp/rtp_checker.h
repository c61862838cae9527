#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace sipwall {

// Result of the RTP/RTCP header checks; one value per failure.
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
};
inline constexpr size_t kRtpCheckCount = 10;

std::string_view to_string(RtpCheck c);

enum class MediaKind : uint8_t { rtp, rtcp };

// RTP on even destination ports, RTCP on odd ones; on an even port a second octet of 192..223
// means RTCP multiplexed with RTP (RFC 5761 section 4: RTCP types 192..223 are kept clear of RTP
// payload types, so M=1 plus PT 64..95 never occurs in RTP).
MediaKind media_kind(std::span<const uint8_t> udp_payload, uint16_t dst_port);

RtpCheck check_rtp(std::span<const uint8_t> packet);
RtpCheck check_rtcp(std::span<const uint8_t> compound);

// The check the dataplane applies to UDP media: media_kind() picks check_rtp or check_rtcp.
// No allocation; reads only inside udp_payload.
RtpCheck check_media(std::span<const uint8_t> udp_payload, uint16_t dst_port);

}  // namespace sipwall
