#pragma once

// The sipwall-control process minus main(): the UDP and TCP endpoints on the service
// addresses, SIP validation, the policy core, the relay to and from the core, replies,
// dataplane commands and security events, on one event loop.

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "control/app/dataplane_client.h"
#include "control/app/event_loop.h"
#include "control/app/security_log.h"
#include "control/app/stream_server.h"
#include "control/auth/nc_replay_window.h"
#include "control/auth/nonce_signer.h"
#include "control/credentials/credentials_file.h"
#include "control/policy/policy_engine.h"
#include "control/relay/stateless_relay.h"
#include "rules/compiled_rules.h"
#include "sip/sip_validator.h"

namespace sipwall::control {

struct ServerCounters {
  uint64_t received = 0;
  uint64_t invalid = 0;  // failed SIP validation
  uint64_t relayed_requests = 0;
  uint64_t relayed_responses = 0;
  uint64_t replies = 0;          // generated here (401/407/403/483)
  uint64_t core_requests = 0;    // requests from the core (not relayed yet)
  uint64_t stray_responses = 0;  // responses from outside
  uint64_t send_errors = 0;
  std::array<uint64_t, relay::kRelayErrorCount> relay_errors{};
};

class ControlServer {
 public:
  // `secret`: the nonce key (at least 32 octets). `events`: where security events go.
  // `clock`: wall-clock nanoseconds, read once per message (nonce times, windows, events).
  ControlServer(EventLoop& loop, const rules::CompiledRules& rules,
                std::shared_ptr<const CredentialsFile> credentials, std::span<const uint8_t> secret,
                std::FILE* events, bool mask_users, Nanos (*clock)());
  ~ControlServer();

  // Binds every endpoint; the error names the one that failed.
  Result<bool> open();
  // A reloaded rule set and credentials file: policy, core, validation profile. Endpoints and
  // the dataplane socket stay as they were opened; the answer says what needs a restart
  // (empty when nothing does).
  std::string reconfigure(const rules::CompiledRules& rules,
                          std::shared_ptr<const CredentialsFile> credentials);
  // The dataplane journal's file (see DataplaneClient); "" when read, else the error.
  std::string use_journal(const std::string& path) {
    return dataplane_.use_journal(path, clock_());
  }
  // At exit: what the journal file still lacks.
  void save_journal() { dataplane_.save_journal(clock_()); }
  // Timers: dataplane reconnects and journal expiry, idle connections.
  void tick(Nanos now);

  std::string counters_report() const;
  const std::vector<std::string>& endpoints() const { return endpoint_names_; }

 private:
  struct UdpEndpoint {
    int fd = -1;
    IpAddress address;
    uint16_t port = 0;
    relay::RelayAddress self;
  };

  void on_udp(size_t endpoint);
  // A datagram or a framed stream message; false when it is not valid SIP.
  bool handle(std::string_view data, const relay::Inbound& in, size_t endpoint);
  void handle_request(const SipMessage& m, const relay::Inbound& in, size_t endpoint);
  void handle_core_response(const SipMessage& m, size_t endpoint);
  void handle_core_request(const SipMessage& m, const relay::Inbound& in, size_t endpoint);
  void handle_outside_response(const SipMessage& m, size_t endpoint);
  void answer(const relay::Inbound& in, size_t endpoint, std::string_view text);
  void send_udp(size_t endpoint, const IpAddress& to, uint16_t port, std::string_view text);
  void events_for(const policy::Decision& d, const SipMessage& m, const relay::Inbound& in);
  // The UDP endpoint a stream endpoint relays through (same address).
  size_t udp_for(const IpAddress& address) const;
  Nanos now() const { return now_; }

  EventLoop& loop_;
  Nanos (*clock_)();
  rules::CompiledRules rules_;
  IpAddress core_address_;
  uint16_t core_port_ = 5060;
  NonceSigner nonces_;
  NcReplayWindow windows_;
  policy::PolicyEngine policy_;
  SipValidator validator_;
  SecurityLog events_;
  DataplaneClient dataplane_;
  std::vector<UdpEndpoint> udp_;
  struct StreamEndpoint {
    std::unique_ptr<StreamServer> server;
    size_t udp = 0;
  };
  std::vector<StreamEndpoint> streams_;
  std::vector<std::string> endpoint_names_;
  uint64_t reloads_ = 0;
  Nanos now_ = 0;
  Nanos last_sweep_ = 0;
  ServerCounters counters_;
};

}  // namespace sipwall::control
