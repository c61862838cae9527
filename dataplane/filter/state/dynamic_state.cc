#include "state/dynamic_state.h"

#include <type_traits>

namespace sipwall {

DynamicState::DynamicState(const DynamicStateConfig& config)
    : bans_(config.ban_capacity, config.hash_seed),
      // Distinct keys per table: knowing one table's layout tells nothing about another's.
      trust_(config.trust_capacity, config.hash_seed ^ 0x7275'7374'0000'0001ULL),
      pinholes_(config.pinhole_capacity, config.hash_seed ^ 0x7069'6e68'0000'0002ULL),
      enforce_pinholes_(config.enforce_pinholes) {}

ApplyResult DynamicState::add(const StateUpdate& update, Nanos now) {
  if (const auto* a = std::get_if<AddPrefix>(&update.op)) {
    if (a->table == StateTable::pinhole) return {};
    ExpiringPrefixTable& t = a->table == StateTable::ban ? bans_ : trust_;
    return {t.add(a->prefix, a->until, a->id, a->owner, now, a->label).outcome};
  }
  if (const auto* o = std::get_if<OpenPinhole>(&update.op)) {
    return {pinholes_.open(o->address, o->port, o->src, o->call, o->owner, o->until, now).outcome};
  }
  return {};
}

ApplyResult DynamicState::replace_owned(const ReplaceOwned& r, Nanos now) {
  ApplyResult result{Outcome::flushed};
  result.removed = static_cast<uint32_t>(bans_.flush(r.owner) + trust_.flush(r.owner) +
                                         pinholes_.flush(r.owner));
  for (const StateUpdate& u : r.entries()) {
    const auto* a = std::get_if<AddPrefix>(&u.op);
    const auto* o = std::get_if<OpenPinhole>(&u.op);
    if ((a && a->owner != r.owner) || (o && o->owner != r.owner) || (!a && !o)) continue;
    switch (add(u, now).outcome) {
      case Outcome::added:
      case Outcome::extended:
      case Outcome::exists:
        ++result.added;
        break;
      case Outcome::full:
        ++result.rejected;
        break;
      default:
        break;
    }
  }
  return result;
}

ApplyResult DynamicState::apply(const StateUpdate& update, Nanos now) {
  return std::visit(
      [&](const auto& op) -> ApplyResult {
        using T = std::decay_t<decltype(op)>;
        if constexpr (std::is_same_v<T, AddPrefix> || std::is_same_v<T, OpenPinhole>) {
          return add(update, now);
        } else if constexpr (std::is_same_v<T, RemovePrefix>) {
          if (op.table == StateTable::pinhole) return {};
          return {(op.table == StateTable::ban ? bans_ : trust_).remove(op.prefix, now)};
        } else if constexpr (std::is_same_v<T, ClosePinhole>) {
          return {pinholes_.close(op.address, op.port, op.call, now)};
        } else if constexpr (std::is_same_v<T, FlushTable>) {
          size_t removed = 0;
          switch (op.table) {
            case StateTable::ban:
              removed = bans_.flush(op.owner);
              break;
            case StateTable::trust:
              removed = trust_.flush(op.owner);
              break;
            case StateTable::pinhole:
              removed = pinholes_.flush(op.owner);
              break;
          }
          return {Outcome::flushed, static_cast<uint32_t>(removed)};
        } else if constexpr (std::is_same_v<T, SetPinholeEnforcement>) {
          enforce_pinholes_ = op.on;
          return {Outcome::added};
        } else {
          static_assert(std::is_same_v<T, ReplaceOwned>);
          return replace_owned(op, now);
        }
      },
      update.op);
}

std::string_view DynamicState::ban_id(BanHandle handle) const {
  if (handle >= bans_.capacity()) return {};
  return bans_.entry(handle).id.view();
}

BanLabel DynamicState::ban_label(BanHandle handle) const {
  if (handle >= bans_.capacity()) return kOtherBanLabel;
  const BanLabel label = bans_.entry(handle).label;
  return label < kBanLabelCount ? label : kOtherBanLabel;
}

bool DynamicState::pinhole_admits(const IpAddress& dst, uint16_t port, const IpAddress& src,
                                  Nanos now) const {
  return !enforce_pinholes_ || pinholes_.admits(dst, port, src, now);
}

size_t DynamicState::expire_some(Nanos now, size_t budget) {
  return bans_.expire_some(now, budget) + trust_.expire_some(now, budget) +
         pinholes_.expire_some(now, budget);
}

}  // namespace sipwall
