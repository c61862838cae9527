#include "capture_scan.h"

#include <pcap/pcap.h>

#include <cstdio>
#include <memory>

namespace sipwall {
namespace {

constexpr uint32_t kPcapNanoMagic = 0xa1b23c4d;
constexpr uint32_t kPcapNanoMagicSwapped = 0x4d3cb2a1;

bool has_nanosecond_magic(const std::string& path) {
  std::unique_ptr<FILE, decltype(&fclose)> f(fopen(path.c_str(), "rb"), &fclose);
  uint32_t magic = 0;
  if (!f || fread(&magic, sizeof magic, 1, f.get()) != 1) return false;
  return magic == kPcapNanoMagic || magic == kPcapNanoMagicSwapped;
}

}  // namespace

CaptureScan scan_capture(const std::string& path) {
  CaptureScan scan;
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  std::unique_ptr<pcap_t, decltype(&pcap_close)> pcap(
      pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_NANO, errbuf),
      &pcap_close);
  if (!pcap) {
    scan.error = "cannot read capture '" + path + "': " + errbuf;
    return scan;
  }
  if (pcap_datalink(pcap.get()) != DLT_EN10MB) {
    scan.error = "capture '" + path + "' has link type " +
                 (pcap_datalink_val_to_name(pcap_datalink(pcap.get()))
                      ? pcap_datalink_val_to_name(pcap_datalink(pcap.get()))
                      : std::to_string(pcap_datalink(pcap.get()))) +
                 "; sipwall judges Ethernet frames only";
    return scan;
  }
  scan.nanosecond_file = has_nanosecond_magic(path);
  pcap_pkthdr* header = nullptr;
  const u_char* data = nullptr;
  int rc = 0;
  while ((rc = pcap_next_ex(pcap.get(), &header, &data)) == 1) {
    scan.packet_times.push_back(static_cast<Nanos>(header->ts.tv_sec) * kNanosPerSecond +
                                static_cast<Nanos>(header->ts.tv_usec));
  }
  if (rc == PCAP_ERROR) {
    scan.error = "capture '" + path + "' is corrupt after packet " +
                 std::to_string(scan.packet_times.size()) + ": " + pcap_geterr(pcap.get());
  }
  return scan;
}

}  // namespace sipwall
