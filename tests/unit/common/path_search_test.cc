#include "common/path_search.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace sipwall {
namespace {

namespace fs = std::filesystem;

TEST(PathSearch, FirstRegularFileWinsDirectoriesAndMissingAreSkipped) {
  char tmpl[] = "/tmp/sipwall-path-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const fs::path dir = tmpl;
  std::ofstream(dir / "b") << "x";
  std::ofstream(dir / "c") << "x";
  const std::string b = (dir / "b").string(), c = (dir / "c").string();
  EXPECT_EQ(first_existing_file((dir / "a").string() + ":" + b + ":" + c), b);
  EXPECT_EQ(first_existing_file(dir.string() + "::" + c), c);  // a directory, an empty entry
  EXPECT_EQ(first_existing_file((dir / "a").string()), "");
  EXPECT_EQ(first_existing_file(""), "");
  fs::remove_all(dir);
}

}  // namespace
}  // namespace sipwall
