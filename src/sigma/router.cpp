#include "sigma/router.hpp"

namespace yagura::sigma {

RouteKey::RouteKey(const event::LogsourceClass& cls)
    : id_(cls.id), recognised_(cls.recognised), product_(cls.product) {
  for (uint8_t i = 0; i < cls.service_count; ++i) services_.emplace_back(cls.services[i]);
  for (uint8_t i = 0; i < cls.category_count; ++i) categories_.emplace_back(cls.categories[i]);
}

bool RouteKey::Matches(const event::LogsourceClass& cls) const {
  if (cls.id != 0 && id_ != 0) return cls.id == id_;
  if (cls.recognised != recognised_ || cls.service_count != services_.size() ||
      cls.category_count != categories_.size() || cls.product != product_) {
    return false;
  }
  for (uint8_t i = 0; i < cls.service_count; ++i) {
    if (cls.services[i] != services_[i]) return false;
  }
  for (uint8_t i = 0; i < cls.category_count; ++i) {
    if (cls.categories[i] != categories_[i]) return false;
  }
  return true;
}

const Route& RouteTable::Find(const event::LogsourceClass& cls) const {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& [key, route] : routes_) {
    if (key.Matches(cls)) return *route;
  }
  routes_.emplace_back(RouteKey(cls), std::make_unique<Route>(builder_(cls)));
  return *routes_.back().second;
}

const Route& RouteCache::Find(const event::LogsourceClass& cls, const RouteTable& table) {
  if (last_ < entries_.size() && entries_[last_].first.Matches(cls)) {
    return *entries_[last_].second;
  }
  for (size_t i = 0; i < entries_.size(); ++i) {
    if (entries_[i].first.Matches(cls)) {
      last_ = i;
      return *entries_[i].second;
    }
  }
  const Route& route = table.Find(cls);
  if (entries_.size() < MAX_ENTRIES) {
    entries_.emplace_back(RouteKey(cls), &route);
    last_ = entries_.size() - 1;
  }
  return route;
}

}  // namespace yagura::sigma
