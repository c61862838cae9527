#include "port_setup.h"

#include <rte_ethdev.h>

#include <algorithm>
#include <string_view>

namespace sipwall {
namespace {

constexpr uint16_t kRxDescriptors = 1024;
constexpr uint16_t kTxDescriptors = 1024;

std::string failed(uint16_t port, const char* what, int rc) {
  return "port " + std::to_string(port) + " (" + port_name(port) + "): " + what +
         " failed: " + rte_strerror(-rc);
}

}  // namespace

std::string port_name(uint16_t port) {
  char name[RTE_ETH_NAME_MAX_LEN] = {};
  if (rte_eth_dev_get_name_by_port(port, name) != 0) return "?";
  return name;
}

bool is_tap_port(uint16_t port) {
  rte_eth_dev_info info{};
  return rte_eth_dev_info_get(port, &info) == 0 && info.driver_name != nullptr &&
         std::string_view(info.driver_name) == "net_tap";
}

unsigned port_ifindex(uint16_t port) {
  rte_eth_dev_info info{};
  return rte_eth_dev_info_get(port, &info) == 0 ? info.if_index : 0;
}

std::array<uint8_t, 6> port_mac(uint16_t port) {
  rte_ether_addr mac{};
  rte_eth_macaddr_get(port, &mac);
  std::array<uint8_t, 6> out{};
  std::copy(std::begin(mac.addr_bytes), std::end(mac.addr_bytes), out.begin());
  return out;
}

uint16_t port_mtu(uint16_t port) {
  uint16_t mtu = RTE_ETHER_MTU;
  rte_eth_dev_get_mtu(port, &mtu);
  return mtu;
}

std::string setup_port(uint16_t port, PortQueues queues, rte_mempool* pool) {
  if (!rte_eth_dev_is_valid_port(port)) {
    return "port " + std::to_string(port) + " does not exist (" +
           std::to_string(rte_eth_dev_count_avail()) + " ports available)";
  }
  rte_eth_dev_info info{};
  if (int rc = rte_eth_dev_info_get(port, &info); rc != 0) return failed(port, "info", rc);
  if (queues.rx > info.max_rx_queues || queues.tx > info.max_tx_queues) {
    return "port " + std::to_string(port) + " (" + port_name(port) + ") has " +
           std::to_string(info.max_rx_queues) + " RX / " + std::to_string(info.max_tx_queues) +
           " TX queues, " + std::to_string(queues.rx) + " needed";
  }

  rte_eth_conf conf{};
  const uint64_t rss = RTE_ETH_RSS_IP & info.flow_type_rss_offloads;
  if (queues.rx > 1 && rss != 0) {
    conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
    conf.rx_adv_conf.rss_conf.rss_hf = rss;
  }
  if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE) {
    conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE;
  }
  if (int rc = rte_eth_dev_configure(port, queues.rx, queues.tx, &conf); rc != 0) {
    return failed(port, "configure", rc);
  }
  uint16_t rxd = kRxDescriptors;
  uint16_t txd = kTxDescriptors;
  if (int rc = rte_eth_dev_adjust_nb_rx_tx_desc(port, &rxd, &txd); rc != 0) {
    return failed(port, "descriptor adjust", rc);
  }
  const int socket = rte_eth_dev_socket_id(port);
  const unsigned numa = socket < 0 ? 0u : static_cast<unsigned>(socket);
  for (uint16_t q = 0; q < queues.rx; ++q) {
    if (int rc = rte_eth_rx_queue_setup(port, q, rxd, numa, nullptr, pool); rc != 0) {
      return failed(port, "RX queue setup", rc);
    }
  }
  rte_eth_txconf txconf = info.default_txconf;
  txconf.offloads = conf.txmode.offloads;
  for (uint16_t q = 0; q < queues.tx; ++q) {
    if (int rc = rte_eth_tx_queue_setup(port, q, txd, numa, &txconf); rc != 0) {
      return failed(port, "TX queue setup", rc);
    }
  }
  if (int rc = rte_eth_dev_start(port); rc != 0) return failed(port, "start", rc);
  // Virtual devices may not support promiscuous mode; that is harmless for them.
  rte_eth_promiscuous_enable(port);
  return {};
}

}  // namespace sipwall
