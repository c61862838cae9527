#include "control/relay/stateless_relay.h"

#include <charconv>
#include <cstdio>

#include "control/relay/message_layout.h"
#include "sip/sip_address_parts.h"
#include "sip/sip_header_values.h"
#include "sip/sip_via_parts.h"

namespace sipwall::relay {
namespace {

constexpr std::string_view kBranchPrefix = "z9hG4bKsw";
constexpr std::string_view kConnParam = "sw-conn";
constexpr std::string_view kRelayedParams[] = {"received", "rport"};

uint64_t fnv1a(std::string_view s, uint64_t h = 0xcbf29ce484222325ULL) {
  for (const char c : s) {
    h ^= static_cast<uint8_t>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

// Appends piecewise: GCC 12 -O3 raises a false -Wrestrict on "literal" + std::string chains.
void append(std::string& out, std::initializer_list<std::string_view> parts) {
  for (std::string_view p : parts) out += p;
}

std::string hex64(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string_view unbracket(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    return host.substr(1, host.size() - 2);
  }
  return host;
}

// The top via-parm with received (when the sent-by host is not the source, or rport was
// asked for) and rport=PORT (when asked for): what the response is routed by.
std::string stamped_via(const SipViaParts& v, const Inbound& in) {
  const size_t head =
      v.params.empty() ? v.parm.size() : static_cast<size_t>(v.params.data() - v.parm.data());
  std::string out(v.parm.substr(0, head));
  out += without_params(v.params, kRelayedParams);
  const bool rport = sip_param(v.params, "rport").has_value();
  const std::string source = in.source.to_string();
  if (rport || unbracket(v.host) != source) append(out, {";received=", source});
  if (rport) append(out, {";rport=", std::to_string(in.port)});
  return out;
}

std::string via_line(std::string_view first, std::string_view rest) {
  std::string line = "Via: ";
  line += first;
  if (!rest.empty()) {
    line += ", ";
    line += rest;
  }
  line += "\r\n";
  return line;
}

bool is_self(std::string_view uri, const RelayAddress& self) {
  const auto hp = sip_uri_hostport(uri);
  return hp && hp->host == self.host && (hp->port == 0 ? 5060 : hp->port) == self.port;
}

bool has_to_tag(const SipMessage& m) {
  const auto to = m.find(SipHeader::to);
  if (!to) return false;
  const auto parts = sip_split_name_addr(to->value);
  return parts && sip_param(parts->params, "tag").has_value();
}

// The first entry of a Route value and what follows its comma.
bool split_route(std::string_view value, std::string_view& uri, std::string_view& rest) {
  if (value.empty() || value.front() != '<') return false;
  const size_t close = value.find('>');
  if (close == std::string_view::npos) return false;
  uri = value.substr(1, close - 1);
  const size_t comma = value.find(',', close);
  rest = comma == std::string_view::npos ? std::string_view{} : value.substr(comma + 1);
  while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);
  return true;
}

}  // namespace

std::string_view to_string(RelayError e) {
  static constexpr std::string_view kNames[] = {"ok",       "too_many_hops", "no_layout", "bad_via",
                                                "not_ours", "bad_next_via",  "unroutable"};
  static_assert(std::size(kNames) == kRelayErrorCount);
  return kNames[static_cast<size_t>(e)];
}

std::string relay_branch(std::string_view top_via) {
  std::string b(kBranchPrefix);
  b += hex64(fnv1a(top_via));
  return b;
}

namespace {

// The rewriting both directions share. `record_route`: add ours (requests from outside that
// may create a dialog); `consume_credentials`: drop Authorization/Proxy-Authorization (ours).
// `next_route` receives the URI of the Route entry after ours (or the first one when the top
// is not ours), empty when none.
ForwardedRequest rewrite_request(const SipMessage& request, const Inbound& in,
                                 const RelayAddress& self, bool record_route,
                                 bool consume_credentials, std::string& next_route) {
  ForwardedRequest out;
  MessageLayout layout;
  if (!lay_out(request, layout)) {
    out.error = RelayError::no_layout;
    return out;
  }
  size_t top_via = request.headers.size();
  size_t top_route = request.headers.size();
  bool has_max_forwards = false;
  for (size_t i = 0; i < request.headers.size(); ++i) {
    const SipHeader id = request.headers[i].id;
    if (id == SipHeader::via && top_via == request.headers.size()) top_via = i;
    if (id == SipHeader::route && top_route == request.headers.size()) top_route = i;
    if (id == SipHeader::max_forwards) {
      has_max_forwards = true;
      uint8_t hops = 0;
      if (sip_parse_max_forwards(request.headers[i].value, hops) && hops == 0) {
        out.error = RelayError::too_many_hops;
        return out;
      }
    }
  }
  const auto via = top_via < request.headers.size() ? sip_first_via(request.headers[top_via].value)
                                                    : std::nullopt;
  if (!via) {
    out.error = RelayError::bad_via;
    return out;
  }

  const std::string port = std::to_string(self.port);
  std::string& t = out.text;
  t.reserve(request.raw.size() + 256);
  t += layout.start_line;
  append(t, {"Via: SIP/2.0/UDP ", self.host, ":", port, ";branch=", relay_branch(via->parm)});
  if (in.transport != policy::Transport::udp) {
    append(t, {";", kConnParam, "=", std::to_string(in.connection)});
  }
  t += "\r\n";
  if (request.method == SipMethod::register_ && consume_credentials) {
    // RFC 3327: the registrar stores it as the route to this contact, so the core's requests
    // to the phone come through sipwall. (Over a stream this needs a flow token, RFC 5626:
    // not yet, the core's requests go out over UDP.)
    append(t, {"Path: <sip:", self.host, ":", port, ";lr>\r\n"});
  }
  if (record_route) {
    // Facing the core first; a second entry facing a stream client names its transport.
    append(t, {"Record-Route: <sip:", self.host, ":", port, ";lr>\r\n"});
    if (in.transport != policy::Transport::udp) {
      append(t, {"Record-Route: <sip:", self.host, ":", port,
                 ";transport=", policy::to_string(in.transport), ";lr>\r\n"});
    }
  }
  if (!has_max_forwards) t += "Max-Forwards: 70\r\n";
  for (size_t i = 0; i < request.headers.size(); ++i) {
    const SipHeaderField& h = request.headers[i];
    if (i == top_via) {
      t += via_line(stamped_via(*via, in), via->rest);
      continue;
    }
    if (h.id == SipHeader::max_forwards) {
      uint8_t hops = 70;
      if (!sip_parse_max_forwards(h.value, hops)) hops = 70;
      append(t, {"Max-Forwards: ", std::to_string(hops - 1), "\r\n"});
      continue;
    }
    if (consume_credentials &&
        (h.id == SipHeader::authorization || h.id == SipHeader::proxy_authorization)) {
      continue;
    }
    if (i == top_route) {
      std::string_view uri, rest;
      const bool parsed = split_route(h.value, uri, rest);
      if (parsed && is_self(uri, self)) {
        if (!rest.empty()) {
          append(t, {"Route: ", rest, "\r\n"});
          std::string_view next_uri, ignored;
          if (split_route(rest, next_uri, ignored)) next_route = next_uri;
        } else {
          // The next Route entry may be in a later Route field.
          for (size_t j = i + 1; j < request.headers.size() && next_route.empty(); ++j) {
            std::string_view next_uri, ignored;
            if (request.headers[j].id == SipHeader::route &&
                split_route(request.headers[j].value, next_uri, ignored)) {
              next_route = next_uri;
            }
          }
        }
        continue;
      }
      if (parsed) next_route = uri;
    }
    t += layout.lines[i];
  }
  t += "\r\n";
  t += layout.body;
  return out;
}

}  // namespace

ForwardedRequest forward_request(const SipMessage& request, const Inbound& in,
                                 const RelayAddress& self) {
  std::string next_route;
  return rewrite_request(request, in, self, request.method != SipMethod::register_, true,
                         next_route);
}

ForwardedFromCore forward_from_core(const SipMessage& request, const Inbound& core,
                                    const RelayAddress& self) {
  ForwardedFromCore out;
  std::string next_route;
  // Dialog-creating requests from the core (calls to phones) record-route too, so the
  // phone's in-dialog requests come back through sipwall.
  ForwardedRequest f =
      rewrite_request(request, core, self, !has_to_tag(request), false, next_route);
  out.error = f.error;
  if (f.error != RelayError::ok) return out;
  const std::string_view target = next_route.empty() ? request.request_uri : next_route;
  const auto hp = sip_uri_hostport(target);
  const auto address = hp ? IpAddress::parse(unbracket(hp->host)) : std::nullopt;
  if (!address) {
    out.error = RelayError::unroutable;
    return out;
  }
  out.destination = *address;
  out.port = hp->port == 0 ? 5060 : hp->port;
  out.text = std::move(f.text);
  return out;
}

RoutedResponse route_response(const SipMessage& response, const RelayAddress& self) {
  RoutedResponse out;
  MessageLayout layout;
  if (!lay_out(response, layout)) {
    out.error = RelayError::no_layout;
    return out;
  }
  size_t top = response.headers.size();
  for (size_t i = 0; i < response.headers.size() && top == response.headers.size(); ++i) {
    if (response.headers[i].id == SipHeader::via) top = i;
  }
  const auto ours =
      top < response.headers.size() ? sip_first_via(response.headers[top].value) : std::nullopt;
  if (!ours) {
    out.error = RelayError::bad_via;
    return out;
  }
  const auto branch = sip_param(ours->params, "branch");
  if (!branch || !branch->starts_with(kBranchPrefix) || ours->host != self.host ||
      (ours->port == 0 ? 5060 : ours->port) != self.port) {
    out.error = RelayError::not_ours;
    return out;
  }
  if (const auto conn = sip_param(ours->params, kConnParam)) {
    std::from_chars(conn->data(), conn->data() + conn->size(), out.connection);
  }
  // The Via under ours: the rest of our field, or the next Via field.
  std::optional<SipViaParts> next;
  if (!ours->rest.empty()) {
    next = sip_first_via(ours->rest);
  } else {
    for (size_t i = top + 1; i < response.headers.size(); ++i) {
      if (response.headers[i].id == SipHeader::via) {
        next = sip_first_via(response.headers[i].value);
        break;
      }
    }
  }
  if (!next) {
    out.error = RelayError::bad_next_via;
    return out;
  }
  const auto received = sip_param(next->params, "received");
  const auto address = IpAddress::parse(received ? *received : unbracket(next->host));
  uint32_t port = next->port == 0 ? 5060 : next->port;
  if (const auto rport = sip_param(next->params, "rport"); rport && !rport->empty()) {
    uint32_t p = 0;
    const auto [end, ec] = std::from_chars(rport->data(), rport->data() + rport->size(), p);
    if (ec == std::errc{} && end == rport->data() + rport->size() && p > 0 && p < 65536) port = p;
  }
  if (!address) {
    out.error = RelayError::bad_next_via;
    return out;
  }
  out.destination = *address;
  out.port = static_cast<uint16_t>(port);

  std::string& t = out.text;
  t.reserve(response.raw.size());
  t += layout.start_line;
  for (size_t i = 0; i < response.headers.size(); ++i) {
    if (i == top) {
      if (!ours->rest.empty()) append(t, {"Via: ", ours->rest, "\r\n"});
      continue;
    }
    t += layout.lines[i];
  }
  t += "\r\n";
  t += layout.body;
  return out;
}

std::string make_reply(const SipMessage& request, const Inbound& in, int status,
                       std::string_view reason, std::span<const std::string> extra) {
  MessageLayout layout;
  std::string t;
  append(t, {"SIP/2.0 ", std::to_string(status), " ", reason, "\r\n"});
  if (!lay_out(request, layout)) return {};
  bool first_via = true;
  for (size_t i = 0; i < request.headers.size(); ++i) {
    const SipHeaderField& h = request.headers[i];
    switch (h.id) {
      case SipHeader::via:
        if (first_via) {
          first_via = false;
          if (const auto v = sip_first_via(h.value)) {
            t += via_line(stamped_via(*v, in), v->rest);
            break;
          }
        }
        t += layout.lines[i];
        break;
      case SipHeader::to: {
        const auto parts = sip_split_name_addr(h.value);
        if (parts && !sip_param(parts->params, "tag")) {
          // A stateless tag: the same request always gets the same one.
          const std::string tag =
              hex64(fnv1a(request.find(SipHeader::call_id).value_or(SipHeaderField{}).value));
          append(t, {"To: ", h.value, ";tag=sw", std::string_view(tag).substr(0, 10), "\r\n"});
        } else {
          t += layout.lines[i];
        }
        break;
      }
      case SipHeader::from:
      case SipHeader::call_id:
      case SipHeader::cseq:
        t += layout.lines[i];
        break;
      default:
        break;
    }
  }
  for (const std::string& line : extra) append(t, {line, "\r\n"});
  t += "Server: sipwall\r\nContent-Length: 0\r\n\r\n";
  return t;
}

}  // namespace sipwall::relay
