#pragma once

// Test helper: the RFC 4475 / RFC 5118 corpora under $SIPWALL_CORPUS, turned into wire bytes.

#include <string>
#include <vector>

namespace sipwall::testing {

struct CorpusEntry {
  std::string set;     // "rfc4475" or "rfc5118"
  std::string file;    // file name inside the set
  std::string expect;  // valid / invalid-syntax / invalid-semantic
};

// $SIPWALL_CORPUS, or SIPWALL_CORPUS_DEFAULT from the build.
std::string corpus_root();

// Rows of <root>/<set>/MANIFEST.tsv (header row skipped); empty if the file is missing.
std::vector<CorpusEntry> load_manifest(const std::string& set);

// The datagram to test. rfc4475: the file's bytes unchanged. rfc5118: LF -> CRLF, the empty
// line added where the archive lacks it (4.10), Content-Length set to the real body length
// (4.6, 4.8, 4.9 are wrong in the archive; these messages test IPv6, not framing).
std::string load_message(const CorpusEntry& e);

// A typical carrier INVITE with SDP, about 970 octets: the benchmark's message and a base the
// differential tests mutate.
std::string typical_invite();

}  // namespace sipwall::testing
