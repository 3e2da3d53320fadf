// Layers for the MITRE ATT&CK Navigator (layer format 4.5): the techniques an analysis found,
// each with a score, a comment and metadata, drawn on the ATT&CK matrix by the Navigator or by
// any tool that reads its layers (DeTT&CT, Vectr, the centre partners' own).
//
// Yagura writes three: the techniques of a scan's alerts (`yagura scan --attack-layer`), the
// techniques a rule set covers (`yagura rules list --attack-layer`) and the centre's heatmap
// (GET /api/v1/attack/layer). One writer keeps them alike: a sub-technique's parent is always
// present and opened, so that a score on T1059.001 is seen without a click; the gradient runs
// from the lowest score to the highest, and scores are the counts themselves, so that a layer
// exported from a scan and one from the centre are read the same way.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/json_value.hpp"

namespace yagura::attack {

// Name and value shown in a technique's (or the layer's) tooltip.
using LayerMetadata = std::vector<std::pair<std::string, std::string>>;

struct LayerTechnique {
  std::string id;                // normalised: "T1059" or "T1059.001"
  std::optional<int64_t> score;  // a count; absent: unscored (drawn without the gradient's colour)
  std::string comment;
  LayerMetadata metadata;
};

struct NavigatorLayer {
  std::string name;
  std::string description;
  std::string domain = "enterprise-attack";  // "enterprise-attack", "ics-attack"
  std::string attack_version;                // "18" or "18.1"; empty: the Navigator's current
  LayerMetadata metadata;
  std::vector<LayerTechnique> techniques;  // any order, each id once
  // The gradient: at least two colours, evenly spread from gradient_min to gradient_max.
  // Without a maximum, it is the 90th percentile of the scores (at least 1): counts run over
  // orders of magnitude (one technique with 30,000 alerts beside many with ten), and the
  // Navigator gives scores above the maximum its last colour, so the rest stay told apart.
  std::vector<std::string> gradient_colors = {"#ffffff", "#ffb26b", "#e0301e"};
  int64_t gradient_min = 0;
  std::optional<int64_t> gradient_max;
  std::vector<std::pair<std::string, std::string>> legend;  // label, colour
};

// The layer as the Navigator reads it. Techniques are written in id order; every annotated
// sub-technique's parent is written too (unscored when the layer has no entry for it) with
// `showSubtechniques`.
[[nodiscard]] JsonValue LayerJson(const NavigatorLayer& layer);

// The layer format's version ("4.5") and the Navigator version it names ("5.1.0").
inline constexpr const char* LAYER_FORMAT_VERSION = "4.5";
inline constexpr const char* NAVIGATOR_VERSION = "5.1.0";

}  // namespace yagura::attack
