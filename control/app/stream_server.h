#pragma once

// SIP over TCP: one listener, its connections, each with its SipStreamFramer (RFC 3261 18.3:
// Content-Length frames a message; RFC 5626 CRLFCRLF pings get a CRLF pong). Bounded: at most
// `max_connections`, `max_per_source` from one address, `max_output_bytes` queued for a slow
// reader, `idle_timeout` without a frame; each refusal is counted. A framing error closes the
// connection. TLS (issue 9, later) goes between the socket and the buffers: read()/write()
// of a connection become SSL_read()/SSL_write() on a non-blocking SSL* here, nothing else
// changes.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/ip_address.h"
#include "common/time.h"
#include "control/app/event_loop.h"
#include "sip/sip_stream_framer.h"

namespace sipwall::control {

struct StreamLimits {
  size_t max_connections = 4096;
  size_t max_per_source = 64;
  size_t max_output_bytes = 256 * 1024;
  Nanos idle_timeout = 300 * kNanosPerSecond;
};

struct StreamCounters {
  uint64_t accepted = 0;
  uint64_t refused_total = 0;       // max_connections
  uint64_t refused_per_source = 0;  // max_per_source
  uint64_t framing_errors = 0;
  uint64_t invalid_messages = 0;
  uint64_t output_overflows = 0;
  uint64_t idle_closed = 0;
  uint64_t pings = 0;
};

class StreamServer {
 public:
  // (message, peer address, peer port, connection id) -> false to close the connection (a
  // message that fails validation: nothing after it on the stream can be trusted).
  using OnMessage = std::function<bool(std::string_view, const IpAddress&, uint16_t, uint64_t)>;

  // Connection ids start at `first_id` (so ids of several servers never collide).
  StreamServer(EventLoop& loop, int listen_fd, const StreamLimits& limits, uint64_t first_id,
               OnMessage on_message);
  ~StreamServer();

  // Queues `text` on the connection; false when it is gone (closed since the request).
  bool send(uint64_t connection, std::string_view text);
  // Closes connections idle since before now - idle_timeout.
  void sweep(Nanos now);
  void set_now(Nanos now) { now_ = now; }

  size_t open_connections() const { return connections_.size(); }
  const StreamCounters& counters() const { return counters_; }

 private:
  struct Connection {
    int fd = -1;
    uint64_t id = 0;
    IpAddress peer;
    uint16_t port = 0;
    std::string input;
    std::string output;
    SipStreamFramer framer;
    Nanos last_active = 0;
    bool want_write = false;
  };

  void accept_all();
  void on_event(uint64_t id, uint32_t events);
  bool read_some(Connection& c);   // false: closed or failed
  bool write_some(Connection& c);  // false: failed
  void frame(Connection& c);
  void close_connection(uint64_t id);

  EventLoop& loop_;
  int listen_fd_;
  StreamLimits limits_;
  OnMessage on_message_;
  uint64_t next_id_;
  Nanos now_ = 0;
  std::unordered_map<uint64_t, std::unique_ptr<Connection>> connections_;
  std::unordered_map<std::string, size_t> per_source_;
  StreamCounters counters_;
};

}  // namespace sipwall::control
