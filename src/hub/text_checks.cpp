#include "hub/text_checks.hpp"

namespace yagura::hub {

bool ValidText(std::string_view text, size_t max_code_points) {
  return text.find('\0') == std::string_view::npos && ValidUtf8(text) &&
         CodePoints(text) <= max_code_points;
}

bool ValidFilename(std::string_view name) {
  if (name.empty() || CodePoints(name) > 255 || name == "." || name == ".." || !ValidUtf8(name)) {
    return false;
  }
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f || c == '/' || c == '\\' || c == '"') return false;
  }
  return true;
}

bool ValidContentType(std::string_view type) {
  if (type.empty() || type.size() > 200) return false;
  std::string_view essence = type.substr(0, type.find(';'));
  size_t slash = essence.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 >= essence.size()) return false;
  for (size_t i = 0; i < essence.size(); ++i) {
    char c = essence[i];
    bool token = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 std::string_view("!#$&-^_.+").find(c) != std::string_view::npos;
    if (!(token || (i == slash))) return false;
  }
  for (unsigned char c : type) {
    if (c < 0x20 || c >= 0x7f) return false;
  }
  return true;
}

}  // namespace yagura::hub
