#pragma once

// Test helper: what shares a media port with RTP, built octet by octet from the RFCs' formats:
// a STUN Binding request (the RFC 5769 test vector), a DTLS-SRTP ClientHello record, a ZRTP
// HelloACK and SRTCP compounds.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace sipwall::test {

using MediaBytes = std::vector<uint8_t>;

inline void put_be16(MediaBytes& b, size_t v) {
  b.push_back(static_cast<uint8_t>(v >> 8));
  b.push_back(static_cast<uint8_t>(v));
}

inline void put_be24(MediaBytes& b, size_t v) {
  b.push_back(static_cast<uint8_t>(v >> 16));
  put_be16(b, v);
}

// RFC 5769 section 2.1: Binding request with SOFTWARE, PRIORITY, ICE-CONTROLLED, USERNAME
// (9 octets + 3 padding), MESSAGE-INTEGRITY and FINGERPRINT; what ICE sends on a media port.
inline MediaBytes stun_binding_request() {
  return {0x00, 0x01, 0x00, 0x58,                                      // Binding request, 88
          0x21, 0x12, 0xa4, 0x42,                                      // magic cookie
          0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87,  // transaction id
          0xdf, 0xae,                                                  //
          0x80, 0x22, 0x00, 0x10,                                      // SOFTWARE, 16
          'S',  'T',  'U',  'N',  ' ',  't',  'e',  's',  't',  ' ',   //
          'c',  'l',  'i',  'e',  'n',  't',                           //
          0x00, 0x24, 0x00, 0x04, 0x6e, 0x00, 0x01, 0xff,              // PRIORITY
          0x80, 0x29, 0x00, 0x08,                                      // ICE-CONTROLLED
          0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36,              //
          0x00, 0x06, 0x00, 0x09,                                      // USERNAME, 9
          0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68, 0x36, 0x76, 0x59,        // "evtj:h6vY"
          0x20, 0x20, 0x20,                                            // padding
          0x00, 0x08, 0x00, 0x14,                                      // MESSAGE-INTEGRITY
          0x9a, 0xea, 0xa7, 0x0c, 0xbf, 0xd8, 0xcb, 0x56, 0x78, 0x1e,  //
          0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49, 0xc1, 0xb5, 0x71, 0xa2,  //
          0x80, 0x28, 0x00, 0x04, 0xe5, 0x7a, 0x3b, 0xcf};             // FINGERPRINT
}

// A DTLSPlaintext record (RFC 6347 section 4.1) around `fragment`: type, version, epoch,
// 48-bit sequence number, length.
inline MediaBytes dtls_record(uint8_t type, const MediaBytes& fragment, uint16_t version = 0xfeff,
                              uint16_t epoch = 0, uint64_t sequence = 0) {
  MediaBytes b{type};
  put_be16(b, version);
  put_be16(b, epoch);
  put_be16(b, static_cast<size_t>(sequence >> 32));
  put_be16(b, static_cast<size_t>(sequence >> 16));
  put_be16(b, static_cast<size_t>(sequence));
  put_be16(b, fragment.size());
  b.insert(b.end(), fragment.begin(), fragment.end());
  return b;
}

// Handshake ClientHello (RFC 6347 4.2.2, RFC 5246 7.4.1.2) offering DTLS 1.2, one cipher suite
// and the use_srtp extension (RFC 5764 4.1.1) with SRTP_AES128_CM_HMAC_SHA1_80, in a record
// with version 0xFEFF as DTLS-SRTP clients send their first flight.
inline MediaBytes dtls_client_hello(uint16_t record_version = 0xfeff) {
  MediaBytes body = {0xfe, 0xfd};                           // client_version DTLS 1.2
  for (uint8_t i = 0; i < 32; ++i) body.push_back(i);       // random
  body.insert(body.end(), {0x00,                            // session_id <0..32>
                           0x00,                            // cookie <0..2^8-1>
                           0x00, 0x02, 0xc0, 0x2b,          // cipher_suites: ECDHE_ECDSA AES128-GCM
                           0x01, 0x00,                      // compression_methods: null
                           0x00, 0x09,                      // extensions, 9 octets
                           0x00, 0x0e, 0x00, 0x05,          // use_srtp, 5 octets
                           0x00, 0x02, 0x00, 0x01, 0x00});  // one profile, no MKI
  MediaBytes handshake = {0x01};                            // client_hello
  put_be24(handshake, body.size());                         // length
  put_be16(handshake, 0);                                   // message_seq
  put_be24(handshake, 0);                                   // fragment_offset
  put_be24(handshake, body.size());                         // fragment_length
  handshake.insert(handshake.end(), body.begin(), body.end());
  return dtls_record(22, handshake, record_version);
}

// ZRTP HelloACK (RFC 6189 5.3): packet header, message preamble, length 3 words, type block,
// CRC (not checked by the filter).
inline MediaBytes zrtp_hello_ack() {
  return {0x10, 0x00, 0x00, 0x01,                      // 0001, unused, sequence 1
          0x5a, 0x52, 0x54, 0x50,                      // 'ZRTP'
          0x12, 0x34, 0x56, 0x78,                      // source identifier
          0x50, 0x5a, 0x00, 0x03,                      // preamble, 3 words
          'H',  'e',  'l',  'l',  'o', 'A', 'C', 'K',  // message type block
          0x9d, 0x4a, 0x11, 0x07};                     // CRC
}

// SRTCP (RFC 3711 3.4): an RR with one report block whose first 8 octets are in clear, then
// `tail` (ciphertext, or a plain SDES when unencrypted), E flag + SRTCP index, the tag.
inline MediaBytes srtcp(size_t tag_octets, bool encrypted = true) {
  MediaBytes b = {0x81, 201, 0x00, 0x07, 0xca, 0xfe, 0xba, 0xbe};
  if (encrypted) {
    // Ciphertext of the report block and an SDES: as good as random, so no RTCP header.
    uint32_t x = 0x2545f491;
    for (size_t i = 0; i < 24 + 12; ++i) {
      x = x * 1103515245u + 12345u;
      b.push_back(static_cast<uint8_t>((x >> 16) & 0x3f));  // version 0: the strict walk fails
    }
  } else {
    b.resize(32, 0x07);                                                // report block
    b.insert(b.end(), {0x81, 202, 0x00, 0x02, 0xca, 0xfe, 0xba, 0xbe,  // SDES, CNAME "x"
                       0x01, 0x01, 'x', 0x00});
  }
  b.insert(b.end(), {static_cast<uint8_t>(encrypted ? 0x80 : 0x00), 0x00, 0x00, 0x2a});
  // A real tag is random; its octets have the top bit clear here so that no tag octet can pass
  // for a set E flag, which keeps the negative tests in tests/unit/rtp deterministic.
  b.insert(b.end(), tag_octets, 0x5a);
  return b;
}

}  // namespace sipwall::test
