// Plans over EVTX record outlines (binxml::OutlineStep): records of one template mostly have the
// same outline step for step, only other text, so what reading such a record gives (its fields,
// its JSON) can be worked out once per shape and replayed for the next records of that shape.
// OutlineShape is what must be equal for a plan to hold; OutlinePlans keeps plans by shape.
// Internal to src/event (the flattener and the evtx_dump JSON writer use them).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace yagura::event {

// Every step's kind in order, every element's key and every attribute's name. Keys name an
// element of a template by the template's content (binxml.hpp), so with the attribute names,
// which optional values may leave out, they fix every name in the record.
class OutlineShape {
 public:
  // Takes the shape of `outline` (over the record's `text`). False when it cannot be told
  // again: an element without a key, or a name outside the text.
  bool Record(std::string_view text, std::string_view outline);
  // Whether `outline` has this shape and every text its steps point at lies within `text`
  // (what reading it step by step checks).
  [[nodiscard]] bool Matches(std::string_view text, std::string_view outline) const;

 private:
  // Per step: a kOpen step's key; otherwise its kind (bits 56 and up, which keys never have
  // alone) and for kAttribute its name, in names_ at [low 32 bits, + bits 32..55).
  std::vector<uint64_t> words_;
  std::string names_;
};

// Plans in sets of four by the root element's key and the number of steps: optional values left
// out give one template several shapes, often of one length. `Plan` has `root_key` (0: empty),
// `last_used`, `usable` and `shape` (an OutlineShape) members.
template <typename Plan>
class OutlinePlans {
 public:
  static constexpr unsigned SLOTS_LOG2 = 10;
  static constexpr size_t WAYS = 4;

  // The plan `outline` follows, or nullptr; with none, `*record` is the slot to record the
  // outline's plan in (taken, with its shape recorded and `usable` set as the shape allows), or
  // nullptr when the shape is known not to be plannable or has no key.
  Plan* Find(std::string_view text, std::string_view outline, uint64_t root_key, Plan** record) {
    *record = nullptr;
    if (root_key == 0) return nullptr;
    if (slots_.empty()) slots_.resize(size_t{1} << SLOTS_LOG2);
    const size_t steps = outline.size() / STEP_BYTES;
    const size_t set =
        (((root_key ^ steps) * 0x9e3779b97f4a7c15ull) >> (64 - SLOTS_LOG2)) & ~(WAYS - 1);
    ++clock_;
    Plan* replace = &slots_[set];
    for (size_t way = 0; way < WAYS; ++way) {
      Plan& candidate = slots_[set + way];
      if (candidate.root_key == root_key && candidate.shape.Matches(text, outline)) {
        candidate.last_used = clock_;
        return candidate.usable ? &candidate : nullptr;  // unusable: read step by step
      }
      if (candidate.last_used < replace->last_used) replace = &candidate;
    }
    replace->root_key = root_key;
    replace->last_used = clock_;
    replace->usable = replace->shape.Record(text, outline);
    *record = replace;
    return nullptr;
  }
  // Forgets `plan` (its recording failed).
  static void Drop(Plan* plan) { plan->root_key = 0; }
  void Clear() {
    for (Plan& plan : slots_) plan.root_key = 0;
  }

 private:
  static constexpr size_t STEP_BYTES = 16;  // sizeof(binxml::OutlineStep)
  std::vector<Plan> slots_;
  uint64_t clock_ = 0;
};

}  // namespace yagura::event
