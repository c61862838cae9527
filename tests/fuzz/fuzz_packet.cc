// Packet parser and IP fragment reassembly. The input is a sequence of frames (frame_records.h)
// preceded by one octet that shapes the fragment table (tiny tables, few fragments, short
// timeouts), so table-full, too-many and timeout paths are reachable.
// Asserts: parsed spans lie inside the frame; every fragment is reported exactly once (held,
// then completed, dropped, expired or drained); a completed datagram's views are readable.

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "frame_records.h"
#include "fuzz_check.h"
#include "packet/fragment_table.h"
#include "packet/packet_parser.h"

namespace sipwall::fuzz {
namespace {

FragmentConfig table_shape(uint8_t shape) {
  FragmentConfig cfg;
  cfg.max_datagrams = (shape & 0x3) == 0 ? 16 : shape & 0x3;
  cfg.max_datagram_bytes = (shape & 0x4) ? 1480 : 16384 + 64;
  cfg.max_fragments_per_datagram = (shape & 0x8) ? 3 : 64;
  cfg.timeout = (shape & 0x10) ? 50 * kNanosPerMilli : 5 * kNanosPerSecond;
  cfg.hash_seed = shape >> 5;
  return cfg;
}

void check_parse(std::span<const uint8_t> frame, const ParsedPacket& p) {
  FUZZ_CHECK(within(p.l3_payload, frame), "l3_payload outside the frame");
  FUZZ_CHECK(within(p.l4_payload, frame), "l4_payload outside the frame");
  FUZZ_CHECK(within(p.fragment_data, frame), "fragment_data outside the frame");
  FUZZ_CHECK(within(p.l4_payload, p.l3_payload), "l4_payload outside l3_payload");
  if (p.is_ip) FUZZ_CHECK(p.l3_offset < frame.size(), "l3_offset %u", unsigned{p.l3_offset});
  if (p.frag.is_fragment) {
    FUZZ_CHECK(p.l4_payload.empty(), "a fragment has an L4 payload");
  }
}

}  // namespace
}  // namespace sipwall::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sipwall;
  using namespace sipwall::fuzz;
  if (size == 0) return 0;
  // One table per shape, built on first use and reset per input: building one costs a
  // quarter-megabyte allocation and its page faults, which dominated the run time.
  static std::array<std::unique_ptr<FragmentTable>, 256> tables;
  std::unique_ptr<FragmentTable>& slot = tables[data[0]];
  if (!slot) slot = std::make_unique<FragmentTable>(table_shape(data[0]));
  FragmentTable& table = *slot;
  table.reset();
  const std::vector<Frame> frames = read_frames({data + 1, size - 1});
  // 0: not a fragment or not yet seen; 1: held; 2: reported.
  std::vector<uint8_t> state(frames.size(), 0);
  const auto report = [&](std::span<const uint64_t> cookies) {
    for (const uint64_t c : cookies) {
      FUZZ_CHECK(c < state.size(), "unknown cookie %llu", static_cast<unsigned long long>(c));
      FUZZ_CHECK(state[c] == 1, "fragment %llu reported twice or never held",
                 static_cast<unsigned long long>(c));
      state[c] = 2;
    }
  };
  const auto sink = [&](FragmentDrop why, std::span<const uint64_t> cookies) {
    FUZZ_CHECK(why == FragmentDrop::timeout || why == FragmentDrop::flushed, "sink reason %d",
               static_cast<int>(why));
    report(cookies);
  };
  for (size_t i = 0; i < frames.size(); ++i) {
    const std::span<const uint8_t> frame = frames[i].bytes;
    ParsedPacket p;
    const ParseStatus st = parse_packet(frame, p);
    touch(p.l4_payload);
    touch(p.fragment_data);
    if (st != ParseStatus::ok) continue;
    check_parse(frame, p);
    if (!p.frag.is_fragment) continue;
    state[i] = 1;
    const auto r = table.add(p, i, frames[i].now, sink);
    switch (r.status) {
      case FragmentTable::Status::held:
        break;
      case FragmentTable::Status::dropped:
        FUZZ_CHECK(r.why != FragmentDrop::none, "dropped without a reason");
        report(r.cookies);
        break;
      case FragmentTable::Status::complete: {
        FUZZ_CHECK(r.datagram != nullptr && r.datagram->reassembled, "no datagram");
        FUZZ_CHECK(!r.datagram->frag.is_fragment, "datagram still a fragment");
        FUZZ_CHECK(within(r.datagram->l4_payload, r.datagram->l3_payload), "l4 outside l3");
        touch(r.datagram->l3_payload);
        touch(r.datagram->l4_payload);
        report(r.cookies);
        break;
      }
    }
    FUZZ_CHECK(state[i] != 0, "fragment %zu lost", i);
    FUZZ_CHECK(table.in_use() <= table.capacity(), "in_use %zu", table.in_use());
  }
  if (!frames.empty() && (data[0] & 0x80)) table.expire(frames.back().now, sink);
  table.drain(sink);
  FUZZ_CHECK(table.in_use() == 0, "%zu datagrams left after drain", table.in_use());
  for (size_t i = 0; i < state.size(); ++i) {
    FUZZ_CHECK(state[i] != 1, "fragment %zu held but never reported", i);
  }
  return 0;
}
