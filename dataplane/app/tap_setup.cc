#include "tap_setup.h"

#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace sipwall {
namespace {

// One rtnetlink request: header, family-specific message, attributes.
class Request {
 public:
  Request(uint16_t type, uint16_t flags) {
    header()->nlmsg_len = NLMSG_LENGTH(0);
    header()->nlmsg_type = type;
    header()->nlmsg_flags = static_cast<uint16_t>(NLM_F_REQUEST | NLM_F_ACK | flags);
  }
  template <typename T>
  T* body() {
    auto* b = reinterpret_cast<T*>(NLMSG_DATA(header()));
    header()->nlmsg_len = NLMSG_LENGTH(sizeof(T));
    return b;
  }
  void attribute(uint16_t type, const void* data, size_t size) {
    auto* a = reinterpret_cast<rtattr*>(buffer_.data() + NLMSG_ALIGN(header()->nlmsg_len));
    a->rta_type = type;
    a->rta_len = static_cast<uint16_t>(RTA_LENGTH(size));
    std::memcpy(RTA_DATA(a), data, size);
    header()->nlmsg_len = NLMSG_ALIGN(header()->nlmsg_len) + RTA_ALIGN(a->rta_len);
  }
  nlmsghdr* header() { return reinterpret_cast<nlmsghdr*>(buffer_.data()); }

 private:
  alignas(nlmsghdr) std::array<uint8_t, 512> buffer_{};
};

class Netlink {
 public:
  Netlink() : fd_(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE)) {}
  ~Netlink() {
    if (fd_ >= 0) close(fd_);
  }
  Netlink(const Netlink&) = delete;
  Netlink& operator=(const Netlink&) = delete;

  bool ok() const { return fd_ >= 0; }

  // Sends the request and waits for its acknowledgement; returns 0 or a positive errno.
  int call(Request& r) {
    r.header()->nlmsg_seq = ++seq_;
    if (send(fd_, r.header(), r.header()->nlmsg_len, 0) < 0) return errno;
    std::array<uint8_t, 4096> reply{};
    for (int reads = 0; reads < 16; ++reads) {
      const ssize_t n = recv(fd_, reply.data(), reply.size(), 0);
      if (n < 0) {
        if (errno == EINTR) continue;  // the tap PMD signals RX with a real-time signal
        return errno;
      }
      auto len = static_cast<unsigned>(n);
      for (auto* h = reinterpret_cast<nlmsghdr*>(reply.data()); NLMSG_OK(h, len);
           h = NLMSG_NEXT(h, len)) {
        if (h->nlmsg_seq != seq_ || h->nlmsg_type != NLMSG_ERROR) continue;
        return -static_cast<const nlmsgerr*>(NLMSG_DATA(h))->error;
      }
    }
    return EPROTO;
  }

 private:
  int fd_;
  uint32_t seq_ = 0;
};

std::string failed(const std::string& what, int err) {
  return what + ": " + std::strerror(err);
}

unsigned char family_of(const IpAddress& a) {
  return a.is_v4() ? AF_INET : AF_INET6;
}

size_t size_of(const IpAddress& a) {
  return a.is_v4() ? 4 : 16;
}

}  // namespace

std::string configure_tap(const TapSettings& s) {
  char name[IF_NAMESIZE] = {};
  if (s.ifindex == 0 || if_indextoname(s.ifindex, name) == nullptr) {
    return "tap interface " + std::to_string(s.ifindex) + " not found";
  }
  const std::string iface = std::string("tap ") + name;
  Netlink nl;
  if (!nl.ok()) return failed(iface + ": netlink socket", errno);

  Request link(RTM_NEWLINK, 0);
  auto* info = link.body<ifinfomsg>();
  info->ifi_family = AF_UNSPEC;
  info->ifi_index = static_cast<int>(s.ifindex);
  info->ifi_flags = IFF_UP;
  info->ifi_change = IFF_UP;
  const uint32_t mtu = s.mtu;
  link.attribute(IFLA_MTU, &mtu, sizeof mtu);
  if (int e = nl.call(link)) return failed(iface + ": link up, MTU " + std::to_string(mtu), e);

  for (const IpAddress& a : s.addresses) {
    Request r(RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE);
    auto* m = r.body<ifaddrmsg>();
    m->ifa_family = family_of(a);
    m->ifa_prefixlen = a.is_v4() ? s.v4_prefix : s.v6_prefix;
    m->ifa_scope = RT_SCOPE_UNIVERSE;
    m->ifa_index = s.ifindex;
    r.attribute(IFA_LOCAL, a.bytes.data(), size_of(a));
    r.attribute(IFA_ADDRESS, a.bytes.data(), size_of(a));
    if (!a.is_v4()) {
      // Duplicate address detection would hold the address tentative for a second and its
      // probes (source ::) are not a service address, so they would never leave anyway.
      const uint32_t flags = IFA_F_NODAD;
      r.attribute(IFA_FLAGS, &flags, sizeof flags);
    }
    if (int e = nl.call(r)) return failed(iface + ": address " + a.to_string(), e);
  }

  for (const IpAddress& gw : s.gateways) {
    Request r(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE);
    auto* m = r.body<rtmsg>();
    m->rtm_family = family_of(gw);
    m->rtm_table = RT_TABLE_MAIN;
    m->rtm_protocol = RTPROT_STATIC;
    m->rtm_scope = RT_SCOPE_UNIVERSE;
    m->rtm_type = RTN_UNICAST;
    r.attribute(RTA_GATEWAY, gw.bytes.data(), size_of(gw));
    const uint32_t oif = s.ifindex;
    r.attribute(RTA_OIF, &oif, sizeof oif);
    if (int e = nl.call(r)) return failed(iface + ": default route via " + gw.to_string(), e);
  }
  return {};
}

}  // namespace sipwall
