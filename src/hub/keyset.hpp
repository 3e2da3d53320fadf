// Keyset paging over (created_at, id): the condition that starts a page after the last row of
// the previous one. Every list of the centre's data pages this way, so the SQL is written once.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "store/database.hpp"

namespace yagura::hub {

enum class KeysetOrder { kNewestFirst, kOldestFirst };

// Returns " AND (<alias>.created_at < $n OR (<alias>.created_at = $n AND <alias>.id < $m))"
// (">" for kOldestFirst), appending the two values to `params`. An empty alias means bare
// column names.
std::string KeysetCondition(std::string_view alias, KeysetOrder order, int64_t created_at,
                            const std::string& id, std::vector<store::Param>& params);

}  // namespace yagura::hub
