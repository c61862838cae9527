#pragma once

#include <string>

#include "app_options.h"

namespace sipwall {

// `sipwall-dataplane --offline IN.pcap --out DIR`: like `suricata -r`, runs every packet of a
// capture through the same worker code as live traffic (net_pcap in, net_null out, no
// hugepages, no PCI), with time taken from the packet timestamps. Returns the exit status.
int run_offline(const AppOptions& options, const std::string& program);

}  // namespace sipwall
