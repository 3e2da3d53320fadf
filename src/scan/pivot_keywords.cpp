// PivotKeywords (see pivot_keywords.hpp).
#include "scan/pivot_keywords.hpp"

#include <algorithm>
#include <array>

#include "core/json_writer.hpp"
#include "core/time.hpp"

namespace yagura::scan {
namespace {

// What Windows and web servers write where there is nothing to name: not worth a search.
bool IsPlaceholder(std::string_view value) {
  static constexpr std::array<std::string_view, 7> PLACEHOLDERS = {
      "-", "0x0", "0x3e7", "::", "0.0.0.0", "127.0.0.1", "::1"};
  if (value.empty()) return true;
  return std::find(PLACEHOLDERS.begin(), PLACEHOLDERS.end(), value) != PLACEHOLDERS.end();
}

}  // namespace

const std::vector<PivotCategory>& PivotCategories() {
  static const std::vector<PivotCategory> categories = {
      // Windows and Sysmon fields, W3C web logs' (cs-username, c-ip), and what the syslog
      // parser takes from sshd's and other daemons' messages (user, src_ip, dst_ip) and headers
      // (host, hostname).
      {"users",
       {"User", "SubjectUserName", "TargetUserName", "AccountName", "UserName", "SamAccountName",
        "cs-username", "user"}},
      {"hosts",
       {"Computer", "WorkstationName", "SourceHostname", "DestinationHostname", "Hostname",
        "hostname", "host"}},
      {"addresses",
       {"IpAddress", "SourceIp", "DestinationIp", "SourceAddress", "DestAddress", "ClientAddress",
        "c-ip", "src_ip", "dst_ip"}},
      {"processes", {"Image", "ParentImage", "TargetImage", "SourceImage"}},
      {"command_lines", {"CommandLine", "ParentCommandLine"}},
      {"logon_ids", {"TargetLogonId", "SubjectLogonId", "LogonId"}},
      {"services", {"ServiceName", "ServiceFileName"}},
  };
  return categories;
}

PivotKeywords::PivotKeywords(event::FieldCatalog& catalog) {
  for (const PivotCategory& category : PivotCategories()) {
    Category& own = categories_.emplace_back();
    for (std::string_view field : category.fields) own.fields.push_back(catalog.Intern(field));
  }
}

void PivotKeywords::Add(const event::Event& event, std::optional<int64_t> time_ms) {
  ++alerts_;
  for (Category& category : categories_) {
    // A value counts once an alert, even when two of the category's fields hold it.
    std::vector<std::string_view> counted;
    for (event::FieldId field : category.fields) {
      for (const event::FieldValue& value : event.Values(field)) {
        if (value.type == event::ValueType::kNull || IsPlaceholder(value.text)) continue;
        if (std::find(counted.begin(), counted.end(), value.text) != counted.end()) continue;
        counted.push_back(value.text);
        auto entry = category.values.find(value.text);
        if (entry == category.values.end())
          entry = category.values.emplace(std::string(value.text), Seen{}).first;
        Seen& seen = entry->second;
        ++seen.count;
        if (time_ms) WidenSpan(seen.first_ms, seen.last_ms, *time_ms);
      }
    }
  }
}

std::vector<size_t> PivotKeywords::Counts() const {
  std::vector<size_t> counts;
  for (const Category& category : categories_) counts.push_back(category.values.size());
  return counts;
}

void PivotKeywords::WriteJson(sigma::Level min_level, std::string& out,
                              intel::GeoIpDatabases* geo) const {
  JsonWriter w(out);
  w.BeginObject();
  w.Key("min_level").String(sigma::LevelName(min_level));
  w.Key("alerts").Uint(alerts_);
  w.Key("categories").BeginObject();
  const std::vector<PivotCategory>& names = PivotCategories();
  for (size_t c = 0; c < categories_.size(); ++c) {
    std::vector<const std::pair<const std::string, Seen>*> sorted;
    for (const auto& entry : categories_[c].values) sorted.push_back(&entry);
    std::stable_sort(sorted.begin(), sorted.end(), [](const auto* a, const auto* b) {
      return a->second.count > b->second.count;
    });
    w.Key(names[c].name).BeginArray();
    for (const auto* entry : sorted) {
      const Seen& seen = entry->second;
      w.BeginObject().Key("value").String(entry->first).Key("count").Uint(seen.count);
      w.Key("first_time").TimeOrNull(seen.first_ms);
      w.Key("last_time").TimeOrNull(seen.last_ms);
      if (geo != nullptr && names[c].name == "addresses") {
        w.Key("location");
        if (const intel::GeoLocation* where = geo->Lookup(entry->first)) {
          w.BeginObject();
          intel::WriteLocationMembers(w, *where);
          w.EndObject();
        } else {
          w.Null();
        }
      }
      w.EndObject();
    }
    w.EndArray();
  }
  w.EndObject();
  w.EndObject();
}

}  // namespace yagura::scan
