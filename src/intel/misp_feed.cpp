// MISP feed and event loader.
//
// Each event file is parsed whole with the simdjson DOM parser (one parser reused for the
// feed, so its buffers grow once). The event's tags (merged with the manifest's) give the
// defaults; each attribute's own tags override the TLP and confidence they state. Attributes
// are mapped by a table from MISP type to a shape (single value, address|port, filename|hash,
// domain|ip, ...) so that every type of describeTypes.json is either mapped or has a stated
// reason for being skipped. Skips are aggregated per type over the whole feed: a feed with
// ten thousand `vulnerability` attributes yields one warning, not ten thousand. hashes.csv is
// not read: it only repeats the events' hashes as a lookup aid for MISP's own cache.
#include "intel/misp_feed.hpp"

#include <simdjson.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <system_error>
#include <unordered_map>
#include <utility>

#include "intel/normalise.hpp"

namespace yagura::intel {
namespace {

namespace dom = simdjson::dom;

// ---- Attribute types -------------------------------------------------------------------------

enum class Shape : uint8_t {
  kSingle,       // one atom of `type`
  kUrl,          // one URL atom; "http://" added when the value has no scheme
  kAddress,      // IPv4 or IPv6 by content
  kAddressPort,  // address|port
  kHostPort,     // hostname|port
  kDomainIp,     // domain|ip: two alternatives
  kFileHash,     // filename|hash
  kRegkeyValue,  // regkey|value: the key only
  kUnsupported,  // skipped with `reason`
};

struct TypeRule {
  Shape shape = Shape::kUnsupported;
  ObservableType type = ObservableType::kDomain;
  HashAlgorithm algorithm = HashAlgorithm::kNone;
  Direction direction = Direction::kAny;
  std::string_view reason;
};

constexpr std::string_view NOT_OBSERVABLE = "not an observable Yagura matches";
constexpr std::string_view UNINDEXED_HASH = "a hash algorithm Yagura does not index";
constexpr std::string_view DETECTION_RULE = "a rule in another detection language";
constexpr std::string_view FINGERPRINT = "a fingerprint no event field carries";

const std::unordered_map<std::string_view, TypeRule>& TypeRules() {
  static const std::unordered_map<std::string_view, TypeRule> rules = [] {
    std::unordered_map<std::string_view, TypeRule> r;
    auto single = [&](std::string_view name, ObservableType type,
                      Direction direction = Direction::kAny) {
      r[name] = TypeRule{Shape::kSingle, type, HashAlgorithm::kNone, direction, {}};
    };
    auto skip = [&](std::string_view name, std::string_view reason) {
      r[name] = TypeRule{Shape::kUnsupported, ObservableType::kDomain, HashAlgorithm::kNone,
                         Direction::kAny, reason};
    };
    r["ip-src"] = {
        Shape::kAddress, ObservableType::kIpv4, HashAlgorithm::kNone, Direction::kSource, {}};
    r["ip-dst"] = {
        Shape::kAddress, ObservableType::kIpv4, HashAlgorithm::kNone, Direction::kDestination, {}};
    r["ip-src|port"] = {
        Shape::kAddressPort, ObservableType::kIpv4, HashAlgorithm::kNone, Direction::kSource, {}};
    r["ip-dst|port"] = {Shape::kAddressPort,
                        ObservableType::kIpv4,
                        HashAlgorithm::kNone,
                        Direction::kDestination,
                        {}};
    r["hostname|port"] = {
        Shape::kHostPort, ObservableType::kDomain, HashAlgorithm::kNone, Direction::kAny, {}};
    r["domain|ip"] = {
        Shape::kDomainIp, ObservableType::kDomain, HashAlgorithm::kNone, Direction::kAny, {}};
    single("domain", ObservableType::kDomain);
    single("hostname", ObservableType::kDomain);
    single("onion-address", ObservableType::kDomain);
    r["url"] = {Shape::kUrl, ObservableType::kUrl, HashAlgorithm::kNone, Direction::kAny, {}};
    single("email", ObservableType::kEmail);
    single("email-src", ObservableType::kEmail, Direction::kSource);
    single("email-dst", ObservableType::kEmail, Direction::kDestination);
    single("email-reply-to", ObservableType::kEmail);
    single("filename", ObservableType::kFileName);
    single("regkey", ObservableType::kRegistryKey);
    r["regkey|value"] = {Shape::kRegkeyValue,
                         ObservableType::kRegistryKey,
                         HashAlgorithm::kNone,
                         Direction::kAny,
                         {}};
    single("user-agent", ObservableType::kUserAgent);

    const std::pair<std::string_view, HashAlgorithm> hashes[] = {
        {"md5", HashAlgorithm::kMd5},           {"sha1", HashAlgorithm::kSha1},
        {"sha256", HashAlgorithm::kSha256},     {"sha512", HashAlgorithm::kSha512},
        {"sha3-256", HashAlgorithm::kSha3_256}, {"sha3-512", HashAlgorithm::kSha3_512},
        {"ssdeep", HashAlgorithm::kSsdeep},     {"tlsh", HashAlgorithm::kTlsh},
        {"imphash", HashAlgorithm::kImphash},
    };
    static const std::pair<std::string_view, std::string_view> FILE_HASH_TYPES[] = {
        {"md5", "filename|md5"},           {"sha1", "filename|sha1"},
        {"sha256", "filename|sha256"},     {"sha512", "filename|sha512"},
        {"sha3-256", "filename|sha3-256"}, {"sha3-512", "filename|sha3-512"},
        {"ssdeep", "filename|ssdeep"},     {"tlsh", "filename|tlsh"},
        {"imphash", "filename|imphash"},
    };
    for (const auto& [name, algorithm] : hashes) {
      r[name] = {Shape::kSingle, ObservableType::kHash, algorithm, Direction::kAny, {}};
      for (const auto& [hash, file_type] : FILE_HASH_TYPES) {
        if (hash == name) {
          r[file_type] = {Shape::kFileHash, ObservableType::kHash, algorithm, Direction::kAny, {}};
        }
      }
    }
    // The sample itself is stored encrypted in `data`; the value is "filename|md5".
    r["malware-sample"] = {
        Shape::kFileHash, ObservableType::kHash, HashAlgorithm::kMd5, Direction::kAny, {}};

    for (std::string_view name : {"sha224",
                                  "sha384",
                                  "sha512/224",
                                  "sha512/256",
                                  "sha3-224",
                                  "sha3-384",
                                  "authentihash",
                                  "vhash",
                                  "pehash",
                                  "telfhash",
                                  "impfuzzy",
                                  "cdhash",
                                  "filename|sha224",
                                  "filename|sha384",
                                  "filename|sha512/224",
                                  "filename|sha512/256",
                                  "filename|sha3-224",
                                  "filename|sha3-384",
                                  "filename|authentihash",
                                  "filename|vhash",
                                  "filename|impfuzzy",
                                  "filename|pehash"}) {
      skip(name, UNINDEXED_HASH);
    }
    for (std::string_view name :
         {"snort", "suricata", "bro", "zeek", "yara", "sigma", "stix2-pattern", "kusto-query",
          "pattern-in-file", "pattern-in-traffic", "pattern-in-memory", "filename-pattern"}) {
      skip(name, DETECTION_RULE);
    }
    for (std::string_view name :
         {"x509-fingerprint-md5", "x509-fingerprint-sha1", "x509-fingerprint-sha256",
          "ja3-fingerprint-md5", "jarm-fingerprint", "hassh-md5", "hasshserver-md5",
          "ssh-fingerprint", "favicon-mmh3", "dom-hash", "community-id"}) {
      skip(name, FINGERPRINT);
    }
    skip("uri", "a relative URI, not an absolute URL");
    skip("link", "a link to a report about the threat, not an indicator of it");
    skip("AS", "an autonomous system number is not a value of an event");
    skip("port", "a port alone matches a large share of all connections");
    skip("whois-registrant-email", "registration data, not seen in events");
    skip("dns-soa-email", "registration data, not seen in events");
    return r;
  }();
  return rules;
}

bool IsPort(std::string_view text) {
  if (text.empty() || text.size() > 5) return false;
  unsigned value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  return value >= 1 && value <= 65535;
}

std::string_view TrimView(std::string_view text) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!text.empty() && space(text.front())) text.remove_prefix(1);
  while (!text.empty() && space(text.back())) text.remove_suffix(1);
  return text;
}

Atom MakeAtom(ObservableType type, std::string_view value, Direction direction = Direction::kAny,
              HashAlgorithm algorithm = HashAlgorithm::kNone) {
  Atom atom;
  atom.type = type;
  atom.algorithm = algorithm;
  atom.direction = direction;
  atom.value.assign(value);
  return atom;
}

// IPv4 or IPv6 address or range, by content.
std::optional<Atom> AddressAtom(std::string_view value, Direction direction) {
  value = TrimView(value);
  if (ParseIpv4Network(value)) return MakeAtom(ObservableType::kIpv4, value, direction);
  if (ParseIpv6Network(value)) return MakeAtom(ObservableType::kIpv6, value, direction);
  return std::nullopt;
}

// ---- Tags ------------------------------------------------------------------------------------

// `namespace:predicate="value"` -> value when the tag starts with `prefix` (the namespace and
// predicate with the '='), without the quotes.
std::optional<std::string_view> MachineTagValue(std::string_view tag, std::string_view prefix) {
  if (tag.size() <= prefix.size()) return std::nullopt;
  for (size_t i = 0; i < prefix.size(); ++i) {
    char c = tag[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    if (c != prefix[i]) return std::nullopt;
  }
  std::string_view value = tag.substr(prefix.size());
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
    value = value.substr(1, value.size() - 2);
  }
  return value;
}

int Lookup(std::string_view value, std::initializer_list<std::pair<std::string_view, int>> table) {
  for (const auto& [name, confidence] : table) {
    if (name == value) return confidence;
  }
  return -1;
}

std::string_view GetString(const dom::object& object, std::string_view key) {
  std::string_view value;
  if (object[key].get_string().get(value) != simdjson::SUCCESS) return {};
  return value;
}

// MISP writes numbers as strings ("timestamp": "1465681801"); accept both.
std::optional<int64_t> GetInteger(const dom::object& object, std::string_view key) {
  dom::element element;
  if (object[key].get(element) != simdjson::SUCCESS) return std::nullopt;
  int64_t value = 0;
  if (element.get_int64().get(value) == simdjson::SUCCESS) return value;
  std::string_view text;
  if (element.get_string().get(text) != simdjson::SUCCESS) return std::nullopt;
  text = TrimView(text);
  if (text.empty() || text.size() > 18) return std::nullopt;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

bool GetBool(const dom::object& object, std::string_view key) {
  dom::element element;
  if (object[key].get(element) != simdjson::SUCCESS) return false;
  bool flag = false;
  if (element.get_bool().get(flag) == simdjson::SUCCESS) return flag;
  int64_t number = 0;
  if (element.get_int64().get(number) == simdjson::SUCCESS) return number != 0;
  std::string_view text;
  if (element.get_string().get(text) == simdjson::SUCCESS) {
    return text == "1" || text == "true" || text == "True";
  }
  return false;
}

void AddTag(std::string_view name, std::vector<std::string>& tags) {
  name = TrimView(name);
  if (name.empty()) return;
  if (std::find(tags.begin(), tags.end(), name) == tags.end()) tags.emplace_back(name);
}

// "Tag": [{"name": ...}] as in feeds, or "EventTag"/"AttributeTag": [{"Tag": {...}}] as in
// some API exports.
void CollectTags(const dom::object& object, std::string_view wrapper_key,
                 std::vector<std::string>& tags) {
  dom::array array;
  if (object["Tag"].get_array().get(array) == simdjson::SUCCESS) {
    for (dom::element tag : array) {
      dom::object tag_object;
      if (tag.get_object().get(tag_object) == simdjson::SUCCESS) {
        AddTag(GetString(tag_object, "name"), tags);
      }
    }
  }
  if (object[wrapper_key].get_array().get(array) == simdjson::SUCCESS) {
    for (dom::element wrapper : array) {
      dom::object tag_object;
      if (wrapper["Tag"].get_object().get(tag_object) == simdjson::SUCCESS) {
        AddTag(GetString(tag_object, "name"), tags);
      }
    }
  }
}

// The strictest TLP among the tags: when a producer tags twice, the narrower audience holds.
Tlp TlpOfTags(const std::vector<std::string>& tags, size_t from = 0) {
  Tlp tlp = Tlp::kUnset;
  for (size_t i = from; i < tags.size(); ++i) {
    if (tags[i].size() < 4 || (tags[i][0] != 't' && tags[i][0] != 'T')) continue;
    if (auto parsed = ParseTlp(tags[i]); parsed && *parsed > tlp) tlp = *parsed;
  }
  return tlp;
}

int ConfidenceOfTags(const std::vector<std::string>& tags, size_t from = 0) {
  for (size_t i = from; i < tags.size(); ++i) {
    int confidence = ConfidenceFromMispTag(tags[i]);
    if (confidence >= 0) return confidence;
  }
  return -1;
}

// ---- Loading ---------------------------------------------------------------------------------

// State of one feed load: statistics, and the reports that are aggregated until its end.
class FeedLoad {
 public:
  FeedLoad(std::string_view feed_name, std::string_view where, const IndicatorSink& sink,
           Diagnostics& diagnostics)
      : feed_name_(feed_name), where_(where), sink_(sink), diagnostics_(diagnostics) {}

  FeedStats& stats() { return stats_; }
  Diagnostics& diagnostics() { return diagnostics_; }

  // Returns whether the document held at least one event.
  bool LoadDocument(const dom::element& root, std::string_view where,
                    const std::vector<std::string>& extra_tags) {
    dom::array array;
    if (root.get_array().get(array) == simdjson::SUCCESS) {
      bool any = false;
      for (dom::element element : array) any |= LoadEnvelope(element, where, extra_tags);
      return any;
    }
    dom::element response;
    if (root["response"].get(response) == simdjson::SUCCESS) {
      return LoadDocument(response, where, extra_tags);
    }
    return LoadEnvelope(root, where, extra_tags);
  }

  // Reports what was aggregated: one warning per skipped type, and the count of attribute
  // warnings beyond the cap.
  void Finish() {
    for (const auto& [type, skipped] : skipped_types_) {
      diagnostics_.Report(DiagnosticKind::kWarning, std::string(where_),
                          std::to_string(skipped.count) + " to_ids attribute" +
                              (skipped.count == 1 ? "" : "s") + " of type '" + type +
                              "' skipped: " + std::string(skipped.reason) + " (first: attribute " +
                              skipped.first_uuid + " in " + skipped.first_where + ")");
    }
    if (attribute_warnings_ > MAX_ATTRIBUTE_WARNINGS) {
      diagnostics_.Report(DiagnosticKind::kWarning, std::string(where_),
                          std::to_string(attribute_warnings_ - MAX_ATTRIBUTE_WARNINGS) +
                              " more attributes skipped for bad values (not listed one by one)");
    }
  }

 private:
  static constexpr uint64_t MAX_ATTRIBUTE_WARNINGS = 20;

  struct SkippedType {
    uint64_t count = 0;
    std::string first_uuid;
    std::string first_where;
    std::string_view reason;
  };

  struct EventContext {
    std::string_view where;
    std::string_view info;
    const std::vector<std::string>* tags;
    Tlp tlp;
    int confidence;
  };

  bool LoadEnvelope(const dom::element& element, std::string_view where,
                    const std::vector<std::string>& extra_tags) {
    dom::object object;
    if (element.get_object().get(object) != simdjson::SUCCESS) return false;
    dom::object event;
    if (object["Event"].get_object().get(event) == simdjson::SUCCESS) {
      LoadEvent(event, where, extra_tags);
      return true;
    }
    dom::element probe;
    if (object["Attribute"].get(probe) == simdjson::SUCCESS ||
        object["Object"].get(probe) == simdjson::SUCCESS ||
        object["info"].get(probe) == simdjson::SUCCESS) {
      LoadEvent(object, where, extra_tags);
      return true;
    }
    return false;
  }

  void LoadEvent(const dom::object& event, std::string_view where,
                 const std::vector<std::string>& extra_tags) {
    std::vector<std::string> tags;
    CollectTags(event, "EventTag", tags);
    for (const std::string& tag : extra_tags) AddTag(tag, tags);
    EventContext context{where, GetString(event, "info"), &tags, TlpOfTags(tags),
                         ConfidenceOfTags(tags)};
    dom::array attributes;
    if (event["Attribute"].get_array().get(attributes) == simdjson::SUCCESS) {
      for (dom::element attribute : attributes) LoadAttribute(attribute, context, false);
    }
    dom::array objects;
    if (event["Object"].get_array().get(objects) == simdjson::SUCCESS) {
      for (dom::element element : objects) {
        dom::object object;
        if (element.get_object().get(object) != simdjson::SUCCESS) continue;
        bool object_deleted = GetBool(object, "deleted");
        if (object["Attribute"].get_array().get(attributes) == simdjson::SUCCESS) {
          for (dom::element attribute : attributes) {
            LoadAttribute(attribute, context, object_deleted);
          }
        }
      }
    }
    // ShadowAttribute entries are proposals nobody has accepted yet: not actionable.
  }

  void WarnAttribute(std::string_view where, std::string_view uuid, std::string message) {
    ++stats_.skipped;
    if (++attribute_warnings_ > MAX_ATTRIBUTE_WARNINGS) return;
    std::string location(where);
    location += " attribute ";
    location += uuid.empty() ? "(no uuid)" : uuid;
    diagnostics_.Report(DiagnosticKind::kWarning, std::move(location), std::move(message));
  }

  void LoadAttribute(const dom::element& element, const EventContext& event, bool object_deleted) {
    ++stats_.objects;
    ++attribute_index_;
    dom::object attribute;
    if (element.get_object().get(attribute) != simdjson::SUCCESS) {
      WarnAttribute(event.where, {}, "attribute is not a JSON object");
      return;
    }
    if (!GetBool(attribute, "to_ids")) {
      ++stats_.ignored;
      return;
    }
    std::string_view uuid = GetString(attribute, "uuid");
    std::string_view type = GetString(attribute, "type");
    std::string_view value = TrimView(GetString(attribute, "value"));
    if (type.empty() || value.empty()) {
      WarnAttribute(event.where, uuid, "attribute without a type or a value");
      return;
    }
    Indicator indicator;
    std::string_view reason;
    switch (MapMispAttribute(type, value, indicator.any_of, reason)) {
      case MispMapping::kMapped:
        break;
      case MispMapping::kUnsupportedType: {
        ++stats_.skipped;
        auto [it, inserted] = skipped_types_.try_emplace(std::string(type));
        if (inserted) {
          it->second.first_uuid = uuid.empty() ? "(no uuid)" : std::string(uuid);
          it->second.first_where = std::string(event.where);
          it->second.reason = reason;
        }
        ++it->second.count;
        return;
      }
      case MispMapping::kBadValue:
        WarnAttribute(event.where, uuid,
                      "type '" + std::string(type) + "' value '" + std::string(value) +
                          "': " + std::string(reason));
        return;
    }
    if (uuid.empty()) {
      // MISP requires a uuid; without one the position is the only stable name.
      indicator.id = std::string(event.where) + "#" + std::to_string(attribute_index_);
    } else {
      indicator.id.assign(uuid);
    }
    indicator.feed.assign(feed_name_);
    indicator.name.assign(event.info);
    indicator.pattern.reserve(type.size() + 1 + value.size());
    indicator.pattern.append(type).append(":").append(value);
    indicator.markings = *event.tags;
    size_t own_tags = indicator.markings.size();
    CollectTags(attribute, "AttributeTag", indicator.markings);
    Tlp own_tlp = TlpOfTags(indicator.markings, own_tags);
    indicator.tlp = own_tlp != Tlp::kUnset ? own_tlp : event.tlp;
    int own_confidence = ConfidenceOfTags(indicator.markings, own_tags);
    indicator.confidence = own_confidence >= 0 ? own_confidence : event.confidence;
    std::string_view category = GetString(attribute, "category");
    indicator.labels.reserve(indicator.markings.size() + 1);
    if (!category.empty()) indicator.labels.emplace_back(category);
    indicator.labels.insert(indicator.labels.end(), indicator.markings.begin(),
                            indicator.markings.end());
    std::optional<int64_t> timestamp = GetInteger(attribute, "timestamp");
    if (timestamp) indicator.modified = *timestamp * 1000;
    std::optional<int64_t> first_seen = ParseIsoDateTimeMs(GetString(attribute, "first_seen"));
    indicator.valid_from = first_seen ? first_seen : indicator.modified;
    // last_seen says when it was last observed, not until when it is valid: no valid_until.
    indicator.revoked = object_deleted || GetBool(attribute, "deleted");
    sink_(std::move(indicator));
    ++stats_.indicators;
  }

  std::string_view feed_name_;
  std::string_view where_;
  const IndicatorSink& sink_;
  Diagnostics& diagnostics_;
  FeedStats stats_;
  std::map<std::string, SkippedType, std::less<>> skipped_types_;
  uint64_t attribute_warnings_ = 0;
  uint64_t attribute_index_ = 0;
};

// Event uuids become file names: accept only what a uuid can hold.
bool IsSafeEventName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    bool ok =
        (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

int ConfidenceFromMispTag(std::string_view tag) {
  if (auto value = MachineTagValue(tag, "osint:certainty=")) {
    // The osint taxonomy's values are percentages: "100", "93", "75", "50", "30", "7", "0".
    if (value->empty() || value->size() > 3) return -1;
    int number = 0;
    for (char c : *value) {
      if (c < '0' || c > '9') return -1;
      number = number * 10 + (c - '0');
    }
    return number <= 100 ? number : -1;
  }
  if (auto value = MachineTagValue(tag, "misp:confidence-level=")) {
    return Lookup(*value, {{"completely-confident", 100},
                           {"usually-confident", 75},
                           {"fairly-confident", 50},
                           {"rarely-confident", 25},
                           {"unconfident", 0}});
  }
  if (auto value = MachineTagValue(tag, "admiralty-scale:information-credibility=")) {
    // 1 confirmed ... 5 improbable; 6 "truth cannot be judged" states no confidence.
    return Lookup(*value, {{"1", 100}, {"2", 80}, {"3", 60}, {"4", 40}, {"5", 20}});
  }
  if (auto value = MachineTagValue(tag, "estimative-language:confidence-in-analytic-judgment=")) {
    // The STIX 2.1 Low/Med/High mapping (appendix A): 15, 50, 85.
    return Lookup(*value, {{"low", 15}, {"moderate", 50}, {"high", 85}});
  }
  if (auto value = MachineTagValue(tag, "estimative-language:likelihood-probability=")) {
    // Middle of each band of the ICD 203 scale.
    return Lookup(*value, {{"almost-no-chance", 3},
                           {"very-unlikely", 12},
                           {"unlikely", 32},
                           {"roughly-even-chance", 50},
                           {"likely", 68},
                           {"very-likely", 88},
                           {"almost-certain", 97}});
  }
  return -1;
}

MispMapping MapMispAttribute(std::string_view type, std::string_view value,
                             std::vector<Conjunction>& any_of, std::string_view& reason) {
  const auto& rules = TypeRules();
  auto it = rules.find(type);
  if (it == rules.end()) {
    reason = NOT_OBSERVABLE;
    return MispMapping::kUnsupportedType;
  }
  const TypeRule& rule = it->second;
  value = TrimView(value);
  if (rule.shape != Shape::kUnsupported && value.empty()) {
    reason = "empty value";
    return MispMapping::kBadValue;
  }
  switch (rule.shape) {
    case Shape::kUnsupported:
      reason = rule.reason;
      return MispMapping::kUnsupportedType;
    case Shape::kSingle:
      any_of.push_back({MakeAtom(rule.type, value, rule.direction, rule.algorithm)});
      return MispMapping::kMapped;
    case Shape::kUrl: {
      Atom atom = MakeAtom(ObservableType::kUrl, value);
      if (value.find("://") == std::string_view::npos) atom.value.insert(0, "http://");
      any_of.push_back({std::move(atom)});
      return MispMapping::kMapped;
    }
    case Shape::kAddress: {
      auto atom = AddressAtom(value, rule.direction);
      if (!atom) {
        reason = "not an IPv4 or IPv6 address or CIDR range";
        return MispMapping::kBadValue;
      }
      any_of.push_back({std::move(*atom)});
      return MispMapping::kMapped;
    }
    case Shape::kAddressPort:
    case Shape::kHostPort: {
      size_t bar = value.rfind('|');
      if (bar == std::string_view::npos) {
        reason = "expected 'address|port'";
        return MispMapping::kBadValue;
      }
      std::string_view port = TrimView(value.substr(bar + 1));
      if (!IsPort(port)) {
        reason = "the port is not a number from 1 to 65535";
        return MispMapping::kBadValue;
      }
      // Ports are compared as decimal text: "0443" is 443.
      while (port.size() > 1 && port.front() == '0') port.remove_prefix(1);
      Conjunction conjunction;
      if (rule.shape == Shape::kAddressPort) {
        auto address = AddressAtom(value.substr(0, bar), rule.direction);
        if (!address) {
          reason = "not an IPv4 or IPv6 address or CIDR range before '|'";
          return MispMapping::kBadValue;
        }
        conjunction.push_back(std::move(*address));
        conjunction.push_back(MakeAtom(ObservableType::kPort, port, rule.direction));
      } else {
        std::string_view host = TrimView(value.substr(0, bar));
        if (host.empty()) {
          reason = "no host name before '|'";
          return MispMapping::kBadValue;
        }
        conjunction.push_back(MakeAtom(ObservableType::kDomain, host));
        // The host is what the client connected to: the port is the destination port.
        conjunction.push_back(MakeAtom(ObservableType::kPort, port, Direction::kDestination));
      }
      any_of.push_back(std::move(conjunction));
      return MispMapping::kMapped;
    }
    case Shape::kDomainIp: {
      size_t bar = value.find('|');
      std::string_view domain = TrimView(value.substr(0, bar));
      if (domain.empty()) {
        reason = "no domain before '|'";
        return MispMapping::kBadValue;
      }
      std::optional<Atom> address;
      if (bar != std::string_view::npos && !TrimView(value.substr(bar + 1)).empty()) {
        address = AddressAtom(value.substr(bar + 1), Direction::kAny);
        if (!address) {
          reason = "not an IPv4 or IPv6 address after '|'";
          return MispMapping::kBadValue;
        }
      }
      any_of.push_back({MakeAtom(ObservableType::kDomain, domain)});
      if (address) any_of.push_back({std::move(*address)});
      return MispMapping::kMapped;
    }
    case Shape::kFileHash: {
      // Hashes hold no '|', file names might: split at the last one.
      size_t bar = value.rfind('|');
      if (bar == std::string_view::npos) {
        reason = "expected 'filename|hash'";
        return MispMapping::kBadValue;
      }
      std::string_view name = TrimView(value.substr(0, bar));
      std::string_view hash = TrimView(value.substr(bar + 1));
      if (hash.empty()) {
        reason = "no hash after '|'";
        return MispMapping::kBadValue;
      }
      Conjunction conjunction;
      if (!name.empty()) conjunction.push_back(MakeAtom(ObservableType::kFileName, name));
      conjunction.push_back(MakeAtom(ObservableType::kHash, hash, Direction::kAny, rule.algorithm));
      any_of.push_back(std::move(conjunction));
      return MispMapping::kMapped;
    }
    case Shape::kRegkeyValue: {
      // The data of a value is not in registry events' key fields; the key is what matches.
      std::string_view key = TrimView(value.substr(0, value.find('|')));
      if (key.empty()) {
        reason = "no registry key before '|'";
        return MispMapping::kBadValue;
      }
      any_of.push_back({MakeAtom(ObservableType::kRegistryKey, key)});
      return MispMapping::kMapped;
    }
  }
  reason = NOT_OBSERVABLE;
  return MispMapping::kUnsupportedType;
}

Result<FeedStats> LoadMispEvent(std::string_view json, std::string_view feed_name,
                                std::string_view where, const IndicatorSink& sink,
                                Diagnostics& diagnostics) {
  FeedLoad load(feed_name, where, sink, diagnostics);
  dom::parser parser;
  dom::element root;
  if (auto error = parser.parse(json.data(), json.size()).get(root); error) {
    diagnostics.Report(DiagnosticKind::kRecordSkipped, std::string(where),
                       std::string("MISP event is not valid JSON (truncated?): ") +
                           simdjson::error_message(error));
    load.stats().complete = false;
    return load.stats();
  }
  if (!load.LoadDocument(root, where, {})) {
    return Fail("not a MISP event: expected {\"Event\": {...}}, an event object or a list of them",
                std::string(where));
  }
  load.Finish();
  return load.stats();
}

Result<FeedStats> LoadMispFeedDirectory(const std::string& dir, std::string_view feed_name,
                                        const IndicatorSink& sink, Diagnostics& diagnostics) {
  namespace fs = std::filesystem;
  std::error_code error_code;
  if (!fs::is_directory(dir, error_code)) {
    return Fail("not a readable directory", dir);
  }
  FeedLoad load(feed_name, dir, sink, diagnostics);
  dom::parser parser;

  // The manifest is copied out of the parser's document: the same parser reads the events.
  struct EventEntry {
    std::string file;
    std::vector<std::string> tags;
  };
  std::vector<EventEntry> events;
  bool have_manifest = false;
  const fs::path manifest_path = fs::path(dir) / "manifest.json";
  if (fs::exists(manifest_path, error_code)) {
    simdjson::padded_string manifest_text;
    dom::object manifest;
    if (auto error = simdjson::padded_string::load(manifest_path.string()).get(manifest_text)) {
      diagnostics.Report(DiagnosticKind::kInputUnreadable, manifest_path.string(),
                         std::string("cannot read: ") + simdjson::error_message(error));
      load.stats().complete = false;
    } else if (auto parse_error = parser.parse(manifest_text).get_object().get(manifest)) {
      diagnostics.Report(DiagnosticKind::kRecordSkipped, manifest_path.string(),
                         std::string("manifest is not a valid JSON object (truncated?): ") +
                             simdjson::error_message(parse_error) +
                             "; reading every event file in the directory instead");
      load.stats().complete = false;
    } else {
      have_manifest = true;
      for (auto [key, value] : manifest) {
        if (!IsSafeEventName(key)) {
          diagnostics.Report(DiagnosticKind::kWarning, manifest_path.string(),
                             "manifest entry '" + std::string(key) + "' is not an event uuid");
          load.stats().complete = false;
          continue;
        }
        EventEntry entry{(fs::path(dir) / (std::string(key) + ".json")).string(), {}};
        dom::object details;
        if (value.get_object().get(details) == simdjson::SUCCESS) {
          CollectTags(details, "EventTag", entry.tags);
        }
        events.push_back(std::move(entry));
      }
    }
  }
  if (!have_manifest) {
    for (const auto& file : fs::directory_iterator(dir, error_code)) {
      const fs::path& path = file.path();
      if (path.extension() == ".json" && path.filename() != "manifest.json" &&
          file.is_regular_file(error_code)) {
        events.push_back({path.string(), {}});
      }
    }
    if (events.empty()) {
      return Fail(load.stats().complete ? "no manifest.json and no event files: not a MISP feed"
                                        : "manifest.json unusable and no event files",
                  dir);
    }
    std::sort(events.begin(), events.end(),
              [](const EventEntry& a, const EventEntry& b) { return a.file < b.file; });
  }

  for (const EventEntry& entry : events) {
    simdjson::padded_string text;
    if (auto error = simdjson::padded_string::load(entry.file).get(text)) {
      diagnostics.Report(DiagnosticKind::kInputUnreadable, entry.file,
                         std::string(have_manifest ? "event listed in manifest.json " : "event ") +
                             "cannot be read: " + simdjson::error_message(error));
      load.stats().complete = false;
      continue;
    }
    dom::element root;
    if (auto error = parser.parse(text).get(root)) {
      diagnostics.Report(DiagnosticKind::kRecordSkipped, entry.file,
                         std::string("event file is not valid JSON (truncated?): ") +
                             simdjson::error_message(error));
      load.stats().complete = false;
      continue;
    }
    if (!load.LoadDocument(root, entry.file, entry.tags)) {
      diagnostics.Report(DiagnosticKind::kRecordSkipped, entry.file,
                         "not a MISP event: no \"Event\" object");
      load.stats().complete = false;
    }
  }
  load.Finish();
  return load.stats();
}

}  // namespace yagura::intel
