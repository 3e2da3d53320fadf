#include "hub/text_checks.hpp"

#include <cstdint>

namespace yagura::hub {

size_t CodePoints(std::string_view text) {
  size_t count = 0;
  for (char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++count;
  }
  return count;
}

bool ValidUtf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    auto byte = static_cast<unsigned char>(text[i]);
    size_t length = byte < 0x80           ? 1
                    : (byte >> 5) == 0x6  ? 2
                    : (byte >> 4) == 0xE  ? 3
                    : (byte >> 3) == 0x1E ? 4
                                          : 0;
    if (length == 0 || i + length > text.size()) return false;
    uint32_t code = length == 1 ? byte : byte & (0x7F >> length);
    for (size_t k = 1; k < length; ++k) {
      auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) return false;
      code = (code << 6) | (next & 0x3F);
    }
    static constexpr uint32_t MINIMUM[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code < MINIMUM[length] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) {
      return false;
    }
    i += length;
  }
  return true;
}

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
