#include "event/field_catalog.hpp"

namespace yagura::event {

FieldId FieldCatalog::Intern(std::string_view name) {
  if (auto it = ids_.find(name); it != ids_.end()) return it->second;
  auto id = static_cast<FieldId>(names_.size());
  names_.emplace_back(name);
  ids_.emplace(std::string(name), id);
  return id;
}

FieldId FieldCatalog::Find(std::string_view name) const {
  auto it = ids_.find(name);
  return it == ids_.end() ? NO_FIELD : it->second;
}

}  // namespace yagura::event
