// The sipwall-passwd tool, run as a program on files in a temporary directory (its path comes
// from the build in $SIPWALL_PASSWD).

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "control/credentials/credentials_file.h"

namespace sipwall {
namespace {

namespace fs = std::filesystem;

struct ToolRun {
  int status = -1;
  std::string output;  // stdout and stderr
};

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

class SipwallPasswdTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tool = std::getenv("SIPWALL_PASSWD");
    ASSERT_NE(tool, nullptr) << "run through meson test (SIPWALL_PASSWD names the tool)";
    tool_ = tool;
    char tmpl[] = "/tmp/sipwall-passwd-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    file_ = (dir_ / "credentials").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Runs the tool with `args` (shell words), `input` on its standard input (not a terminal).
  ToolRun run(const std::string& args, const std::string& input = "") {
    std::ofstream(dir_ / "stdin") << input;
    const std::string command = tool_ + " " + args + " <" + (dir_ / "stdin").string() + " >" +
                                (dir_ / "out").string() + " 2>&1";
    const int raw = std::system(command.c_str());
    ToolRun r;
    r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
    r.output = read(dir_ / "out");
    return r;
  }

  CredentialsFile load() {
    Result<CredentialsFile> f = CredentialsFile::load(file_);
    EXPECT_TRUE(f.ok()) << f.error();
    return f.ok() ? std::move(f).value() : CredentialsFile{};
  }

  std::string tool_;
  fs::path dir_;
  std::string file_;
};

TEST_F(SipwallPasswdTest, CreateSetsAllAlgorithmsNeverThePassword) {
  const ToolRun r = run("-c " + file_ + " alice@sip.example.com", "Correct-Horse-9\n");
  ASSERT_EQ(r.status, 0) << r.output;
  const std::string text = read(file_);
  EXPECT_EQ(text.find("Correct-Horse-9"), std::string::npos);
  const CredentialsFile f = load();
  const CredentialEntry* e = f.find("alice", "sip.example.com");
  ASSERT_NE(e, nullptr);
  for (const DigestAlgorithm a : kAllDigestAlgorithms) {
    DigestHasher h;
    EXPECT_EQ(e->ha1_of(a), digest_ha1(h, a, "alice", "sip.example.com", "Correct-Horse-9"));
  }
  struct stat st {};
  ASSERT_EQ(::stat(file_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // -c refuses to overwrite.
  const ToolRun again = run("-c " + file_ + " bob@sip.example.com", "Correct-Horse-9\n");
  EXPECT_EQ(again.status, 1);
  EXPECT_NE(again.output.find("exists"), std::string::npos) << again.output;
}

TEST_F(SipwallPasswdTest, ChangeVerifyDelete) {
  ASSERT_EQ(run("-c " + file_ + " alice@r", "Correct-Horse-9\n").status, 0);
  ASSERT_EQ(run(file_ + " bob@r", "Battery-Staple-7\n").status, 0);
  EXPECT_EQ(run("-v " + file_ + " alice@r", "Correct-Horse-9\n").status, 0);
  EXPECT_EQ(run("-v " + file_ + " alice@r", "Correct-Horse-8\n").status, 3);
  ASSERT_EQ(run(file_ + " alice@r", "New-Password-42\n").status, 0);
  EXPECT_EQ(run("-v " + file_ + " alice@r", "Correct-Horse-9\n").status, 3);
  EXPECT_EQ(run("-v " + file_ + " alice@r", "New-Password-42\n").status, 0);
  EXPECT_EQ(run("-v " + file_ + " bob@r", "Battery-Staple-7\n").status, 0);
  ASSERT_EQ(run("-D " + file_ + " bob@r").status, 0);
  EXPECT_EQ(load().find("bob", "r"), nullptr);
  EXPECT_NE(load().find("alice", "r"), nullptr);
  const ToolRun missing = run("-D " + file_ + " bob@r");
  EXPECT_EQ(missing.status, 1);
  EXPECT_NE(missing.output.find("bob@r is not in"), std::string::npos) << missing.output;
}

TEST_F(SipwallPasswdTest, PolicyEnforcedAndConfigurable) {
  const ToolRun weak = run("-c " + file_ + " alice@r", "short1A\n");
  EXPECT_EQ(weak.status, 1);
  EXPECT_NE(weak.output.find("password refused: shorter than 12 characters"), std::string::npos)
      << weak.output;
  EXPECT_FALSE(fs::exists(file_));  // nothing written
  EXPECT_EQ(run("-c " + file_ + " alice@r", "alllowercaseletters1\n").status, 1);
  EXPECT_EQ(run("-c --min-length 6 --no-upper --no-digit " + file_ + " alice@r", "abcdef\n").status,
            0);
}

TEST_F(SipwallPasswdTest, ChosenAlgorithms) {
  ASSERT_EQ(run("-c -a SHA-256,sha-512-256 " + file_ + " alice@r", "Correct-Horse-9\n").status, 0);
  const CredentialsFile f = load();
  EXPECT_EQ(f.ha1("alice", "r", DigestAlgorithm::md5), std::nullopt);
  EXPECT_TRUE(f.ha1("alice", "r", DigestAlgorithm::sha256).has_value());
  EXPECT_TRUE(f.ha1("alice", "r", DigestAlgorithm::sha512_256).has_value());
  EXPECT_EQ(run("-c -a MD5-sess " + file_ + "2 alice@r", "Correct-Horse-9\n").status, 2);
}

TEST_F(SipwallPasswdTest, BadFileIsReportedWithLineAndLeftAlone) {
  const std::string bad = "# mine\nalice@r MD5=" + std::string(32, 'a') + "\nbroken line\n";
  std::ofstream(file_) << bad;
  const ToolRun r = run(file_ + " bob@r", "Correct-Horse-9\n");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find(file_ + ":3: expected USER@REALM first, got 'broken'"), std::string::npos)
      << r.output;
  EXPECT_EQ(read(file_), bad);
  const ToolRun check = run("--check " + file_);
  EXPECT_EQ(check.status, 1);
  EXPECT_NE(check.output.find(file_ + ":3: "), std::string::npos) << check.output;
}

TEST_F(SipwallPasswdTest, CommentsKeptAndNoTemporaryFilesLeft) {
  std::ofstream(file_) << "# accounts of the lab\n\n";
  ASSERT_EQ(run(file_ + " alice@r", "Correct-Horse-9\n").status, 0);
  const std::string text = read(file_);
  EXPECT_TRUE(text.starts_with("# accounts of the lab\n\nalice@r MD5=")) << text;
  EXPECT_EQ(run("--check " + file_).output, file_ + ": 1 accounts\n");
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(dir_)) {
    files += e.path().filename().string().starts_with("credentials") ? 1 : 0;
  }
  EXPECT_EQ(files, 1u);
}

TEST_F(SipwallPasswdTest, Usage) {
  EXPECT_EQ(run("").status, 2);
  EXPECT_EQ(run(file_).status, 2);
  EXPECT_EQ(run("-x " + file_ + " a@r").status, 2);
  EXPECT_EQ(run("-c -D " + file_ + " a@r").status, 2);
  EXPECT_EQ(run("--help").status, 0);
  const ToolRun no_realm = run("-c " + file_ + " alice", "Correct-Horse-9\n");
  EXPECT_EQ(no_realm.status, 1);
  EXPECT_NE(no_realm.output.find("expected USER@REALM"), std::string::npos);
  EXPECT_EQ(run("-c " + file_ + " alice@r", "").status, 1);  // no password at all
}

}  // namespace
}  // namespace sipwall
