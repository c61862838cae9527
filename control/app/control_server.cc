#include "control/app/control_server.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <sstream>

#include "control/app/socket_address.h"

namespace sipwall::control {
namespace {

constexpr uint64_t kStreamIdShift = 48;  // connection ids: endpoint index in the top bits

NonceConfig nonce_config(const rules::ControlSettings& s) {
  NonceConfig c;
  c.lifetime = s.nonce_lifetime_s * kNanosPerSecond;
  return c;
}

uint64_t random_id() {
  uint64_t v = 0;
  std::FILE* f = std::fopen("/dev/urandom", "rb");
  if (f) {
    if (std::fread(&v, sizeof v, 1, f) != 1) v = 0;
    std::fclose(f);
  }
  return v;
}

}  // namespace

ControlServer::ControlServer(EventLoop& loop, const rules::CompiledRules& rules,
                             std::shared_ptr<const CredentialsFile> credentials,
                             std::span<const uint8_t> secret, std::FILE* events, bool mask_users,
                             Nanos (*clock)())
    : loop_(loop),
      clock_(clock),
      rules_(rules),
      core_address_(rules.control.core ? rules.control.core->address : IpAddress{}),
      core_port_(rules.control.core ? rules.control.core->port : 5060),
      nonces_(secret, nonce_config(rules.control.settings), random_id()),
      windows_(65536, nonces_.config().lifetime, clock()),
      policy_(rules.control, std::move(credentials), nonces_, windows_),
      validator_(rules.filter.sip),
      events_(events, 50, 200, mask_users),
      dataplane_(loop, rules.control.settings.dataplane_socket),
      now_(clock()) {}

ControlServer::~ControlServer() {
  streams_.clear();
  for (const UdpEndpoint& e : udp_) {
    loop_.remove(e.fd);
    close(e.fd);
  }
}

Result<bool> ControlServer::open() {
  const FilterConfig& f = rules_.filter;
  if (f.service_addresses.empty()) {
    return Result<bool>::failure(
        "no service address: sipwall-control binds the `service` addresses of the rule set");
  }
  // Every port of the ranges, a few at most (each is a socket).
  const auto ports = [](const std::vector<PortRange>& ranges) {
    std::vector<uint16_t> out;
    for (const PortRange& r : ranges) {
      for (uint32_t p = r.first; p <= r.last && out.size() < 16; ++p) {
        out.push_back(static_cast<uint16_t>(p));
      }
    }
    return out;
  };
  for (const IpAddress& a : f.service_addresses) {
    for (const uint16_t port : ports(f.ports.sip_udp)) {
      auto fd = open_udp(a, port);
      if (!fd) return Result<bool>::failure(fd.error());
      const size_t index = udp_.size();
      udp_.push_back({*fd, a, port, {sip_host(a), port}});
      loop_.add(*fd, EPOLLIN, [this, index](uint32_t) { on_udp(index); });
      endpoint_names_.push_back("udp " + format_endpoint(a, port));
    }
  }
  for (const IpAddress& a : f.service_addresses) {
    for (const uint16_t port : ports(f.ports.sip_tcp)) {
      auto fd = open_tcp_listener(a, port, 1024);
      if (!fd) return Result<bool>::failure(fd.error());
      const size_t index = streams_.size();
      const uint64_t first_id = (static_cast<uint64_t>(index) << kStreamIdShift) + 1;
      const size_t udp = udp_for(a);
      auto server = std::make_unique<StreamServer>(
          loop_, *fd, StreamLimits{}, first_id,
          [this, udp](std::string_view msg, const IpAddress& peer, uint16_t peer_port,
                      uint64_t id) {
            return handle(msg, {peer, peer_port, policy::Transport::tcp, id}, udp);
          });
      streams_.push_back({std::move(server), udp});
      endpoint_names_.push_back("tcp " + format_endpoint(a, port));
    }
  }
  if (udp_.empty()) return Result<bool>::failure("no UDP port (ports sip-udp=)");
  dataplane_.tick(now_);
  return true;
}

std::string ControlServer::reconfigure(const rules::CompiledRules& rules,
                                       std::shared_ptr<const CredentialsFile> credentials) {
  std::string restart;
  const FilterConfig& old = rules_.filter;
  if (rules.filter.service_addresses != old.service_addresses ||
      rules.filter.ports.sip_udp != old.ports.sip_udp ||
      rules.filter.ports.sip_tcp != old.ports.sip_tcp) {
    restart += "service addresses or SIP ports changed (they stay as opened until a restart); ";
  }
  if (rules.control.settings.dataplane_socket != rules_.control.settings.dataplane_socket) {
    restart += "the dataplane socket changed (kept until a restart); ";
  }
  rules_ = rules;
  core_address_ = rules.control.core ? rules.control.core->address : IpAddress{};
  core_port_ = rules.control.core ? rules.control.core->port : 5060;
  policy_.reconfigure(rules.control, std::move(credentials));
  validator_ = SipValidator(rules.filter.sip);
  ++reloads_;
  return restart;
}

size_t ControlServer::udp_for(const IpAddress& address) const {
  for (size_t i = 0; i < udp_.size(); ++i) {
    if (udp_[i].address == address) return i;
  }
  return 0;
}

void ControlServer::tick(Nanos now) {
  now_ = now;
  dataplane_.tick(now);
  if (now - last_sweep_ >= kNanosPerSecond) {
    last_sweep_ = now;
    for (StreamEndpoint& s : streams_) s.server->sweep(now);
  }
  for (StreamEndpoint& s : streams_) s.server->set_now(now);
}

void ControlServer::on_udp(size_t endpoint) {
  char buf[65536];
  // Bounded per wake-up so the other descriptors are served under a flood.
  for (int i = 0; i < 256; ++i) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    const ssize_t n =
        recvfrom(udp_[endpoint].fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&ss), &len);
    if (n < 0) return;
    relay::Inbound in;
    if (!from_sockaddr(ss, in.source, in.port)) continue;
    const std::string_view data(buf, static_cast<size_t>(n));
    // CRLF keepalives on UDP (RFC 5626 4.4.1 is STUN there; a CRLF is common practice).
    if (data.find_first_not_of("\r\n") == std::string_view::npos) continue;
    handle(data, in, endpoint);
  }
}

bool ControlServer::handle(std::string_view data, const relay::Inbound& in, size_t endpoint) {
  ++counters_.received;
  now_ = clock_();
  SipMessage m;
  if (validator_.validate(data, m) != SipError::ok) {
    ++counters_.invalid;
    return false;
  }
  const bool from_core =
      in.source == core_address_ && in.port == core_port_ && in.transport == policy::Transport::udp;
  if (from_core) {
    if (m.is_request) {
      handle_core_request(m, in, endpoint);
    } else {
      handle_core_response(m, endpoint);
    }
    return true;
  }
  if (!m.is_request) {
    handle_outside_response(m, endpoint);
    return true;
  }
  handle_request(m, in, endpoint);
  return true;
}

void ControlServer::handle_request(const SipMessage& m, const relay::Inbound& in, size_t endpoint) {
  policy::Decision d = policy_.decide(m, {in.source, in.port, in.transport}, now_);
  for (const Command& c : d.commands) dataplane_.send(c, now_);
  events_for(d, m, in);
  switch (d.verdict) {
    case policy::Verdict::relay: {
      relay::ForwardedRequest f = relay::forward_request(m, in, udp_[endpoint].self);
      ++counters_.relay_errors[static_cast<size_t>(f.error)];
      if (f.error == relay::RelayError::too_many_hops) {
        answer(in, endpoint, relay::make_reply(m, in, 483, "Too Many Hops"));
      } else if (f.error == relay::RelayError::ok) {
        ++counters_.relayed_requests;
        send_udp(endpoint, core_address_, core_port_, f.text);
      }
      return;
    }
    case policy::Verdict::challenge: {
      std::vector<std::string> lines;
      for (const std::string& v : d.challenges) {
        lines.push_back(std::string(challenge_header_name(d.challenge_kind)) + ": " + v);
      }
      answer(in, endpoint,
             relay::make_reply(m, in, challenge_status(d.challenge_kind),
                               challenge_reason(d.challenge_kind), lines));
      return;
    }
    case policy::Verdict::forbidden:
      answer(in, endpoint, relay::make_reply(m, in, 403, "Forbidden"));
      return;
    case policy::Verdict::silence:
      return;
  }
}

void ControlServer::handle_core_response(const SipMessage& m, size_t endpoint) {
  relay::RoutedResponse r = relay::route_response(m, udp_[endpoint].self);
  ++counters_.relay_errors[static_cast<size_t>(r.error)];
  if (r.error != relay::RelayError::ok) return;
  ++counters_.relayed_responses;
  if (r.connection != 0) {
    const size_t index = r.connection >> kStreamIdShift;
    if (index < streams_.size() && streams_[index].server->send(r.connection, r.text)) return;
    ++counters_.send_errors;  // the connection is gone: the client retransmits or gives up
    return;
  }
  send_udp(endpoint, r.destination, r.port, r.text);
}

void ControlServer::handle_core_request(const SipMessage& m, const relay::Inbound& in,
                                        size_t endpoint) {
  ++counters_.core_requests;
  relay::ForwardedFromCore f = relay::forward_from_core(m, in, udp_[endpoint].self);
  ++counters_.relay_errors[static_cast<size_t>(f.error)];
  if (f.error == relay::RelayError::too_many_hops) {
    send_udp(endpoint, in.source, in.port, relay::make_reply(m, in, 483, "Too Many Hops"));
    return;
  }
  if (f.error != relay::RelayError::ok) return;
  ++counters_.relayed_requests;
  send_udp(endpoint, f.destination, f.port, f.text);
}

// A response from outside goes back only to the core: our Via on top and the core's under it
// (the only requests we send outside come from the core), so no one can use sipwall to
// reflect a forged response elsewhere.
void ControlServer::handle_outside_response(const SipMessage& m, size_t endpoint) {
  relay::RoutedResponse r = relay::route_response(m, udp_[endpoint].self);
  if (r.error != relay::RelayError::ok || r.connection != 0 || !(r.destination == core_address_) ||
      r.port != core_port_) {
    ++counters_.stray_responses;
    return;
  }
  ++counters_.relayed_responses;
  send_udp(endpoint, r.destination, r.port, r.text);
}

void ControlServer::answer(const relay::Inbound& in, size_t endpoint, std::string_view text) {
  if (text.empty()) return;
  ++counters_.replies;
  if (in.transport != policy::Transport::udp) {
    const size_t index = in.connection >> kStreamIdShift;
    if (index < streams_.size()) streams_[index].server->send(in.connection, text);
    return;
  }
  // To where the request came from (as with rport): behind NAT that is the only way back.
  send_udp(endpoint, in.source, in.port, text);
}

void ControlServer::send_udp(size_t endpoint, const IpAddress& to, uint16_t port,
                             std::string_view text) {
  const SocketAddress sa = to_sockaddr(to, port);
  const ssize_t n = sendto(udp_[endpoint].fd, text.data(), text.size(), 0,
                           reinterpret_cast<const sockaddr*>(&sa.storage), sa.length);
  if (n < 0) ++counters_.send_errors;
}

void ControlServer::events_for(const policy::Decision& d, const SipMessage& m,
                               const relay::Inbound& in) {
  SecurityEvent e;
  e.source = in.source;
  e.port = in.port;
  e.transport = policy::to_string(in.transport);
  e.method = m.method_token;
  e.user = d.user;
  e.trunk = d.trunk;
  for (const Command& c : d.commands) {
    const auto* add = std::get_if<PrefixAddCommand>(&c);
    if (add && add->table == StateTable::ban) {
      e.event = "ban";
      e.ttl_seconds = add->ttl_seconds;
      events_.write(e, now_);
      e.ttl_seconds = 0;
    }
  }
  if (d.new_source) {
    e.event = "new_source";
    events_.write(e, now_);
  }
  switch (d.reason) {
    case policy::Reason::auth_failed:
    case policy::Reason::locked_out:
    case policy::Reason::identity_mismatch:
    case policy::Reason::account_source:
    case policy::Reason::unknown_source:
    case policy::Reason::foreign_nonce:
      e.event = policy::to_string(d.reason);
      events_.write(e, now_);
      break;
    default:
      break;
  }
}

std::string ControlServer::counters_report() const {
  std::ostringstream o;
  const ServerCounters& c = counters_;
  o << "received " << c.received << "\ninvalid " << c.invalid << "\nrelayed_requests "
    << c.relayed_requests << "\nrelayed_responses " << c.relayed_responses << "\nreplies "
    << c.replies << "\ncore_requests " << c.core_requests << "\nstray_responses "
    << c.stray_responses << "\nsend_errors " << c.send_errors << "\n";
  for (size_t i = 1; i < relay::kRelayErrorCount; ++i) {
    o << "relay_error." << relay::to_string(static_cast<relay::RelayError>(i)) << " "
      << c.relay_errors[i] << "\n";
  }
  const policy::PolicyCounters& p = policy_.counters();
  for (size_t i = 0; i < policy::kReasonCount; ++i) {
    o << "decision." << policy::to_string(static_cast<policy::Reason>(i)) << " " << p.by_reason[i]
      << "\n";
  }
  for (size_t i = 0; i < kDigestOutcomeCount; ++i) {
    o << "digest." << to_string(static_cast<DigestOutcome>(i)) << " " << p.by_outcome[i] << "\n";
  }
  o << "bans " << p.bans << "\nlockouts " << p.lockouts << "\npromotions " << p.promotions
    << "\ndemotions " << p.demotions << "\nretransmissions " << p.retransmissions << "\n";
  const DataplaneCounters& dc = dataplane_.counters();
  o << "dataplane.sent " << dc.sent << "\ndataplane.ok " << dc.ok << "\ndataplane.refused "
    << dc.refused << "\ndataplane.dropped " << dc.dropped << "\ndataplane.connects " << dc.connects
    << "\ndataplane.syncs " << dc.syncs << "\n";
  for (size_t i = 0; i < streams_.size(); ++i) {
    const StreamCounters& s = streams_[i].server->counters();
    o << "tcp.accepted " << s.accepted << "\ntcp.refused " << s.refused_total + s.refused_per_source
      << "\ntcp.framing_errors " << s.framing_errors << "\ntcp.invalid " << s.invalid_messages
      << "\n";
  }
  o << "reloads " << reloads_ << "\n";
  o << "events.written " << events_.written() << "\nevents.suppressed "
    << events_.suppressed_total() << "\n";
  return o.str();
}

}  // namespace sipwall::control
