#include "rtp/media_demux.h"

#include "common/byte_order.h"

namespace sipwall {
namespace {

constexpr size_t kStunHeader = 20;
constexpr uint32_t kStunCookie = 0x2112A442;
constexpr size_t kStunAttributeHeader = 4;

constexpr size_t kDtlsHeader = 13;  // type, version, epoch, sequence number (48 bits), length
constexpr uint8_t kDtlsApplicationData = 23;
constexpr uint8_t kDtlsTls12Cid = 25;
constexpr size_t kDtls13MinCiphertext = 16;

constexpr size_t kZrtpHeader = 12;  // 0001 + zeros, sequence, cookie, source identifier
constexpr size_t kZrtpCrc = 4;
constexpr size_t kZrtpMinWords = 3;           // preamble + length, the 2-word type block (HelloACK)
constexpr uint32_t kZrtpCookie = 0x5a525450;  // "ZRTP"
constexpr uint16_t kZrtpPreamble = 0x505a;

}  // namespace

MediaProtocol media_protocol(std::span<const uint8_t> p) {
  if (p.empty()) return MediaProtocol::unassigned;
  const uint8_t b = p[0];
  if (b <= 3) return MediaProtocol::stun;
  if (b >= 16 && b <= 19) return MediaProtocol::zrtp;
  if (b >= 20 && b <= 63) return MediaProtocol::dtls;
  if (b >= 64 && b <= 79) return MediaProtocol::turn_channel;
  if (b >= 128 && b <= 191) return MediaProtocol::rtp_rtcp;
  return MediaProtocol::unassigned;
}

RtpCheck check_stun(std::span<const uint8_t> p) {
  const size_t n = p.size();
  if (n < kStunHeader) return RtpCheck::stun_too_short;
  if (p[0] & 0xc0u) return RtpCheck::stun_bad_type;
  if (load_be32(&p[4]) != kStunCookie) return RtpCheck::stun_bad_cookie;
  const size_t length = load_be16(&p[2]);
  if (length % 4 != 0 || length != n - kStunHeader) return RtpCheck::stun_bad_length;
  // Attributes: type, value length (before padding), value padded to a multiple of 4.
  size_t off = kStunHeader;
  while (off < n) {
    if (n - off < kStunAttributeHeader) return RtpCheck::stun_bad_attribute;
    const size_t padded = (load_be16(&p[off + 2]) + 3) & ~size_t{3};
    if (padded > n - off - kStunAttributeHeader) return RtpCheck::stun_bad_attribute;
    off += kStunAttributeHeader + padded;
  }
  return RtpCheck::ok;
}

// Records are walked until they tile the datagram. Two kinds carry a connection ID whose
// length was negotiated in the handshake (RFC 9146 tls12_cid, RFC 9147 unified header with C
// set), so their length field cannot be found: such a record is taken to fill the rest.
RtpCheck check_dtls(std::span<const uint8_t> p) {
  const size_t n = p.size();
  if (n == 0) return RtpCheck::dtls_too_short;
  size_t off = 0;
  while (off < n) {
    const uint8_t type = p[off];
    const size_t left = n - off;
    if (type >= 20 && type <= 26) {
      // change_cipher_spec, alert, handshake, application_data, heartbeat (RFC 6520),
      // tls12_cid (RFC 9146), ack (RFC 9147, in clear during the handshake).
      if (left < kDtlsHeader) return RtpCheck::dtls_too_short;
      const size_t version = load_be16(&p[off + 1]);
      // 0xFEFD is DTLS 1.2, and the legacy record version of DTLS 1.3 plaintext records.
      if (version != 0xfeff && version != 0xfefd) return RtpCheck::dtls_bad_version;
      if (type == kDtlsTls12Cid) return RtpCheck::ok;
      const size_t length = load_be16(&p[off + 11]);
      if (length > left - kDtlsHeader) return RtpCheck::dtls_bad_length;
      // Only application data may be empty (RFC 5246 6.2.1, RFC 8446 5.1).
      if (length == 0 && type != kDtlsApplicationData) return RtpCheck::dtls_bad_length;
      off += kDtlsHeader + length;
    } else if ((type & 0xe0u) == 0x20u) {
      // DTLS 1.3 unified header (RFC 9147 4): 001CSLEE, then CID if C, 8- or 16-bit (S)
      // sequence number, 16-bit length if L; without L the record runs to the datagram's end.
      if (type & 0x10u) return RtpCheck::ok;
      const size_t header = 1 + ((type & 0x08u) ? 2 : 1) + ((type & 0x04u) ? 2 : 0);
      if (left < header) return RtpCheck::dtls_too_short;
      size_t length = left - header;
      if (type & 0x04u) {
        length = load_be16(&p[off + header - 2]);
        if (length > left - header) return RtpCheck::dtls_bad_length;
      }
      // Record number encryption samples 16 octets of ciphertext; receivers must reject
      // shorter records (RFC 9147 4.2.3).
      if (length < kDtls13MinCiphertext) return RtpCheck::dtls_bad_length;
      off += header + length;
    } else {
      return RtpCheck::dtls_bad_type;
    }
  }
  return RtpCheck::ok;
}

RtpCheck check_zrtp(std::span<const uint8_t> p) {
  const size_t n = p.size();
  if (n < kZrtpHeader + 4 * kZrtpMinWords + kZrtpCrc) return RtpCheck::zrtp_too_short;
  if (load_be32(&p[4]) != kZrtpCookie || load_be16(&p[kZrtpHeader]) != kZrtpPreamble) {
    return RtpCheck::zrtp_bad_cookie;
  }
  // The message length counts its 32-bit words, preamble included, CRC excluded.
  const size_t words = load_be16(&p[kZrtpHeader + 2]);
  if (words < kZrtpMinWords || kZrtpHeader + 4 * words + kZrtpCrc != n) {
    return RtpCheck::zrtp_bad_length;
  }
  return RtpCheck::ok;
}

RtpCheck check_media(std::span<const uint8_t> udp_payload, uint16_t dst_port) {
  switch (media_protocol(udp_payload)) {
    case MediaProtocol::stun:
      return check_stun(udp_payload);
    case MediaProtocol::zrtp:
      return check_zrtp(udp_payload);
    case MediaProtocol::dtls:
      return check_dtls(udp_payload);
    case MediaProtocol::rtp_rtcp:
    case MediaProtocol::turn_channel:  // a TURN server's port, not a media endpoint's
    case MediaProtocol::unassigned:
      break;
  }
  return media_kind(udp_payload, dst_port) == MediaKind::rtcp ? check_rtcp_or_srtcp(udp_payload)
                                                              : check_rtp_or_srtp(udp_payload);
}

}  // namespace sipwall
