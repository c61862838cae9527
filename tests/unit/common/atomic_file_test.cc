#include "common/atomic_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace sipwall {
namespace {

namespace fs = std::filesystem;

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(AtomicFile, ReplacesTheFileAndLeavesNothingBeside) {
  char tmpl[] = "/tmp/sipwall-atomic-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const fs::path dir = tmpl;
  const std::string path = (dir / "f").string();
  ASSERT_EQ(write_file_atomically(path, "one\n"), "");
  EXPECT_EQ(read(path), "one\n");
  ASSERT_EQ(write_file_atomically(path, "two\n"), "");
  EXPECT_EQ(read(path), "two\n");
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);  // secrets may be written with it
  size_t files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++files;
  EXPECT_EQ(files, 1u);
  // A directory that does not exist: an error naming the file, nothing written.
  const std::string error = write_file_atomically((dir / "no" / "f").string(), "x");
  EXPECT_NE(error.find((dir / "no" / "f").string()), std::string::npos) << error;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace sipwall
