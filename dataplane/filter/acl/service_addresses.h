#pragma once

#include <span>

#include "acl/prefix_table.h"
#include "common/ip_address.h"
#include "common/result.h"

namespace sipwall {

// The control plane's service addresses (`service` statements and --service-address), built
// once per rule set and shared read-only by the pipeline and the exception path: the one place
// that says what they are and what it means when there are none.
//
// Two questions, one lookup (a PrefixTable of /32 and /128 entries, O(log n)):
//  - contains(a): is `a` one of the configured addresses? With none configured, no address is.
//    The exception path asks this: without service addresses the tap holds no address of
//    ours, so nothing is for it and it may send nothing.
//  - punts_to(a): is signaling to `a` for the control plane (punt budget) rather than transit?
//    With none configured, every destination is: all clean signaling is punted, as before
//    `service` existed. The pipeline asks this.
class ServiceAddresses {
 public:
  ServiceAddresses() = default;  // none configured

  // Refuses an address listed twice (the message names it).
  static Result<ServiceAddresses> build(std::span<const IpAddress> addresses);

  bool contains(const IpAddress& a) const { return !none_ && table_.lookup(a).has_value(); }
  bool punts_to(const IpAddress& a) const { return none_ || table_.lookup(a).has_value(); }
  bool none() const { return none_; }

 private:
  PrefixTable table_;
  bool none_ = true;
};

}  // namespace sipwall
