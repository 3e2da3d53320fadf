#include "attack/navigator_layer.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "attack/technique_id.hpp"

namespace yagura::attack {
namespace {

JsonValue MetadataJson(const LayerMetadata& metadata) {
  JsonValue array = JsonValue::MakeArray();
  for (const auto& [name, value] : metadata) {
    JsonValue item = JsonValue::MakeObject();
    item.Set("name", name);
    item.Set("value", value);
    array.Push(std::move(item));
  }
  return array;
}

}  // namespace

JsonValue LayerJson(const NavigatorLayer& layer) {
  // Id order puts a parent before its sub-techniques; parents of annotated sub-techniques that
  // the layer lacks are added unscored, so that the Navigator opens them.
  std::map<std::string, const LayerTechnique*> by_id;
  for (const LayerTechnique& technique : layer.techniques) by_id.emplace(technique.id, &technique);
  std::set<std::string> opened;  // techniques with annotated sub-techniques
  for (const LayerTechnique& technique : layer.techniques) {
    const std::string_view parent = ParentTechnique(technique.id);
    if (parent.size() != technique.id.size()) opened.emplace(parent);
  }
  for (const std::string& parent : opened) by_id.emplace(parent, nullptr);
  int64_t gradient_max = 1;
  if (layer.gradient_max) {
    gradient_max = std::max(*layer.gradient_max, layer.gradient_min + 1);
  } else {
    std::vector<int64_t> scores;
    for (const LayerTechnique& technique : layer.techniques)
      if (technique.score) scores.push_back(*technique.score);
    if (!scores.empty()) {
      const size_t at = (scores.size() - 1) * 9 / 10;
      std::nth_element(scores.begin(), scores.begin() + static_cast<long>(at), scores.end());
      gradient_max = std::max(scores[at], layer.gradient_min + 1);
    }
  }

  JsonValue techniques = JsonValue::MakeArray();
  auto write = [&](const std::string& id, const LayerTechnique* technique) {
    JsonValue item = JsonValue::MakeObject();
    item.Set("techniqueID", id);
    if (technique != nullptr && technique->score) item.Set("score", *technique->score);
    if (technique != nullptr && !technique->comment.empty())
      item.Set("comment", technique->comment);
    item.Set("enabled", true);
    if (technique != nullptr && !technique->metadata.empty())
      item.Set("metadata", MetadataJson(technique->metadata));
    if (opened.contains(id)) item.Set("showSubtechniques", true);
    techniques.Push(std::move(item));
  };
  for (const auto& [id, technique] : by_id) write(id, technique);

  JsonValue versions = JsonValue::MakeObject();
  if (!layer.attack_version.empty()) versions.Set("attack", layer.attack_version);
  versions.Set("navigator", NAVIGATOR_VERSION);
  versions.Set("layer", LAYER_FORMAT_VERSION);

  JsonValue layout = JsonValue::MakeObject();
  layout.Set("layout", "side");
  layout.Set("showID", true);
  layout.Set("showName", true);
  layout.Set("showAggregateScores", false);
  layout.Set("expandedSubtechniques", "annotated");

  JsonValue gradient = JsonValue::MakeObject();
  JsonValue colors = JsonValue::MakeArray();
  for (const std::string& color : layer.gradient_colors) colors.Push(color);
  gradient.Set("colors", std::move(colors));
  gradient.Set("minValue", layer.gradient_min);
  gradient.Set("maxValue", gradient_max);

  JsonValue json = JsonValue::MakeObject();
  json.Set("name", layer.name);
  json.Set("versions", std::move(versions));
  json.Set("domain", layer.domain);
  json.Set("description", layer.description);
  json.Set("sorting", 3);  // by score, highest first
  json.Set("layout", std::move(layout));
  json.Set("hideDisabled", false);
  json.Set("techniques", std::move(techniques));
  json.Set("gradient", std::move(gradient));
  JsonValue legend = JsonValue::MakeArray();
  for (const auto& [label, color] : layer.legend) {
    JsonValue item = JsonValue::MakeObject();
    item.Set("label", label);
    item.Set("color", color);
    legend.Push(std::move(item));
  }
  json.Set("legendItems", std::move(legend));
  json.Set("showTacticRowBackground", false);
  json.Set("selectTechniquesAcrossTactics", true);
  json.Set("selectSubtechniquesWithParent", false);
  json.Set("selectVisibleTechniques", false);
  if (!layer.metadata.empty()) json.Set("metadata", MetadataJson(layer.metadata));
  return json;
}

}  // namespace yagura::attack
