#pragma once

#include <string>
#include <string_view>

namespace sipwall {

// The first entry of a ':'-separated list of paths that is a regular file; empty if none is.
// Installed programs look for their data (default rules, sibling programs) this way: the
// installed location first, then the build tree.
std::string first_existing_file(std::string_view colon_separated_paths);

}  // namespace sipwall
