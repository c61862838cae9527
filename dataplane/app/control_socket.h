#pragma once

#include <sys/socket.h>
#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace sipwall {

// Who may connect to the control socket (it carries bans now and SRTP keys later): the peer's
// credentials (SO_PEERCRED, and SO_PEERGROUPS for its supplementary groups) are checked on
// accept. Allowed: a uid in `uids` (root and the dataplane's own uid by default), or a member
// (primary or supplementary) of `group` when set.
struct AccessPolicy {
  std::vector<uid_t> uids;
  std::optional<gid_t> group;

  static AccessPolicy owner_and_root();  // {0, geteuid()}, no group
};

// The credentials of a connected peer, read once at accept.
struct PeerCredentials {
  pid_t pid = 0;
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  // supplementary groups (empty when the kernel cannot tell)
};

bool peer_allowed(const PeerCredentials& peer, const AccessPolicy& policy);

// The dataplane's control socket: a Unix stream socket speaking a line protocol.
//
// Protocol: the client sends one command per line ("\n", a "\r" before it is dropped; empty
// lines are ignored). For every command the server sends one reply: the handler's text as lines,
// then a line holding a single ".". A reply line that starts with "." is sent with one more "."
// in front (as in SMTP), so a reply can never end early; control_request() removes it again.
// Commands on one connection are answered in order; a client may send several before reading.
// Errors the socket itself reports are replies starting with "error: ":
//   error: line too long      a line over kMaxLine bytes; the connection is closed afterwards
//   error: too many clients   kMaxClients are connected already; closed afterwards
//   error: <what>             the handler threw (std::exception::what()); serving goes on
// A client that neither sends a byte nor takes one of its reply for kIdleTimeout is closed
// (close_idle()), so clients that hang or never read cannot keep all kMaxClients slots.
//
// Single-threaded and non-blocking: the owner polls fd() (one fd covering the listening socket
// and every client: an epoll instance, level-triggered) for POLLIN and calls service(), which
// accepts, reads, runs the handler for every complete line and writes without ever blocking.
// The handler runs on the caller's thread inside service(); it should be quick. A command that
// takes longer (a rule reload, a state change every worker must apply first) is answered later:
// the session handler returns std::nullopt and the owner calls complete(client, text) once the
// answer is known; until then that client's further lines wait (replies stay in order) while
// other clients are served. Linux only.
//
// A peer refused by the AccessPolicy gets "error: permission denied" and is closed; refused()
// counts them.
class ControlSocket {
 public:
  using Handler = std::function<std::string(std::string_view command)>;
  // `client` names the connection (never reused): for complete() and on_close.
  using SessionHandler =
      std::function<std::optional<std::string>(uint64_t client, std::string_view command)>;
  using CloseHandler = std::function<void(uint64_t client)>;
  using Clock = std::chrono::steady_clock;

  static constexpr size_t kMaxLine = 4096;        // bytes in one command line, without the "\n"
  static constexpr size_t kMaxClients = 16;       // connected at once
  static constexpr size_t kMaxPending = 1 << 20;  // unsent reply bytes before a client is paused
  static constexpr std::chrono::seconds kIdleTimeout{60};

  ControlSocket() = default;
  ~ControlSocket();  // closes every client and removes the socket file if it is still ours
  ControlSocket(const ControlSocket&) = delete;
  ControlSocket& operator=(const ControlSocket&) = delete;

  // Listens on `path` (mode 0660; the directory must exist). A socket file left by a dead
  // process is removed; refuses (returns an error text) when a live process accepts connections
  // on `path`, when `path` exists and is not a socket, or on any system error. Returns "" on
  // success. Call once.
  std::string open(const std::string& path, Handler handler);
  // The same with deferred replies, a notification when a client goes away (e.g. to drop its
  // unfinished `sync`), who may connect, and the socket file's group (mode 0660).
  std::string open(const std::string& path, SessionHandler handler, CloseHandler on_close,
                   AccessPolicy access, std::optional<gid_t> file_group = std::nullopt);

  // Sends the reply to a command whose handler returned std::nullopt and goes on with that
  // client's next lines. Ignored when the client has gone.
  void complete(uint64_t client, std::string_view text);

  // For poll() with POLLIN; -1 before a successful open().
  int fd() const { return epoll_fd_; }

  // Accepts new clients and serves complete lines from every client; never blocks. Call it when
  // fd() is readable (calling it at other times is harmless).
  void service();

  // Closes the clients with no progress (a byte received or sent) since `now - kIdleTimeout`.
  // Call it periodically, e.g. on every wake-up of the loop that polls fd(). Returns how many.
  size_t close_idle(Clock::time_point now);

  size_t client_count() const { return clients_.size(); }
  uint64_t refused() const { return refused_; }
  const std::string& path() const { return path_; }

 private:
  struct Client {
    int fd = -1;
    std::string in;         // received bytes not yet a complete line
    std::string out;        // reply bytes not yet sent
    size_t out_off = 0;     // sent prefix of `out`
    bool closing = false;   // close once `out` is sent (no more reading)
    bool waiting = false;   // a deferred reply is outstanding: no further lines until then
    uint32_t interest = 0;  // events registered with epoll
    Clock::time_point last_progress;
  };

  void accept_clients();
  // Each returns false when the client was closed and erased.
  bool on_readable(uint64_t id, Client& c);
  bool process_lines(uint64_t id, Client& c);
  bool flush(uint64_t id, Client& c);
  bool update_interest(uint64_t id, Client& c);
  void reply(Client& c, std::string_view text);
  void close_client(uint64_t id);

  std::string path_;
  SessionHandler handler_;
  CloseHandler on_close_;
  AccessPolicy access_;
  uint64_t refused_ = 0;
  int listen_fd_ = -1;
  int epoll_fd_ = -1;
  dev_t dev_ = 0;  // the socket file this instance created, to unlink only that one
  ino_t ino_ = 0;
  uint64_t next_id_ = 1;   // 0 is the listening socket
  Clock::time_point now_;  // read once per service()
  std::unordered_map<uint64_t, Client> clients_;
};

// Sends `command` (one line, no "\n" inside) to the control socket at `path` and returns the
// reply, each line ending in "\n", without the final "." line and with dot-stuffing undone.
// Waits at most `timeout_ms` for connecting, sending and the whole reply. Throws
// std::runtime_error when the socket cannot be reached, the connection closes before the reply
// is complete, or the time is up; std::invalid_argument when `command` holds a newline.
std::string control_request(const std::string& path, std::string_view command, int timeout_ms);

}  // namespace sipwall
