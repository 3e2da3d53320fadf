#include "sigma/hs_database.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <new>

#include <xxhash.h>

namespace yagura::sigma {

namespace {

// Bump when the layout of the cache file, or the meaning of what is cached, changes.
constexpr uint32_t CACHE_FORMAT = 1;
constexpr char CACHE_MAGIC[8] = {'Y', 'G', 'H', 'S', 'D', 'B', '\0', '\1'};

std::string CompileErrorText(hs_compile_error_t* error) {
  std::string text = error && error->message ? error->message : "unknown error";
  hs_free_compile_error(error);
  return text;
}

template <typename T>
void Put(std::string& out, T value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof(value));
}

// Bounds-checked reader over the bytes of a cache file.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}
  template <typename T>
  bool Get(T& value) {
    if (bytes_.size() - at_ < sizeof(T)) return false;
    std::memcpy(&value, bytes_.data() + at_, sizeof(T));
    at_ += sizeof(T);
    return true;
  }
  bool Take(size_t n, std::string_view& out) {
    if (bytes_.size() - at_ < n) return false;
    out = bytes_.substr(at_, n);
    at_ += n;
    return true;
  }
  [[nodiscard]] bool done() const { return at_ == bytes_.size(); }

 private:
  std::string_view bytes_;
  size_t at_ = 0;
};

}  // namespace

HsDatabase& HsDatabase::operator=(HsDatabase&& other) noexcept {
  if (this != &other) {
    if (db_) hs_free_database(db_);
    db_ = other.db_;
    other.db_ = nullptr;
  }
  return *this;
}

HsDatabase::~HsDatabase() {
  if (db_) hs_free_database(db_);
}

Result<std::string> HsDatabase::Serialize() const {
  char* bytes = nullptr;
  size_t length = 0;
  if (hs_serialize_database(db_, &bytes, &length) != HS_SUCCESS) {
    return Fail("cannot serialize a Hyperscan database");
  }
  std::string out(bytes, length);
  std::free(bytes);  // allocated by Hyperscan's default (malloc) allocator
  return out;
}

Result<HsDatabase> HsDatabase::Deserialize(std::string_view bytes) {
  hs_database_t* db = nullptr;
  if (hs_deserialize_database(bytes.data(), bytes.size(), &db) != HS_SUCCESS) {
    return Fail("cannot deserialize a Hyperscan database");
  }
  return HsDatabase(db);
}

Result<HsDatabase> CompileHsDatabase(const std::vector<HsPattern>& patterns,
                                     const std::vector<bool>& allow_prefilter,
                                     std::vector<HsPatternStatus>& status) {
  status.assign(patterns.size(), HsPatternStatus::kExact);
  auto flags_of = [&](size_t i) {
    return patterns[i].flags | (status[i] == HsPatternStatus::kPrefilter ? HS_FLAG_PREFILTER : 0u);
  };
  // Regular expressions from rules may use what Hyperscan lacks (back-references, lookaround):
  // check them one by one first, which is cheap, rather than failing whole-database compiles.
  for (size_t i = 0; i < patterns.size(); ++i) {
    if (!allow_prefilter[i]) continue;
    for (;;) {
      hs_expr_info_t* info = nullptr;
      hs_compile_error_t* error = nullptr;
      if (hs_expression_info(patterns[i].expression.c_str(), flags_of(i), &info, &error) ==
          HS_SUCCESS) {
        std::free(info);
        break;
      }
      hs_free_compile_error(error);
      if (status[i] == HsPatternStatus::kExact) {
        status[i] = HsPatternStatus::kPrefilter;
      } else {
        status[i] = HsPatternStatus::kLeftOut;
        break;
      }
    }
  }
  for (;;) {
    std::vector<const char*> expressions;
    std::vector<unsigned> flags, ids;
    std::vector<size_t> index_of;  // position in `expressions` -> index in `patterns`
    for (size_t i = 0; i < patterns.size(); ++i) {
      if (status[i] == HsPatternStatus::kLeftOut) continue;
      expressions.push_back(patterns[i].expression.c_str());
      flags.push_back(flags_of(i));
      ids.push_back(patterns[i].id);
      index_of.push_back(i);
    }
    if (expressions.empty()) return HsDatabase();
    hs_database_t* db = nullptr;
    hs_compile_error_t* error = nullptr;
    if (hs_compile_multi(expressions.data(), flags.data(), ids.data(),
                         static_cast<unsigned>(expressions.size()), HS_MODE_BLOCK, nullptr, &db,
                         &error) == HS_SUCCESS) {
      return HsDatabase(db);
    }
    int failed = error ? error->expression : -1;
    std::string message = CompileErrorText(error);
    if (failed < 0 || static_cast<size_t>(failed) >= index_of.size()) {
      return Fail("Hyperscan cannot compile the pattern database: " + message);
    }
    size_t index = index_of[static_cast<size_t>(failed)];
    if (status[index] == HsPatternStatus::kExact && allow_prefilter[index]) {
      status[index] = HsPatternStatus::kPrefilter;
    } else {
      status[index] = HsPatternStatus::kLeftOut;
    }
  }
}

HsScratch& HsScratch::operator=(HsScratch&& other) noexcept {
  if (this != &other) {
    if (scratch_) hs_free_scratch(scratch_);
    scratch_ = other.scratch_;
    other.scratch_ = nullptr;
  }
  return *this;
}

HsScratch::~HsScratch() {
  if (scratch_) hs_free_scratch(scratch_);
}

Result<void> HsScratch::Reserve(const HsDatabase& db) {
  if (!db) return {};
  if (hs_alloc_scratch(db.get(), &scratch_) != HS_SUCCESS) {
    return Fail("cannot allocate Hyperscan scratch space");
  }
  return {};
}

Result<HsScratch> HsScratch::Clone() const {
  HsScratch copy;
  if (scratch_ && hs_clone_scratch(scratch_, &copy.scratch_) != HS_SUCCESS) {
    return Fail("cannot clone Hyperscan scratch space");
  }
  return copy;
}

std::string HsBuildTag() {
  hs_platform_info_t platform{};
  std::string tag = hs_version();
  if (hs_populate_platform(&platform) == HS_SUCCESS) {
    tag += " tune=" + std::to_string(platform.tune) +
           " cpu=" + std::to_string(static_cast<unsigned long long>(platform.cpu_features));
  }
  return tag;
}

Result<HsCacheEntry> LoadHsCache(const std::string& path, uint64_t digest) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail("no cache file", path);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() < sizeof(CACHE_MAGIC) + sizeof(uint64_t)) return Fail("cache file truncated", path);
  std::string_view body(bytes.data(), bytes.size() - sizeof(uint64_t));
  uint64_t checksum = 0;
  std::memcpy(&checksum, bytes.data() + body.size(), sizeof(checksum));
  if (XXH3_64bits(body.data(), body.size()) != checksum) return Fail("cache file corrupt", path);

  Reader reader(body);
  std::string_view magic;
  uint32_t format = 0, count = 0;
  uint64_t stored_digest = 0;
  if (!reader.Take(sizeof(CACHE_MAGIC), magic) ||
      std::memcmp(magic.data(), CACHE_MAGIC, sizeof(CACHE_MAGIC)) != 0 || !reader.Get(format) ||
      format != CACHE_FORMAT || !reader.Get(stored_digest) || stored_digest != digest ||
      !reader.Get(count)) {
    return Fail("cache file of another format or rule set", path);
  }
  HsCacheEntry entry;
  for (uint32_t d = 0; d < count; ++d) {
    uint32_t patterns = 0;
    uint64_t size = 0;
    std::string_view status_bytes, db_bytes;
    if (!reader.Get(patterns) || !reader.Take(patterns, status_bytes) || !reader.Get(size) ||
        !reader.Take(size, db_bytes)) {
      return Fail("cache file truncated", path);
    }
    std::vector<HsPatternStatus> status;
    for (char c : status_bytes) {
      if (static_cast<uint8_t>(c) > static_cast<uint8_t>(HsPatternStatus::kLeftOut)) {
        return Fail("cache file corrupt", path);
      }
      status.push_back(static_cast<HsPatternStatus>(c));
    }
    HsDatabase db;
    if (size > 0) {
      auto loaded = HsDatabase::Deserialize(db_bytes);
      if (!loaded) return Fail(loaded.error().message, path);
      db = std::move(*loaded);
    }
    entry.databases.push_back(std::move(db));
    entry.status.push_back(std::move(status));
  }
  if (!reader.done()) return Fail("cache file corrupt", path);
  return entry;
}

Result<void> StoreHsCache(const std::string& path, uint64_t digest, const HsCacheEntry& entry) {
  std::string bytes(CACHE_MAGIC, sizeof(CACHE_MAGIC));
  Put(bytes, CACHE_FORMAT);
  Put(bytes, digest);
  Put(bytes, static_cast<uint32_t>(entry.databases.size()));
  for (size_t d = 0; d < entry.databases.size(); ++d) {
    const auto& status = entry.status[d];
    Put(bytes, static_cast<uint32_t>(status.size()));
    for (HsPatternStatus s : status) bytes.push_back(static_cast<char>(s));
    std::string db_bytes;
    if (entry.databases[d]) {
      auto serialized = entry.databases[d].Serialize();
      if (!serialized) return tl::unexpected(serialized.error());
      db_bytes = std::move(*serialized);
    }
    Put(bytes, static_cast<uint64_t>(db_bytes.size()));
    bytes += db_bytes;
  }
  Put(bytes, static_cast<uint64_t>(XXH3_64bits(bytes.data(), bytes.size())));

  std::error_code ec;
  std::filesystem::path target(path);
  if (target.has_parent_path()) std::filesystem::create_directories(target.parent_path(), ec);
  // A unique temporary name in the same folder, so concurrent writers never see half a file
  // and the rename stays atomic.
  std::string temp = path + ".tmp." + std::to_string(::getpid()) + "." +
                     std::to_string(reinterpret_cast<uintptr_t>(&bytes));
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    if (!out) return Fail("cannot write the matcher cache", temp);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out.flush()) {
      std::filesystem::remove(temp, ec);
      return Fail("cannot write the matcher cache", temp);
    }
  }
  std::filesystem::rename(temp, target, ec);
  if (ec) {
    std::filesystem::remove(temp, ec);
    return Fail("cannot rename the matcher cache into place: " + ec.message(), path);
  }
  return {};
}

HsCacheDigest::HsCacheDigest() : state_(XXH3_createState()) {
  if (state_ == nullptr) throw std::bad_alloc();
  XXH3_64bits_reset(static_cast<XXH3_state_t*>(state_));
}

HsCacheDigest::~HsCacheDigest() { XXH3_freeState(static_cast<XXH3_state_t*>(state_)); }

void HsCacheDigest::Add(const void* data, size_t size) {
  XXH3_64bits_update(static_cast<XXH3_state_t*>(state_), data, size);
}

void HsCacheDigest::AddString(std::string_view text) {
  const uint64_t size = text.size();
  Add(&size, sizeof size);
  Add(text.data(), text.size());
}

uint64_t HsCacheDigest::Finish() const {
  return XXH3_64bits_digest(static_cast<const XXH3_state_t*>(state_));
}

std::string HsCachePath(const std::string& dir, std::string_view kind, uint64_t digest) {
  char name[64];
  std::snprintf(name, sizeof name, "%.*s-%016llx.hsdb", static_cast<int>(kind.size()), kind.data(),
                static_cast<unsigned long long>(digest));
  return (std::filesystem::path(dir) / name).string();
}

}  // namespace yagura::sigma
