#include "common/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

namespace sipwall {

namespace {

std::string errno_text(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

// Closes and removes the temporary file, returning the error that made it necessary.
std::string abandon(int fd, const std::string& tmp, std::string error) {
  ::close(fd);
  ::unlink(tmp.c_str());
  return error;
}

}  // namespace

std::string write_file_atomically(const std::string& path, std::string_view text) {
  // Unique, so two writers of the same file never share a temporary file.
  std::string tmp = path + ".tmp.XXXXXX";
  const int fd = ::mkostemp(tmp.data(), O_CLOEXEC);  // mode 0600
  if (fd < 0) return errno_text(path + ".tmp");
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return abandon(fd, tmp, errno_text(tmp));
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) return abandon(fd, tmp, errno_text(tmp + ": fsync"));
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string e = errno_text(path + ": rename");
    ::unlink(tmp.c_str());
    return e;
  }
  // The rename itself survives a crash once the directory is on disk.
  const std::string dir = std::filesystem::path(path).parent_path().string();
  const int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return {};
}

}  // namespace sipwall
