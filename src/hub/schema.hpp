// The centre's database schema as versioned migrations.
//
// One SQL text serves both engines; the few type names that differ (BLOB/BYTEA,
// DOUBLE/DOUBLE PRECISION) are translated for PostgreSQL when the migration list is built.
// Migrations are append-only once released: a change is a new version, never an edit.
#pragma once

#include <vector>

#include "core/result.hpp"
#include "store/database.hpp"

namespace yagura::hub {

// Every migration of the service, in version order.
const std::vector<store::Migration>& Migrations();

// Applies the pending migrations; returns the versions applied.
Result<std::vector<int>> MigrateSchema(store::Database& database);

}  // namespace yagura::hub
