// The two engines behind Database, seen only by database.cpp (which dispatches on the target)
// and by tests. Keeping the factories here lets the heavy libpqxx headers stay inside
// postgres_database.cpp.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "store/database.hpp"

namespace yagura::store {

// `path` is a file path, optionally prefixed "sqlite:". ":memory:" gives a private in-memory
// database, which only makes sense with a single connection, so the pool is reduced to one.
Result<std::unique_ptr<Database>> OpenSqlite(std::string_view path, int pool_size);

// `url` is a libpq connection URI (postgresql://user[:password]@host:port/dbname[?options]).
Result<std::unique_ptr<Database>> OpenPostgres(std::string_view url, int pool_size);

// The URL without its password and without its query string (which may carry one too).
std::string RedactPostgresUrl(std::string_view url);

// The text form both engines use for a double: shortest round-trip digits, and PostgreSQL's
// spellings for the non-finite values, so results read the same on both.
std::string DoubleText(double value);

}  // namespace yagura::store
