// The media checks on one UDP payload: RTP/RTCP (and their SRTP/SRTCP tolerant forms), STUN,
// DTLS, ZRTP, and the demultiplexer that picks among them. The first two octets are the
// destination port (parity picks RTP or RTCP); the rest is the payload, in its own exactly-sized
// buffer. Asserts the tolerant SRTP/SRTCP checks accept everything the strict ones accept, and
// that the demultiplexed check is the check of the protocol it picked.

#include <cstdint>
#include <span>
#include <vector>

#include "fuzz_check.h"
#include "rtp/media_demux.h"
#include "rtp/rtp_checker.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sipwall;
  if (size < 2) return 0;
  const uint16_t port = static_cast<uint16_t>(data[0] << 8 | data[1]);
  const std::vector<uint8_t> copy(data + 2, data + size);
  const std::span<const uint8_t> p(copy);
  const RtpCheck all = check_media(p, port);
  FUZZ_CHECK(static_cast<size_t>(all) < kRtpCheckCount, "check %d", static_cast<int>(all));
  const RtpCheck rtp = check_rtp(p);
  const RtpCheck srtp = check_rtp_or_srtp(p);
  const RtpCheck rtcp = check_rtcp(p);
  const RtpCheck srtcp = check_rtcp_or_srtcp(p);
  FUZZ_CHECK(rtp != RtpCheck::ok || srtp == RtpCheck::ok, "SRTP check refuses valid RTP");
  FUZZ_CHECK(rtcp != RtpCheck::ok || srtcp == RtpCheck::ok, "SRTCP check refuses valid RTCP");
  const RtpCheck by_kind = media_kind(p, port) == MediaKind::rtcp ? srtcp : srtp;
  switch (media_protocol(p)) {
    case MediaProtocol::stun:
      FUZZ_CHECK(all == check_stun(p), "STUN verdicts differ");
      break;
    case MediaProtocol::dtls:
      FUZZ_CHECK(all == check_dtls(p), "DTLS verdicts differ");
      break;
    case MediaProtocol::zrtp:
      FUZZ_CHECK(all == check_zrtp(p), "ZRTP verdicts differ");
      break;
    default:
      FUZZ_CHECK(all == by_kind, "RTP/RTCP verdicts differ");
      (void)check_stun(p);
      (void)check_dtls(p);
      (void)check_zrtp(p);
      break;
  }
  return 0;
}
