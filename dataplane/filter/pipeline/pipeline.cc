#include "pipeline/pipeline.h"

#include "acl/ban_table.h"
#include "acl/prefix_table.h"
#include "classify/sip_sniffer.h"
#include "classify/traffic_classifier.h"
#include "limit/token_bucket_table.h"
#include "packet/fragment_table.h"
#include "packet/packet_parser.h"
#include "rtp/pinhole_table.h"
#include "rtp/rtp_checker.h"
#include "sig/signature_scratch.h"
#include "sig/signature_set.h"
#include "sip/sip_validator.h"

#include <optional>
#include <stdexcept>
#include <string>

namespace sipwall {
namespace {

std::string_view as_text(std::span<const uint8_t> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// The method of a request from its first token, without validating anything: token buckets run
// before validation so that a flood costs as little as possible. Responses start with "SIP/".
struct StartLine {
  bool is_request = false;
  SipMethod method = SipMethod::other;
};

StartLine peek_start_line(std::string_view msg) {
  const auto sp = msg.find(' ');
  const auto token = msg.substr(0, sp == std::string_view::npos ? 0 : sp);
  if (token.starts_with("SIP/") || token.empty()) return {};
  return {true, sip_method_from_token(token)};
}

// RFC 5626 keepalive: a UDP datagram of CRLF (ping) or of a lone CRLF (pong). It belongs to the
// SIP flow, so it is rate-limited with it and punted, but it is not a message to validate.
bool is_keepalive(std::string_view payload) {
  return payload == "\r\n\r\n" || payload == "\r\n";
}

LimitClass method_class(SipMethod m) {
  switch (m) {
    case SipMethod::invite:
      return LimitClass::invite;
    case SipMethod::register_:
      return LimitClass::register_;
    case SipMethod::options:
      return LimitClass::options;
    default:
      return LimitClass::other_method;
  }
}

}  // namespace

struct Pipeline::Stages {
  Stages(const FilterConfig& cfg, const SignatureSet& sigs)
      : config(cfg),
        classifier(cfg.ports),
        acl(build_acl(cfg.acl)),
        bans(cfg.ban_capacity),
        fragments(fragment_config(cfg)),
        buckets(cfg.limits.table_capacity, cfg.hash_seed),
        validator(cfg.sip),
        signatures(&sigs),
        pinholes(cfg.pinhole_capacity) {
    const std::string err = scratch.reserve(sigs);
    if (!err.empty()) throw std::runtime_error("signature scratch: " + err);
    counters.resize_rules(sigs.size());
  }

  static PrefixTable build_acl(const std::vector<AclEntry>& entries) {
    auto built = PrefixTable::build(entries);
    if (!built.ok()) throw std::invalid_argument("ACL: " + built.error());
    return std::move(built.value());
  }

  static FragmentConfig fragment_config(const FilterConfig& cfg) {
    FragmentConfig f = cfg.fragments;
    f.hash_seed = cfg.hash_seed;
    return f;
  }

  // Source checks every IP packet passes first. Returns a drop, or nothing to go on; `trusted`
  // is set for allow-listed sources, which skip bans and rate limits.
  std::optional<Decision> check_source(const IpAddress& src, Nanos now, bool& trusted) const {
    const std::optional<AclAction> listed = acl.lookup(src);
    if (listed.value_or(config.acl_default) == AclAction::deny) {
      return Decision::drop(DropReason::acl);
    }
    trusted = listed.has_value();
    if (!trusted && bans.is_banned(src, now)) return Decision::drop(DropReason::ban);
    return std::nullopt;
  }

  bool conforms(const IpAddress& src, uint16_t port, LimitClass cls, Nanos now) {
    const BucketKey key = make_key(src, port, cls, config.limits);
    return buckets.consume(key, config.limits.params(cls), now);
  }

  Decision judge_sip_udp(const ParsedPacket& p, bool trusted, Nanos now) {
    const std::string_view text = as_text(p.l4_payload);
    const StartLine start = peek_start_line(text);
    if (!trusted) {
      if (!conforms(p.src, 0, LimitClass::sip_all, now)) return Decision::drop(DropReason::flood);
      if (start.is_request && !conforms(p.src, 0, method_class(start.method), now)) {
        return Decision::drop(DropReason::flood);
      }
    }
    if (is_keepalive(text)) return Decision::punt();
    SipMessage msg;
    if (validator.validate(text, msg) != SipError::ok) {
      return Decision::drop(DropReason::malformed_sip);
    }
    const ScanResult scan = signatures->scan(msg, scratch);
    for (const RuleIndex r : scan.alert_rules()) ++counters.signature_alerts[r];
    if (scan.dropped()) return Decision::drop(DropReason::signature, scan.drop_rule);
    return Decision::punt();
  }

  Decision judge_media(const ParsedPacket& p, bool trusted, Nanos now) {
    if (!trusted && !conforms(p.src, p.dst_port, LimitClass::rtp_flow, now)) {
      return Decision::drop(DropReason::flood);
    }
    if (check_media(p.l4_payload, p.dst_port) != RtpCheck::ok) {
      return Decision::drop(DropReason::rtp_invalid);
    }
    if (config.enforce_pinholes && !pinholes.allows(p.dst, p.dst_port, now)) {
      return Decision::drop(DropReason::rtp_no_pinhole);
    }
    return Decision::pass();
  }

  Decision judge(const ParsedPacket& p, bool trusted, Nanos now) {
    const TrafficClass cls = classifier.classify(p.ip_proto, p.src_port, p.dst_port);
    if (cls == TrafficClass::sip_udp ||
        (config.sip_by_content && p.l4 == L4Proto::udp && cls != TrafficClass::sip_tcp &&
         cls != TrafficClass::sip_tls && looks_like_sip(p.l4_payload))) {
      return judge_sip_udp(p, trusted, now);
    }
    switch (cls) {
      case TrafficClass::sip_udp:
        break;
      case TrafficClass::sip_tcp:
      case TrafficClass::sip_tls:
        // The control plane terminates TCP and TLS; it sees every segment.
        return Decision::punt();
      case TrafficClass::rtp:
      case TrafficClass::rtcp:
        return judge_media(p, trusted, now);
      case TrafficClass::transit:
        break;
    }
    return Decision::pass();
  }

  void emit(uint64_t cookie, const Decision& d, DecisionSink& sink) {
    counters.count(d);
    sink.decide(cookie, d);
  }

  void emit_all(std::span<const uint64_t> cookies, const Decision& d, DecisionSink& sink) {
    for (const uint64_t c : cookies) emit(c, d, sink);
  }

  const FilterConfig config;
  TrafficClassifier classifier;
  PrefixTable acl;
  BanTable bans;
  FragmentTable fragments;
  TokenBucketTable buckets;
  SipValidator validator;
  const SignatureSet* signatures;
  SignatureScratch scratch;
  PinholeTable pinholes;
  WorkerCounters counters;
};

Pipeline::Pipeline(const FilterConfig& config, const SignatureSet& signatures)
    : stages_(std::make_unique<Stages>(config, signatures)) {}

Pipeline::~Pipeline() = default;

void Pipeline::process(std::span<const uint8_t> frame, uint64_t cookie, Nanos now,
                       DecisionSink& sink) {
  Stages& s = *stages_;
  ParsedPacket p;
  switch (parse_packet(frame, p)) {
    case ParseStatus::malformed_l3:
      return s.emit(cookie, Decision::drop(DropReason::malformed_l3), sink);
    case ParseStatus::malformed_l4:
      return s.emit(cookie, Decision::drop(DropReason::malformed_l4), sink);
    case ParseStatus::ok:
      break;
  }
  if (!p.is_ip) return s.emit(cookie, Decision::pass(), sink);  // ARP, LLDP, ...

  bool trusted = false;
  if (const auto d = s.check_source(p.src, now, trusted)) return s.emit(cookie, *d, sink);

  if (!p.frag.is_fragment) return s.emit(cookie, s.judge(p, trusted, now), sink);

  auto on_expired = [&](FragmentDrop, std::span<const uint64_t> cookies) {
    s.emit_all(cookies, Decision::drop(DropReason::fragment), sink);
  };
  const auto r = s.fragments.add(p, cookie, now, on_expired);
  switch (r.status) {
    case FragmentTable::Status::held:
      return;
    case FragmentTable::Status::dropped:
      return s.emit_all(r.cookies, Decision::drop(DropReason::fragment), sink);
    case FragmentTable::Status::complete:
      break;
  }
  ++s.counters.datagrams_reassembled;
  Decision d;
  switch (r.datagram_status) {
    case ParseStatus::malformed_l3:
      d = Decision::drop(DropReason::malformed_l3);
      break;
    case ParseStatus::malformed_l4:
      d = Decision::drop(DropReason::malformed_l4);
      break;
    case ParseStatus::ok:
      d = s.judge(*r.datagram, trusted, now);
      break;
  }
  s.emit_all(r.cookies, d, sink);
}

void Pipeline::expire(Nanos now, DecisionSink& sink) {
  stages_->fragments.expire(now, [&](FragmentDrop, std::span<const uint64_t> cookies) {
    stages_->emit_all(cookies, Decision::drop(DropReason::fragment), sink);
  });
}

void Pipeline::drain(DecisionSink& sink) {
  stages_->fragments.drain([&](FragmentDrop, std::span<const uint64_t> cookies) {
    stages_->emit_all(cookies, Decision::drop(DropReason::fragment), sink);
  });
}

bool Pipeline::ban(const IpPrefix& prefix, Nanos until) {
  return stages_->bans.ban(prefix, until);
}

bool Pipeline::open_pinhole(const IpAddress& address, uint16_t port, Nanos until) {
  return stages_->pinholes.open(address, port, until);
}

const WorkerCounters& Pipeline::counters() const {
  return stages_->counters;
}

const SignatureSet& Pipeline::signatures() const {
  return *stages_->signatures;
}

}  // namespace sipwall
