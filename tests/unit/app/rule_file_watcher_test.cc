#include "rule_file_watcher.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

namespace sipwall {
namespace {

namespace fs = std::filesystem;

class RuleFileWatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "sipwall-watch-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  static void write(const std::string& file, const std::string& text) {
    std::ofstream out(file, std::ios::trunc);
    out << text;
  }

  // inotify queues events inside the system call that caused them, so they are pending by the
  // time the test looks; the poll only bounds the wait in case that ever changes.
  static bool changed(RuleFileWatcher& w) {
    pollfd p{w.fd(), POLLIN, 0};
    ::poll(&p, 1, 200);
    return w.changed();
  }
  // No change: the fd may be readable (events for other names), but changed() says false and
  // leaves nothing pending.
  static void expect_quiet(RuleFileWatcher& w) {
    EXPECT_FALSE(w.changed());
    pollfd p{w.fd(), POLLIN, 0};
    EXPECT_EQ(::poll(&p, 1, 0), 0) << "changed() must drain every event";
  }

  fs::path dir_;
};

TEST_F(RuleFileWatcherTest, NotWatchingHasNoFd) {
  RuleFileWatcher w;
  EXPECT_EQ(w.fd(), -1);
  EXPECT_FALSE(w.changed());
}

TEST_F(RuleFileWatcherTest, WriteAndCloseTriggersOnce) {
  write(path("site.rules"), "a\n");
  RuleFileWatcher w;
  ASSERT_EQ(w.watch({path("site.rules")}), "");
  ASSERT_GE(w.fd(), 0);
  expect_quiet(w);
  write(path("site.rules"), "b\n");  // truncate + write + close
  EXPECT_TRUE(changed(w));
  expect_quiet(w);
}

TEST_F(RuleFileWatcherTest, ManyEventsCoalesceIntoOneTrue) {
  write(path("site.rules"), "a\n");
  RuleFileWatcher w;
  ASSERT_EQ(w.watch({path("site.rules")}), "");
  for (int i = 0; i < 50; ++i) write(path("site.rules"), std::to_string(i));
  EXPECT_TRUE(changed(w));
  expect_quiet(w);
}

TEST_F(RuleFileWatcherTest, RenameOverTriggers) {
  write(path("site.rules"), "a\n");
  RuleFileWatcher w;
  ASSERT_EQ(w.watch({path("site.rules")}), "");
  // sed -i, Ansible, Puppet: a temp file in the same directory renamed over the target.
  write(path(".site.rules.tmp123"), "b\n");
  ASSERT_EQ(std::rename(path(".site.rules.tmp123").c_str(), path("site.rules").c_str()), 0);
  EXPECT_TRUE(changed(w));
  expect_quiet(w);
}

TEST_F(RuleFileWatcherTest, VimStyleSaveTriggersOnce) {
  write(path("site.rules"), "a\n");
  RuleFileWatcher w;
  ASSERT_EQ(w.watch({path("site.rules")}), "");
  // What vim does on :w with its defaults: swap file, probe file "4913", original renamed to a
  // backup, new file written, backup deleted.
  write(path(".site.rules.swp"), "swap");
  write(path("4913"), "");
  ASSERT_EQ(::unlink(path("4913").c_str()), 0);
  ASSERT_EQ(std::rename(path("site.rules").c_str(), path("site.rules~").c_str()), 0);
  write(path("site.rules"), "b\n");
  ASSERT_EQ(::chmod(path("site.rules").c_str(), 0644), 0);
  ASSERT_EQ(::unlink(path("site.rules~").c_str()), 0);
  ASSERT_EQ(::unlink(path(".site.rules.swp").c_str()), 0);
  EXPECT_TRUE(changed(w));
  expect_quiet(w);
}

TEST_F(RuleFileWatcherTest, UnrelatedFileInTheSameDirectoryDoesNotTrigger) {
  write(path("site.rules"), "a\n");
  RuleFileWatcher w;
  ASSERT_EQ(w.watch({path("site.rules")}), "");
  write(path("other.rules"), "x\n");
  write(path("site.rules.bak"), "x\n");
  write(path("site"), "x\n");
  ASSERT_EQ(std::rename(path("other.rules").c_str(), path("other2.rules").c_str()), 0);
  ASSERT_EQ(::unlink(path("other2.rules").c_str()), 0);
  ASSERT_EQ(::mkdir(path("sub").c_str(), 0755), 0);
  write(path("sub/site.rules"), "x\n");  // same name, other directory
  expect_quiet(w);
}

TEST_F(RuleFileWatcherTest, DeleteAndRecreateTriggers) {
  write(path("site.rules"), "a\n");
  RuleFileWatcher w;
  ASSERT_EQ(w.watch({path("site.rules")}), "");
  ASSERT_EQ(::unlink(path("site.rules").c_str()), 0);
  write(path("site.rules"), "b\n");
  EXPECT_TRUE(changed(w));
  expect_quiet(w);
  // Each half on its own counts too (the caller's debounce decides when to reload).
  ASSERT_EQ(::unlink(path("site.rules").c_str()), 0);
  EXPECT_TRUE(changed(w));
  write(path("site.rules"), "c\n");
  EXPECT_TRUE(changed(w));
}

TEST_F(RuleFileWatcherTest, MoveAwayAndBackTriggers) {
  write(path("site.rules"), "a\n");
  RuleFileWatcher w;
  ASSERT_EQ(w.watch({path("site.rules")}), "");
  ASSERT_EQ(std::rename(path("site.rules").c_str(), path("parked").c_str()), 0);
  EXPECT_TRUE(changed(w));
  ASSERT_EQ(std::rename(path("parked").c_str(), path("site.rules").c_str()), 0);
  EXPECT_TRUE(changed(w));
  expect_quiet(w);
}

TEST_F(RuleFileWatcherTest, FileThatDoesNotExistYetTriggersWhenCreated) {
  RuleFileWatcher w;
  ASSERT_EQ(w.watch({path("later.rules")}), "");
  expect_quiet(w);
  write(path("later.rules"), "a\n");
  EXPECT_TRUE(changed(w));
}

TEST_F(RuleFileWatcherTest, TwoFilesInTwoDirectories) {
  ASSERT_EQ(::mkdir(path("a").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir(path("b").c_str(), 0755), 0);
  write(path("a/root.rules"), "include ../b/inc.rules\n");
  write(path("b/inc.rules"), "x\n");
  RuleFileWatcher w;
  ASSERT_EQ(w.watch({path("a/root.rules"), path("b/inc.rules")}), "");
  write(path("b/inc.rules"), "y\n");
  EXPECT_TRUE(changed(w));
  expect_quiet(w);
  write(path("a/root.rules"), "z\n");
  EXPECT_TRUE(changed(w));
  expect_quiet(w);
  write(path("a/inc.rules"), "not watched in a/\n");
  write(path("b/root.rules"), "not watched in b/\n");
  expect_quiet(w);
}

TEST_F(RuleFileWatcherTest, SameDirectoryUnderTwoSpellingsIsWatchedOnce) {
  write(path("one.rules"), "1\n");
  write(path("two.rules"), "2\n");
  RuleFileWatcher w;
  ASSERT_EQ(w.watch({path("one.rules"), (dir_ / "." / "two.rules").string(), path("one.rules")}),
            "");
  write(path("two.rules"), "3\n");
  EXPECT_TRUE(changed(w));
  write(path("one.rules"), "4\n");
  EXPECT_TRUE(changed(w));
  expect_quiet(w);
}

TEST_F(RuleFileWatcherTest, RewatchReplacesTheList) {
  ASSERT_EQ(::mkdir(path("old").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir(path("new").c_str(), 0755), 0);
  write(path("old/inc.rules"), "1\n");
  write(path("new/inc.rules"), "1\n");
  write(path("root.rules"), "1\n");
  RuleFileWatcher w;
  ASSERT_EQ(w.watch({path("root.rules"), path("old/inc.rules")}), "");
  int fd = w.fd();
  ASSERT_EQ(w.watch({path("root.rules"), path("new/inc.rules"), path("new.rules")}), "");
  EXPECT_EQ(w.fd(), fd) << "the fd stays the same while something is watched";
  expect_quiet(w);
  write(path("old/inc.rules"), "2\n");  // dropped from the list
  expect_quiet(w);
  write(path("new/inc.rules"), "2\n");
  EXPECT_TRUE(changed(w));
  write(path("new.rules"), "2\n");  // new name in a directory watched before
  EXPECT_TRUE(changed(w));
  write(path("root.rules"), "2\n");  // kept
  EXPECT_TRUE(changed(w));
  expect_quiet(w);

  ASSERT_EQ(w.watch({}), "");
  EXPECT_EQ(w.fd(), -1);
  EXPECT_FALSE(w.changed());
}

TEST_F(RuleFileWatcherTest, PendingEventsSurviveARewatch) {
  write(path("root.rules"), "1\n");
  RuleFileWatcher w;
  ASSERT_EQ(w.watch({path("root.rules")}), "");
  write(path("root.rules"), "2\n");  // changed while the caller was reloading
  ASSERT_EQ(w.watch({path("root.rules")}), "");
  EXPECT_TRUE(changed(w));
}

TEST_F(RuleFileWatcherTest, SymlinkTargetIsWatchedToo) {
  ASSERT_EQ(::mkdir(path("real").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir(path("etc").c_str(), 0755), 0);
  write(path("real/site.rules"), "1\n");
  ASSERT_EQ(::symlink(path("real/site.rules").c_str(), path("etc/site.rules").c_str()), 0);
  RuleFileWatcher w;
  ASSERT_EQ(w.watch({path("etc/site.rules")}), "");
  write(path("real/site.rules"), "2\n");  // written through the target
  EXPECT_TRUE(changed(w));
  write(path("real/other.rules"), "2\n");
  ASSERT_EQ(::symlink(path("real/other.rules").c_str(), path("etc/tmp-link").c_str()), 0);
  ASSERT_EQ(std::rename(path("etc/tmp-link").c_str(), path("etc/site.rules").c_str()), 0);
  EXPECT_TRUE(changed(w));  // the link itself replaced
  expect_quiet(w);
}

TEST_F(RuleFileWatcherTest, WatchedDirectoryRemovedCountsAndCanBeWatchedAgain) {
  ASSERT_EQ(::mkdir(path("d").c_str(), 0755), 0);
  write(path("d/site.rules"), "1\n");
  RuleFileWatcher w;
  ASSERT_EQ(w.watch({path("d/site.rules")}), "");
  fs::remove_all(path("d"));
  EXPECT_TRUE(changed(w));
  expect_quiet(w);
  EXPECT_NE(w.watch({path("d/site.rules")}), "");  // the directory is missing: an error
  ASSERT_EQ(::mkdir(path("d").c_str(), 0755), 0);
  ASSERT_EQ(w.watch({path("d/site.rules")}), "");
  write(path("d/site.rules"), "2\n");
  EXPECT_TRUE(changed(w));
}

TEST_F(RuleFileWatcherTest, MissingDirectoryIsAnErrorButTheRestIsWatched) {
  write(path("site.rules"), "1\n");
  RuleFileWatcher w;
  std::string error = w.watch({path("nowhere/inc.rules"), path("site.rules")});
  EXPECT_NE(error.find("nowhere"), std::string::npos) << error;
  ASSERT_GE(w.fd(), 0);
  write(path("site.rules"), "2\n");
  EXPECT_TRUE(changed(w));
}

}  // namespace
}  // namespace sipwall
