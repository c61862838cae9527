#include "rules/include_resolver.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "rules_test_support.h"

namespace sipwall::rules {
namespace {

using test::memory_reader;

TEST(IncludeResolver, ExpandsIncludesInPlaceRelativeToTheIncludingFile) {
  Diagnostics d;
  const auto r =
      resolve_includes("etc/main.rules",
                       memory_reader({{"etc/main.rules", "a\ninclude \"sub/x.rules\"\nd\n"},
                                      {"etc/sub/x.rules", "b\ninclude \"../y.rules\"\n"},
                                      {"etc/y.rules", "c\n"}}),
                       d);
  ASSERT_FALSE(d.has_errors()) << d.to_string();
  ASSERT_EQ(r.statements.size(), 4u);
  EXPECT_EQ(r.statements[0].keyword, "a");
  EXPECT_EQ(r.statements[1].keyword, "b");
  EXPECT_EQ(r.statements[1].where.file, "etc/sub/x.rules");
  EXPECT_EQ(r.statements[2].keyword, "c");
  EXPECT_EQ(r.statements[2].where.file, "etc/y.rules");
  EXPECT_EQ(r.statements[3].keyword, "d");
  EXPECT_EQ(r.files,
            (std::vector<std::string>{"etc/main.rules", "etc/sub/x.rules", "etc/y.rules"}));
  EXPECT_TRUE(r.version.starts_with("fnv1a64:"));
}

TEST(IncludeResolver, VersionChangesWithAnyIncludedFile) {
  Diagnostics d;
  const auto a = resolve_includes("m", memory_reader({{"m", "include \"i\"\n"}, {"i", "x\n"}}), d);
  const auto b = resolve_includes("m", memory_reader({{"m", "include \"i\"\n"}, {"i", "y\n"}}), d);
  EXPECT_NE(a.version, b.version);
}

TEST(IncludeResolver, Errors) {
  Diagnostics d;
  resolve_includes("main.rules",
                   memory_reader({{"main.rules",
                                   "include \"a.rules\"\ninclude \"missing.rules\"\n"
                                   "include a.rules\ninclude \"a.rules\"\ninclude\n"},
                                  {"a.rules", "include \"b.rules\"\n"},
                                  {"b.rules", "include \"./a.rules\"\n"}}),
                   d);
  EXPECT_EQ(d.to_string(),
            "b.rules:1:9: error: include cycle: a.rules -> b.rules -> a.rules\n"
            "main.rules:2:9: error: cannot read 'missing.rules': No such file or directory\n"
            "main.rules:3:9: error: include expects one quoted file name: include "
            "\"file.rules\"\n"
            "main.rules:4:9: error: 'a.rules' is already included (at main.rules:1:9); include "
            "it once\n"
            "main.rules:5:1: error: include expects one quoted file name: include "
            "\"file.rules\"\n");
}

TEST(IncludeResolver, DepthOver16IsAnError) {
  std::map<std::string, std::string> files;
  for (int i = 0; i < 20; ++i) {
    // Appended piecewise: GCC 12 -O3 raises a false -Wrestrict on the chained operator+.
    std::string text = "x\ninclude \"f";
    text += std::to_string(i + 1);
    text += "\"\n";
    std::string name = "f";
    name += std::to_string(i);
    files[name] = text;
  }
  files["f20"] = "x\n";
  Diagnostics d;
  const auto r = resolve_includes("f0", memory_reader(files), d);
  EXPECT_EQ(d.to_string(), "f16:2:9: error: includes nested deeper than 16 files\n");
  EXPECT_EQ(r.files.size(), 17u);  // f0 (depth 0) .. f16 (depth 16)
}

TEST(IncludeResolver, UnreadableRoot) {
  Diagnostics d;
  resolve_includes("nope.rules", memory_reader({}), d);
  EXPECT_EQ(d.to_string(), "nope.rules: error: cannot read rule file: No such file or directory\n");
}

TEST(IncludeResolver, FilesystemReader) {
  const auto dir = std::filesystem::temp_directory_path() / "sipwall_rules_include_test";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "main.rules") << "a\ninclude \"other.rules\"\n";
  std::ofstream(dir / "other.rules") << "b\n";
  Diagnostics d;
  const auto r = resolve_includes((dir / "main.rules").string(), filesystem_reader(), d);
  EXPECT_FALSE(d.has_errors()) << d.to_string();
  EXPECT_EQ(r.statements.size(), 2u);
  EXPECT_FALSE(filesystem_reader()((dir / "none").string()).ok());
  EXPECT_EQ(filesystem_reader()(dir.string()).error(), "is a directory");
  // Endless or runaway files are refused at the cap, not read until memory runs out.
  EXPECT_EQ(filesystem_reader()("/dev/zero").error(), "larger than 16 MiB");
  std::ofstream(dir / "huge.rules") << std::string(kMaxRuleFileBytes + 1, '#');
  EXPECT_EQ(filesystem_reader()((dir / "huge.rules").string()).error(), "larger than 16 MiB");
  std::ofstream(dir / "at-cap.rules") << std::string(kMaxRuleFileBytes, '#');
  EXPECT_EQ(filesystem_reader()((dir / "at-cap.rules").string()).value().size(), kMaxRuleFileBytes);
  std::filesystem::remove_all(dir);
}

// Found by the rules fuzz target: every path reads the same includes (as through a symlink
// `dN -> .`), each path new as written, so only a cap on the files read stops the fan-out
// (two includes per file reached 2^16 reads; here twenty per file for two levels).
TEST(IncludeResolver, FanOutStopsAtTheFileLimit) {
  Diagnostics d;
  size_t reads = 0;
  const FileReader fan_out = [&](const std::string& path) -> Result<std::string> {
    ++reads;
    std::string text;
    if (std::count(path.begin(), path.end(), '/') >= 2) return text;  // 1 + 20 + 400 files
    for (int i = 0; i < 20; ++i) text += "include \"d" + std::to_string(i) + "/x.rules\"\n";
    return text;
  };
  const auto r = resolve_includes("x.rules", fan_out, d);
  EXPECT_EQ(reads, kMaxIncludeFiles);
  EXPECT_EQ(r.files.size(), kMaxIncludeFiles);
  EXPECT_NE(d.to_string().find("more than 256 files in one rule set"), std::string::npos)
      << d.to_string();
}

}  // namespace
}  // namespace sipwall::rules
