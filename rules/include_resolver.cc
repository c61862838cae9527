#include "rules/include_resolver.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <unordered_map>
#include <utility>

#include "rules/content_hash.h"
#include "rules/rule_parser.h"

namespace sipwall::rules {
namespace {

namespace fs = std::filesystem;

class Resolver {
 public:
  Resolver(const FileReader& reader, Diagnostics& diags) : reader_(reader), diags_(diags) {}

  ResolvedRules run(const std::string& root) {
    const std::string path = fs::path(root).lexically_normal().string();
    Result<std::string> text = reader_(path);
    if (!text) {
      diags_.error({path, 0, 0}, "cannot read rule file: " + text.error());
    } else {
      first_seen_[path] = SourceLocation{path, 0, 0};
      load(path, *text);
    }
    out_.version = hash_.version();
    return std::move(out_);
  }

 private:
  void load(const std::string& path, const std::string& text) {
    out_.files.push_back(path);
    hash_.add(text);
    stack_.push_back(path);
    for (Statement& st : parse_rules(text, path, diags_)) {
      if (st.keyword == "include") {
        include(path, st);
      } else {
        out_.statements.push_back(std::move(st));
      }
    }
    stack_.pop_back();
  }

  void include(const std::string& from, const Statement& st) {
    if (st.args.size() != 1 || st.args[0].has_key || st.args[0].value.kind != TokenKind::string) {
      const SourceLocation& at = st.args.empty() ? st.where : st.args[0].value.where;
      diags_.error(at, "include expects one quoted file name: include \"file.rules\"");
      return;
    }
    const Value& name = st.args[0].value;
    if (name.text.empty()) {
      diags_.error(name.where, "include expects a file name, got \"\"");
      return;
    }
    const fs::path target = fs::path(name.text).is_absolute()
                                ? fs::path(name.text)
                                : fs::path(from).parent_path() / name.text;
    const std::string path = target.lexically_normal().string();

    for (size_t i = 0; i < stack_.size(); ++i) {
      if (stack_[i] != path) continue;
      std::string chain;
      for (size_t j = i; j < stack_.size(); ++j) chain += stack_[j] + " -> ";
      diags_.error(name.where, "include cycle: " + chain + path);
      return;
    }
    if (stack_.size() > kMaxIncludeDepth) {
      diags_.error(name.where,
                   "includes nested deeper than " + std::to_string(kMaxIncludeDepth) + " files");
      return;
    }
    if (out_.files.size() >= kMaxIncludeFiles) {
      diags_.error(name.where, "more than " + std::to_string(kMaxIncludeFiles) +
                                   " files in one rule set; '" + path + "' not read");
      return;
    }
    if (const auto seen = first_seen_.find(path); seen != first_seen_.end()) {
      diags_.error(name.where, "'" + path + "' is already included (at " +
                                   seen->second.to_string() + "); include it once");
      return;
    }
    Result<std::string> text = reader_(path);
    if (!text) {
      diags_.error(name.where, "cannot read '" + path + "': " + text.error());
      return;
    }
    first_seen_[path] = name.where;
    load(path, *text);
  }

  const FileReader& reader_;
  Diagnostics& diags_;
  ResolvedRules out_;
  ContentHash hash_;
  std::vector<std::string> stack_;  // files being loaded, root first
  std::unordered_map<std::string, SourceLocation> first_seen_;
};

}  // namespace

FileReader filesystem_reader() {
  return [](const std::string& path) -> Result<std::string> {
    std::error_code ec;
    if (fs::is_directory(path, ec)) return Result<std::string>::failure("is a directory");
    std::ifstream in(path, std::ios::binary);
    if (!in) return Result<std::string>::failure(std::strerror(errno));
    std::string text;
    char chunk[65536];
    while (in.read(chunk, sizeof chunk) || in.gcount() > 0) {
      text.append(chunk, static_cast<size_t>(in.gcount()));
      if (text.size() > kMaxRuleFileBytes) {
        return Result<std::string>::failure("larger than " +
                                            std::to_string(kMaxRuleFileBytes >> 20) + " MiB");
      }
    }
    if (in.bad()) return Result<std::string>::failure("read error");
    return text;
  };
}

ResolvedRules resolve_includes(const std::string& root, const FileReader& reader,
                               Diagnostics& diags) {
  return Resolver(reader, diags).run(root);
}

}  // namespace sipwall::rules
