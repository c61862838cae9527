#include "rule_reloader.h"

#include <rte_malloc.h>

#include <cstdio>

namespace sipwall {

std::unique_ptr<RuleReloader> RuleReloader::create(std::string file, FilterOverrides overrides,
                                                   unsigned workers, uint64_t hash_seed,
                                                   std::string& error) {
  std::unique_ptr<RuleReloader> r(new RuleReloader);
  r->file_ = std::move(file);
  r->overrides_ = std::move(overrides);
  r->workers_ = workers;
  r->hash_seed_ = hash_seed;
  const size_t size = rte_rcu_qsbr_get_memsize(workers);
  r->qsbr_ =
      static_cast<rte_rcu_qsbr*>(rte_zmalloc("sipwall_rules_qsbr", size, RTE_CACHE_LINE_SIZE));
  if (!r->qsbr_ || rte_rcu_qsbr_init(r->qsbr_, workers) != 0) {
    error = "cannot set up QSBR for rule reloads";
    return nullptr;
  }
  RuleLoad load = load_rules(r->file_, r->overrides_, r->limit_slots_);
  if (!load.error.empty()) {
    error = load.error;
    return nullptr;
  }
  if (!load.warning.empty()) std::fprintf(stderr, "sipwall-dataplane: %s\n", load.warning.c_str());
  load.rules.filter.hash_seed = hash_seed;
  auto built = FilterPolicy::build(load.rules.filter, load.rules.signatures, workers, &r->slots_,
                                   load.rules.version);
  if (!built.policy) {
    error = built.error;
    return nullptr;
  }
  r->owned_ = std::move(built.policy);
  r->current_.store(r->owned_.get(), std::memory_order_release);
  r->rules_ = std::move(load.rules);
  r->status_.source = r->rules_.source;
  r->status_.version = r->rules_.version;
  return r;
}

RuleReloader::~RuleReloader() {
  rte_free(qsbr_);
}

PolicyFeed RuleReloader::feed(unsigned worker) const {
  return {&current_, qsbr_, worker};
}

std::string RuleReloader::reload() {
  RuleLoad load = load_rules(file_, overrides_, limit_slots_);
  std::string error = load.error;
  std::unique_ptr<const FilterPolicy> next;
  if (error.empty()) {
    // Table capacities and the hash seed belong to the running tables, not to the rules.
    load.rules.filter.hash_seed = hash_seed_;
    auto built = FilterPolicy::build(load.rules.filter, load.rules.signatures, workers_, &slots_,
                                     load.rules.version);
    error = built.error;
    next = std::move(built.policy);
  }
  if (!error.empty()) {
    std::lock_guard lock(status_mutex_);
    ++status_.reloads_failed;
    status_.last_error = error;
    return "refused, still running " + status_.version + ":\n" + error;
  }
  current_.store(next.get(), std::memory_order_release);
  // Every worker passes a quiescent point after each burst; after that none can hold the old.
  rte_rcu_qsbr_synchronize(qsbr_, RTE_QSBR_THRID_INVALID);
  owned_ = std::move(next);
  std::lock_guard lock(status_mutex_);
  rules_ = std::move(load.rules);
  ++status_.reloads_applied;
  status_.source = rules_.source;
  status_.version = rules_.version;
  status_.last_error.clear();
  return "ok, running " + status_.version + " from " + status_.source;
}

RuleReloader::Status RuleReloader::status() const {
  std::lock_guard lock(status_mutex_);
  return status_;
}

std::vector<std::string> RuleReloader::watched_files() const {
  std::lock_guard lock(status_mutex_);
  return rules_.files;
}

}  // namespace sipwall
