#include "rtp/rtp_checker.h"

#include "common/byte_order.h"

namespace sipwall {
namespace {

constexpr size_t kRtpHeader = 12;
constexpr size_t kRtcpHeader = 4;
constexpr size_t kRtcpMin = 8;  // the smallest valid RTCP packet (an empty RR) is 8 octets

inline unsigned version(uint8_t b0) {
  return b0 >> 6;
}

// Each packet is (length + 1) 32-bit words and they must tile the compound exactly.
RtpCheck walk_compound(std::span<const uint8_t> p) {
  const size_t n = p.size();
  size_t off = 0;
  while (off < n) {
    if (n - off < kRtcpHeader) return RtpCheck::rtcp_bad_length;  // 1..3 octets left over
    if (version(p[off]) != 2) return RtpCheck::rtcp_bad_version;
    const size_t len = 4 * size_t{load_be16(&p[off + 2])} + 4;
    if (len > n - off) return RtpCheck::rtcp_bad_length;
    off += len;
  }
  return RtpCheck::ok;
}

// SRTCP (RFC 3711 section 3.4) keeps only the first 8 octets in clear (first header, sender
// SSRC); the rest of the compound may be encrypted and is followed by a 4-octet word (E flag,
// 31-bit SRTCP index), an optional MKI and the authentication tag. What is left to check:
//  - the first header as check_rtcp wants it, and for SR/RR a length that holds RC report blocks;
//  - the trailer: the compound is whole words and AES-CM/f8 keep its length, AEAD (RFC 7714)
//    adds a 16-octet tag inside it, so the E word starts on a word boundary at or after the end
//    of the first packet, followed by a tag of 10 octets (HMAC-SHA1-80, the SRTCP tag of every
//    SDES/DTLS-SRTP AES-CM suite), 4 (HMAC-SHA1-32, if a peer uses it for SRTCP) or 0 (AEAD).
//    No MKI: WebRTC endpoints send none and SDES peers rarely set one;
//  - E = 1: the rest is ciphertext, nothing more to see. E = 0 (unencrypted SRTCP): the
//    compound before the trailer must walk as plain RTCP.
// Trade-off: with E = 1, any octets after a valid first header pass when the datagram length
// has the right remainder and the E bit is set at a tag position, about half of random tails.
// A sender able to build that can as easily build a valid plain compound, which always passed;
// random garbage still dies on the cleartext header. Both stay under the per-flow bucket and
// the pinholes; only the SRTP keys (libsrtp, keys from the control plane) prove more. Hence
// always on, with no setting: a switch would only keep dropping every SRTP call's RTCP for
// those who leave it off, and buys no protection against a deliberate sender.
bool srtcp_shape(std::span<const uint8_t> p) {
  const size_t n = p.size();
  constexpr size_t kIndexWord = 4;
  if (n < kRtcpMin + kIndexWord) return false;
  if (version(p[0]) != 2 || p[1] < 200 || p[1] > 204) return false;
  const size_t first = 4 * size_t{load_be16(&p[2])} + 4;
  if (first < kRtcpMin) return false;  // the cleartext part ends after the sender SSRC
  const size_t rc = p[0] & 0x1fu;
  if (p[1] == 200 && first < 28 + 24 * rc) return false;  // SR: header, SSRC, sender info
  if (p[1] == 201 && first < 8 + 24 * rc) return false;   // RR: header, SSRC
  for (const size_t tag : {10u, 4u, 0u}) {
    if (n < first + kIndexWord + tag) continue;
    const size_t e_word = n - kIndexWord - tag;
    if (e_word % 4 != 0) continue;
    if (p[e_word] & 0x80u) return true;
    if (walk_compound(p.first(e_word)) == RtpCheck::ok) return true;
  }
  return false;
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
    case RtpCheck::stun_too_short:
      return "stun_too_short";
    case RtpCheck::stun_bad_type:
      return "stun_bad_type";
    case RtpCheck::stun_bad_cookie:
      return "stun_bad_cookie";
    case RtpCheck::stun_bad_length:
      return "stun_bad_length";
    case RtpCheck::stun_bad_attribute:
      return "stun_bad_attribute";
    case RtpCheck::dtls_too_short:
      return "dtls_too_short";
    case RtpCheck::dtls_bad_type:
      return "dtls_bad_type";
    case RtpCheck::dtls_bad_version:
      return "dtls_bad_version";
    case RtpCheck::dtls_bad_length:
      return "dtls_bad_length";
    case RtpCheck::zrtp_too_short:
      return "zrtp_too_short";
    case RtpCheck::zrtp_bad_cookie:
      return "zrtp_bad_cookie";
    case RtpCheck::zrtp_bad_length:
      return "zrtp_bad_length";
  }
  return "?";
}

MediaKind media_kind(std::span<const uint8_t> p, uint16_t dst_port) {
  if (dst_port & 1u) return MediaKind::rtcp;
  if (p.size() >= 2 && p[1] >= 192 && p[1] <= 223) return MediaKind::rtcp;
  return MediaKind::rtp;
}

namespace {

// The fixed header, CSRCs and extension: their end in `hdr`, or the error when they do not fit.
RtpCheck check_rtp_headers(std::span<const uint8_t> p, size_t& hdr) {
  const size_t n = p.size();
  if (n < kRtpHeader) return RtpCheck::rtp_too_short;
  const uint8_t b0 = p[0];
  if (version(b0) != 2) return RtpCheck::rtp_bad_version;

  hdr = kRtpHeader + 4 * size_t{b0 & 0x0fu};
  if (hdr > n) return RtpCheck::rtp_csrc_overflow;

  if (b0 & 0x10u) {  // X: 16-bit profile id, 16-bit length in 32-bit words, then the words
    if (hdr + 4 > n) return RtpCheck::rtp_extension_overflow;
    hdr += 4 + 4 * size_t{load_be16(&p[hdr + 2])};
    if (hdr > n) return RtpCheck::rtp_extension_overflow;
  }
  return RtpCheck::ok;
}

bool has_padding(std::span<const uint8_t> p) {
  return (p[0] & 0x20u) != 0;
}

// P: the last octet counts the padding octets, itself included.
bool padding_fits(std::span<const uint8_t> p, size_t hdr) {
  const size_t pad = p.back();
  return pad != 0 && pad <= p.size() - hdr;
}

}  // namespace

RtpCheck check_rtp(std::span<const uint8_t> p) {
  size_t hdr = 0;
  if (const RtpCheck c = check_rtp_headers(p, hdr); c != RtpCheck::ok) return c;
  return !has_padding(p) || padding_fits(p, hdr) ? RtpCheck::ok : RtpCheck::rtp_bad_padding;
}

RtpCheck check_rtcp(std::span<const uint8_t> p) {
  const size_t n = p.size();
  if (n < kRtcpMin) return RtpCheck::rtcp_too_short;
  if (version(p[0]) != 2) return RtpCheck::rtcp_bad_version;
  if (p[1] < 200 || p[1] > 204) return RtpCheck::rtcp_bad_type;

  return walk_compound(p);
}

RtpCheck check_rtp_or_srtp(std::span<const uint8_t> p) {
  size_t hdr = 0;
  if (const RtpCheck c = check_rtp_headers(p, hdr); c != RtpCheck::ok) return c;
  if (!has_padding(p) || padding_fits(p, hdr)) return RtpCheck::ok;
  // SRTP: after the headers at least the padding count octet and the shortest tag (4 octets,
  // HMAC-SHA1-32).
  constexpr size_t kCountAndShortestTag = 1 + 4;
  return p.size() - hdr >= kCountAndShortestTag ? RtpCheck::ok : RtpCheck::rtp_bad_padding;
}

RtpCheck check_rtcp_or_srtcp(std::span<const uint8_t> p) {
  const RtpCheck strict = check_rtcp(p);
  return strict == RtpCheck::ok || srtcp_shape(p) ? RtpCheck::ok : strict;
}

}  // namespace sipwall
