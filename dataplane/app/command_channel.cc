#include "command_channel.h"

#include <cstdio>

#include "control/protocol/command.h"
#include "control/protocol/reply.h"
#include "state_file.h"

namespace sipwall {

CommandChannel::CommandChannel(const DynamicStateConfig& config, std::string state_file,
                               Clock clock)
    : service_(config),
      state_file_(std::move(state_file)),
      next_save_(std::chrono::steady_clock::now() + kSaveInterval),
      clock_(std::move(clock)) {
  refresh_tables();
}

std::string CommandChannel::create_mailboxes(unsigned workers) {
  return mailboxes_.create(workers);
}

std::optional<std::string> CommandChannel::execute(uint64_t client, std::string_view line) {
  const auto started = std::chrono::steady_clock::now();
  ParseResult parsed = parse_command(line);
  if (const auto* e = std::get_if<ParseError>(&parsed)) return format_reply(Reply::from(*e));
  const Command& command = std::get<Command>(parsed);
  StateService::Step step = service_.execute(client, command, clock_());
  if (step.reply) {
    refresh_tables();
    return format_reply(*step.reply);
  }
  publish(client, std::string(command_name(command)), std::move(*step.work), started);
  return std::nullopt;
}

void CommandChannel::publish(uint64_t client, std::string kind, StateService::Work work,
                             std::chrono::steady_clock::time_point started) {
  auto batch = std::make_unique<UpdateBatch>();
  // Moving the vectors keeps their buffers, so a ReplaceOwned still points at its adds.
  batch->work = std::move(work);
  batch->client = client;
  batch->started = started;
  batch->kind = std::move(kind);
  mailboxes_.publish(std::move(batch));
}

void CommandChannel::poll(const Complete& complete) {
  for (auto& batch : mailboxes_.collect()) {
    bool full = false;
    for (unsigned w = 0; w < mailboxes_.workers(); ++w) full |= batch->worker_full[w] != 0;
    const Reply reply = StateService::reply_after(batch->work, full);
    if (batch->client != 0) complete(batch->client, format_reply(reply));
    latency_.observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - batch->started).count());
    count(batch->kind);
  }
  service_.expire_some(clock_());
  refresh_tables();
  if (!state_file_.empty() && std::chrono::steady_clock::now() >= next_save_) {
    next_save_ = std::chrono::steady_clock::now() + kSaveInterval;
    if (auto e = save(); !e.empty()) std::fprintf(stderr, "sipwall-dataplane: %s\n", e.c_str());
  }
}

void CommandChannel::count(const std::string& kind) {
  std::lock_guard lock(metrics_mutex_);
  ++metrics_.applied[kind];
}

void CommandChannel::refresh_tables() {
  const DynamicState& s = service_.state();
  std::lock_guard lock(metrics_mutex_);
  metrics_.tables[0] = {s.bans().size(), s.bans().capacity(), s.bans().full_rejections()};
  metrics_.tables[1] = {s.trust().size(), s.trust().capacity(), s.trust().full_rejections()};
  metrics_.tables[2] = {s.pinholes().size(), s.pinholes().capacity(),
                        s.pinholes().full_rejections()};
  // Labels are only ever added, so a new count means new names.
  const BanLabels& labels = service_.ban_labels();
  for (size_t i = metrics_.ban_labels.size(); i < labels.size(); ++i) {
    metrics_.ban_labels.emplace_back(labels.name(static_cast<BanLabel>(i)));
  }
}

CommandMetrics CommandChannel::metrics() const {
  std::lock_guard lock(metrics_mutex_);
  CommandMetrics m = metrics_;
  m.apply_latency = latency_.snapshot();
  return m;
}

std::string CommandChannel::restore() {
  if (state_file_.empty()) return {};
  const StateFileLoad load = load_state_file(state_file_, wall_clock_ms());
  if (!load.error.empty()) {
    return "state file refused, starting with an empty dynamic state: " + load.error;
  }
  const Nanos now = clock_();
  size_t applied = 0;
  for (const Command& command : load.commands) {
    StateService::Step step = service_.execute(0, command, now);
    if (step.work) {
      publish(0, std::string(command_name(command)), std::move(*step.work),
              std::chrono::steady_clock::now());
      ++applied;
    }
  }
  refresh_tables();
  return "state file " + state_file_ + ": " + std::to_string(applied) + " entries restored, " +
         std::to_string(load.expired) + " expired";
}

std::string CommandChannel::save() {
  if (state_file_.empty()) return {};
  std::string e =
      write_state_file(state_file_, format_state_file(service_.state(), clock_(), wall_clock_ms()));
  std::lock_guard lock(metrics_mutex_);
  ++(e.empty() ? metrics_.state_file_writes : metrics_.state_file_errors);
  return e.empty() ? e : "state file: " + e;
}

}  // namespace sipwall
