// OutlineShape: recorded from the first record of a shape, compared with each record after it.
#include "event/outline_plans.hpp"

#include <cstring>

#include "event/binxml.hpp"

namespace yagura::event {

namespace {

using binxml::OutlineStep;
constexpr int KIND_SHIFT = 56;

bool Within(std::string_view text, uint32_t offset, size_t length) {
  return offset <= text.size() && length <= text.size() - offset;
}

// Whether the `length` bytes at `at` in `text` are those at `name`: attribute names are short,
// and a call to memcmp per attribute cost more than comparing them here (two overlapping
// loads up to 16 bytes).
bool SameName(std::string_view text, uint32_t at, const char* name, size_t length) {
  const char* bytes = text.data() + at;
  if (length >= 8 && length <= 16) {
    uint64_t a, b, c, d;
    std::memcpy(&a, bytes, 8);
    std::memcpy(&b, name, 8);
    std::memcpy(&c, bytes + length - 8, 8);
    std::memcpy(&d, name + length - 8, 8);
    return ((a ^ b) | (c ^ d)) == 0;
  }
  if (length >= 4 && length < 8) {
    uint32_t a, b, c, d;
    std::memcpy(&a, bytes, 4);
    std::memcpy(&b, name, 4);
    std::memcpy(&c, bytes + length - 4, 4);
    std::memcpy(&d, name + length - 4, 4);
    return ((a ^ b) | (c ^ d)) == 0;
  }
  if (length < 4) {
    for (size_t i = 0; i < length; ++i)
      if (bytes[i] != name[i]) return false;
    return true;
  }
  return std::memcmp(bytes, name, length) == 0;
}

}  // namespace

static_assert(sizeof(OutlineStep) == 16);

bool OutlineShape::Record(std::string_view text, std::string_view outline) {
  const size_t steps = outline.size() / sizeof(OutlineStep);
  words_.resize(steps);
  names_.clear();
  bool plannable = true;
  for (size_t i = 0; i < steps; ++i) {
    const OutlineStep step = OutlineStep::At(outline, i);
    uint64_t& word = words_[i];
    if (step.kind == OutlineStep::kOpen) {
      // (Keys are 0, 2^63 and up, or below 2^55: never a kind's word.)
      word = step.element_key();
      if (word == 0) plannable = false;
      continue;
    }
    word = uint64_t{step.kind} << KIND_SHIFT;
    if (step.kind == OutlineStep::kAttribute) {
      if (!Within(text, step.name, step.name_length)) {
        plannable = false;
        continue;
      }
      word |= uint64_t{step.name_length} << 32 | names_.size();
      names_.append(text.substr(step.name, step.name_length));
    }
  }
  return plannable;
}

bool OutlineShape::Matches(std::string_view text, std::string_view outline) const {
  const size_t steps = outline.size() / sizeof(OutlineStep);
  if (words_.size() != steps) return false;
  for (size_t i = 0; i < steps; ++i) {
    const OutlineStep step = OutlineStep::At(outline, i);
    const uint64_t word = words_[i];
    if (step.kind == OutlineStep::kOpen) {
      if (step.element_key() != word || !Within(text, step.name, step.name_length)) return false;
      continue;
    }
    if (word >> KIND_SHIFT != step.kind) return false;
    if (step.kind == OutlineStep::kAttribute) {
      const size_t length = (word >> 32) & 0xffffff;
      if (step.name_length != length || !Within(text, step.name, length) ||
          !SameName(text, step.name, names_.data() + static_cast<uint32_t>(word), length) ||
          !Within(text, step.value, step.value_length)) {
        return false;
      }
    } else if (step.kind == OutlineStep::kText) {
      if (!Within(text, step.value, step.value_length)) return false;
    }
  }
  return true;
}

}  // namespace yagura::event
