#include "rtp/rtp_checker.h"

namespace sipwall {
namespace {

constexpr size_t kRtpHeader = 12;
constexpr size_t kRtcpHeader = 4;
constexpr size_t kRtcpMin = 8;  // the smallest valid RTCP packet (an empty RR) is 8 octets

inline unsigned version(uint8_t b0) {
  return b0 >> 6;
}
inline size_t be16(const uint8_t* p) {
  return (size_t{p[0]} << 8) | p[1];
}

}  // namespace

std::string_view to_string(RtpCheck c) {
  switch (c) {
    case RtpCheck::ok:
      return "ok";
    case RtpCheck::rtp_too_short:
      return "rtp_too_short";
    case RtpCheck::rtp_bad_version:
      return "rtp_bad_version";
    case RtpCheck::rtp_csrc_overflow:
      return "rtp_csrc_overflow";
    case RtpCheck::rtp_extension_overflow:
      return "rtp_extension_overflow";
    case RtpCheck::rtp_bad_padding:
      return "rtp_bad_padding";
    case RtpCheck::rtcp_too_short:
      return "rtcp_too_short";
    case RtpCheck::rtcp_bad_version:
      return "rtcp_bad_version";
    case RtpCheck::rtcp_bad_type:
      return "rtcp_bad_type";
    case RtpCheck::rtcp_bad_length:
      return "rtcp_bad_length";
  }
  return "?";
}

MediaKind media_kind(std::span<const uint8_t> p, uint16_t dst_port) {
  if (dst_port & 1u) return MediaKind::rtcp;
  if (p.size() >= 2 && p[1] >= 192 && p[1] <= 223) return MediaKind::rtcp;
  return MediaKind::rtp;
}

RtpCheck check_rtp(std::span<const uint8_t> p) {
  const size_t n = p.size();
  if (n < kRtpHeader) return RtpCheck::rtp_too_short;
  const uint8_t b0 = p[0];
  if (version(b0) != 2) return RtpCheck::rtp_bad_version;

  size_t hdr = kRtpHeader + 4 * size_t{b0 & 0x0fu};
  if (hdr > n) return RtpCheck::rtp_csrc_overflow;

  if (b0 & 0x10u) {  // X: 16-bit profile id, 16-bit length in 32-bit words, then the words
    if (hdr + 4 > n) return RtpCheck::rtp_extension_overflow;
    hdr += 4 + 4 * be16(&p[hdr + 2]);
    if (hdr > n) return RtpCheck::rtp_extension_overflow;
  }

  if (b0 & 0x20u) {  // P: the last octet counts the padding octets, itself included
    const size_t pad = p[n - 1];
    if (pad == 0 || pad > n - hdr) return RtpCheck::rtp_bad_padding;
  }
  return RtpCheck::ok;
}

RtpCheck check_rtcp(std::span<const uint8_t> p) {
  const size_t n = p.size();
  if (n < kRtcpMin) return RtpCheck::rtcp_too_short;
  if (version(p[0]) != 2) return RtpCheck::rtcp_bad_version;
  if (p[1] < 200 || p[1] > 204) return RtpCheck::rtcp_bad_type;

  // Walk the compound: each packet is (length + 1) 32-bit words and they must tile it exactly.
  size_t off = 0;
  while (off < n) {
    if (n - off < kRtcpHeader) return RtpCheck::rtcp_bad_length;  // 1..3 octets left over
    if (version(p[off]) != 2) return RtpCheck::rtcp_bad_version;
    const size_t len = 4 * be16(&p[off + 2]) + 4;
    if (len > n - off) return RtpCheck::rtcp_bad_length;
    off += len;
  }
  return RtpCheck::ok;
}

RtpCheck check_media(std::span<const uint8_t> udp_payload, uint16_t dst_port) {
  return media_kind(udp_payload, dst_port) == MediaKind::rtcp ? check_rtcp(udp_payload)
                                                              : check_rtp(udp_payload);
}

}  // namespace sipwall
