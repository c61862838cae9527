#pragma once

// Test and benchmark helper: well-formed SIP messages with knobs for the parts the filter
// judges (method, User-Agent, From display name, size), so tests state only what differs.

#include <cstddef>
#include <string>

namespace sipwall::test {

struct SipSample {
  std::string method = "INVITE";
  std::string user = "alice";
  std::string host = "192.0.2.10";
  std::string call_id = "a84b4c76e66710@pc33.example.com";
  std::string from_display = "Alice";
  std::string user_agent = "Asterisk PBX 18.2.0";
  unsigned cseq = 314159;
  std::string extra_headers;  // complete lines, each ending in CRLF
  std::string body;           // with Content-Type application/sdp when not empty
  size_t pad_to = 0;          // grow with an X-Pad header until the message has this size
};

inline std::string sdp_offer(const std::string& address, unsigned port) {
  return "v=0\r\no=- 20518 0 IN IP4 " + address + "\r\ns=-\r\nc=IN IP4 " + address +
         "\r\nt=0 0\r\nm=audio " + std::to_string(port) +
         " RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"
         "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\n"
         "a=sendrecv\r\n";
}

inline std::string sip_request(const SipSample& s) {
  std::string head = s.method + " sip:" + s.user + "@" + s.host + " SIP/2.0\r\n" +
                     "Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK776asdhds" +
                     std::to_string(s.cseq) + "\r\n" + "Max-Forwards: 70\r\n" +
                     "To: <sip:" + s.user + "@" + s.host + ">\r\n" + "From: \"" + s.from_display +
                     "\" <sip:carrier@198.51.100.7>;tag=1928301774\r\n" + "Call-ID: " + s.call_id +
                     "\r\n" + "CSeq: " + std::to_string(s.cseq) + " " + s.method + "\r\n" +
                     "Contact: <sip:carrier@198.51.100.7:5060>\r\n";
  if (!s.user_agent.empty()) head += "User-Agent: " + s.user_agent + "\r\n";
  head += s.extra_headers;
  if (!s.body.empty()) head += "Content-Type: application/sdp\r\n";
  auto finish = [&](const std::string& pad) {
    return head + pad + "Content-Length: " + std::to_string(s.body.size()) + "\r\n\r\n" + s.body;
  };
  std::string msg = finish("");
  constexpr size_t kPadOverhead = 9;  // "X-Pad: " and CRLF
  if (msg.size() + kPadOverhead < s.pad_to) {
    msg = finish("X-Pad: " + std::string(s.pad_to - msg.size() - kPadOverhead, 'p') + "\r\n");
  }
  return msg;
}

inline std::string sip_response(unsigned code, const std::string& reason, const SipSample& s) {
  return "SIP/2.0 " + std::to_string(code) + " " + reason + "\r\n" +
         "Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK776asdhds\r\n" + "To: <sip:" + s.user +
         "@" + s.host + ">;tag=a6c85cf\r\n" + "From: \"" + s.from_display +
         "\" <sip:carrier@198.51.100.7>;tag=1928301774\r\n" + "Call-ID: " + s.call_id + "\r\n" +
         "CSeq: " + std::to_string(s.cseq) + " " + s.method + "\r\n" + "Content-Length: 0\r\n\r\n";
}

}  // namespace sipwall::test
