#include "state/outcome.h"

#include "state/state_update.h"

namespace sipwall {

std::string_view to_string(Outcome o) {
  switch (o) {
    case Outcome::added:
      return "added";
    case Outcome::extended:
      return "extended";
    case Outcome::exists:
      return "exists";
    case Outcome::removed:
      return "removed";
    case Outcome::not_found:
      return "not_found";
    case Outcome::full:
      return "full";
    case Outcome::flushed:
      return "flushed";
    case Outcome::invalid:
      return "invalid";
  }
  return "?";
}

std::string_view to_string(StateTable t) {
  switch (t) {
    case StateTable::ban:
      return "ban";
    case StateTable::trust:
      return "trust";
    case StateTable::pinhole:
      return "pinhole";
  }
  return "?";
}

}  // namespace sipwall
