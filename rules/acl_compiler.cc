#include "rules/acl_compiler.h"

#include <string>
#include <unordered_map>

#include "acl/prefix_table.h"

namespace sipwall::rules {
namespace {

std::string_view third_person(AclAction a) {
  return a == AclAction::allow ? "allows" : "denies";
}

}  // namespace

std::vector<AclEntry> compile_acl(std::span<const AclDecl> decls, Diagnostics& diags) {
  std::vector<AclEntry> out;
  std::unordered_map<std::string, const AclDecl*> by_prefix;
  for (const AclDecl& d : decls) {
    const std::string key = d.entry.prefix.to_string();
    const auto [it, fresh] = by_prefix.try_emplace(key, &d);
    if (!fresh) {
      const AclDecl& prev = *it->second;
      const std::string verb(to_string(d.entry.action));
      if (prev.entry.action != d.entry.action) {
        diags.error(d.prefix_where, "contradictory ACL: '" + d.id + "' would " + verb + " " + key +
                                        " but '" + prev.id + "' (at " + prev.where.to_string() +
                                        ") " + std::string(third_person(prev.entry.action)) +
                                        " it");
      } else {
        diags.error(d.prefix_where, "duplicate ACL prefix " + key + ": '" + prev.id + "' (at " +
                                        prev.where.to_string() + ") already " +
                                        std::string(third_person(d.entry.action)) + " it");
      }
      continue;
    }
    out.push_back(d.entry);
  }
  // What the dataplane will do with them; after the checks above this is not expected to fail.
  if (!diags.has_errors() && !out.empty()) {
    const auto table = PrefixTable::build(out);
    if (!table) diags.error(decls.front().where, "ACL refused: " + table.error());
  }
  return out;
}

}  // namespace sipwall::rules
