#pragma once

#include <rte_mempool.h>

#include <cstdint>
#include <string>
#include <vector>

#include "port_setup.h"

namespace sipwall {

// EAL for the length of a run: rte_eal_cleanup() on every way out once init succeeded.
class EalSession {
 public:
  // `consumed` is rte_eal_init()'s result: the arguments EAL took, or < 0 on failure.
  EalSession(int argc, char** argv);
  ~EalSession();
  EalSession(const EalSession&) = delete;
  EalSession& operator=(const EalSession&) = delete;

  bool ok() const { return consumed_ >= 0; }
  int consumed() const { return consumed_; }

 private:
  int consumed_ = -1;
};

// The mbuf pool and the ports a run started: every started port is stopped and closed, then the
// pool freed, when the set goes away (on every return path, error or not). Destroy the workers
// that use them first.
class PortSet {
 public:
  PortSet() = default;
  ~PortSet();
  PortSet(const PortSet&) = delete;
  PortSet& operator=(const PortSet&) = delete;

  // Creates the pool every port receives into; an error text on failure.
  std::string create_pool(const char* name, unsigned size);
  // setup_port() on the pool; a started port is remembered for the teardown.
  std::string start(uint16_t port, PortQueues queues);
  rte_mempool* pool() const { return pool_; }

 private:
  rte_mempool* pool_ = nullptr;
  std::vector<uint16_t> started_;
};

}  // namespace sipwall
