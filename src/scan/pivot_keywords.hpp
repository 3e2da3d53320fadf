// PivotKeywords: the accounts, hosts, addresses, processes, logon sessions and services that
// appear in the events of a scan's severe alerts (`yagura scan --pivot-keywords FILE`), as
// Hayabusa's pivot-keywords-list gives them. They are what an investigator searches for next
// (`yagura search -s alice`): the account a brute force took, the host it came from.
//
// Each category reads the fields that name such a thing in Windows, Sysmon, web and syslog logs
// (PivotCategories()), as Sigma rules name them. What Windows writes for "none" or "this
// machine" ("-", "0x0", SYSTEM's logon id 0x3e7, loopback and unspecified addresses) is not a
// keyword.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "event/event.hpp"
#include "event/field_catalog.hpp"
#include "intel/geo_ip.hpp"
#include "sigma/rule.hpp"

namespace yagura::scan {

struct PivotCategory {
  std::string_view name;  // "users", "hosts"...
  std::vector<std::string_view> fields;
};

// The categories and the fields each reads, in output order.
[[nodiscard]] const std::vector<PivotCategory>& PivotCategories();

class PivotKeywords {
 public:
  // Interns the fields the categories read (before the event parser is built).
  explicit PivotKeywords(event::FieldCatalog& catalog);

  // The keywords of an alerted event, with the alert's event time if known.
  void Add(const event::Event& event, std::optional<int64_t> time_ms);

  // {"alerts": N, "categories": {"users": [{"value","count","first_time","last_time"}]...}}:
  // `count` is the alerts whose event holds the value, the times are the first and the last
  // of those events; each list by count (most first), then value. `min_level`: the level the alerts
  // were chosen from, written as "min_level".
  // With `geo` (scan --geo-ip), each address also says where it is: "location" with country,
  // country_name, city, asn and as_org, or null when no database knows it.
  void WriteJson(sigma::Level min_level, std::string& out,
                 intel::GeoIpDatabases* geo = nullptr) const;

  [[nodiscard]] uint64_t alerts() const { return alerts_; }
  // Distinct keywords of each category, in PivotCategories() order.
  [[nodiscard]] std::vector<size_t> Counts() const;

 private:
  struct Seen {
    uint64_t count = 0;
    std::optional<int64_t> first_ms, last_ms;
  };
  struct Category {
    std::vector<event::FieldId> fields;
    std::map<std::string, Seen, std::less<>> values;
  };
  std::vector<Category> categories_;
  uint64_t alerts_ = 0;
};

}  // namespace yagura::scan
