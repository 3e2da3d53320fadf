// ParseLogsource (see logsource.hpp).
#include "event/logsource.hpp"

#include <fmt/format.h>

#include <cctype>
#include <mutex>
#include <string>
#include <unordered_map>

namespace yagura::event {

void RegisterClassId(LogsourceClass& cls) {
  // Each name led by its length, each list by its count: no two contents share a key.
  std::string key;
  auto add_name = [&key](std::string_view name) {
    const uint64_t size = name.size();
    key.append(reinterpret_cast<const char*>(&size), sizeof size);
    key += name;
  };
  key += cls.recognised ? '1' : '0';
  add_name(cls.product);
  key += static_cast<char>(cls.service_count);
  for (uint8_t i = 0; i < cls.service_count; ++i) add_name(cls.services[i]);
  key += static_cast<char>(cls.category_count);
  for (uint8_t i = 0; i < cls.category_count; ++i) add_name(cls.categories[i]);
  static std::mutex mutex;
  static std::unordered_map<std::string, uint32_t> ids;
  std::lock_guard lock(mutex);
  cls.id = ids.try_emplace(std::move(key), static_cast<uint32_t>(ids.size() + 1)).first->second;
}

Result<Logsource> ParseLogsource(std::string_view text) {
  Logsource logsource;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view part = text.substr(start, end - start);
    size_t eq = part.find('=');
    if (eq == std::string_view::npos) {
      return Fail(fmt::format("expected key=value, got '{}'", part));
    }
    std::string key(part.substr(0, eq));
    std::string value(part.substr(eq + 1));
    for (char& c : value) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (key == "product") logsource.product = value;
    else if (key == "category") logsource.category = value;
    else if (key == "service") logsource.service = value;
    else return Fail(fmt::format("unknown key '{}' (product, category, service)", key));
    start = end + 1;
  }
  return logsource;
}

}  // namespace yagura::event
