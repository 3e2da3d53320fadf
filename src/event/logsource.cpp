// ParseLogsource (see logsource.hpp).
#include "event/logsource.hpp"

#include <fmt/format.h>

#include <cctype>

namespace yagura::event {

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
