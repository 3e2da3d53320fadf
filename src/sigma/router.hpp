// Logsource routing for the matcher: which rules, and which field indexes, an event of a given
// class needs.
//
// The number of distinct event classes (product + services + categories + recognised) in any
// input is small, so a Route is computed once per class, the first time an event of that class
// is seen, and kept for the life of the matcher. The shared RouteTable is guarded by a mutex;
// each thread puts a RouteCache in front of it, so the steady state is a few string compares
// and no lock.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "event/field_catalog.hpp"
#include "event/logsource.hpp"

namespace yagura::sigma {

class KeywordPrefilter;

// A route's keyword prefilter, compiled the first time an event of the class asks for it:
// EVTX records always collect every value, so a scan of them never compiles one. Thread-safe.
class LazyKeywordPrefilter {
 public:
  using Compile = std::function<std::shared_ptr<const KeywordPrefilter>()>;
  explicit LazyKeywordPrefilter(Compile compile) : compile_(std::move(compile)) {}
  // Null when the keyword searches cannot be covered by a prefilter.
  [[nodiscard]] const KeywordPrefilter* Get() const {
    std::call_once(once_, [this] { prefilter_ = compile_(); });
    return prefilter_.get();
  }

 private:
  Compile compile_;
  mutable std::once_flag once_;
  mutable std::shared_ptr<const KeywordPrefilter> prefilter_;
};

struct Route {
  std::vector<uint64_t> candidates;  // bitset over rule indices: rules routed to this class
  std::vector<uint32_t> always;      // candidate rules evaluated on every event, ascending
  std::vector<uint32_t> field_indexes;  // matcher field indexes some candidate rule reads
  // The event field of each of field_indexes (NO_FIELD for keywords), so that the fields an
  // event lacks are passed over without touching their indexes (a cache miss each: most of a
  // class's fields are absent from most of its events).
  std::vector<event::FieldId> index_fields;
  bool any_candidate = false;
  // Keyword searches of the candidate rules: none, or covered by `keyword_prefilter` (null when
  // they cannot be covered: then every event of the class needs all its values).
  bool keyword_rules = false;
  std::shared_ptr<const LazyKeywordPrefilter> keyword_prefilter;

  [[nodiscard]] bool IsCandidate(uint32_t rule) const {
    return (candidates[rule >> 6] >> (rule & 63)) & 1;
  }
};

// An owning copy of a LogsourceClass, comparable with the views of a live event.
class RouteKey {
 public:
  RouteKey() = default;
  explicit RouteKey(const event::LogsourceClass& cls);
  [[nodiscard]] bool Matches(const event::LogsourceClass& cls) const;

 private:
  uint32_t id_ = 0;  // LogsourceClass::id
  bool recognised_ = false;
  std::string product_;
  std::vector<std::string> services_;
  std::vector<std::string> categories_;
};

class RouteTable {
 public:
  using Builder = std::function<Route(const event::LogsourceClass&)>;
  explicit RouteTable(Builder builder) : builder_(std::move(builder)) {}

  // Thread-safe. The Route lives as long as the table.
  [[nodiscard]] const Route& Find(const event::LogsourceClass& cls) const;

 private:
  Builder builder_;
  mutable std::mutex mutex_;
  mutable std::vector<std::pair<RouteKey, std::unique_ptr<Route>>> routes_;
};

// Per-thread front of a RouteTable. Not thread-safe.
class RouteCache {
 public:
  [[nodiscard]] const Route& Find(const event::LogsourceClass& cls, const RouteTable& table);

 private:
  // Past this many classes a thread asks the shared table directly; inputs that varied never
  // come close to it, and a bounded cache cannot grow without limit on hostile input.
  static constexpr size_t MAX_ENTRIES = 64;
  std::vector<std::pair<RouteKey, const Route*>> entries_;
  size_t last_ = 0;
};

}  // namespace yagura::sigma
