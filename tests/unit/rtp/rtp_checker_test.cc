#include "rtp/rtp_checker.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <set>
#include <string>
#include <vector>

#include "media_samples.h"
#include "rtp/media_demux.h"

namespace sipwall {
namespace {

using Bytes = std::vector<uint8_t>;

// RTP header: V=2, P, X, CC, M, PT, seq, ts, ssrc, CSRCs; then extension and payload.
Bytes rtp(bool padding, bool ext, uint8_t cc, uint8_t second = 0, size_t payload = 20) {
  // Sized up front: gcc 12 -O3 warns falsely (-Warray-bounds) on insert-after-init here.
  Bytes b(12 + 4u * cc + payload, 0xaa);
  const uint8_t fixed[12] = {
      static_cast<uint8_t>(0x80 | (padding ? 0x20 : 0) | (ext ? 0x10 : 0) | cc),
      second,
      0x12,
      0x34,
      0,
      0,
      0x10,
      0,
      0xde,
      0xad,
      0xbe,
      0xef};
  std::copy(std::begin(fixed), std::end(fixed), b.begin());
  for (size_t i = 0; i < cc; ++i) {
    for (size_t k = 0; k < 4; ++k) b[12 + 4 * i + k] = k == 3 ? static_cast<uint8_t>(i) : 0;
  }
  return b;
}

// One RTCP packet: V=2, count, PT, length in words minus one, then (length)*4 octets.
Bytes rtcp(uint8_t pt, uint16_t length_words, uint8_t first = 0x80) {
  Bytes b(4 + 4u * length_words, 0x11);
  b[0] = first;
  b[1] = pt;
  b[2] = static_cast<uint8_t>(length_words >> 8);
  b[3] = static_cast<uint8_t>(length_words & 0xff);
  return b;
}

Bytes cat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

TEST(RtpCheck, ToStringCoversEveryValue) {
  std::set<std::string_view> names;
  for (size_t i = 0; i < kRtpCheckCount; ++i) {
    auto s = to_string(static_cast<RtpCheck>(i));
    EXPECT_NE(s, "?");
    names.insert(s);
  }
  EXPECT_EQ(names.size(), kRtpCheckCount);
  EXPECT_EQ(to_string(RtpCheck::ok), "ok");
  EXPECT_EQ(to_string(RtpCheck::rtcp_bad_length), "rtcp_bad_length");
}

TEST(RtpCheck, MinimalRtp) {
  EXPECT_EQ(check_rtp(rtp(false, false, 0, 0, 0)), RtpCheck::ok);  // exactly 12 octets
  Bytes b = rtp(false, false, 0, 0, 0);
  b.pop_back();
  EXPECT_EQ(check_rtp(b), RtpCheck::rtp_too_short);
  EXPECT_EQ(check_rtp({}), RtpCheck::rtp_too_short);
}

TEST(RtpCheck, Version) {
  for (uint8_t v : {0, 1, 3}) {
    Bytes b = rtp(false, false, 0);
    b[0] = static_cast<uint8_t>((b[0] & 0x3f) | (v << 6));
    EXPECT_EQ(check_rtp(b), RtpCheck::rtp_bad_version) << int{v};
  }
}

TEST(RtpCheck, CsrcCountBoundary) {
  EXPECT_EQ(check_rtp(rtp(false, false, 15, 0, 0)), RtpCheck::ok);  // 12 + 60 exactly
  Bytes b = rtp(false, false, 15, 0, 0);
  b.pop_back();
  EXPECT_EQ(check_rtp(b), RtpCheck::rtp_csrc_overflow);
  Bytes c = rtp(false, false, 0, 0, 7);
  c[0] |= 2;  // claims 2 CSRCs = 8 octets, only 7 follow
  EXPECT_EQ(check_rtp(c), RtpCheck::rtp_csrc_overflow);
}

TEST(RtpCheck, ExtensionBoundary) {
  // X with 2 CSRCs: extension header right after the CSRC list, length 3 words.
  Bytes b = rtp(false, true, 2, 0, 0);
  b.insert(b.end(), {0xbe, 0xde, 0x00, 0x03});
  b.resize(b.size() + 12, 0);
  EXPECT_EQ(check_rtp(b), RtpCheck::ok);
  Bytes short_by_one(b.begin(), b.end() - 1);
  EXPECT_EQ(check_rtp(short_by_one), RtpCheck::rtp_extension_overflow);
  // Extension header itself does not fit.
  Bytes no_hdr = rtp(false, true, 0, 0, 3);
  EXPECT_EQ(check_rtp(no_hdr), RtpCheck::rtp_extension_overflow);
  // Zero-length extension with exactly 4 octets.
  Bytes zero = rtp(false, true, 0, 0, 0);
  zero.insert(zero.end(), {0x10, 0x00, 0x00, 0x00});
  EXPECT_EQ(check_rtp(zero), RtpCheck::ok);
  // Maximum length 0xffff words never reads past the end.
  Bytes huge = rtp(false, true, 0, 0, 0);
  huge.insert(huge.end(), {0x10, 0x00, 0xff, 0xff});
  EXPECT_EQ(check_rtp(huge), RtpCheck::rtp_extension_overflow);
}

TEST(RtpCheck, Padding) {
  Bytes b = rtp(true, false, 0, 0, 20);
  b.back() = 4;
  EXPECT_EQ(check_rtp(b), RtpCheck::ok);
  b.back() = 20;  // the whole payload is padding: allowed
  EXPECT_EQ(check_rtp(b), RtpCheck::ok);
  b.back() = 21;
  EXPECT_EQ(check_rtp(b), RtpCheck::rtp_bad_padding);
  b.back() = 0;
  EXPECT_EQ(check_rtp(b), RtpCheck::rtp_bad_padding);
  b.back() = 255;
  EXPECT_EQ(check_rtp(b), RtpCheck::rtp_bad_padding);
  // P set with no payload at all: the last octet belongs to the header.
  Bytes empty = rtp(true, false, 0, 0, 0);
  EXPECT_EQ(check_rtp(empty), RtpCheck::rtp_bad_padding);
  // Padding must not reach into CSRCs or the extension.
  Bytes csrc = rtp(true, false, 1, 0, 2);
  csrc.back() = 2;
  EXPECT_EQ(check_rtp(csrc), RtpCheck::ok);
  csrc.back() = 3;
  EXPECT_EQ(check_rtp(csrc), RtpCheck::rtp_bad_padding);
}

TEST(RtpCheck, SrtpPaddingCountIsNotReadable) {
  // A padding-only SRTP probe: the last octet is the tag's, whatever it holds.
  for (const int last : {0, 21, 255}) {
    Bytes b = rtp(true, false, 0, 0, 20);
    b.back() = static_cast<uint8_t>(last);
    EXPECT_EQ(check_rtp(b), RtpCheck::rtp_bad_padding) << last;
    EXPECT_EQ(check_rtp_or_srtp(b), RtpCheck::ok) << last;
  }
  // Too short after the headers for a count octet and a 4-octet tag: neither RTP nor SRTP.
  Bytes shortest = rtp(true, false, 0, 0, 5);
  shortest.back() = 0;
  EXPECT_EQ(check_rtp_or_srtp(shortest), RtpCheck::ok);
  Bytes too_short = rtp(true, false, 0, 0, 4);
  too_short.back() = 0;
  EXPECT_EQ(check_rtp_or_srtp(too_short), RtpCheck::rtp_bad_padding);
  // The room is counted after CSRCs and the extension.
  Bytes csrc = rtp(true, false, 1, 0, 4);  // a CSRC, then 4 octets
  csrc.back() = 0;
  EXPECT_EQ(check_rtp_or_srtp(csrc), RtpCheck::rtp_bad_padding);
  // V=2 P X, a one-word extension, then 5 octets (count or tag) / 4 octets. Spelled out: GCC 12
  // warns falsely (-Wstringop-overflow) on a resize of the built vector under ASan.
  const Bytes ext = {0xb0, 0, 0x12, 0x34, 0, 0, 0x10, 0, 0xde, 0xad, 0xbe, 0xef, 0xbe,
                     0xde, 0, 1,    1,    2, 3, 4,    9, 9,    9,    9,    0};
  EXPECT_EQ(check_rtp(ext), RtpCheck::rtp_bad_padding);
  EXPECT_EQ(check_rtp_or_srtp(ext), RtpCheck::ok);
  const Bytes ext_short = {0xb0, 0,    0x12, 0x34, 0, 0, 0x10, 0, 0xde, 0xad, 0xbe, 0xef,
                           0xbe, 0xde, 0,    1,    1, 2, 3,    4, 9,    9,    9,    0};
  EXPECT_EQ(check_rtp_or_srtp(ext_short), RtpCheck::rtp_bad_padding);
  // Every other RTP error stays.
  Bytes v1 = rtp(true, false, 0, 0, 20);
  v1[0] = static_cast<uint8_t>((v1[0] & 0x3f) | 0x40);
  EXPECT_EQ(check_rtp_or_srtp(v1), RtpCheck::rtp_bad_version);
}

TEST(RtcpCheck, SingleReports) {
  for (uint8_t pt = 200; pt <= 204; ++pt) {
    EXPECT_EQ(check_rtcp(rtcp(pt, 1)), RtpCheck::ok) << int{pt};
  }
  EXPECT_EQ(check_rtcp(rtcp(201, 1)), RtpCheck::ok);  // empty RR: 8 octets
  EXPECT_EQ(check_rtcp(rtcp(199, 1)), RtpCheck::rtcp_bad_type);
  EXPECT_EQ(check_rtcp(rtcp(205, 1)), RtpCheck::rtcp_bad_type);  // RTPFB may not come first
  EXPECT_EQ(check_rtcp(rtcp(200, 1, 0x40)), RtpCheck::rtcp_bad_version);
  EXPECT_EQ(check_rtcp(rtcp(200, 0)), RtpCheck::rtcp_too_short);  // 4 octets
  EXPECT_EQ(check_rtcp({}), RtpCheck::rtcp_too_short);
}

TEST(RtcpCheck, LengthMustTileTheDatagram) {
  Bytes sr = rtcp(200, 6);
  EXPECT_EQ(check_rtcp(sr), RtpCheck::ok);
  Bytes trunc(sr.begin(), sr.end() - 4);
  EXPECT_EQ(check_rtcp(trunc), RtpCheck::rtcp_bad_length);
  Bytes extra = sr;
  extra.push_back(0);
  EXPECT_EQ(check_rtcp(extra), RtpCheck::rtcp_bad_length);
  Bytes extra4 = sr;
  extra4.insert(extra4.end(), {0x80, 0xca, 0, 0});  // a 4-octet SDES with no chunks is legal
  EXPECT_EQ(check_rtcp(extra4), RtpCheck::ok);
  Bytes big = rtcp(200, 1);
  big[2] = 0xff;
  big[3] = 0xff;
  EXPECT_EQ(check_rtcp(big), RtpCheck::rtcp_bad_length);
}

TEST(RtcpCheck, CompoundWalk) {
  Bytes compound = cat(cat(rtcp(201, 7), rtcp(202, 3)), rtcp(203, 1));  // RR + SDES + BYE
  EXPECT_EQ(check_rtcp(compound), RtpCheck::ok);
  Bytes later_bad_version = cat(rtcp(201, 1), rtcp(202, 1, 0x00));
  EXPECT_EQ(check_rtcp(later_bad_version), RtpCheck::rtcp_bad_version);
  // The second packet claims one word more than the compound holds.
  const Bytes full = cat(rtcp(201, 1), rtcp(202, 2));
  const Bytes later_overrun(full.begin(), full.end() - 4);
  EXPECT_EQ(check_rtcp(later_overrun), RtpCheck::rtcp_bad_length);
  // Later packets may carry any type (e.g. RTPFB 205, PSFB 206, XR 207).
  EXPECT_EQ(check_rtcp(cat(rtcp(200, 6), rtcp(206, 2))), RtpCheck::ok);
}

TEST(SrtcpCheck, EncryptedCompoundWithEachTagLength) {
  for (size_t tag : {10u, 4u, 0u}) {
    const Bytes b = test::srtcp(tag);
    EXPECT_NE(check_rtcp(b), RtpCheck::ok) << tag;  // the encrypted part is no RTCP
    EXPECT_EQ(check_rtcp_or_srtcp(b), RtpCheck::ok) << tag;
  }
  EXPECT_EQ(check_rtcp_or_srtcp(rtcp(200, 6)), RtpCheck::ok);  // plain RTCP still passes
}

TEST(SrtcpCheck, UnencryptedCompoundMustWalk) {
  for (size_t tag : {10u, 4u, 0u}) {
    Bytes b = test::srtcp(tag, false);
    EXPECT_EQ(check_rtcp_or_srtcp(b), RtpCheck::ok) << tag;
    b[32] = 0x41;  // the SDES header inside gets version 1: nothing tiles any more
    EXPECT_EQ(check_rtcp_or_srtcp(b), RtpCheck::rtcp_bad_version) << tag;
  }
  Bytes cut = test::srtcp(10, false);
  cut[35] = 3;  // SDES claims 16 octets: runs into the trailer
  EXPECT_NE(check_rtcp_or_srtcp(cut), RtpCheck::ok);
}

TEST(SrtcpCheck, TrailerMustSitOnAWordBoundaryWithTheEFlag) {
  const Bytes b = test::srtcp(10);
  // One to three octets more or less: no tag length puts the E word on a word boundary.
  for (size_t extra : {1u, 3u, 5u, 7u}) {
    Bytes longer = b;
    longer.insert(longer.end(), extra, 0xa5);
    EXPECT_EQ(check_rtcp_or_srtcp(longer), RtpCheck::rtcp_bad_version) << extra;
  }
  // E flag clear where a 10-octet tag would put it, and the rest no RTCP: refused.
  Bytes clear = b;
  clear[b.size() - 14] = 0x00;
  EXPECT_EQ(check_rtcp_or_srtcp(clear), RtpCheck::rtcp_bad_version);
}

TEST(SrtcpCheck, FirstHeaderStaysStrict) {
  Bytes type = test::srtcp(10);
  type[1] = 199;
  EXPECT_EQ(check_rtcp_or_srtcp(type), RtpCheck::rtcp_bad_type);
  Bytes version = test::srtcp(10);
  version[0] = 0x41;
  EXPECT_EQ(check_rtcp_or_srtcp(version), RtpCheck::rtcp_bad_version);
  // The first packet reaches into the trailer (or past the end).
  Bytes length = test::srtcp(10);
  length[3] = 0x0c;  // 52 octets: the E word at 44 would sit inside it
  EXPECT_NE(check_rtcp_or_srtcp(length), RtpCheck::ok);
  length[3] = 0xff;
  EXPECT_EQ(check_rtcp_or_srtcp(length), RtpCheck::rtcp_bad_length);
  // RR with RC = 2 needs 8 + 48 octets, its length says 32.
  Bytes count = test::srtcp(10);
  count[0] = 0x82;
  EXPECT_NE(check_rtcp_or_srtcp(count), RtpCheck::ok);
  // SR with RC = 1 needs 52 octets.
  Bytes sr = test::srtcp(10);
  sr[1] = 200;
  EXPECT_NE(check_rtcp_or_srtcp(sr), RtpCheck::ok);
  sr[0] = 0x80;  // RC = 0: 28 octets suffice
  EXPECT_EQ(check_rtcp_or_srtcp(sr), RtpCheck::ok);
  // A 4-octet first packet has no sender SSRC to keep in clear.
  Bytes bye = {0x80, 203, 0, 0};
  bye.resize(4 + 40 + 4 + 10, 0x3f);
  bye[44] = 0x80;
  EXPECT_NE(check_rtcp_or_srtcp(bye), RtpCheck::ok);
}

TEST(SrtcpCheck, EveryTruncationIsSafe) {
  for (const Bytes& s : {test::srtcp(10), test::srtcp(4, false)}) {
    for (size_t len = 0; len <= s.size(); ++len) {
      const Bytes prefix(s.begin(), s.begin() + static_cast<ptrdiff_t>(len));
      EXPECT_LT(static_cast<size_t>(check_rtcp_or_srtcp(prefix)), kRtpCheckCount);
    }
  }
}

TEST(MediaKind, PortParityAndMux) {
  EXPECT_EQ(media_kind(rtp(false, false, 0, 0), 40000), MediaKind::rtp);
  EXPECT_EQ(media_kind(rtcp(200, 6), 40001), MediaKind::rtcp);
  EXPECT_EQ(media_kind(rtp(false, false, 0, 0), 40001), MediaKind::rtcp);  // odd port: RTCP
  for (int second = 0; second < 256; ++second) {
    const bool mux = second >= 192 && second <= 223;
    EXPECT_EQ(media_kind(rtp(false, false, 0, static_cast<uint8_t>(second)), 40000),
              mux ? MediaKind::rtcp : MediaKind::rtp)
        << second;
  }
  EXPECT_EQ(media_kind({}, 40000), MediaKind::rtp);
  const uint8_t one[] = {0x80};
  EXPECT_EQ(media_kind(one, 40000), MediaKind::rtp);
}

TEST(MediaCheck, DispatchesByKind) {
  EXPECT_EQ(check_media(rtp(false, false, 0, 0), 40000), RtpCheck::ok);
  EXPECT_EQ(check_media(rtcp(200, 6), 40000), RtpCheck::ok);  // rtcp-mux on the RTP port
  EXPECT_EQ(check_media(rtcp(200, 6), 40001), RtpCheck::ok);
  // M=1 PT=0 (second octet 0x80) on an even port is RTP.
  EXPECT_EQ(check_media(rtp(false, false, 0, 0x80), 40000), RtpCheck::ok);
  // An RTP packet sent to the odd port is judged as RTCP and fails.
  EXPECT_NE(check_media(rtp(false, false, 0, 0), 40001), RtpCheck::ok);
  // A mux-range second octet that is not a valid compound fails as RTCP.
  Bytes fake = rtp(false, false, 0, 0xc8, 20);  // PT byte 200 but length field garbage
  EXPECT_EQ(check_media(fake, 40000), RtpCheck::rtcp_bad_length);
}

// Every prefix of valid packets, and of all-0xff / all-0x00 buffers: no crash, no over-read
// (ASan checks the reads, since each prefix is a fresh heap copy).
TEST(MediaCheck, EveryTruncationIsSafe) {
  Bytes ext_pkt = rtp(true, true, 3, 0x60, 0);
  ext_pkt.insert(ext_pkt.end(), {0xbe, 0xde, 0x00, 0x02, 1, 2, 3, 4, 5, 6, 7, 8});
  ext_pkt.insert(ext_pkt.end(), {9, 9, 9, 3});
  ASSERT_EQ(check_rtp(ext_pkt), RtpCheck::ok);
  const std::vector<Bytes> samples = {ext_pkt, cat(cat(rtcp(200, 6), rtcp(202, 3)), rtcp(203, 1)),
                                      Bytes(80, 0xff), Bytes(80, 0),
                                      rtp(false, false, 15, 0xc9, 40)};
  for (const Bytes& s : samples) {
    for (size_t len = 0; len <= s.size(); ++len) {
      const Bytes prefix(s.begin(), s.begin() + static_cast<ptrdiff_t>(len));
      for (uint16_t port : {40000, 40001}) {
        const RtpCheck c = check_media(prefix, port);
        EXPECT_LT(static_cast<size_t>(c), kRtpCheckCount);
      }
      (void)check_rtp(prefix);
      (void)check_rtcp(prefix);
    }
  }
  // Truncated valid RTP fails with some error at every length but the full one.
  for (size_t len = 0; len < ext_pkt.size(); ++len) {
    const Bytes prefix(ext_pkt.begin(), ext_pkt.begin() + static_cast<ptrdiff_t>(len));
    EXPECT_NE(check_rtp(prefix), RtpCheck::ok) << len;
  }
}

}  // namespace
}  // namespace sipwall
