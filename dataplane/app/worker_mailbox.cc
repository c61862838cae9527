#include "worker_mailbox.h"

#include <algorithm>
#include <cstdlib>
#include <iterator>

namespace sipwall {

WorkerMailbox::~WorkerMailbox() {
  std::free(ring_);
}

std::string WorkerMailbox::create(unsigned worker, unsigned depth) {
  worker_ = worker;
  const std::string name = "sipwall_mbox" + std::to_string(worker);
  // Plain memory, not a memzone: the ring needs no EAL (unit tests) and no name registry.
  const ssize_t size = rte_ring_get_memsize(depth);
  if (size < 0) return name + ": bad ring depth " + std::to_string(depth);
  const size_t bytes = (static_cast<size_t>(size) + RTE_CACHE_LINE_SIZE - 1) &
                       ~static_cast<size_t>(RTE_CACHE_LINE_SIZE - 1);
  ring_ = static_cast<rte_ring*>(std::aligned_alloc(RTE_CACHE_LINE_SIZE, bytes));
  if (!ring_) return "cannot allocate " + name;
  if (rte_ring_init(ring_, name.c_str(), depth, RING_F_SP_ENQ | RING_F_SC_DEQ) != 0) {
    return "cannot initialise " + name;
  }
  return {};
}

std::string WorkerMailboxes::create(unsigned workers, unsigned depth) {
  depth_ = depth;
  for (unsigned w = 0; w < workers; ++w) {
    boxes_.push_back(std::make_unique<WorkerMailbox>());
    if (auto e = boxes_.back()->create(w, depth); !e.empty()) return e;
  }
  return {};
}

uint64_t WorkerMailboxes::publish(std::unique_ptr<UpdateBatch> batch) {
  batch->seq = next_seq_++;
  batch->worker_full = std::make_unique<uint8_t[]>(boxes_.size());
  const uint64_t seq = batch->seq;
  waiting_.push_back(std::move(batch));
  post_waiting();
  return seq;
}

void WorkerMailboxes::post_waiting() {
  // A ring holds at most the batches in flight, so below depth - 1 of them every post succeeds.
  size_t posted = 0;
  while (posted < waiting_.size() && in_flight_.size() + 1 < depth_) {
    auto& batch = waiting_[posted++];
    for (auto& box : boxes_) box->post(batch.get());
    in_flight_.push_back(std::move(batch));
  }
  waiting_.erase(waiting_.begin(), waiting_.begin() + static_cast<std::ptrdiff_t>(posted));
}

uint64_t WorkerMailboxes::applied_by_all() const {
  uint64_t least = next_seq_ - 1;
  for (const auto& box : boxes_) least = std::min(least, box->applied());
  return least;
}

std::vector<std::unique_ptr<UpdateBatch>> WorkerMailboxes::collect() {
  const uint64_t done = applied_by_all();
  size_t n = 0;
  while (n < in_flight_.size() && in_flight_[n]->seq <= done) ++n;
  std::vector<std::unique_ptr<UpdateBatch>> out(std::make_move_iterator(in_flight_.begin()),
                                                std::make_move_iterator(in_flight_.begin() + n));
  in_flight_.erase(in_flight_.begin(), in_flight_.begin() + static_cast<std::ptrdiff_t>(n));
  post_waiting();
  return out;
}

}  // namespace sipwall
