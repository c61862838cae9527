#pragma once

#include <span>
#include <vector>

#include "acl/acl_types.h"
#include "rules/diagnostics.h"
#include "rules/rule_set.h"

namespace sipwall::rules {

// The ACL entries of `allow`/`deny` statements, in file order, checked the way the dataplane's
// PrefixTable will build them. The same prefix listed twice is an error naming both statements
// (contradictory when the actions differ); a prefix nested in another with a different action
// is ordinary longest-prefix match and fine.
std::vector<AclEntry> compile_acl(std::span<const AclDecl> decls, Diagnostics& diags);

}  // namespace sipwall::rules
