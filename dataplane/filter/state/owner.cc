#include "state/owner.h"

namespace sipwall {

std::string_view to_string(Owner o) {
  switch (o) {
    case Owner::control:
      return "control";
    case Owner::operator_:
      return "operator";
    case Owner::rules:
      return "rules";
  }
  return "?";
}

std::optional<Owner> owner_from_string(std::string_view name) {
  for (const Owner o : {Owner::control, Owner::operator_, Owner::rules}) {
    if (to_string(o) == name) return o;
  }
  return std::nullopt;
}

}  // namespace sipwall
