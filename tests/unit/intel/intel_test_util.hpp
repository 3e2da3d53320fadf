// Helpers for intel tests: indicators written in one line, events from field lists.
#pragma once

#include <initializer_list>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/diagnostics.hpp"
#include "event/event.hpp"
#include "event/field_catalog.hpp"
#include "intel/event_matcher.hpp"
#include "intel/feed_snapshot.hpp"
#include "intel/indicator.hpp"
#include "intel/indicator_index.hpp"

namespace yagura::intel::testing {

inline Atom A(ObservableType type, std::string value, Direction direction = Direction::kAny,
              HashAlgorithm algorithm = HashAlgorithm::kNone, bool negated = false) {
  Atom atom;
  atom.type = type;
  atom.value = std::move(value);
  atom.direction = direction;
  atom.algorithm = algorithm;
  atom.negated = negated;
  return atom;
}

inline Indicator One(std::string id, Atom atom) {
  Indicator indicator;
  indicator.id = std::move(id);
  indicator.feed = "test";
  indicator.any_of.push_back({std::move(atom)});
  return indicator;
}

inline std::shared_ptr<const FeedSnapshot> Snapshot(std::vector<Indicator> indicators,
                                                    Diagnostics* diagnostics = nullptr) {
  static Diagnostics ignored;
  FeedSnapshot::Builder builder("test", diagnostics ? *diagnostics : ignored);
  FeedStats stats;
  for (auto& indicator : indicators) {
    ++stats.indicators;
    builder.Add(std::move(indicator));
  }
  return builder.Finish(stats);
}

// An event with string fields, interned into `catalog` (which must already hold the matcher's
// fields, so ids are stable).
class EventBuilder {
 public:
  explicit EventBuilder(event::FieldCatalog& catalog) : catalog_(catalog) {}
  event::Event& Make(std::initializer_list<std::pair<std::string, std::string>> fields) {
    storage_.assign(fields.begin(), fields.end());
    for (const auto& [name, value] : storage_) catalog_.Intern(name);
    event_.Reset(catalog_.size());
    for (const auto& [name, value] : storage_)
      event_.Add(catalog_.Find(name), event::FieldValue{value});
    return event_;
  }

 private:
  event::FieldCatalog& catalog_;
  std::vector<std::pair<std::string, std::string>> storage_;
  event::Event event_;
};

// The ids of the indicators that match, in order.
inline std::vector<std::string> MatchIds(const IntelMatcher& matcher, const IndicatorIndex& index,
                                         const event::Event& event) {
  IntelMatcher::Scratch scratch;
  matcher.Match(index, event, scratch);
  std::vector<std::string> ids;
  for (const auto& match : scratch.matches())
    ids.emplace_back(index.snapshots()[match.snapshot]->View(match.indicator).id);
  return ids;
}

}  // namespace yagura::intel::testing
