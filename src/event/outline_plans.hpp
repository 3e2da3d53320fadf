// Plans over EVTX record outlines (binxml::OutlineStep): records of one template mostly have the
// same outline step for step, only other text, so what reading such a record gives (its fields,
// its JSON) can be worked out once per shape and replayed for the next records of that shape.
// The renderer names each outline's shape (OutlineShapeId); OutlinePlans keeps plans by it.
// Internal to src/event (the flattener and the evtx_dump JSON writer use them).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "event/outline_shape.hpp"

namespace yagura::event {

// Plans in sets of four by the outline's shape (OutlineShapeId, from the renderer that wrote the
// outline): optional values left out give one template several shapes. `Plan` has `shape` (an
// OutlineShapeId; not known: an empty slot), `steps`, `last_used` and `usable` members, and
// `Reset()`, which empties what a recording fills in.
template <typename Plan>
class OutlinePlans {
 public:
  static constexpr unsigned SLOTS_LOG2 = 10;
  static constexpr size_t WAYS = 4;

  // The plan an outline of `steps` steps and `shape` follows, or nullptr; with none, `*record`
  // is the slot to record the outline's plan in (taken, reset and `usable`), or nullptr when
  // the shape is known not to be plannable or is not known.
  Plan* Find(size_t steps, OutlineShapeId shape, Plan** record) {
    *record = nullptr;
    if (!shape.known()) return nullptr;
    if (slots_.empty()) slots_.resize(size_t{1} << SLOTS_LOG2);
    const size_t set = (shape.low >> (64 - SLOTS_LOG2)) & ~(WAYS - 1);
    ++clock_;
    Plan* replace = &slots_[set];
    for (size_t way = 0; way < WAYS; ++way) {
      Plan& candidate = slots_[set + way];
      if (candidate.shape == shape && candidate.steps == steps) {
        candidate.last_used = clock_;
        return candidate.usable ? &candidate : nullptr;  // unusable: read step by step
      }
      if (candidate.last_used < replace->last_used) replace = &candidate;
    }
    replace->shape = shape;
    replace->steps = steps;
    replace->last_used = clock_;
    replace->usable = true;
    replace->Reset();
    *record = replace;
    return nullptr;
  }
  // Forgets `plan` (its recording failed).
  static void Drop(Plan* plan) { plan->shape = {}; }
  void Clear() {
    for (Plan& plan : slots_) plan.shape = {};
  }

 private:
  std::vector<Plan> slots_;
  uint64_t clock_ = 0;
};

}  // namespace yagura::event
