#include "traffic_mix.h"

#include <algorithm>
#include <random>
#include <string_view>

#include "frame_builder.h"
#include "sip_samples.h"

namespace sipwall::perf {
namespace {

using test::Bytes;
using test::FrameBuilder;
using test::SipSample;

std::string v4(uint32_t n) {
  return std::to_string(10 + (n >> 16 & 0x7f)) + "." + std::to_string(n >> 8 & 0xff) + "." +
         std::to_string(n & 0xff) + ".1";
}

Bytes sip_frame(const std::string& src, const std::string& msg) {
  FrameBuilder b;
  b.ipv4(src, "192.0.2.10");
  return b.udp(5060, 5060, msg);
}

const char* kMethods[] = {"INVITE",   "INVITE",  "INVITE",  "INVITE", "REGISTER",
                          "REGISTER", "OPTIONS", "OPTIONS", "BYE",    "response"};

// Mix (b) leaves responses out: they are short, and (b) is about 800-byte messages.
std::string legit_sip(std::mt19937& rng, uint32_t n, size_t size, bool responses = true) {
  SipSample s;
  s.method = kMethods[rng() % (responses ? 10 : 9)];
  s.call_id = std::to_string(rng()) + "@" + v4(n);
  s.cseq = 1 + rng() % 1000;
  s.user = "+4930" + std::to_string(1000000 + rng() % 9000000);
  s.pad_to = size;
  if (s.method == "INVITE") s.body = test::sdp_offer(v4(n), 10000 + 2 * (rng() % 5000));
  if (s.method == "response") {
    s.method = "INVITE";
    return test::sip_response(200, "OK", s);
  }
  return test::sip_request(s);
}

Bytes rtp_frame(uint32_t flow, uint16_t seq) {
  FrameBuilder b;
  b.ipv4(v4(100000 + flow), "192.0.2.10");
  Bytes rtp(200 - 14 - 20 - 8, 0xd5);  // a 200-byte frame
  const uint8_t header[12] = {
      0x80, 0x00, static_cast<uint8_t>(seq >> 8),  static_cast<uint8_t>(seq), 0, 0, 1, 0,
      0xab, 0xcd, static_cast<uint8_t>(flow >> 8), static_cast<uint8_t>(flow)};
  std::copy(std::begin(header), std::end(header), rtp.begin());
  return b.frame(test::kProtoUdp,
                 b.udp_segment(20000, static_cast<uint16_t>(10000 + 2 * (flow % 4000)), rtp));
}

void finish(TrafficMix& mix, std::mt19937& rng) {
  std::shuffle(mix.frames.begin(), mix.frames.end(), rng);
  const size_t n = mix.frames.size();
  mix.times.resize(n);
  for (size_t i = 0; i < n; ++i) mix.times[i] = i * kNanosPerSecond / n;
}

// The three parts of mix (a), each also runnable alone to see what one class costs.
void add_rtp(TrafficMix& mix, size_t count) {
  constexpr uint32_t kFlows = 1000;  // 60% of the second over 1000 flows: far below 200/s each
  for (size_t i = 0; i < count; ++i) {
    mix.frames.push_back(rtp_frame(static_cast<uint32_t>(i % kFlows), static_cast<uint16_t>(i)));
  }
}

void add_legit_sip(TrafficMix& mix, size_t count, std::mt19937& rng) {
  for (size_t i = 0; i < count; ++i) {
    const uint32_t src = static_cast<uint32_t>(rng() % 10000);
    mix.frames.push_back(sip_frame(v4(src), legit_sip(rng, src, 500 + rng() % 401)));
  }
}

void add_bad(TrafficMix& mix, size_t count, std::mt19937& rng) {
  for (size_t i = 0; i < count; ++i) {
    const uint32_t src = 20000 + static_cast<uint32_t>(rng() % 1000);
    SipSample s;
    s.call_id = std::to_string(i) + "@bad";
    s.pad_to = 600;
    switch (i % 3) {
      case 0:  // flood from two sources
        mix.frames.push_back(sip_frame(v4(30000 + i % 2), test::sip_request(s)));
        break;
      case 1: {  // malformed: wrong version, or a CSeq that does not match the method
        std::string m = test::sip_request(s);
        if (i % 2) {
          m.replace(m.find("SIP/2.0\r\n"), 7, "SIP/3.0");
        } else {
          m.replace(m.find(" INVITE\r\n"), 7, " BYE");
        }
        mix.frames.push_back(sip_frame(v4(src), m));
        break;
      }
      default:
        s.user_agent = i % 2 ? "friendly-scanner" : "sipcli/v1.8";
        s.method = "OPTIONS";
        mix.frames.push_back(sip_frame(v4(src), test::sip_request(s)));
        break;
    }
  }
}

// Mix (c). The flood's datagrams start like SIP (so they are judged as SIP) and are padded to
// 64-300 bytes on the wire; the budget drops them before validation, and the few it admits
// fail validation. The trusted 1% are valid BYEs.
void add_spoofed_flood(TrafficMix& mix, size_t packets, std::mt19937& rng) {
  for (size_t i = 0; i < packets; ++i) {
    const bool trusted = i % 100 == 0;
    std::string msg;
    if (trusted) {
      SipSample s;
      s.method = "BYE";
      s.call_id = std::to_string(rng() % 100000);
      msg = test::sip_request(s);
    } else {
      msg = "OPTIONS sip:a SIP/2.0\r\n";
      msg.resize(64 + rng() % 237 - 42, 'x');  // 42: Ethernet, IPv4 and UDP headers
    }
    (trusted ? mix.trusted : mix.spoofed).push_back(mix.frames.size());
    mix.frames.push_back(sip_frame(trusted ? "10.200.0.1" : "11.0.0.1", msg));
  }
  mix.trusted_base = 0x0AC80000;  // 10.200.0.0/16, trusted in the bench's FilterConfig
  mix.trusted_sources = 2500;
  const size_t n = mix.frames.size();
  mix.period = n * kNanosPerSecond / 10'000'000;  // 10 Mpps of replay time
  mix.times.resize(n);
  for (size_t i = 0; i < n; ++i) mix.times[i] = i * mix.period / n;
}

}  // namespace

std::optional<TrafficMix> make_mix(std::string_view name, size_t packets) {
  const size_t rtp = packets * 60 / 100;
  const size_t sip = packets * 25 / 100;
  const size_t bad = packets - rtp - sip;
  TrafficMix mix;
  mix.name = std::string(name);
  if (name == "b") {
    std::mt19937 rng(7);
    for (size_t i = 0; i < packets; ++i) {
      const uint32_t src = static_cast<uint32_t>(rng() % 20000);
      mix.frames.push_back(sip_frame(v4(src), legit_sip(rng, src, 800, false)));
    }
    finish(mix, rng);
    return mix;
  }
  if (name == "c") {
    std::mt19937 rng(11);
    add_spoofed_flood(mix, packets, rng);
    return mix;
  }
  std::mt19937 rng(42);
  if (name == "a") {
    add_rtp(mix, rtp);
    add_legit_sip(mix, sip, rng);
    add_bad(mix, bad, rng);
  } else if (name == "a-rtp") {
    add_rtp(mix, rtp);
  } else if (name == "a-sip") {
    add_legit_sip(mix, sip, rng);
  } else if (name == "a-bad") {
    add_bad(mix, bad, rng);
  } else {
    return std::nullopt;
  }
  finish(mix, rng);
  return mix;
}

}  // namespace sipwall::perf
