// Keyset paging condition (see keyset.hpp).
#include "hub/keyset.hpp"

#include <fmt/format.h>

namespace yagura::hub {

std::string KeysetCondition(std::string_view alias, KeysetOrder order, int64_t created_at,
                            const std::string& id, std::vector<store::Param>& params) {
  params.emplace_back(created_at);
  size_t at = params.size();
  params.emplace_back(id);
  size_t after_id = params.size();
  std::string prefix = alias.empty() ? std::string() : std::string(alias) + ".";
  const char* beyond = order == KeysetOrder::kNewestFirst ? "<" : ">";
  return fmt::format(" AND ({0}created_at {1} ${2} OR ({0}created_at = ${2} AND {0}id {1} ${3}))",
                     prefix, beyond, at, after_id);
}

}  // namespace yagura::hub
