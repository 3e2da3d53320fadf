// Logsource: Sigma's (product, category, service) triple, for rules and for events.
//
// A rule's logsource says which events it applies to (absent keys match anything). An event's
// LogsourceClass says what the event is; one event can belong to several categories (a Sysmon
// EventID 13 is both `registry_set` and `registry_event`) and, rarely, several services.
// All string_views point into the LogsourceMapping that produced them, or into static storage.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace yagura::event {

struct Logsource {
  std::string product;
  std::string category;
  std::string service;

  [[nodiscard]] bool empty() const { return product.empty() && category.empty() && service.empty(); }
  bool operator==(const Logsource&) const = default;
};

// Reads "product=windows,service=sysmon" (keys product, category, service; values lower-cased),
// the form of `scan --logsource` and of sensor tokens. The error names the offending part.
[[nodiscard]] Result<Logsource> ParseLogsource(std::string_view text);

struct LogsourceClass {
  static constexpr size_t MAX_NAMES = 6;

  bool recognised = false;  // false: nothing in the event or the input declared what it is
  std::string_view product;
  std::array<std::string_view, MAX_NAMES> services{};
  uint8_t service_count = 0;
  std::array<std::string_view, MAX_NAMES> categories{};
  uint8_t category_count = 0;
  // Nonzero: the class's content was registered (RegisterClassId), and classes with equal
  // nonzero ids are equal, in any mapping of the process. Lets a router know an event's class
  // by one compare instead of its strings. Whoever changes a registered class's content sets
  // it back to 0 (the Add functions do).
  uint32_t id = 0;

  void AddService(std::string_view s) {
    if (service_count < MAX_NAMES) services[service_count++] = s;
    id = 0;
  }
  void AddCategory(std::string_view c) {
    if (category_count < MAX_NAMES) categories[category_count++] = c;
    id = 0;
  }
  [[nodiscard]] bool HasService(std::string_view s) const {
    for (uint8_t i = 0; i < service_count; ++i)
      if (services[i] == s) return true;
    return false;
  }
  [[nodiscard]] bool HasCategory(std::string_view c) const {
    for (uint8_t i = 0; i < category_count; ++i)
      if (categories[i] == c) return true;
    return false;
  }
  // Whether a rule with logsource `rule` applies to an event of this class.
  [[nodiscard]] bool Admits(const Logsource& rule) const {
    if (!rule.product.empty() && rule.product != product) return false;
    if (!rule.service.empty() && !HasService(rule.service)) return false;
    if (!rule.category.empty() && !HasCategory(rule.category)) return false;
    return true;
  }
};

// Sets `cls.id` to the process-wide number of its content (recognised, product, services and
// categories in order), registering that content the first time it is seen. Thread-safe; meant
// for classes precomputed while loading, not for one per event.
void RegisterClassId(LogsourceClass& cls);

}  // namespace yagura::event
