#pragma once

#include <string>
#include <string_view>

namespace sipwall {

// Writes `text` to `path` so that a reader (or a crash) sees the old file or the new one,
// never a part: a temporary file of a unique name beside it (mode 0600), fsync, rename over
// `path`, fsync of the directory. Returns an error text naming the step, "" on success; on
// failure the temporary file is removed and `path` is untouched.
std::string write_file_atomically(const std::string& path, std::string_view text);

}  // namespace sipwall
