#pragma once

#include <string_view>
#include <vector>

namespace sipwall::rules {

// `sipwall-rules explain FILE --pcap CAPTURE`: judges the capture with the rule file through
// the dataplane's own offline mode and prints, for every packet, its verdict and the rule,
// limit or ACL entry that decided it with that rule's location. Returns the exit status.
int explain_command(const std::vector<std::string_view>& args);

}  // namespace sipwall::rules
