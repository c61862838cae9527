#pragma once

#include <rte_ring.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/time.h"
#include "pipeline/pipeline.h"
#include "state_service.h"

namespace sipwall {

// What the control thread hands the workers: the updates of one command, with a sequence number.
// The control thread allocates it, every worker reads it (and sets only its own `worker_full`
// byte), and the control thread frees it once every worker reported its sequence number applied.
struct UpdateBatch {
  uint64_t seq = 0;
  StateService::Work work;
  std::unique_ptr<uint8_t[]> worker_full;  // one per worker: an update was refused as full
  // The control thread's bookkeeping: whom to answer, and since when the command waits.
  uint64_t client = 0;
  std::chrono::steady_clock::time_point started;
  std::string kind;
};

// One worker's inbox: a single-producer single-consumer rte_ring of batch pointers, and the
// sequence number of the last batch the worker applied. The worker drains it between bursts with
// no lock and no allocation.
class alignas(64) WorkerMailbox {
 public:
  WorkerMailbox() = default;
  ~WorkerMailbox();
  WorkerMailbox(const WorkerMailbox&) = delete;
  WorkerMailbox& operator=(const WorkerMailbox&) = delete;

  std::string create(unsigned worker, unsigned depth);

  // Worker side: one load when nothing waits, so it can be asked between every two bursts.
  bool pending() const { return rte_ring_count(ring_) != 0; }
  // Worker side, between bursts: applies every waiting batch to `pipeline` at `now`, in order,
  // then publishes the last sequence number. Nothing allocated, nothing locked; the batch is not
  // touched after that (the control thread frees it).
  void drain(Pipeline& pipeline, Nanos now) {
    void* batches[kDrainBurst];
    unsigned n;
    while ((n = rte_ring_sc_dequeue_burst(ring_, batches, kDrainBurst, nullptr)) > 0) {
      uint64_t last = 0;
      for (unsigned i = 0; i < n; ++i) {
        auto* b = static_cast<UpdateBatch*>(batches[i]);
        for (const StateUpdate& u : b->work.updates) {
          const ApplyResult r = pipeline.apply(u, now);
          if (r.outcome == Outcome::full || r.rejected > 0) b->worker_full[worker_] = 1;
        }
        last = b->seq;
      }
      applied_.store(last, std::memory_order_release);
    }
  }

  // Control side.
  bool post(UpdateBatch* batch) { return rte_ring_sp_enqueue(ring_, batch) == 0; }
  uint64_t applied() const { return applied_.load(std::memory_order_acquire); }

 private:
  static constexpr unsigned kDrainBurst = 16;
  rte_ring* ring_ = nullptr;
  unsigned worker_ = 0;
  alignas(64) std::atomic<uint64_t> applied_{0};
};

// Every worker's inbox, and the batches in flight: a batch is posted to every worker, and it is
// done (its reply may go out, its memory is freed) once every worker applied it. At most
// `depth - 1` batches are in flight, so a post never finds a ring full; more wait here, in order.
// Control-thread side, single-threaded.
class WorkerMailboxes {
 public:
  // An error text on failure (the rings live in DPDK memory).
  std::string create(unsigned workers, unsigned depth = 1024);

  WorkerMailbox& of(unsigned worker) { return *boxes_[worker]; }
  unsigned workers() const { return static_cast<unsigned>(boxes_.size()); }

  // Assigns the next sequence number and posts the batch to every worker (or queues it behind
  // the batches in flight). Returns the sequence number.
  uint64_t publish(std::unique_ptr<UpdateBatch> batch);
  // The sequence number every worker has applied (batches up to it are done).
  uint64_t applied_by_all() const;
  // Hands back the batches every worker applied (oldest first; the caller replies and frees
  // them) and posts waiting ones.
  std::vector<std::unique_ptr<UpdateBatch>> collect();
  bool idle() const { return in_flight_.empty() && waiting_.empty(); }

 private:
  void post_waiting();

  std::vector<std::unique_ptr<WorkerMailbox>> boxes_;
  unsigned depth_ = 0;
  uint64_t next_seq_ = 1;
  std::vector<std::unique_ptr<UpdateBatch>> in_flight_;  // oldest first
  std::vector<std::unique_ptr<UpdateBatch>> waiting_;
};

}  // namespace sipwall
