#include "state_service.h"

#include <string>
#include <type_traits>

#include "control/protocol/state_commands.h"

namespace sipwall {
namespace {

// The owner a state command speaks as.
Owner speaker(const Command& command) {
  return std::visit(
      [](const auto& c) -> Owner {
        if constexpr (requires { c.as; }) {
          return c.as;
        } else {
          return Owner::operator_;
        }
      },
      command);
}

}  // namespace

DynamicStateConfig dynamic_state_config(const FilterConfig& c) {
  return {c.ban_capacity, c.trust_capacity, c.pinhole_capacity, c.enforce_pinholes, c.hash_seed};
}

StateService::StateService(const DynamicStateConfig& config) : state_(config) {}

StateService::Step StateService::execute(uint64_t session, const Command& command, Nanos now) {
  if (const auto* l = std::get_if<ListCommand>(&command)) {
    return {list_reply(*l, state_, now), std::nullopt};
  }
  auto sync = syncs_.find(session);
  if (const auto* b = std::get_if<SyncBeginCommand>(&command)) {
    if (sync != syncs_.end()) return {Reply::error("sync already begun"), std::nullopt};
    syncs_[session] = Sync{b->epoch, b->as, {}};
    return {Reply::ok().with("epoch", std::to_string(b->epoch)), std::nullopt};
  }
  if (std::holds_alternative<SyncEndCommand>(command)) {
    if (sync == syncs_.end()) return {Reply::error("sync end without sync begin"), std::nullopt};
    Work work;
    work.sync_adds = std::move(sync->second.adds);
    work.sync_epoch = sync->second.epoch;
    const Owner owner = sync->second.owner;
    syncs_.erase(sync);
    work.updates.push_back(
        StateUpdate{ReplaceOwned{owner, work.sync_adds.data(), work.sync_adds.size()}});
    work.result = state_.apply(work.updates.back(), now);
    full_rejections_ += work.result.rejected;
    return {std::nullopt, std::move(work)};
  }
  auto update = to_state_update(command, now);
  if (!update) return {Reply::error("not a state command"), std::nullopt};
  if (auto* a = std::get_if<AddPrefix>(&update->op); a && a->table == StateTable::ban) {
    a->label = ban_labels_.label(a->id, a->owner);  // workers count its drops under it
  }
  if (sync != syncs_.end()) {
    // Inside a sync: the client's adds are collected for `sync end`; anything else would make
    // the replacement ambiguous.
    const bool add = std::holds_alternative<AddPrefix>(update->op) ||
                     std::holds_alternative<OpenPinhole>(update->op);
    if (!add) return {Reply::error("only adds between sync begin and sync end"), std::nullopt};
    if (speaker(command) != sync->second.owner) {
      return {Reply::error("as= differs from sync begin"), std::nullopt};
    }
    if (sync->second.adds.size() >= kMaxSyncEntries) {
      return {Reply{ReplyStatus::full, {}, 0, {}, {}}, std::nullopt};
    }
    sync->second.adds.push_back(*update);
    return {Reply::ok().with("buffered", std::to_string(sync->second.adds.size())), std::nullopt};
  }
  Work work;
  work.result = state_.apply(*update, now);
  if (work.result.outcome == Outcome::full) {
    ++full_rejections_;
    return {reply_for(work.result), std::nullopt};  // no worker is touched
  }
  if (work.result.outcome == Outcome::invalid) return {reply_for(work.result), std::nullopt};
  work.updates.push_back(*update);
  return {std::nullopt, std::move(work)};
}

Reply StateService::reply_after(const Work& work, bool any_worker_full) {
  ApplyResult result = work.result;
  if (any_worker_full && result.outcome != Outcome::flushed) result.outcome = Outcome::full;
  Reply r = reply_for(result);
  if (work.sync_epoch && r.status == ReplyStatus::ok) {
    r.with("epoch", std::to_string(*work.sync_epoch));
  }
  return r;
}

void StateService::end_session(uint64_t session) {
  syncs_.erase(session);
}

}  // namespace sipwall
