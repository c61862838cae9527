#include "pipeline/pipeline.h"

#include "acl/prefix_table.h"
#include "budget/budget_gate.h"
#include "budget/shared_budget.h"
#include "classify/sip_sniffer.h"
#include "classify/traffic_classifier.h"
#include "common/keyed_hash.h"
#include "limit/token_bucket_table.h"
#include "packet/fragment_table.h"
#include "packet/packet_parser.h"
#include "rtp/media_demux.h"
#include "sig/signature_scratch.h"
#include "sig/signature_set.h"
#include "sip/sip_validator.h"
#include "state/dynamic_state.h"

#include <algorithm>
#include <array>
#include <cstring>

#include <optional>
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
  std::string_view method;  // requests only
};

StartLine peek_start_line(std::string_view msg) {
  // Methods are short: look for the SP in the first octets with a plain loop (a memchr call
  // costs more than the search), and only then in the rest.
  constexpr size_t kNear = 16;
  size_t sp = 0;
  while (sp < msg.size() && sp < kNear && msg[sp] != ' ') ++sp;
  if (sp == kNear) sp = msg.find(' ', kNear);
  const auto token = msg.substr(0, sp == std::string_view::npos || sp >= msg.size() ? 0 : sp);
  if (token.starts_with("SIP/") || token.empty()) return {};
  return {true, token};
}

// RFC 5626 keepalive: a UDP datagram of CRLF (ping) or of a lone CRLF (pong). It belongs to the
// SIP flow, so it is rate-limited with it and punted, but it is not a message to validate.
bool is_keepalive(std::string_view payload) {
  return payload == "\r\n\r\n" || payload == "\r\n";
}

// RFC 5626 section 4.4.2: a STUN binding request on the SIP UDP port keeps a flow's NAT binding
// open. Punted like the CRLF keepalive (the control plane answers it), never SIP-validated.
bool is_stun_keepalive(std::span<const uint8_t> payload) {
  return payload.size() >= 20 && payload[0] == 0x00 && payload[1] == 0x01 &&
         check_stun(payload) == RtpCheck::ok;
}

// A TCP SYN without ACK opens a connection: the segment the SYN limit counts. SYN-ACKs from
// the inside and every later segment of a connection are not connection attempts.
bool is_connection_attempt(const ParsedPacket& p) {
  return p.l4 == L4Proto::tcp && (p.tcp_flags & (kTcpSyn | kTcpAck)) == kTcpSyn;
}

// What a parsed packet is on its way to, decided before any state is touched.
enum class Route : uint8_t { decided, fragment, sip_udp, sip_stream, media, transit };

// A packet after the stateless work: parsed, classified, its bucket keys computed.
struct Prepared {
  ParsedPacket packet;
  Decision decision;  // Route::decided only
  Route route = Route::decided;
  StartLine start;
  bool stun_keepalive = false;
  uint32_t frame_bytes = 0;
  uint8_t key_count = 0;
  // keys[0] is the `sip` limit's key of the source aggregate the budget's fairness counts by,
  // so key_hashes[0] serves as its hash too (FilterPolicy::sip_key_is_aggregate).
  bool aggregate_keyed = false;
  std::array<BucketKey, kMaxKeysPerPacket> keys;
  std::array<uint64_t, kMaxKeysPerPacket> key_hashes;  // TokenBucketTable::hash of each key
};

}  // namespace

struct Pipeline::Stages {
  Stages(const FilterPolicy& first, size_t worker_index, size_t counter_slots,
         SharedBudgets* shared)
      : policy(&first),
        worker(worker_index),
        own_budgets(shared ? nullptr : std::make_unique<SharedBudgets>()),
        budgets(shared ? *shared : *own_budgets),
        punt_gate(budgets.punt),
        pass_gate(budgets.pass),
        aggregate_hash(first.config().hash_seed ^ 0xfa1e'5ba3'0000'0001ULL),
        fragments(fragment_config(first.config())),
        buckets(first.config().limits.table_capacity, first.config().hash_seed),
        dynamic(dynamic_config(first.config())) {
    counters.resize_rules(counter_slots ? counter_slots : first.signatures().size());
  }

  static FragmentConfig fragment_config(const FilterConfig& cfg) {
    FragmentConfig f = cfg.fragments;
    f.hash_seed = cfg.hash_seed;
    return f;
  }

  static DynamicStateConfig dynamic_config(const FilterConfig& cfg) {
    DynamicStateConfig d;
    d.ban_capacity = cfg.ban_capacity;
    d.trust_capacity = cfg.trust_capacity;
    d.pinhole_capacity = cfg.pinhole_capacity;
    d.enforce_pinholes = cfg.enforce_pinholes;
    d.hash_seed = cfg.hash_seed ^ 0x6479'6e61'6d69'6300ULL;  // not the token table's key
    return d;
  }

  const FilterConfig& config() const { return policy->config(); }

  // Source checks every IP packet passes first. Returns a drop, or nothing to go on; `trusted`
  // is set for allow-listed sources, which skip bans and rate limits.
  std::optional<Decision> check_source(const IpAddress& src, Nanos now, bool& trusted) {
    const auto listed = policy->acl().match(src);
    if (listed) {
      if (listed->action == AclAction::deny) return Decision::drop(DropReason::acl, listed->entry);
      trusted = true;
      return std::nullopt;
    }
    if (config().acl_default == AclAction::deny) return Decision::drop(DropReason::acl);
    // The drop names the ban (its handle), so reports can print its id.
    if (const BanHandle ban = dynamic.ban_match(src, now); ban != kNoBan) {
      return Decision::drop(DropReason::ban, ban);
    }
    return std::nullopt;
  }

  // Parses and classifies a frame and works out which buckets it will take tokens from; touches
  // no table, so a burst can be prepared whole and its buckets prefetched.
  void prepare(std::span<const uint8_t> frame, Prepared& out) const {
    ParsedPacket& p = out.packet;
    out.key_count = 0;
    out.frame_bytes = static_cast<uint32_t>(frame.size());
    switch (parse_packet(frame, p)) {
      case ParseStatus::malformed_l3:
        out.route = Route::decided;
        out.decision = Decision::drop(DropReason::malformed_l3);
        return;
      case ParseStatus::malformed_l4:
        out.route = Route::decided;
        out.decision = Decision::drop(DropReason::malformed_l4);
        return;
      case ParseStatus::ok:
        break;
    }
    if (!p.is_ip) {  // ARP, LLDP, ...
      out.route = Route::decided;
      out.decision = Decision::pass();
      return;
    }
    if (p.frag.is_fragment) {
      out.route = Route::fragment;
      return;
    }
    classify(out);
  }

  // Classification of a whole datagram (a packet, or fragments put back together).
  void classify(Prepared& out) const {
    const ParsedPacket& p = out.packet;
    out.key_count = 0;
    out.aggregate_keyed = false;
    const FilterConfig& cfg = config();
    const TrafficClass cls = policy->classifier().classify(p.ip_proto, p.src_port, p.dst_port);
    if (cls == TrafficClass::sip_udp ||
        (cfg.sip_by_content && p.l4 == L4Proto::udp && looks_like_sip(p.l4_payload))) {
      out.route = Route::sip_udp;
      out.stun_keepalive = cls == TrafficClass::sip_udp && is_stun_keepalive(p.l4_payload);
      out.start = out.stun_keepalive ? StartLine{} : peek_start_line(as_text(p.l4_payload));
      const LimitPolicy& limits = policy->limits();
      for (const uint8_t slot : limits.sip_all()) add_key(out, slot, p.src, 0);
      out.aggregate_keyed = policy->sip_key_is_aggregate();
      if (out.start.is_request) {
        for (const uint8_t slot : limits.request_slots(out.start.method)) {
          add_key(out, slot, p.src, 0);
        }
      }
      return;
    }
    switch (cls) {
      case TrafficClass::sip_tcp:
      case TrafficClass::sip_tls:
        out.route = Route::sip_stream;
        if (is_connection_attempt(p)) {
          for (const uint8_t slot : policy->limits().tcp_syn()) add_key(out, slot, p.src, 0);
        }
        return;
      case TrafficClass::rtp:
      case TrafficClass::rtcp:
        out.route = Route::media;
        for (const uint8_t slot : policy->limits().rtp_flow()) {
          add_key(out, slot, p.src, p.dst_port);
        }
        return;
      default:
        out.route = Route::transit;
        return;
    }
  }

  // Builds the key in place: a key returned through the stack and copied over stalls on store
  // forwarding (odd-sized struct, read back with wider loads).
  void add_key(Prepared& out, uint8_t slot, const IpAddress& source, uint16_t port) const {
    BucketKey& key = out.keys[out.key_count];
    key = policy->limits().key(slot, source, port);
    out.key_hashes[out.key_count++] = buckets.hash(key);
  }

  void prefetch(const Prepared& prepared) const {
    for (uint8_t i = 0; i < prepared.key_count; ++i) buckets.prefetch(prepared.key_hashes[i]);
    // Untrusted signaling reads and writes its fairness slot (a spoofed flood: a random one).
    if (prepared.aggregate_keyed) punt_gate.prefetch(prepared.key_hashes[0]);
  }

  // Takes one token from every bucket the packet counts against, stopping at the first empty
  // one; returns the flood drop naming that limit, or nothing when the packet conforms.
  std::optional<Decision> take_tokens(const Prepared& prepared, Nanos now) {
    const IpAddress& src = prepared.packet.src;
    for (uint8_t i = 0; i < prepared.key_count; ++i) {
      const BucketKey& key = prepared.keys[i];
      const BucketParams params = policy->limits().params(key.limit, src);
      if (!buckets.consume(key, prepared.key_hashes[i], params, now)) {
        return Decision::drop(DropReason::flood, key.limit);
      }
    }
    return std::nullopt;
  }

  // Which tier a source that passed the ACL and bans is in: allow-listed sources, `trust`
  // prefixes and the dynamic trust entries the control plane adds are trusted.
  Tier tier_of(const IpAddress& src, bool allow_listed, Nanos now, uint16_t& reserve) const {
    reserve = kNoReserve;
    if (const auto t = policy->trust().match(src)) {
      reserve = policy->reserve_slot(t->entry);
      return Tier::trusted;
    }
    return allow_listed || dynamic.trusted(src, now) ? Tier::trusted : Tier::untrusted;
  }

  uint64_t hash_aggregate(const IpAddress& src) const {
    const RateLimitConfig& l = config().limits;
    const IpAddress a = src.masked(src.is_v4() ? l.v4_prefix : l.v6_prefix);
    uint64_t w[2];
    std::memcpy(w, a.bytes.data(), 16);
    return aggregate_hash(w[0], w[1], static_cast<uint32_t>(a.family));
  }

  // Signaling that passed its token buckets: to a service address it is punted under the punt
  // budget, to anything else it is transit (dropped, or passed under the pass budget). Runs
  // before SIP validation, so an over-budget flood never reaches the validator. Returns the
  // verdict clean signaling gets, or the drop.
  Decision check_budget(const Prepared& prepared, bool allow_listed, Nanos now) {
    const ParsedPacket& p = prepared.packet;
    const bool service = policy->services().punts_to(p.dst);
    if (!service && config().transit_sip == TransitAction::drop) {
      return Decision::drop(DropReason::transit);
    }
    BudgetGate::Request r;
    r.tier = tier_of(p.src, allow_listed, now, r.reserve);
    if (r.tier == Tier::untrusted) {
      r.aggregate_hash = prepared.aggregate_keyed ? prepared.key_hashes[0] : hash_aggregate(p.src);
    }
    r.bytes = prepared.frame_bytes;
    r.now = now;
    const auto tier = static_cast<size_t>(r.tier);
    const size_t workers = policy->workers();
    if (service) {
      if (!punt_gate.admit(policy->punt_plan(), r, workers)) {
        ++counters.punt_refused[tier];
        return Decision::drop(DropReason::punt_budget, static_cast<RuleIndex>(tier));
      }
      ++counters.punt_granted[tier];
      return Decision::punt();
    }
    if (!pass_gate.admit(policy->pass_plan(), r, workers)) {
      ++counters.pass_refused[tier];
      return Decision::drop(DropReason::pass_budget, static_cast<RuleIndex>(tier));
    }
    ++counters.pass_granted[tier];
    return Decision::pass();
  }

  // `clean`: the verdict a message that passes validation and signatures gets (punt or pass).
  Decision judge_sip_udp(const Prepared& prepared, const Decision& clean) {
    const std::string_view text = as_text(prepared.packet.l4_payload);
    if (prepared.stun_keepalive || is_keepalive(text)) return clean;
    FilterPolicy::WorkerState& mine = policy->worker(worker);
    SipMessage msg;
    if (const SipError e = mine.validator.validate(text, msg); e != SipError::ok) {
      ++counters.sip_errors[static_cast<size_t>(e)];
      return Decision::drop(DropReason::malformed_sip);
    }
    const ScanResult scan = policy->signatures().scan(msg, mine.scratch);
    // Fail open on a scanner fault: the message passed validation, and dropping everything
    // because of a Hyperscan error would turn a fault into an outage. Counted, so it is seen.
    if (scan.scan_error) ++counters.signature_scan_errors;
    for (const RuleIndex r : scan.alert_rules()) count_slot(counters.signature_alerts, r);
    if (scan.dropped()) return Decision::drop(DropReason::signature, scan.drop_rule);
    return clean;
  }

  Decision judge_media(const ParsedPacket& p, Nanos now) {
    if (const RtpCheck c = check_media(p.l4_payload, p.dst_port); c != RtpCheck::ok) {
      ++counters.rtp_errors[static_cast<size_t>(c)];
      return Decision::drop(DropReason::rtp_invalid);
    }
    if (!dynamic.pinhole_admits(p.dst, p.dst_port, p.src, now)) {
      return Decision::drop(DropReason::rtp_no_pinhole);
    }
    return Decision::pass();
  }

  // The stateful stages for a classified datagram from a source that passed ACL and bans.
  Decision judge(const Prepared& prepared, bool trusted, Nanos now) {
    if (!trusted) {
      if (const auto flood = take_tokens(prepared, now)) return *flood;
    }
    switch (prepared.route) {
      case Route::sip_udp:
      case Route::sip_stream: {
        // The control plane terminates TCP and TLS: it sees every segment the budget admits.
        const Decision clean = check_budget(prepared, trusted, now);
        if (clean.verdict == Verdict::drop || prepared.route == Route::sip_stream) return clean;
        return judge_sip_udp(prepared, clean);
      }
      case Route::media:
        return judge_media(prepared.packet, now);
      case Route::decided:
      case Route::fragment:
      case Route::transit:
        break;
    }
    return Decision::pass();
  }

  void finish(Prepared& prepared, uint64_t cookie, Nanos now, DecisionSink& sink) {
    if (prepared.route == Route::decided) return emit(cookie, prepared.decision, sink);
    const ParsedPacket& p = prepared.packet;
    bool trusted = false;
    if (const auto d = check_source(p.src, now, trusted)) return emit(cookie, *d, sink);
    if (prepared.route != Route::fragment) return emit(cookie, judge(prepared, trusted, now), sink);

    auto on_expired = [&](FragmentDrop why, std::span<const uint64_t> cookies) {
      drop_fragments(why, cookies, sink);
    };
    const auto r = fragments.add(p, cookie, now, on_expired);
    switch (r.status) {
      case FragmentTable::Status::held:
        return;
      case FragmentTable::Status::dropped:
        return drop_fragments(r.why, r.cookies, sink);
      case FragmentTable::Status::complete:
        break;
    }
    ++counters.datagrams_reassembled;
    Decision d;
    switch (r.datagram_status) {
      case ParseStatus::malformed_l3:
        d = Decision::drop(DropReason::malformed_l3);
        break;
      case ParseStatus::malformed_l4:
        d = Decision::drop(DropReason::malformed_l4);
        break;
      case ParseStatus::ok:
        datagram.packet = *r.datagram;
        datagram.frame_bytes =
            static_cast<uint32_t>(datagram.packet.l3_offset + datagram.packet.l3_payload.size());
        classify(datagram);
        d = judge(datagram, trusted, now);
        break;
    }
    emit_all(r.cookies, d, sink);
  }

  // Signature counters are kept by stable slot, so they survive reloads that renumber rules.
  void count_slot(std::vector<uint64_t>& by_slot, RuleIndex rule) {
    const uint32_t slot = policy->counter_slot(rule);
    if (slot < by_slot.size()) ++by_slot[slot];
  }

  // One virtual call per packet: returning the burst's decisions as an array for the worker to
  // scatter measured ~30 instructions a packet more (README, Performance).
  void emit(uint64_t cookie, const Decision& d, DecisionSink& sink) {
    counters.count(d);
    if (d.reason == DropReason::signature && d.rule != kNoRule) {
      count_slot(counters.signature_hits, d.rule);
    } else if (d.reason == DropReason::ban) {
      ++counters.ban_drops[dynamic.ban_label(d.rule)];
    }
    sink.decide(cookie, d);
  }

  void emit_all(std::span<const uint64_t> cookies, const Decision& d, DecisionSink& sink) {
    for (const uint64_t c : cookies) emit(c, d, sink);
  }

  void drop_fragments(FragmentDrop why, std::span<const uint64_t> cookies, DecisionSink& sink) {
    counters.fragment_drops[static_cast<size_t>(why)] += cookies.size();
    emit_all(cookies, Decision::drop(DropReason::fragment), sink);
  }

  const FilterPolicy* policy;
  const size_t worker;
  std::unique_ptr<SharedBudgets> own_budgets;  // when the pipeline was given none
  SharedBudgets& budgets;
  BudgetGate punt_gate;
  BudgetGate pass_gate;
  KeyHash aggregate_hash;
  FragmentTable fragments;
  TokenBucketTable buckets;
  DynamicState dynamic;  // bans, trusted sources, pinholes
  WorkerCounters counters;
  Prepared datagram;  // a reassembled datagram being judged
  std::array<Prepared, kMaxBurst> burst;
};

Pipeline::Pipeline(const FilterPolicy& policy, size_t worker, size_t counter_slots,
                   SharedBudgets* budgets)
    : stages_(std::make_unique<Stages>(policy, worker, counter_slots, budgets)) {}

Pipeline::~Pipeline() = default;

void Pipeline::process(std::span<const uint8_t> frame, uint64_t cookie, Nanos now,
                       DecisionSink& sink) {
  Stages& s = *stages_;
  Prepared& prepared = s.burst[0];
  s.prepare(frame, prepared);
  s.finish(prepared, cookie, now, sink);
}

void Pipeline::process_burst(std::span<const PacketRef> burst, DecisionSink& sink) {
  Stages& s = *stages_;
  const size_t n = std::min(burst.size(), kMaxBurst);
  // Two passes so the token table's cache misses overlap across the burst.
  for (size_t i = 0; i < n; ++i) {
    s.prepare(burst[i].frame, s.burst[i]);
    s.prefetch(s.burst[i]);
  }
  for (size_t i = 0; i < n; ++i) s.finish(s.burst[i], burst[i].cookie, burst[i].now, sink);
  if (burst.size() > n) process_burst(burst.subspan(n), sink);
}

void Pipeline::expire(Nanos now, DecisionSink& sink) {
  stages_->fragments.expire(now, [&](FragmentDrop why, std::span<const uint64_t> cookies) {
    stages_->drop_fragments(why, cookies, sink);
  });
  stages_->dynamic.expire_some(now, kExpireBudget);
}

void Pipeline::drain(DecisionSink& sink) {
  stages_->fragments.drain([&](FragmentDrop why, std::span<const uint64_t> cookies) {
    stages_->drop_fragments(why, cookies, sink);
  });
}

ApplyResult Pipeline::apply(const StateUpdate& update, Nanos now) {
  return stages_->dynamic.apply(update, now);
}

bool Pipeline::trusted_dynamic(const IpAddress& source, Nanos now) const {
  return stages_->dynamic.trusted(source, now);
}

std::string_view Pipeline::ban_id(RuleIndex rule) const {
  return stages_->dynamic.ban_id(rule);
}

const DynamicState& Pipeline::dynamic_state() const {
  return stages_->dynamic;
}

const WorkerCounters& Pipeline::counters() const {
  return stages_->counters;
}

TableUse Pipeline::table_use() const {
  const Stages& s = *stages_;
  return {s.buckets.stats(), s.fragments.in_use(), s.fragments.capacity()};
}

void Pipeline::adopt(const FilterPolicy& policy) {
  stages_->policy = &policy;
}

const FilterPolicy& Pipeline::policy() const {
  return *stages_->policy;
}

}  // namespace sipwall
