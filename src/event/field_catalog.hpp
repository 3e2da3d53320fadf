// FieldCatalog: the set of Sigma field names that something downstream reads, interned to ids.
//
// Rules and the logsource classifier intern the names they need before any event is read; the
// event parser then extracts only those fields. Lookup by name is a hash probe on a string_view,
// so the hot path never builds a std::string. Not thread-safe while interning; read-only
// (and then safe to share) once scanning starts.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace yagura::event {

using FieldId = uint32_t;
inline constexpr FieldId NO_FIELD = UINT32_MAX;

class FieldCatalog {
 public:
  FieldId Intern(std::string_view name);
  [[nodiscard]] FieldId Find(std::string_view name) const;  // NO_FIELD when not interned
  [[nodiscard]] std::string_view Name(FieldId id) const { return names_[id]; }
  [[nodiscard]] size_t size() const { return names_.size(); }

  // Keyword searches (field-less Sigma values) need every string value of an event; the parser
  // collects them only when some loaded rule asks for it.
  void RequireAllValues() { wants_all_values_ = true; }
  [[nodiscard]] bool wants_all_values() const { return wants_all_values_; }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, FieldId, Hash, std::equal_to<>> ids_;
  std::vector<std::string> names_;
  bool wants_all_values_ = false;
};

}  // namespace yagura::event
