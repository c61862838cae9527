#pragma once

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "command_channel.h"
#include "pipeline/worker_counters.h"
#include "worker.h"

namespace prometheus {
class Exposer;
}

namespace sipwall {

// One worker's own series (labelled by worker index: as many as lcores, a bounded set).
struct WorkerSample {
  IoCounters io;
  TableUse tables;
};

// Everything /metrics shows, summed over workers at scrape time.
struct MetricsSnapshot {
  WorkerCounters filter;
  IoCounters io;
  std::vector<std::string> rule_ids;  // by signature rule index
  std::string rules_source;           // the rule file, or "built-in defaults"
  std::string rules_version;          // its content hash
  uint64_t reloads_applied = 0;
  uint64_t reloads_failed = 0;
  CommandMetrics commands;            // the command channel (live mode)
  uint64_t control_refused = 0;       // control-socket peers refused by the credential check
  std::vector<WorkerSample> workers;  // by worker index
  uint64_t tsc_hz = 0;                // converts the workers' cycles to seconds
  double start_time_seconds = 0;      // Unix time the process started
};

// Counters as Prometheus families. Every label value is always present (zeros too), so rates
// and alerts work from the first scrape.
std::vector<prometheus::MetricFamily> to_metric_families(const MetricsSnapshot& snapshot);

// One /metrics endpoint for the process, served by prometheus-cpp's own thread; the snapshot
// function runs on that thread at every scrape.
class MetricsEndpoint {
 public:
  using SnapshotFn = std::function<MetricsSnapshot()>;

  // `address` is "host:port"; port 0 picks a free one. Throws on a bind failure.
  MetricsEndpoint(const std::string& address, SnapshotFn snapshot);
  ~MetricsEndpoint();

  uint16_t port() const;

 private:
  class Collector;
  std::shared_ptr<Collector> collector_;
  std::unique_ptr<prometheus::Exposer> exposer_;
};

}  // namespace sipwall
