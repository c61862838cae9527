// What every benchmark reports beside its figures: the CPU it ran on, and a thread-CPU-time
// clock (time other processes take from a shared core is not counted).
#pragma once

#include <ctime>
#include <fstream>
#include <string>

namespace sipwall::perf {

inline double thread_cpu_ns() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e9 + static_cast<double>(t.tv_nsec);
}

// The "model name" of /proc/cpuinfo, or "unknown".
inline std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("model name")) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

}  // namespace sipwall::perf
