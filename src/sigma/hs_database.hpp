// Hyperscan (Vectorscan) databases for the matcher: compiling, scratch space and the disk cache.
//
// A database is compiled from a list of patterns in block mode. An expression that Hyperscan
// rejects is reported by its index, so the caller can retry it as a prefilter or take it out of
// the database and test it another way; one bad pattern never costs the others their speed.
// The cache file holds several serialized databases plus, per pattern, the status the compile
// ended with (exact, prefilter, left out), so a warm build reproduces a cold one exactly. It is
// written to a temporary name and renamed, and it carries a checksum: a truncated or corrupt
// file is detected and ignored, never trusted.
// Thread-safety: an HsDatabase is immutable once built and may be scanned from many threads,
// each with its own HsScratch.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <hs/hs.h>

#include "core/result.hpp"

namespace yagura::sigma {

struct HsPattern {
  std::string expression;
  unsigned flags = 0;
  unsigned id = 0;  // reported to the match callback
};

// What became of a pattern when its database was compiled.
enum class HsPatternStatus : uint8_t {
  kExact,      // compiled with the flags asked for
  kPrefilter,  // compiled with HS_FLAG_PREFILTER: its hits are a superset and must be confirmed
  kLeftOut,    // Hyperscan cannot run it at all: the caller must test it another way
};

class HsDatabase {
 public:
  HsDatabase() = default;
  explicit HsDatabase(hs_database_t* db) : db_(db) {}
  HsDatabase(HsDatabase&& other) noexcept : db_(other.db_) { other.db_ = nullptr; }
  HsDatabase& operator=(HsDatabase&& other) noexcept;
  HsDatabase(const HsDatabase&) = delete;
  HsDatabase& operator=(const HsDatabase&) = delete;
  ~HsDatabase();

  [[nodiscard]] hs_database_t* get() const { return db_; }
  [[nodiscard]] explicit operator bool() const { return db_ != nullptr; }

  [[nodiscard]] Result<std::string> Serialize() const;
  [[nodiscard]] static Result<HsDatabase> Deserialize(std::string_view bytes);

 private:
  hs_database_t* db_ = nullptr;
};

// Compiles `patterns` (each reports its `id`). Expressions that fail are retried with
// HS_FLAG_PREFILTER when `allow_prefilter[i]`, and otherwise left out; `status` receives the
// outcome of each pattern. An empty (or all left out) list yields a null database.
[[nodiscard]] Result<HsDatabase> CompileHsDatabase(const std::vector<HsPattern>& patterns,
                                                   const std::vector<bool>& allow_prefilter,
                                                   std::vector<HsPatternStatus>& status);

class HsScratch {
 public:
  HsScratch() = default;
  HsScratch(HsScratch&& other) noexcept : scratch_(other.scratch_) { other.scratch_ = nullptr; }
  HsScratch& operator=(HsScratch&& other) noexcept;
  HsScratch(const HsScratch&) = delete;
  HsScratch& operator=(const HsScratch&) = delete;
  ~HsScratch();

  // Grows the scratch so it can scan `db` too.
  [[nodiscard]] Result<void> Reserve(const HsDatabase& db);
  [[nodiscard]] Result<HsScratch> Clone() const;
  [[nodiscard]] hs_scratch_t* get() const { return scratch_; }

 private:
  hs_scratch_t* scratch_ = nullptr;
};

// "vectorscan 5.4.9 ... / cpu features": part of every cache key, since a database compiled by
// another library version or for other CPU features must not be loaded.
[[nodiscard]] std::string HsBuildTag();

// One cache file: the databases of a matcher and the status of each of their patterns.
struct HsCacheEntry {
  std::vector<HsDatabase> databases;
  std::vector<std::vector<HsPatternStatus>> status;  // per database, per pattern
};

// The digest a cache file is keyed by, fed piece by piece with everything its databases are
// made of (the library's HsBuildTag among it). Strings go in with their length, so that
// pieces cannot run into each other.
class HsCacheDigest {
 public:
  HsCacheDigest();
  ~HsCacheDigest();
  HsCacheDigest(const HsCacheDigest&) = delete;
  HsCacheDigest& operator=(const HsCacheDigest&) = delete;
  void Add(const void* data, size_t size);
  void AddString(std::string_view text);
  [[nodiscard]] uint64_t Finish() const;

 private:
  void* state_;  // XXH3_state_t, kept out of this header
};

// `<dir>/<kind>-<digest in hex>.hsdb`: where the databases of that digest are cached.
[[nodiscard]] std::string HsCachePath(const std::string& dir, std::string_view kind,
                                      uint64_t digest);

// Reads a cache file written by StoreHsCache. Fails (and the caller recompiles) when the file
// is missing, truncated, corrupt, of another format, or was written for another `digest`.
[[nodiscard]] Result<HsCacheEntry> LoadHsCache(const std::string& path, uint64_t digest);
// Writes the file atomically: a temporary file in the same folder, then a rename.
[[nodiscard]] Result<void> StoreHsCache(const std::string& path, uint64_t digest,
                                        const HsCacheEntry& entry);

}  // namespace yagura::sigma
