// OutlineShapeId: what names the shape of an EVTX record's outline, from the renderer that wrote
// the outline to the readers that plan by it (event/outline_plans.hpp).
#pragma once

#include <cstdint>

namespace yagura::event {

// Names the shape of an EVTX record's outline (Record::outline): which steps it has, of which
// kinds, and which element or attribute of which template each comes from (see
// binxml::ChunkRenderer::outline_shape). Records with equal ids have outlines equal in every
// step but for where their texts lie and what the texts say. Zero: not known.
struct OutlineShapeId {
  uint64_t low = 0;
  uint64_t high = 0;
  [[nodiscard]] bool known() const { return (low | high) != 0; }
  friend bool operator==(const OutlineShapeId&, const OutlineShapeId&) = default;
};

}  // namespace yagura::event
