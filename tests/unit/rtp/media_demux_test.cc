#include "rtp/media_demux.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "media_samples.h"

namespace sipwall {
namespace {

using Bytes = test::MediaBytes;

Bytes prefix(const Bytes& b, size_t len) {
  return Bytes(b.begin(), b.begin() + static_cast<ptrdiff_t>(len));
}

Bytes cat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// DTLS 1.3 unified header record (RFC 9147 4): 001CSLEE, sequence, optional length, ciphertext.
Bytes dtls13(bool long_seq, bool with_length, size_t ciphertext, uint8_t epoch_bits = 3) {
  Bytes b{
      static_cast<uint8_t>(0x20 | (long_seq ? 0x08 : 0) | (with_length ? 0x04 : 0) | epoch_bits)};
  if (long_seq) b.push_back(0x01);
  b.push_back(0x07);
  if (with_length) test::put_be16(b, ciphertext);
  b.insert(b.end(), ciphertext, 0x6b);
  return b;
}

TEST(MediaProtocol, FirstOctetRangesOfRfc7983) {
  for (int first = 0; first < 256; ++first) {
    const Bytes b{static_cast<uint8_t>(first), 0, 0, 0};
    MediaProtocol want = MediaProtocol::unassigned;
    if (first <= 3) want = MediaProtocol::stun;
    if (first >= 16 && first <= 19) want = MediaProtocol::zrtp;
    if (first >= 20 && first <= 63) want = MediaProtocol::dtls;
    if (first >= 64 && first <= 79) want = MediaProtocol::turn_channel;
    if (first >= 128 && first <= 191) want = MediaProtocol::rtp_rtcp;
    EXPECT_EQ(media_protocol(b), want) << first;
  }
  EXPECT_EQ(media_protocol({}), MediaProtocol::unassigned);
}

TEST(StunCheck, Rfc5769BindingRequest) {
  const Bytes req = test::stun_binding_request();
  ASSERT_EQ(req.size(), 108u);
  EXPECT_EQ(check_stun(req), RtpCheck::ok);
  EXPECT_EQ(check_media(req, 10000), RtpCheck::ok);
  EXPECT_EQ(check_media(req, 10001), RtpCheck::ok);  // RTCP port without rtcp-mux
  // Header only: a Binding request with no attributes, and a success response.
  Bytes bare = prefix(req, 20);
  bare[3] = 0;
  EXPECT_EQ(check_stun(bare), RtpCheck::ok);
  bare[0] = 0x01;
  bare[1] = 0x01;
  EXPECT_EQ(check_media(bare, 10000), RtpCheck::ok);
}

TEST(StunCheck, EveryTruncation) {
  const Bytes req = test::stun_binding_request();
  for (size_t len = 0; len < req.size(); ++len) {
    const RtpCheck want = len < 20 ? RtpCheck::stun_too_short : RtpCheck::stun_bad_length;
    EXPECT_EQ(check_stun(prefix(req, len)), want) << len;
    if (len > 0) {
      EXPECT_EQ(check_media(prefix(req, len), 10000), want) << len;
    }
  }
  Bytes longer = req;
  longer.insert(longer.end(), {0, 0, 0, 0});  // a datagram longer than the message
  EXPECT_EQ(check_stun(longer), RtpCheck::stun_bad_length);
}

TEST(StunCheck, CookieTypeAndLength) {
  const Bytes req = test::stun_binding_request();
  for (size_t i = 4; i < 8; ++i) {
    Bytes b = req;
    b[i] ^= 0x01;
    EXPECT_EQ(check_media(b, 10000), RtpCheck::stun_bad_cookie) << i;
  }
  Bytes classic = req;  // RFC 3489: the cookie octets are part of the transaction id
  classic[4] = classic[5] = classic[6] = classic[7] = 0x5c;
  EXPECT_EQ(check_stun(classic), RtpCheck::stun_bad_cookie);
  for (uint8_t top : {0x40, 0x80, 0xc0}) {
    Bytes b = req;
    b[0] |= top;
    EXPECT_EQ(check_stun(b), RtpCheck::stun_bad_type) << int{top};
  }
  Bytes odd = req;
  odd[3] = 0x57;  // 87: not a multiple of 4
  EXPECT_EQ(check_stun(odd), RtpCheck::stun_bad_length);
  Bytes big = req;
  big[3] = 0x5c;  // 92: more than the datagram holds
  EXPECT_EQ(check_stun(big), RtpCheck::stun_bad_length);
  Bytes small = req;
  small[3] = 0x54;  // 84: less
  EXPECT_EQ(check_stun(small), RtpCheck::stun_bad_length);
}

TEST(StunCheck, AttributesMustTileTheMessage) {
  const Bytes req = test::stun_binding_request();
  Bytes user = req;
  user[20 + 20 + 8 + 12 + 3] = 0x0d;  // USERNAME 13 octets, padded 16: one word too many
  EXPECT_EQ(check_stun(user), RtpCheck::stun_bad_attribute);
  Bytes last = req;
  last[req.size() - 5] = 0x05;  // FINGERPRINT of 5 octets, padded 8, past the end
  EXPECT_EQ(check_stun(last), RtpCheck::stun_bad_attribute);
  Bytes huge = req;
  huge[22] = huge[23] = 0xff;  // SOFTWARE of 65535 octets
  EXPECT_EQ(check_stun(huge), RtpCheck::stun_bad_attribute);
  Bytes shorter = req;
  shorter[20 + 20 + 8 + 12 + 3] = 0x05;  // USERNAME 5, padded 8: a word left over, whose
  EXPECT_EQ(check_stun(shorter), RtpCheck::stun_bad_attribute);  // "type" reads 0x5920, len 0x2020
}

TEST(DtlsCheck, ClientHelloRecord) {
  const Bytes hello = test::dtls_client_hello();
  ASSERT_EQ(hello.size(), 13u + 12u + 53u);
  EXPECT_EQ(check_dtls(hello), RtpCheck::ok);
  EXPECT_EQ(check_media(hello, 10000), RtpCheck::ok);
  EXPECT_EQ(check_media(hello, 10001), RtpCheck::ok);
  EXPECT_EQ(check_dtls(test::dtls_client_hello(0xfefd)), RtpCheck::ok);
}

TEST(DtlsCheck, EveryTruncation) {
  const Bytes hello = test::dtls_client_hello();
  for (size_t len = 1; len < hello.size(); ++len) {
    const RtpCheck want = len < 13 ? RtpCheck::dtls_too_short : RtpCheck::dtls_bad_length;
    EXPECT_EQ(check_dtls(prefix(hello, len)), want) << len;
    EXPECT_EQ(check_media(prefix(hello, len), 10000), want) << len;
  }
  EXPECT_EQ(check_dtls({}), RtpCheck::dtls_too_short);
}

TEST(DtlsCheck, FlightsOfSeveralRecords) {
  const Bytes server_hello = test::dtls_record(22, Bytes(70, 0x02), 0xfefd, 0, 0);
  const Bytes certificate = test::dtls_record(22, Bytes(300, 0x0b), 0xfefd, 0, 1);
  const Bytes done = test::dtls_record(22, {0x0e, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0}, 0xfefd, 0, 2);
  EXPECT_EQ(check_dtls(cat(cat(server_hello, certificate), done)), RtpCheck::ok);
  // ChangeCipherSpec, then the encrypted Finished in epoch 1.
  const Bytes ccs = test::dtls_record(20, {0x01}, 0xfefd, 0, 5);
  const Bytes finished = test::dtls_record(22, Bytes(48, 0x77), 0xfefd, 1, 0);
  const Bytes flight = cat(ccs, finished);
  EXPECT_EQ(check_media(flight, 10000), RtpCheck::ok);
  // A cut second record, and left-over octets after the last one.
  EXPECT_EQ(check_dtls(prefix(flight, flight.size() - 1)), RtpCheck::dtls_bad_length);
  EXPECT_EQ(check_dtls(prefix(flight, ccs.size() + 5)), RtpCheck::dtls_too_short);
  EXPECT_EQ(check_dtls(cat(flight, {0x17})), RtpCheck::dtls_too_short);
  EXPECT_EQ(check_dtls(cat(flight, {0x05})), RtpCheck::dtls_bad_type);
  // Alert, application data (may be empty), heartbeat.
  EXPECT_EQ(check_dtls(test::dtls_record(21, {2, 40}, 0xfefd)), RtpCheck::ok);
  EXPECT_EQ(check_dtls(test::dtls_record(23, {}, 0xfefd, 1)), RtpCheck::ok);
  EXPECT_EQ(check_dtls(test::dtls_record(24, Bytes(19, 1), 0xfefd, 1)), RtpCheck::ok);
  EXPECT_EQ(check_dtls(test::dtls_record(26, {0, 0}, 0xfefd)), RtpCheck::ok);  // DTLS 1.3 ack
}

TEST(DtlsCheck, TypeVersionAndLength) {
  const Bytes hello = test::dtls_client_hello();
  for (int type = 20; type < 64; ++type) {
    Bytes b = hello;
    b[0] = static_cast<uint8_t>(type);
    const bool plaintext = type <= 26;
    const bool unified = type >= 32;
    if (plaintext) {
      EXPECT_EQ(check_dtls(b), RtpCheck::ok) << type;
    } else if (!unified) {
      EXPECT_EQ(check_dtls(b), RtpCheck::dtls_bad_type) << type;
    }
  }
  for (uint16_t version : {0x0303, 0x0301, 0xfefc, 0xfe00, 0xfffd, 0x0000}) {
    Bytes b = hello;
    b[1] = static_cast<uint8_t>(version >> 8);
    b[2] = static_cast<uint8_t>(version);
    EXPECT_EQ(check_media(b, 10000), RtpCheck::dtls_bad_version) << version;
  }
  Bytes over = hello;
  ++over[12];
  EXPECT_EQ(check_dtls(over), RtpCheck::dtls_bad_length);
  Bytes under = hello;
  --under[12];  // the last octet (0, the MKI length) is left over and read as a record type
  EXPECT_EQ(check_dtls(under), RtpCheck::dtls_bad_type);
  // Empty handshake, alert and change_cipher_spec records are not allowed.
  for (uint8_t type : {20, 21, 22, 24}) {
    EXPECT_EQ(check_dtls(test::dtls_record(type, {})), RtpCheck::dtls_bad_length) << int{type};
  }
}

TEST(DtlsCheck, ConnectionIdRecordsFillTheRest) {
  // RFC 9146 tls12_cid: the CID length is not in the record; version still checked.
  Bytes cid = {25, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 9, 0xc1, 0xd2, 0, 20};
  cid.resize(cid.size() + 20, 0x3e);
  EXPECT_EQ(check_media(cid, 10000), RtpCheck::ok);
  cid[2] = 0xfc;
  EXPECT_EQ(check_dtls(cid), RtpCheck::dtls_bad_version);
  EXPECT_EQ(check_dtls(prefix(cid, 12)), RtpCheck::dtls_too_short);
  // DTLS 1.3 unified header with C set.
  const Bytes c13 = {0x3b, 0xc1, 0xd2, 0x00, 0x05, 0x11, 0x22};
  EXPECT_EQ(check_dtls(c13), RtpCheck::ok);
}

TEST(DtlsCheck, Dtls13UnifiedHeader) {
  for (bool long_seq : {false, true}) {
    for (bool with_length : {false, true}) {
      const Bytes r = dtls13(long_seq, with_length, 16);
      EXPECT_EQ(check_media(r, 10000), RtpCheck::ok) << long_seq << with_length;
      EXPECT_EQ(check_dtls(dtls13(long_seq, with_length, 15)), RtpCheck::dtls_bad_length);
      const size_t header = r.size() - 16;
      for (size_t len = 1; len < header; ++len) {
        EXPECT_EQ(check_dtls(prefix(r, len)), RtpCheck::dtls_too_short) << len;
      }
    }
  }
  // Records with a length can be followed by others; a length past the end is refused.
  const Bytes two = cat(dtls13(true, true, 40), dtls13(false, false, 30));
  EXPECT_EQ(check_dtls(two), RtpCheck::ok);
  EXPECT_EQ(check_dtls(cat(dtls13(true, true, 40), test::dtls_client_hello())), RtpCheck::ok);
  Bytes over = dtls13(true, true, 40);
  over[4] = 41;
  EXPECT_EQ(check_dtls(over), RtpCheck::dtls_bad_length);
}

TEST(ZrtpCheck, HelloAck) {
  const Bytes ack = test::zrtp_hello_ack();
  EXPECT_EQ(check_zrtp(ack), RtpCheck::ok);
  EXPECT_EQ(check_media(ack, 10000), RtpCheck::ok);
  EXPECT_EQ(check_media(ack, 10001), RtpCheck::ok);
  // A longer message (e.g. Hello, 22 words in RFC 6189's minimal form).
  Bytes hello = prefix(ack, 12);
  hello.insert(hello.end(), {0x50, 0x5a, 0x00, 22});
  hello.resize(12 + 22 * 4 + 4, 0x41);
  EXPECT_EQ(check_zrtp(hello), RtpCheck::ok);
  for (size_t len = 0; len < ack.size(); ++len) {
    EXPECT_EQ(check_zrtp(prefix(ack, len)), RtpCheck::zrtp_too_short) << len;
  }
  for (size_t len = 28; len < hello.size(); ++len) {
    EXPECT_EQ(check_zrtp(prefix(hello, len)), RtpCheck::zrtp_bad_length) << len;
  }
}

TEST(ZrtpCheck, CookiePreambleAndLength) {
  const Bytes ack = test::zrtp_hello_ack();
  for (size_t i : {4u, 5u, 6u, 7u, 12u, 13u}) {
    Bytes b = ack;
    b[i] ^= 0x20;
    EXPECT_EQ(check_media(b, 10000), RtpCheck::zrtp_bad_cookie) << i;
  }
  Bytes words = ack;
  words[15] = 2;
  EXPECT_EQ(check_zrtp(words), RtpCheck::zrtp_bad_length);
  words[15] = 4;
  EXPECT_EQ(check_zrtp(words), RtpCheck::zrtp_bad_length);
  EXPECT_EQ(check_zrtp(cat(ack, {0, 0, 0, 0})), RtpCheck::zrtp_bad_length);
}

TEST(MediaCheck, SrtcpOnBothPorts) {
  for (size_t tag : {10u, 4u, 0u}) {
    EXPECT_EQ(check_media(test::srtcp(tag), 10001), RtpCheck::ok) << tag;
    EXPECT_EQ(check_media(test::srtcp(tag), 10000), RtpCheck::ok) << tag;  // rtcp-mux
    EXPECT_EQ(check_media(test::srtcp(tag, false), 10001), RtpCheck::ok) << tag;
  }
}

TEST(MediaCheck, OtherRangesStayDrops) {
  // TURN ChannelData (RFC 8656 12.4): channel 0x4000, length 8; and unassigned first octets.
  const Bytes channel = {0x40, 0x00, 0x00, 0x08, 0x80, 0, 0, 1, 0, 0, 0, 2};
  EXPECT_EQ(check_media(channel, 10000), RtpCheck::rtp_bad_version);
  EXPECT_EQ(check_media(channel, 10001), RtpCheck::rtcp_bad_version);
  for (uint8_t first : {4, 15, 80, 127, 192, 255}) {
    Bytes b(40, 0);
    b[0] = first;
    EXPECT_EQ(check_media(b, 10000), RtpCheck::rtp_bad_version) << int{first};
  }
  EXPECT_EQ(check_media({}, 10000), RtpCheck::rtp_too_short);
}

// Every prefix of every sample, and pseudo-random datagrams with each first octet: no crash,
// no read outside the datagram (ASan sees each prefix as its own heap block).
TEST(MediaCheck, NeverReadsOutside) {
  const std::vector<Bytes> samples = {
      test::stun_binding_request(), test::dtls_client_hello(),
      test::zrtp_hello_ack(),       test::srtcp(10),
      test::srtcp(0, false),        cat(dtls13(true, true, 20), dtls13(false, false, 17))};
  for (const Bytes& s : samples) {
    for (size_t len = 0; len <= s.size(); ++len) {
      const Bytes p = prefix(s, len);
      for (uint16_t port : {10000, 10001}) {
        EXPECT_LT(static_cast<size_t>(check_media(p, port)), kRtpCheckCount);
      }
      (void)check_stun(p);
      (void)check_dtls(p);
      (void)check_zrtp(p);
      (void)check_rtcp_or_srtcp(p);
    }
  }
  uint32_t x = 12345;
  for (int first = 0; first < 256; ++first) {
    for (size_t len : {1u, 2u, 5u, 13u, 16u, 21u, 28u, 64u}) {
      Bytes b(len);
      for (auto& o : b) {
        x = x * 1664525u + 1013904223u;
        o = static_cast<uint8_t>(x >> 24);
      }
      b[0] = static_cast<uint8_t>(first);
      for (uint16_t port : {10000, 10001}) {
        EXPECT_LT(static_cast<size_t>(check_media(b, port)), kRtpCheckCount);
      }
    }
  }
}

}  // namespace
}  // namespace sipwall
