// Navigator layers (attack/navigator_layer.hpp): the format's required members, techniques in
// id order with each annotated sub-technique's parent opened, and a gradient that a few very
// large counts do not wash out.
#include "attack/navigator_layer.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace yagura::attack {
namespace {

std::vector<std::string> Ids(const JsonValue& layer) {
  std::vector<std::string> ids;
  for (const auto& item : layer.Find("techniques")->as_array())
    ids.push_back(item.Find("techniqueID")->as_string());
  return ids;
}

const JsonValue& Technique(const JsonValue& layer, const std::string& id) {
  for (const auto& item : layer.Find("techniques")->as_array())
    if (item.Find("techniqueID")->as_string() == id) return item;
  static const JsonValue NONE;
  ADD_FAILURE() << id << " not in the layer";
  return NONE;
}

TEST(NavigatorLayer, WritesTheFormatsMembersAndOpensParentsOfSubtechniques) {
  NavigatorLayer layer;
  layer.name = "test";
  layer.description = "what it shows";
  layer.attack_version = "18";
  layer.metadata = {{"inputs", "a.evtx"}};
  layer.techniques.push_back({"T1110.001", 4, "rule A (4)", {{"alerts", "4"}}});
  layer.techniques.push_back({"T1003", 2, "", {}});
  layer.techniques.push_back({"T1003.001", std::nullopt, "seen", {}});
  const JsonValue json = LayerJson(layer);

  // The format's required members (name, domain; versions.navigator and .layer), and the
  // same text back after a round trip through the parser.
  EXPECT_EQ(json.Find("name")->as_string(), "test");
  EXPECT_EQ(json.Find("domain")->as_string(), "enterprise-attack");
  EXPECT_EQ(json.Find("versions")->Find("layer")->as_string(), "4.5");
  EXPECT_EQ(json.Find("versions")->Find("navigator")->as_string(), "5.1.0");
  EXPECT_EQ(json.Find("versions")->Find("attack")->as_string(), "18");
  EXPECT_EQ(json.Find("metadata")->as_array()[0].Find("value")->as_string(), "a.evtx");
  auto reparsed = JsonValue::Parse(json.Serialize());
  ASSERT_TRUE(reparsed);
  EXPECT_EQ(*reparsed, json);

  // Id order; T1110 added for its sub-technique, unscored; T1003 kept as given, both opened.
  EXPECT_EQ(Ids(json), (std::vector<std::string>{"T1003", "T1003.001", "T1110", "T1110.001"}));
  const JsonValue& added = Technique(json, "T1110");
  EXPECT_EQ(added.Find("score"), nullptr);
  EXPECT_TRUE(added.Find("showSubtechniques")->as_bool());
  EXPECT_EQ(Technique(json, "T1003").Find("score")->as_int(), 2);
  EXPECT_TRUE(Technique(json, "T1003").Find("showSubtechniques")->as_bool());
  EXPECT_EQ(Technique(json, "T1003.001").Find("score"), nullptr);
  EXPECT_EQ(Technique(json, "T1003.001").Find("comment")->as_string(), "seen");
  EXPECT_EQ(Technique(json, "T1003.001").Find("showSubtechniques"), nullptr);
  const JsonValue& scored = Technique(json, "T1110.001");
  EXPECT_EQ(scored.Find("score")->as_int(), 4);
  EXPECT_EQ(scored.Find("metadata")->as_array()[0].Find("name")->as_string(), "alerts");
  EXPECT_TRUE(scored.Find("enabled")->as_bool());
}

TEST(NavigatorLayer, GradientEndsAtTheNinetiethPercentileUnlessGiven) {
  NavigatorLayer layer;
  layer.name = "counts";
  // Ten techniques scored 1..9 and one with 30,000: the gradient stops at 9, so the small
  // counts stay told apart and the large one takes the last colour.
  for (int i = 1; i <= 9; ++i) layer.techniques.push_back({"T100" + std::to_string(i), i, "", {}});
  layer.techniques.push_back({"T1010", 30'000, "", {}});
  const JsonValue json = LayerJson(layer);
  EXPECT_EQ(json.Find("gradient")->Find("minValue")->as_int(), 0);
  EXPECT_EQ(json.Find("gradient")->Find("maxValue")->as_int(), 9);
  EXPECT_EQ(json.Find("gradient")->Find("colors")->as_array().size(), 3u);

  NavigatorLayer levels = layer;
  levels.gradient_min = 1;
  levels.gradient_max = 5;
  levels.legend = {{"high", "#ff8787"}};
  const JsonValue fixed = LayerJson(levels);
  EXPECT_EQ(fixed.Find("gradient")->Find("minValue")->as_int(), 1);
  EXPECT_EQ(fixed.Find("gradient")->Find("maxValue")->as_int(), 5);
  EXPECT_EQ(fixed.Find("legendItems")->as_array()[0].Find("label")->as_string(), "high");

  // Nothing scored: a range of one, never an empty one (the format wants max > min).
  NavigatorLayer empty;
  empty.name = "empty";
  const JsonValue none = LayerJson(empty);
  EXPECT_EQ(none.Find("gradient")->Find("maxValue")->as_int(), 1);
  EXPECT_TRUE(none.Find("techniques")->as_array().empty());
  EXPECT_EQ(none.Find("versions")->Find("attack"), nullptr);  // the Navigator's current
}

}  // namespace
}  // namespace yagura::attack
