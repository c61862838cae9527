#include "sip_corpus.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace sipwall::testing {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string lf_to_crlf(const std::string& s) {
  std::string out;
  out.reserve(s.size() + s.size() / 16);
  for (const char c : s) {
    if (c == '\n') out += '\r';
    out += c;
  }
  return out;
}

void fix_content_length(std::string& msg) {
  const size_t blank = msg.find("\r\n\r\n");
  if (blank == std::string::npos) return;
  const size_t body = msg.size() - (blank + 4);
  const std::string key = "\r\nContent-Length: ";
  const size_t at = msg.find(key);
  if (at == std::string::npos || at > blank) return;
  const size_t value = at + key.size();
  const size_t eol = msg.find("\r\n", value);
  msg.replace(value, eol - value, std::to_string(body));
}

}  // namespace

std::string corpus_root() {
  if (const char* env = std::getenv("SIPWALL_CORPUS"); env != nullptr && *env != '\0') return env;
  return SIPWALL_CORPUS_DEFAULT;
}

std::vector<CorpusEntry> load_manifest(const std::string& set) {
  std::vector<CorpusEntry> rows;
  std::ifstream in(corpus_root() + "/" + set + "/MANIFEST.tsv");
  std::string line;
  bool header = true;
  while (std::getline(in, line)) {
    if (header) {
      header = false;
      continue;
    }
    if (line.empty()) continue;
    std::istringstream cols(line);
    CorpusEntry e;
    std::string section;
    e.set = set;
    if (std::getline(cols, e.file, '\t') && std::getline(cols, section, '\t') &&
        std::getline(cols, e.expect, '\t')) {
      rows.push_back(e);
    }
  }
  return rows;
}

std::string load_message(const CorpusEntry& e) {
  std::string msg = read_file(corpus_root() + "/" + e.set + "/" + e.file);
  if (e.set != "rfc5118") return msg;
  msg = lf_to_crlf(msg);
  if (msg.find("\r\n\r\n") == std::string::npos) msg += "\r\n";
  fix_content_length(msg);
  return msg;
}

}  // namespace sipwall::testing
