#pragma once

#include <string>
#include <string_view>

namespace sipwall {

// `s` as a JSON string literal, quotes included (", \ and control characters escaped).
std::string json_string(std::string_view s);

}  // namespace sipwall
