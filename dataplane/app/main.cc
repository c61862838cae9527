// sipwall-dataplane: the DPDK shell around the filter library.
#include <cstdio>
#include <string>
#include <vector>

#include "app_options.h"
#include "live_mode.h"
#include "offline_mode.h"

int main(int argc, char** argv) {
  using namespace sipwall;
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (!handles_own_arguments(args)) return run_live(argc, argv);
  auto parsed = parse_app_options(args);
  if (!parsed.error.empty()) {
    std::fprintf(stderr, "sipwall-dataplane: %s (see --help)\n", parsed.error.c_str());
    return 1;
  }
  switch (parsed.options.mode) {
    case AppMode::help:
      std::printf("%s", usage_text(argv[0]).c_str());
      return 0;
    case AppMode::version:
      std::printf("sipwall-dataplane %s\n", SIPWALL_VERSION);
      return 0;
    case AppMode::offline:
      return run_offline(parsed.options, argv[0]);
    case AppMode::live:
      break;
  }
  std::fprintf(stderr, "sipwall-dataplane: unexpected arguments\n%s", usage_text(argv[0]).c_str());
  return 1;
}
