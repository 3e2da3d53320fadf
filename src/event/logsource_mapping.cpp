// LogsourceMapping: loading config/logsources.yml and classifying events by it.
//
// Loading turns the YAML into precomputed classes: every (channel, event id) and (provider,
// event id) pair the file names gets one LogsourceClass with its renames, merged from every log
// entry that names the pair, and stored in a hash map keyed by the lower-cased name. A pair's
// `any event id` entry carries the log's services alone. Non-Windows sources are an ordered list
// of presence/prefix tests, each optionally refined by a hash lookup of one field's value.
// Classify() therefore costs, per event, a few FieldId presence checks, one lower-casing of a
// short string into a stack buffer and one or two hash probes; a thread-local one-entry cache
// skips even those for runs of events from the same channel and event id, which is what EVTX
// files and Sysmon exports mostly are. Nothing is allocated per event: classes are copied by
// value into the event and renamed values are the source field's own views.
#include "event/logsource_mapping.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <cstring>
#include <deque>
#include <fstream>
#include <sstream>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <yaml-cpp/yaml.h>

namespace yagura {
extern const std::string_view EMBEDDED_LOGSOURCES;
}

namespace yagura::event {
namespace {

constexpr uint32_t ANY_EVENT_ID = UINT32_MAX;
// Longer channel, provider or lookup values than this cannot be names the mapping knows.
constexpr size_t MAX_NAME = 256;
constexpr size_t CACHE_NAME = 96;

struct FieldRef {
  std::string_view name;
  FieldId id = NO_FIELD;
};

struct Rename {
  FieldRef target;
  FieldRef source;
};

// One precomputed class: what Classify() copies into the event.
struct Class {
  LogsourceClass logsource;
  std::vector<Rename> renames;
};

struct NameKey {
  std::string_view name;  // lower-cased
  uint32_t event_id;
  bool operator==(const NameKey&) const = default;
};

struct NameKeyHash {
  size_t operator()(const NameKey& key) const {
    return std::hash<std::string_view>{}(key.name) ^ (size_t{key.event_id} * 0x9E3779B97F4A7C15ULL);
  }
};

enum class Normalise : uint8_t { kLower, kProgram };

struct StartsWith {
  FieldRef field;
  std::string prefix;  // lower-cased
};

struct Condition {
  uint8_t formats = 0;  // bit per RecordFormat; 0: any
  std::vector<FieldRef> has;
  std::vector<FieldRef> has_any;
  std::vector<FieldRef> lacks;
  std::vector<StartsWith> starts_with;
};

struct Source {
  std::string name;
  Condition when;
  const Class* base = nullptr;
  std::vector<FieldRef> lookup_fields;
  Normalise normalise = Normalise::kLower;
  std::unordered_map<std::string_view, const Class*> values;  // lower-cased value -> class
};

char LowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

// Lower-cases `text` into `buffer` (of MAX_NAME bytes); empty when it does not fit.
std::string_view LowerInto(std::string_view text, char* buffer) {
  if (text.size() > MAX_NAME) return {};
  for (size_t i = 0; i < text.size(); ++i) buffer[i] = LowerAscii(text[i]);
  return {buffer, text.size()};
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = LowerAscii(c);
  return out;
}

// "/usr/sbin/sshd[42]:" and "sshd(pam_unix)" are both the program sshd.
std::string_view ProgramName(std::string_view text) {
  if (auto slash = text.rfind('/'); slash != std::string_view::npos) text.remove_prefix(slash + 1);
  if (auto cut = text.find_first_of("[("); cut != std::string_view::npos) text = text.substr(0, cut);
  while (!text.empty() && (text.back() == ':' || text.back() == ' ')) text.remove_suffix(1);
  return text;
}

// Event ids are written as numbers or as strings of digits; anything else has no id.
uint32_t ParseEventId(const FieldValue* value) {
  if (value == nullptr || value->text.empty() || value->text.size() > 9) return ANY_EVENT_ID;
  uint32_t id = 0;
  for (char c : value->text) {
    if (c < '0' || c > '9') return ANY_EVENT_ID;
    id = id * 10 + static_cast<uint32_t>(c - '0');
  }
  return id;
}

const FieldValue* FirstOf(const Event& event, const std::vector<FieldRef>& fields) {
  for (const FieldRef& field : fields)
    if (const FieldValue* value = event.First(field.id)) return value;
  return nullptr;
}

bool Holds(const Condition& condition, const Event& event) {
  if (condition.formats != 0 && (condition.formats & (1u << static_cast<unsigned>(event.format))) == 0)
    return false;
  for (const FieldRef& field : condition.has)
    if (!event.Has(field.id)) return false;
  if (!condition.has_any.empty() &&
      std::none_of(condition.has_any.begin(), condition.has_any.end(),
                   [&](const FieldRef& field) { return event.Has(field.id); }))
    return false;
  for (const FieldRef& field : condition.lacks)
    if (event.Has(field.id)) return false;
  for (const StartsWith& test : condition.starts_with) {
    const FieldValue* value = event.First(test.field.id);
    if (value == nullptr || value->text.size() < test.prefix.size()) return false;
    for (size_t i = 0; i < test.prefix.size(); ++i)
      if (LowerAscii(value->text[i]) != test.prefix[i]) return false;
  }
  return true;
}

// Each mapping gets a distinct serial so a thread's cache never mistakes a new mapping at a
// reused address for the old one.
std::atomic<uint64_t> next_serial{1};

struct WindowsCacheEntry {
  uint64_t serial = 0;
  uint32_t event_id = 0;
  uint8_t length = 0;
  bool by_provider = false;
  char name[CACHE_NAME];
  const Class* result = nullptr;
};
// The classes of the channel (or provider) and event id pairs met last, direct-mapped: a
// stream interleaves a few dozen of them (Sysmon's process, network, image and file events,
// the Security log's logons), and with one entry most events missed and paid a lower-casing,
// a hash of the name and one or two probes of the maps (about 1.5% of a detecting scan).
constexpr size_t WINDOWS_CACHE_ENTRIES = 128;
thread_local WindowsCacheEntry windows_cache[WINDOWS_CACHE_ENTRIES];

// ---- Loading -----------------------------------------------------------------------------------

class LoadError : public std::runtime_error {
 public:
  LoadError(const YAML::Node& node, const std::string& message)
      : std::runtime_error(message), line(node.Mark().line + 1) {}
  int line;
};

std::vector<std::string> Strings(const YAML::Node& node, const char* what) {
  std::vector<std::string> out;
  if (!node || node.IsNull()) return out;
  if (node.IsScalar()) {
    out.push_back(node.as<std::string>());
  } else if (node.IsSequence()) {
    for (const YAML::Node& item : node) {
      if (!item.IsScalar()) throw LoadError(item, std::string(what) + " must be a name or a list of names");
      out.push_back(item.as<std::string>());
    }
  } else {
    throw LoadError(node, std::string(what) + " must be a name or a list of names");
  }
  return out;
}

void CheckKeys(const YAML::Node& node, std::initializer_list<std::string_view> allowed, const char* what) {
  if (!node.IsMap()) throw LoadError(node, std::string(what) + " must be a map");
  for (const auto& entry : node) {
    auto key = entry.first.as<std::string>();
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
      throw LoadError(entry.first, "unknown key '" + key + "' in " + what);
  }
}

}  // namespace

struct LogsourceMapping::Impl {
  uint64_t serial = next_serial.fetch_add(1);
  std::unordered_set<std::string> strings;  // owns every name the classes view
  std::deque<Class> classes;                // stable addresses

  std::vector<FieldRef> channel_fields;
  std::vector<FieldRef> event_id_fields;
  std::vector<FieldRef> provider_fields;
  std::unordered_map<NameKey, Class*, NameKeyHash> by_channel;
  std::unordered_map<NameKey, Class*, NameKeyHash> by_provider;
  const Class* windows_other = nullptr;

  std::vector<Source> sources;
  // For each RecordFormat, the sources whose `when` admits it, in file order: a syslog line
  // never tests the JSON-only sources.
  std::array<std::vector<const Source*>, 8> sources_by_format;

  std::string_view Own(std::string_view text) { return *strings.emplace(text).first; }

  FieldRef Field(const std::string& name) { return {Own(name), NO_FIELD}; }
  std::vector<FieldRef> Fields(const YAML::Node& node, const char* what) {
    std::vector<FieldRef> out;
    for (const std::string& name : Strings(node, what)) out.push_back(Field(name));
    return out;
  }

  Class& NewClass() { return classes.emplace_back(); }

  static void AddNames(const YAML::Node& node, const char* what, Class& into, bool service, Impl& self) {
    for (const std::string& name : Strings(node, what)) {
      LogsourceClass& ls = into.logsource;
      std::string_view owned = self.Own(name);
      if (service ? ls.HasService(owned) : ls.HasCategory(owned)) continue;
      if ((service ? ls.service_count : ls.category_count) >= LogsourceClass::MAX_NAMES)
        throw LoadError(node, std::string("too many names in ") + what);
      if (service)
        ls.AddService(owned);
      else
        ls.AddCategory(owned);
    }
  }

  void AddRenames(const YAML::Node& node, Class& into) {
    if (!node) return;
    if (!node.IsMap()) throw LoadError(node, "rename must be a map of Target: Source");
    for (const auto& entry : node) {
      Rename rename{Field(entry.first.as<std::string>()), Field(entry.second.as<std::string>())};
      AddRename(rename, into);
    }
  }

  static void AddRename(const Rename& rename, Class& into) {
    for (const Rename& existing : into.renames)
      if (existing.target.name == rename.target.name) return;
    into.renames.push_back(rename);
  }

  // Adds the names and renames of `from` to `into`.
  static void Merge(const Class& from, Class& into) {
    into.logsource.recognised = into.logsource.recognised || from.logsource.recognised;
    if (into.logsource.product.empty()) into.logsource.product = from.logsource.product;
    for (uint8_t i = 0; i < from.logsource.service_count; ++i)
      if (!into.logsource.HasService(from.logsource.services[i]))
        into.logsource.AddService(from.logsource.services[i]);
    for (uint8_t i = 0; i < from.logsource.category_count; ++i)
      if (!into.logsource.HasCategory(from.logsource.categories[i]))
        into.logsource.AddCategory(from.logsource.categories[i]);
    for (const Rename& rename : from.renames) AddRename(rename, into);
  }

  void Register(std::unordered_map<NameKey, Class*, NameKeyHash>& map, std::string_view name,
                uint32_t event_id, const Class& cls) {
    NameKey key{Own(Lower(name)), event_id};
    auto [it, inserted] = map.try_emplace(key, nullptr);
    if (inserted) it->second = &NewClass();
    Merge(cls, *it->second);
  }

  void LoadWindows(const YAML::Node& node) {
    CheckKeys(node, {"product", "channel_fields", "event_id_fields", "provider_fields", "logs"}, "windows");
    std::string product = node["product"] ? node["product"].as<std::string>() : "windows";
    channel_fields = Fields(node["channel_fields"], "channel_fields");
    event_id_fields = Fields(node["event_id_fields"], "event_id_fields");
    provider_fields = Fields(node["provider_fields"], "provider_fields");
    if (channel_fields.empty()) channel_fields.push_back(Field("Channel"));
    if (event_id_fields.empty()) event_id_fields.push_back(Field("EventID"));

    Class& other = NewClass();
    other.logsource.recognised = true;
    other.logsource.product = Own(product);
    windows_other = &other;

    const YAML::Node logs = node["logs"];
    if (logs && !logs.IsSequence()) throw LoadError(logs, "windows.logs must be a list");
    for (const YAML::Node& log : logs) {
      CheckKeys(log, {"channel", "provider", "product", "service", "events"}, "a windows log");
      Class base;
      base.logsource.recognised = true;
      base.logsource.product = Own(log["product"] ? log["product"].as<std::string>() : product);
      AddNames(log["service"], "service", base, true, *this);
      std::vector<std::string> channels = Strings(log["channel"], "channel");
      std::vector<std::string> providers = Strings(log["provider"], "provider");
      if (channels.empty() && providers.empty())
        throw LoadError(log, "a windows log needs a channel or a provider");
      auto register_all = [&](uint32_t event_id, const Class& cls) {
        for (const std::string& channel : channels) Register(by_channel, channel, event_id, cls);
        for (const std::string& provider : providers) Register(by_provider, provider, event_id, cls);
      };
      register_all(ANY_EVENT_ID, base);
      const YAML::Node events = log["events"];
      if (events && !events.IsSequence()) throw LoadError(events, "events must be a list");
      for (const YAML::Node& entry : events) {
        CheckKeys(entry, {"id", "category", "service", "rename"}, "an event entry");
        Class cls = base;
        AddNames(entry["category"], "category", cls, false, *this);
        AddNames(entry["service"], "service", cls, true, *this);
        AddRenames(entry["rename"], cls);
        std::vector<std::string> ids = Strings(entry["id"], "id");
        if (ids.empty()) throw LoadError(entry, "an event entry needs an id");
        for (const std::string& text : ids) {
          FieldValue value{text, ValueType::kString};
          uint32_t id = ParseEventId(&value);
          if (id == ANY_EVENT_ID) throw LoadError(entry["id"], "event id '" + text + "' is not a number");
          register_all(id, cls);
        }
      }
    }
  }

  Condition LoadCondition(const YAML::Node& node) {
    Condition condition;
    if (!node) return condition;
    CheckKeys(node, {"format", "has", "has_any", "lacks", "startswith"}, "when");
    for (const std::string& format : Strings(node["format"], "format")) {
      RecordFormat value;
      if (format == "json") value = RecordFormat::kJson;
      else if (format == "evtx") value = RecordFormat::kEvtx;
      else if (format == "syslog") value = RecordFormat::kSyslog;
      else if (format == "text") value = RecordFormat::kText;
      else if (format == "webaccess") value = RecordFormat::kWebAccess;
      else throw LoadError(node["format"], "unknown format '" + format + "' (json, evtx, syslog, webaccess, text)");
      condition.formats |= static_cast<uint8_t>(1u << static_cast<unsigned>(value));
    }
    condition.has = Fields(node["has"], "has");
    condition.has_any = Fields(node["has_any"], "has_any");
    condition.lacks = Fields(node["lacks"], "lacks");
    if (const YAML::Node starts = node["startswith"]) {
      if (!starts.IsMap()) throw LoadError(starts, "startswith must be a map of Field: prefix");
      for (const auto& entry : starts)
        condition.starts_with.push_back({Field(entry.first.as<std::string>()), Lower(entry.second.as<std::string>())});
    }
    return condition;
  }

  void LoadSource(const YAML::Node& node) {
    CheckKeys(node, {"name", "when", "product", "service", "category", "rename", "lookup"}, "a source");
    Source source;
    source.name = node["name"] ? node["name"].as<std::string>() : std::string("source");
    source.when = LoadCondition(node["when"]);
    Class& base = NewClass();
    base.logsource.recognised = true;
    if (node["product"]) base.logsource.product = Own(node["product"].as<std::string>());
    AddNames(node["service"], "service", base, true, *this);
    AddNames(node["category"], "category", base, false, *this);
    AddRenames(node["rename"], base);
    source.base = &base;
    if (const YAML::Node lookup = node["lookup"]) {
      CheckKeys(lookup, {"fields", "normalise", "values"}, "lookup");
      source.lookup_fields = Fields(lookup["fields"], "fields");
      if (source.lookup_fields.empty()) throw LoadError(lookup, "lookup needs fields");
      std::string normalise = lookup["normalise"] ? lookup["normalise"].as<std::string>() : "lower";
      if (normalise == "lower") source.normalise = Normalise::kLower;
      else if (normalise == "program") source.normalise = Normalise::kProgram;
      else throw LoadError(lookup["normalise"], "normalise must be 'lower' or 'program'");
      const YAML::Node values = lookup["values"];
      if (!values || !values.IsSequence()) throw LoadError(lookup, "lookup needs a list of values");
      for (const YAML::Node& entry : values) {
        CheckKeys(entry, {"value", "service", "category", "rename"}, "a lookup value");
        bool service_is_value = entry["service"] && entry["service"].IsScalar() &&
                                entry["service"].as<std::string>() == "$value";
        for (const std::string& value : Strings(entry["value"], "value")) {
          Class& cls = NewClass();
          Merge(base, cls);
          cls.logsource.recognised = true;
          if (service_is_value) {
            if (!cls.logsource.HasService(Own(value))) cls.logsource.AddService(Own(value));
          } else {
            AddNames(entry["service"], "service", cls, true, *this);
          }
          AddNames(entry["category"], "category", cls, false, *this);
          AddRenames(entry["rename"], cls);
          std::string key = Lower(value);
          if (source.normalise == Normalise::kProgram) key = std::string(ProgramName(key));
          if (!source.values.try_emplace(Own(key), &cls).second)
            throw LoadError(entry, "value '" + value + "' is listed twice");
        }
      }
    }
    sources.push_back(std::move(source));
  }

  void Load(const YAML::Node& root) {
    CheckKeys(root, {"version", "windows", "sources"}, "the mapping");
    if (!root["version"] || root["version"].as<std::string>() != "1")
      throw LoadError(root, "the mapping needs 'version: 1'");
    if (root["windows"]) LoadWindows(root["windows"]);
    if (const YAML::Node list = root["sources"]) {
      if (!list.IsSequence()) throw LoadError(list, "sources must be a list");
      for (const YAML::Node& node : list) LoadSource(node);
    }
    for (unsigned format = 0; format < sources_by_format.size(); ++format)
      for (const Source& source : sources)
        if (source.when.formats == 0 || (source.when.formats & (1u << format)) != 0)
          sources_by_format[format].push_back(&source);
    for (Class& cls : classes) RegisterClassId(cls.logsource);
  }

  // ---- Classification ----

  const Class* Find(const std::unordered_map<NameKey, Class*, NameKeyHash>& map, std::string_view lower,
                    uint32_t event_id) const {
    if (lower.empty()) return nullptr;
    if (event_id != ANY_EVENT_ID) {
      if (auto it = map.find(NameKey{lower, event_id}); it != map.end()) return it->second;
    }
    if (auto it = map.find(NameKey{lower, ANY_EVENT_ID}); it != map.end()) return it->second;
    return nullptr;
  }

  const Class* ClassifyWindows(const Event& event) const {
    const FieldValue* name = FirstOf(event, channel_fields);
    bool from_provider = false;
    uint32_t event_id = ParseEventId(FirstOf(event, event_id_fields));
    if (name == nullptr) {
      name = FirstOf(event, provider_fields);
      if (name == nullptr) return nullptr;
      from_provider = true;
    }
    std::string_view text = name->text;
    bool cacheable = text.size() <= CACHE_NAME;
    const size_t slot =
        text.empty() ? 0
                     : (event_id * 31 + text.size() * 7 + static_cast<uint8_t>(text.back()) * 3 +
                        static_cast<uint8_t>(text[text.size() / 2]) + (from_provider ? 1 : 0)) %
                           WINDOWS_CACHE_ENTRIES;
    WindowsCacheEntry& cache = windows_cache[slot];
    if (cacheable && cache.serial == serial && cache.event_id == event_id && cache.by_provider == from_provider &&
        std::string_view(cache.name, cache.length) == text)
      return cache.result;

    char buffer[MAX_NAME];
    std::string_view lower = LowerInto(text, buffer);
    const Class* result = Find(from_provider ? by_provider : by_channel, lower, event_id);
    // A channel the mapping does not know is still a Windows log; a provider alone is taken
    // for one only with an event id beside it.
    if (result == nullptr && (!from_provider || event_id != ANY_EVENT_ID)) result = windows_other;
    if (cacheable) {
      cache.serial = serial;
      cache.event_id = event_id;
      cache.by_provider = from_provider;
      cache.length = static_cast<uint8_t>(text.size());
      // An empty name may have no storage at all (a null data pointer).
      if (!text.empty()) std::memcpy(cache.name, text.data(), text.size());
      cache.result = result;
    }
    return result;
  }

  const Class* ClassifySource(const Source& source, const Event& event) const {
    if (source.lookup_fields.empty()) return source.base;
    const FieldValue* value = FirstOf(event, source.lookup_fields);
    if (value == nullptr) return source.base;
    std::string_view text = value->text;
    if (source.normalise == Normalise::kProgram) text = ProgramName(text);
    char buffer[MAX_NAME];
    std::string_view lower = LowerInto(text, buffer);
    if (lower.empty()) return source.base;
    auto it = source.values.find(lower);
    return it == source.values.end() ? source.base : it->second;
  }
};

LogsourceMapping::LogsourceMapping() : impl_(std::make_unique<Impl>()) {}
LogsourceMapping::LogsourceMapping(LogsourceMapping&&) noexcept = default;
LogsourceMapping& LogsourceMapping::operator=(LogsourceMapping&&) noexcept = default;
LogsourceMapping::~LogsourceMapping() = default;

Result<LogsourceMapping> LogsourceMapping::LoadDefault() {
  return LoadText(EMBEDDED_LOGSOURCES, "config/logsources.yml (built in)");
}

Result<LogsourceMapping> LogsourceMapping::LoadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail("cannot read the logsource mapping", path);
  std::ostringstream text;
  text << in.rdbuf();
  return LoadText(text.str(), path);
}

Result<LogsourceMapping> LogsourceMapping::LoadText(std::string_view yaml, std::string_view where) {
  LogsourceMapping mapping;
  try {
    YAML::Node root = YAML::Load(std::string(yaml));
    mapping.impl_->Load(root);
  } catch (const LoadError& error) {
    return Fail(error.what(), std::string(where) + ":" + std::to_string(error.line));
  } catch (const YAML::Exception& error) {
    return Fail(error.msg, std::string(where) + ":" + std::to_string(error.mark.line + 1));
  }
  return mapping;
}

void LogsourceMapping::InternFields(FieldCatalog& catalog) {
  Impl& impl = *impl_;
  auto intern = [&](FieldRef& field) { field.id = catalog.Intern(field.name); };
  auto intern_all = [&](std::vector<FieldRef>& fields) {
    for (FieldRef& field : fields) intern(field);
  };
  intern_all(impl.channel_fields);
  intern_all(impl.event_id_fields);
  intern_all(impl.provider_fields);
  for (Source& source : impl.sources) {
    intern_all(source.when.has);
    intern_all(source.when.has_any);
    intern_all(source.when.lacks);
    for (StartsWith& test : source.when.starts_with) intern(test.field);
    intern_all(source.lookup_fields);
  }
  for (Class& cls : impl.classes) {
    for (Rename& rename : cls.renames) {
      intern(rename.target);
      intern(rename.source);
    }
  }
}

void LogsourceMapping::Classify(Event& event) const {
  const Impl& impl = *impl_;
  const Class* cls = impl.ClassifyWindows(event);
  if (cls == nullptr) {
    for (const Source* source : impl.sources_by_format[static_cast<unsigned>(event.format)]) {
      if (Holds(source->when, event)) {
        cls = impl.ClassifySource(*source, event);
        break;
      }
    }
  }
  if (cls == nullptr) return;
  event.logsource = cls->logsource;
  for (const Rename& rename : cls->renames) {
    if (rename.target.id == NO_FIELD || rename.source.id == NO_FIELD || event.Has(rename.target.id) ||
        !event.Has(rename.source.id))
      continue;
    // Values are copied before each Add: Add may grow the value store the range walks.
    for (auto it = event.Values(rename.source.id).begin(), end = event.Values(rename.source.id).end();
         it != end; ++it) {
      FieldValue value = *it;
      event.Add(rename.target.id, value);
    }
  }
}

}  // namespace yagura::event
