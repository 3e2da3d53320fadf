// STIX feed loader (see stix_feed.hpp for what is delivered, counted and reported).
//
// Memory: the input is copied once, into simdjson's padded buffer, and that copy is freed after
// parsing; the DOM then holds the strings. Per object the loader keeps one 16-byte element
// handle and, per indicator id, one map entry whose key views the DOM's copy of the id, so a
// bundle of a million indicators costs the DOM plus roughly 100 bytes per indicator. In the
// fallback path the DOM holds one element at a time, so ids are copied into an arena instead.
#include "intel/stix_feed.hpp"

#include "intel/path_forms.hpp"

#include <xxhash.h>

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <limits>
#include <map>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/arena.hpp"
#include "intel/stix_pattern.hpp"

namespace yagura::intel {
namespace {

using simdjson::dom::element;

struct WellKnownMarking {
  std::string_view id;
  Tlp tlp;
};
// The marking-definition objects of TLP 1.0 (STIX 2.0/2.1 specification) and TLP 2.0 (the
// OASIS TLP 2.0 extension) have fixed ids, so feeds reference them without including them.
constexpr std::array<WellKnownMarking, 9> WELL_KNOWN_MARKINGS = {{
    {"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", Tlp::kClear},  // TLP:WHITE
    {"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", Tlp::kGreen},
    {"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", Tlp::kAmber},
    {"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", Tlp::kRed},
    {"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", Tlp::kClear},
    {"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", Tlp::kGreen},
    {"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", Tlp::kAmber},
    {"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003", Tlp::kAmberStrict},
    {"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", Tlp::kRed},
}};

std::optional<std::string_view> StringField(element object, std::string_view key) {
  std::string_view value;
  if (object[key].get_string().get(value) != simdjson::SUCCESS) return std::nullopt;
  return value;
}

std::string Lower(std::string_view text) {
  std::string out;
  LowerAscii(text, out);
  return out;
}

// The TLP a marking-definition object defines: TLP 1.0 style (definition_type "tlp"), the TLP
// 2.0 extension's "tlp_2_0" property, or a name such as "TLP:AMBER+STRICT".
std::optional<Tlp> MarkingDefinitionTlp(element object) {
  if (StringField(object, "definition_type") == std::string_view("tlp")) {
    std::string_view level;
    if (object["definition"]["tlp"].get_string().get(level) == simdjson::SUCCESS) {
      if (auto tlp = ParseTlp(level)) return tlp;
    }
  }
  simdjson::dom::object extensions;
  if (object["extensions"].get_object().get(extensions) == simdjson::SUCCESS) {
    for (auto [key, extension] : extensions) {
      std::string_view level;
      if (extension["tlp_2_0"].get_string().get(level) == simdjson::SUCCESS) {
        if (auto tlp = ParseTlp(level)) return tlp;
      }
    }
  }
  if (auto name = StringField(object, "name"); name && Lower(name->substr(0, 4)) == "tlp:") {
    return ParseTlp(*name);
  }
  return std::nullopt;
}

void AppendStrings(element object, std::string_view key, std::vector<std::string>& out) {
  simdjson::dom::array array;
  if (object[key].get_array().get(array) != simdjson::SUCCESS) return;
  for (element item : array) {
    std::string_view text;
    if (item.get_string().get(text) == simdjson::SUCCESS) out.emplace_back(text);
  }
}

// ---- Fallback for broken JSON ---------------------------------------------------------------

constexpr size_t NPOS = std::string_view::npos;

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

size_t SkipSpace(std::string_view json, size_t pos) {
  while (pos < json.size() && IsSpace(json[pos])) ++pos;
  return pos;
}

// End of the string starting at the quote at `pos`, or NPOS when the input ends first.
size_t SkipString(std::string_view json, size_t pos) {
  for (++pos; pos < json.size(); ++pos) {
    if (json[pos] == '\\') {
      ++pos;
    } else if (json[pos] == '"') {
      return pos + 1;
    }
  }
  return NPOS;
}

// End of the JSON value starting at `pos`, found by bracket depth outside strings (the value
// itself is validated later by parsing it); NPOS when the input ends first.
size_t SkipValue(std::string_view json, size_t pos) {
  if (pos >= json.size()) return NPOS;
  if (json[pos] == '"') return SkipString(json, pos);
  if (json[pos] != '{' && json[pos] != '[') {
    while (pos < json.size() && json[pos] != ',' && json[pos] != '}' && json[pos] != ']' &&
           !IsSpace(json[pos])) {
      ++pos;
    }
    return pos < json.size() ? pos : NPOS;
  }
  size_t depth = 0;
  while (pos < json.size()) {
    const char c = json[pos];
    if (c == '"') {
      pos = SkipString(json, pos);
      if (pos == NPOS) return NPOS;
      continue;
    }
    if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (--depth == 0) return pos + 1;
    }
    ++pos;
  }
  return NPOS;
}

struct Slice {
  size_t begin;
  size_t end;
};

struct FallbackScan {
  bool found_objects = false;  // a top-level array, or an object with an "objects" array
  std::vector<Slice> elements;
  std::string problem;  // why the scan stopped before the end of the array ("" if it did not)
  bool tolerated = false;  // a missing comma between two objects was passed over
  size_t array_end = 0;    // just past the array's ']' when it closed
};

// Finds the elements of the top-level array, or of the top-level object's "objects" array.
FallbackScan ScanObjects(std::string_view json) {
  FallbackScan scan;
  size_t pos = SkipSpace(json, 0);
  if (pos >= json.size()) return scan;
  if (json[pos] == '{') {
    pos = SkipSpace(json, pos + 1);
    while (true) {
      if (pos >= json.size() || json[pos] != '"') return scan;
      const size_t key_end = SkipString(json, pos);
      if (key_end == NPOS) return scan;
      const std::string_view key = json.substr(pos + 1, key_end - pos - 2);
      pos = SkipSpace(json, key_end);
      if (pos >= json.size() || json[pos] != ':') return scan;
      pos = SkipSpace(json, pos + 1);
      if (key == "objects" && pos < json.size() && json[pos] == '[') break;
      pos = SkipValue(json, pos);
      if (pos == NPOS) return scan;
      pos = SkipSpace(json, pos);
      if (pos >= json.size() || json[pos] != ',') return scan;
      pos = SkipSpace(json, pos + 1);
    }
  } else if (json[pos] != '[') {
    return scan;
  }
  scan.found_objects = true;
  pos = SkipSpace(json, pos + 1);
  if (pos < json.size() && json[pos] == ']') {
    scan.array_end = pos + 1;
    return scan;
  }
  while (true) {
    if (pos >= json.size()) {
      scan.problem = "the input ends inside the objects array";
      return scan;
    }
    const size_t end = SkipValue(json, pos);
    if (end == NPOS) {
      scan.problem = "the input ends inside the object starting at byte " + std::to_string(pos);
      return scan;
    }
    scan.elements.push_back({pos, end});
    pos = SkipSpace(json, end);
    if (pos < json.size() && json[pos] == ']') {
      scan.array_end = pos + 1;
      return scan;
    }
    if (pos < json.size() && json[pos] == ',') {
      pos = SkipSpace(json, pos + 1);
    } else if (pos < json.size() && json[pos] == '{') {
      scan.tolerated = true;
      continue;  // a missing comma between two objects
    } else if (pos < json.size()) {
      scan.problem = "unexpected character at byte " + std::to_string(pos) +
                     " between the elements of the objects array";
      return scan;
    }
  }
}

// Whether the text after a bundle's objects array closes the document: more members, then
// `}` and white space (a top-level array needs only white space).
bool ClosesCleanly(std::string_view json, size_t pos, bool in_object) {
  pos = SkipSpace(json, pos);
  if (in_object) {
    while (pos < json.size() && json[pos] == ',') {
      pos = SkipSpace(json, pos + 1);
      if (pos >= json.size() || json[pos] != '"') return false;
      pos = SkipString(json, pos);
      if (pos == NPOS) return false;
      pos = SkipSpace(json, pos);
      if (pos >= json.size() || json[pos] != ':') return false;
      pos = SkipValue(json, SkipSpace(json, pos + 1));
      if (pos == NPOS) return false;
      pos = SkipSpace(json, pos);
    }
    if (pos >= json.size() || json[pos] != '}') return false;
    pos = SkipSpace(json, pos + 1);
  }
  return pos == json.size();
}

// Bundles above this size are read object by object: a DOM of the whole bundle costs several
// times its size (a million indicators took 1.4 GB).
constexpr size_t STREAM_ABOVE = 16 << 20;

// ---- Loader ---------------------------------------------------------------------------------

class StixLoader {
 public:
  StixLoader(std::string_view json, std::string_view feed_name, std::string_view where,
             const IndicatorSink& sink, Diagnostics& diagnostics)
      : json_(json), feed_name_(feed_name), where_(where), sink_(sink), diagnostics_(diagnostics) {}

  Result<FeedStats> Run() {
    if (json_.starts_with("\xEF\xBB\xBF")) json_.remove_prefix(3);
    if (json_.size() > STREAM_ABOVE && Stream()) {
      versions_.reserve(slices_.size());
      ForEachObject([&](element object, size_t index) { Collect(object, index); });
      SettleVersions(slices_.size());
      delivering_ = true;
      ForEachObject([&](element object, size_t index) { Deliver(object, index); });
      Summarise();
      return stats_;
    }
    element root;
    const simdjson::error_code error = parser_.parse(json_.data(), json_.size()).get(root);
    if (error == simdjson::SUCCESS) {
      if (auto listed = ListObjects(root); !listed) return tl::unexpected(listed.error());
    } else {
      auto recovered = Recover(error);
      if (!recovered) return tl::unexpected(recovered.error());
    }
    versions_.reserve(fallback_ ? slices_.size() : objects_.size());
    ForEachObject([&](element object, size_t index) { Collect(object, index); });
    SettleVersions(fallback_ ? slices_.size() : objects_.size());
    delivering_ = true;
    ForEachObject([&](element object, size_t index) { Deliver(object, index); });
    Summarise();
    return stats_;
  }

 private:
  Result<void> ListObjects(element root) {
    simdjson::dom::array array;
    if (root.get_array().get(array) == simdjson::SUCCESS) {
      for (element object : array) objects_.push_back(object);
      return {};
    }
    if (!root.is_object()) return Fail("not STIX JSON: neither an object nor an array", where_);
    element objects;
    if (root["objects"].get(objects) == simdjson::SUCCESS) {
      if (objects.is_null()) return {};
      if (objects.get_array().get(array) != simdjson::SUCCESS) {
        return Fail("not STIX JSON: \"objects\" is not an array", where_);
      }
      for (element object : array) objects_.push_back(object);
      return {};
    }
    // A single object; a bundle or TAXII envelope without "objects" holds none.
    if (auto type = StringField(root, "type"); type && *type != "bundle") objects_.push_back(root);
    return {};
  }

  // A large, well-formed bundle: its objects one at a time (the same path as recovery, without
  // the break). False when the outer structure is not clean; the whole-document parse then
  // reports what is wrong.
  bool Stream() {
    FallbackScan scan = ScanObjects(json_);
    if (!scan.found_objects || !scan.problem.empty() || scan.tolerated || scan.array_end == 0)
      return false;
    const bool in_object = json_[SkipSpace(json_, 0)] == '{';
    if (!ClosesCleanly(json_, scan.array_end, in_object)) return false;
    fallback_ = true;
    slices_ = std::move(scan.elements);
    return true;
  }

  Result<void> Recover(simdjson::error_code error) {
    FallbackScan scan = ScanObjects(json_);
    if (!scan.found_objects) {
      return Fail(std::string("not readable as STIX JSON: ") + simdjson::error_message(error),
                  where_);
    }
    fallback_ = true;
    slices_ = std::move(scan.elements);
    stats_.complete = false;
    std::string message = std::string("broken JSON (") + simdjson::error_message(error) + ")";
    if (!scan.problem.empty()) message += ": " + scan.problem;
    message +=
        "; reading the " + std::to_string(slices_.size()) + " objects before the break one by one";
    diagnostics_.Report(DiagnosticKind::kInputUnreadable, where_, std::move(message));
    return {};
  }

  // Calls `visit(object, index)` for every object; in the fallback path each element is parsed
  // on its own (an element that does not parse is reported once, by the delivery pass).
  template <typename Visit>
  void ForEachObject(Visit visit) {
    if (!fallback_) {
      for (size_t i = 0; i < objects_.size(); ++i) visit(objects_[i], i);
      return;
    }
    for (size_t i = 0; i < slices_.size(); ++i) {
      const Slice slice = slices_[i];
      const size_t length = slice.end - slice.begin;
      if (padded_.size() < length + simdjson::SIMDJSON_PADDING) {
        padded_.resize(length + simdjson::SIMDJSON_PADDING);
      }
      std::copy_n(json_.data() + slice.begin, length, padded_.data());
      element object;
      const auto error = parser_.parse(padded_.data(), length, false).get(object);
      if (error == simdjson::SUCCESS) {
        visit(object, i);
      } else if (delivering_) {
        ++stats_.objects;
        ++stats_.skipped;
        Warn(i, "object at byte " + std::to_string(slice.begin) + " is not valid JSON (" +
                    simdjson::error_message(error) + ")");
      }
    }
  }

  [[nodiscard]] std::string Where(size_t index) const {
    return where_ + " objects[" + std::to_string(index) + "]";
  }
  void Warn(size_t index, std::string message) {
    diagnostics_.Report(DiagnosticKind::kWarning, Where(index), std::move(message));
  }
  void Skip(size_t index, std::string_view id, std::string message) {
    ++stats_.skipped;
    Warn(index, std::string(id) + ": " + message);
  }

  // The version timestamp of an indicator: `modified`, else `created` (STIX 2.0 feeds omit
  // neither, but hand-written ones do).
  static int64_t VersionOf(element object) {
    for (std::string_view key : {"modified", "created"}) {
      if (auto text = StringField(object, key)) {
        if (auto ms = stix::ParseTimestampMs(*text)) return *ms;
      }
    }
    return std::numeric_limits<int64_t>::min();
  }

  // First pass: marking definitions and the winning version of each indicator id.
  void Collect(element object, size_t index) {
    const auto type = StringField(object, "type");
    if (!type) return;
    if (*type == "marking-definition") {
      auto id = StringField(object, "id");
      auto tlp = MarkingDefinitionTlp(object);
      if (id && tlp) bundle_markings_[std::string(*id)] = *tlp;
      return;
    }
    if (*type != "indicator") return;
    auto id = StringField(object, "id");
    if (!id) return;
    const int64_t version = VersionOf(object);
    const std::string_view key = fallback_ ? ids_.Store(*id) : *id;
    versions_.push_back(Version{XXH3_64bits(key.data(), key.size()), version, index, key});
  }

  // Versions of one id: the latest `modified` wins, the first of equals; the others are
  // marked superseded. Sorting hashed ids costs far less than a map of a million strings.
  void SettleVersions(size_t object_count) {
    superseded_.assign(object_count, false);
    std::sort(versions_.begin(), versions_.end(), [](const Version& a, const Version& b) {
      if (a.id_hash != b.id_hash) return a.id_hash < b.id_hash;
      if (a.id != b.id) return a.id < b.id;
      return a.index < b.index;
    });
    for (size_t i = 0; i < versions_.size();) {
      size_t j = i + 1;
      while (j < versions_.size() && versions_[j].id_hash == versions_[i].id_hash &&
             versions_[j].id == versions_[i].id)
        ++j;
      size_t winner = i;
      for (size_t k = i + 1; k < j; ++k)
        if (versions_[k].modified > versions_[winner].modified) winner = k;
      for (size_t k = i; k < j; ++k)
        if (k != winner) superseded_[versions_[k].index] = true;
      i = j;
    }
    versions_ = {};
  }

  std::optional<Tlp> MarkingTlp(std::string_view id) const {
    if (auto tlp = WellKnownTlpMarking(id)) return tlp;
    if (auto it = bundle_markings_.find(std::string(id)); it != bundle_markings_.end()) {
      return it->second;
    }
    return std::nullopt;
  }

  // Parses an optional timestamp property; false (after reporting) when it is malformed.
  bool Timestamp(element object, std::string_view key, size_t index, std::string_view id,
                 std::optional<int64_t>& out) {
    element value;
    if (object[key].get(value) != simdjson::SUCCESS || value.is_null()) return true;
    std::string_view text;
    if (value.get_string().get(text) == simdjson::SUCCESS) {
      out = stix::ParseTimestampMs(text);
      if (out) return true;
    }
    Skip(index, id,
         std::string(key) +
             " is not an RFC 3339 timestamp: " + simdjson::to_string(value).substr(0, 60));
    return false;
  }

  // Second pass: one indicator per winning version.
  void Deliver(element object, size_t index) {
    ++stats_.objects;
    if (!object.is_object()) {
      Skip(index, "(no id)", "element of the objects array is not an object");
      return;
    }
    const auto type = StringField(object, "type");
    if (!type) {
      Skip(index, StringField(object, "id").value_or("(no id)"), "object has no \"type\"");
      return;
    }
    if (*type != "indicator") {
      ++stats_.ignored;
      return;
    }
    const auto id = StringField(object, "id");
    if (!id || id->empty()) {
      Skip(index, "(no id)", "indicator has no \"id\"");
      return;
    }
    if (index < superseded_.size() && superseded_[index]) {
      ++stats_.ignored;  // a later version of this id is in the same feed
      return;
    }
    if (auto pattern_type = StringField(object, "pattern_type")) {
      std::string lower = Lower(*pattern_type);
      if (lower != "stix") {
        ++stats_.ignored;
        ++other_pattern_types_[std::move(lower)];
        return;
      }
    }
    const auto pattern = StringField(object, "pattern");
    if (!pattern) {
      Skip(index, *id, "indicator has no \"pattern\"");
      return;
    }

    Indicator indicator;
    if (!Timestamp(object, "valid_from", index, *id, indicator.valid_from) ||
        !Timestamp(object, "valid_until", index, *id, indicator.valid_until) ||
        !Timestamp(object, "modified", index, *id, indicator.modified)) {
      return;
    }
    std::optional<int64_t> created;
    if (!Timestamp(object, "created", index, *id, created)) return;
    const bool spec_2_1 = StringField(object, "spec_version") == std::string_view("2.1");
    if (spec_2_1 && !indicator.valid_from) {
      Skip(index, *id, "indicator has no \"valid_from\"");
      return;
    }
    if (indicator.valid_from && indicator.valid_until &&
        *indicator.valid_until <= *indicator.valid_from) {
      Skip(index, *id, "valid_until is not later than valid_from");
      return;
    }
    if (created && indicator.modified && *indicator.modified < *created) {
      if (modified_before_created_++ == 0) first_modified_before_created_ = *id;
    }
    // An object never modified is its own first version: created is its version timestamp.
    if (!indicator.modified) indicator.modified = created;

    auto parsed = stix::ParsePattern(*pattern);
    if (!parsed) {
      Skip(index, *id, "invalid STIX pattern: " + parsed.error().message);
      return;
    }
    auto any_of = stix::ToIndicatorDnf(*parsed);
    if (!any_of) {
      Skip(index, *id, "pattern cannot be checked on one event: " + any_of.error().message);
      return;
    }
    if (any_of->empty()) {
      Skip(index, *id, "pattern matches nothing");
      return;
    }

    indicator.id = *id;
    indicator.feed = feed_name_;
    indicator.pattern = *pattern;
    indicator.any_of = std::move(*any_of);
    if (auto name = StringField(object, "name")) {
      indicator.name = *name;
    } else if (auto description = StringField(object, "description")) {
      indicator.name = *description;
    }
    bool revoked = false;
    if (object["revoked"].get_bool().get(revoked) == simdjson::SUCCESS) indicator.revoked = revoked;
    int64_t confidence = 0;
    if (object["confidence"].get_int64().get(confidence) == simdjson::SUCCESS && confidence >= 0 &&
        confidence <= 100) {
      indicator.confidence = static_cast<int>(confidence);
    }
    AppendStrings(object, "indicator_types", indicator.labels);
    AppendStrings(object, "labels", indicator.labels);

    AppendStrings(object, "object_marking_refs", indicator.markings);
    for (const std::string& ref : indicator.markings) {
      if (auto tlp = MarkingTlp(ref); tlp && *tlp > indicator.tlp) indicator.tlp = *tlp;
    }
    simdjson::dom::array granular;
    if (object["granular_markings"].get_array().get(granular) == simdjson::SUCCESS) {
      for (element marking : granular) {
        std::string_view ref;
        if (marking["marking_ref"].get_string().get(ref) != simdjson::SUCCESS) continue;
        if (std::find(indicator.markings.begin(), indicator.markings.end(), ref) ==
            indicator.markings.end()) {
          indicator.markings.emplace_back(ref);
        }
      }
    }
    ++stats_.indicators;
    sink_(std::move(indicator));
  }

  void Summarise() {
    for (const auto& [type, count] : other_pattern_types_) {
      diagnostics_.Report(DiagnosticKind::kWarning, where_,
                          "ignored " + std::to_string(count) + " indicator(s) with pattern_type '" +
                              type + "': only STIX patterns are matched");
    }
    if (modified_before_created_ > 0) {
      diagnostics_.Report(DiagnosticKind::kWarning, where_,
                          std::to_string(modified_before_created_) +
                              " indicator(s) have \"modified\" earlier than \"created\" (first: " +
                              first_modified_before_created_ + "); delivered as they are");
    }
  }

  struct Version {
    uint64_t id_hash;
    int64_t modified;
    size_t index;
    std::string_view id;
  };

  std::string_view json_;
  std::string feed_name_;
  std::string where_;
  const IndicatorSink& sink_;
  Diagnostics& diagnostics_;

  simdjson::dom::parser parser_;
  std::vector<element> objects_;  // DOM path
  bool fallback_ = false;
  std::vector<Slice> slices_;  // fallback path
  std::string padded_;
  Arena ids_;  // fallback path: the ids the versions map views

  std::unordered_map<std::string, Tlp> bundle_markings_;
  std::vector<Version> versions_;  // collected, then settled into superseded_
  std::vector<bool> superseded_;   // per object
  std::map<std::string, uint64_t> other_pattern_types_;
  uint64_t modified_before_created_ = 0;
  std::string first_modified_before_created_;
  bool delivering_ = false;
  FeedStats stats_;
};

}  // namespace

std::optional<Tlp> WellKnownTlpMarking(std::string_view marking_id) {
  for (const WellKnownMarking& marking : WELL_KNOWN_MARKINGS) {
    if (marking.id == marking_id) return marking.tlp;
  }
  return std::nullopt;
}

Result<FeedStats> LoadStixBundle(std::string_view json, std::string_view feed_name,
                                 std::string_view where, const IndicatorSink& sink,
                                 Diagnostics& diagnostics) {
  return StixLoader(json, feed_name, where, sink, diagnostics).Run();
}

}  // namespace yagura::intel
