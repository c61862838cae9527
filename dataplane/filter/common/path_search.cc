#include "common/path_search.h"

#include <filesystem>

namespace sipwall {

std::string first_existing_file(std::string_view paths) {
  while (!paths.empty()) {
    const auto colon = paths.find(':');
    const std::string candidate(paths.substr(0, colon));
    std::error_code ec;
    if (!candidate.empty() && std::filesystem::is_regular_file(candidate, ec)) return candidate;
    paths = colon == std::string_view::npos ? std::string_view{} : paths.substr(colon + 1);
  }
  return {};
}

}  // namespace sipwall
