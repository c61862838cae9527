#include "port_set.h"

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

namespace sipwall {

EalSession::EalSession(int argc, char** argv) : consumed_(rte_eal_init(argc, argv)) {}

EalSession::~EalSession() {
  if (ok()) rte_eal_cleanup();
}

PortSet::~PortSet() {
  for (const uint16_t port : started_) {
    rte_eth_dev_stop(port);
    rte_eth_dev_close(port);
  }
  if (pool_) rte_mempool_free(pool_);
}

std::string PortSet::create_pool(const char* name, unsigned size) {
  pool_ = rte_pktmbuf_pool_create(name, size, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
  if (!pool_) return "cannot create the mbuf pool: " + std::string(rte_strerror(rte_errno));
  return {};
}

std::string PortSet::start(uint16_t port, PortQueues queues) {
  std::string err = setup_port(port, queues, pool_);
  // setup_port() may have started the port before failing (promiscuous mode is best effort):
  // a valid port is closed either way.
  if (rte_eth_dev_is_valid_port(port)) started_.push_back(port);
  return err;
}

}  // namespace sipwall
