#include "pipeline/event_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#define XXH_INLINE_ALL
#include <fmt/format.h>
#include <xxhash.h>
#include <zstd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <regex>

#include "core/time.hpp"
#include "pipeline/file_io.hpp"
#include "pipeline/spool.hpp"  // Crc32c
#include "pipeline/varint.hpp"

namespace yagura::pipeline {

namespace {

constexpr char BLOCK_MAGIC[4] = {'Y', 'E', 'B', '1'};
// magic, body length, raw length, events, filter words, flags; first and last sequence
// numbers; smallest and largest event time and arrival; body checksum; header checksum.
constexpr size_t HEADER_BYTES = 4 + 5 * 4 + 6 * 8 + 4 + 4;
constexpr uint32_t MAX_FILTER_WORDS = 256;  // 16,384 bits
constexpr uint32_t MAX_BODY_BYTES = 256u << 20;
constexpr std::string_view SEGMENT_SUFFIX = ".events";
// Header flags: the block's events were grouped by host (EventStore::Compact).
constexpr uint32_t BLOCK_PACKED_BY_HOST = 1;

int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void PutU32(char* out, uint32_t value) { std::memcpy(out, &value, 4); }
void PutU64(char* out, uint64_t value) { std::memcpy(out, &value, 8); }
uint32_t GetU32(const char* in) {
  uint32_t value;
  std::memcpy(&value, in, 4);
  return value;
}
uint64_t GetU64(const char* in) {
  uint64_t value;
  std::memcpy(&value, in, 8);
  return value;
}

uint64_t ZigZag(int64_t value) {
  return (static_cast<uint64_t>(value) << 1) ^ static_cast<uint64_t>(value >> 63);
}
int64_t UnZigZag(uint64_t value) {
  return static_cast<int64_t>(value >> 1) ^ -static_cast<int64_t>(value & 1);
}

// One event of a block's body: its distance from the block's first sequence number, its
// times, its host and its envelope as spooled.
struct EncodedEvent {
  uint64_t seq_delta = 0;
  int64_t time_ms = 0;
  int64_t received_ms = 0;
  std::string_view host;
  std::string_view envelope;
};

void PutEvent(std::string& out, uint64_t seq_delta, int64_t time_ms, int64_t received_ms,
              std::string_view host, std::string_view envelope) {
  PutVarint(out, seq_delta);
  PutVarint(out, ZigZag(time_ms));
  PutVarint(out, ZigZag(received_ms - time_ms));
  PutBytes(out, host);
  PutBytes(out, envelope);
}

// Reads the event at the front of `in`, advancing it; false when the bytes are not one.
bool GetEvent(std::string_view& in, EncodedEvent& event) {
  uint64_t time = 0;
  uint64_t received = 0;
  if (!GetVarint(in, event.seq_delta) || !GetVarint(in, time) || !GetVarint(in, received) ||
      !GetBytes(in, event.host) || !GetBytes(in, event.envelope))
    return false;
  event.time_ms = UnZigZag(time);
  event.received_ms = event.time_ms + UnZigZag(received);
  return true;
}

char AsciiLower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (AsciiLower(a[i]) != AsciiLower(b[i])) return false;
  }
  return true;
}

// `needle` already in lower case.
bool ContainsIgnoringCase(std::string_view haystack, std::string_view needle) {
  if (needle.empty()) return true;
  if (needle.size() > haystack.size()) return false;
  const char first = needle.front();
  for (size_t i = 0; i + needle.size() <= haystack.size(); ++i) {
    if (AsciiLower(haystack[i]) != first) continue;
    size_t j = 1;
    while (j < needle.size() && AsciiLower(haystack[i + j]) == needle[j]) ++j;
    if (j == needle.size()) return true;
  }
  return false;
}

// Keys of the blocks' filters: a host in lower case, or an organisation id, each with its
// own tag so a host never stands for an organisation of the same name.
uint64_t KeyHash(char tag, std::string_view text, bool lower) {
  XXH3_state_t state;
  XXH3_64bits_reset(&state);
  XXH3_64bits_update(&state, &tag, 1);
  if (!lower) {
    XXH3_64bits_update(&state, text.data(), text.size());
  } else {
    char chunk[64];
    while (!text.empty()) {
      const size_t n = std::min(text.size(), sizeof chunk);
      for (size_t i = 0; i < n; ++i) chunk[i] = AsciiLower(text[i]);
      XXH3_64bits_update(&state, chunk, n);
      text.remove_prefix(n);
    }
  }
  return XXH3_64bits_digest(&state);
}
uint64_t HostKey(std::string_view host) { return KeyHash('h', host, true); }
uint64_t OrgKey(std::string_view org) { return KeyHash('o', org, false); }

// Four probes from one hash (double hashing), over a power-of-two number of bits.
template <typename Visit>
void Probes(uint64_t key, size_t bits, Visit visit) {
  const auto h1 = static_cast<uint32_t>(key);
  const auto h2 = static_cast<uint32_t>(key >> 32) | 1u;
  for (uint32_t i = 0; i < 4; ++i) visit((h1 + i * h2) & (bits - 1));
}

}  // namespace

namespace {

// Where a block's body is and what it must be: what reading it needs.
struct BodyRef {
  uint64_t offset = 0;
  uint32_t bytes = 0;
  uint32_t raw_bytes = 0;
  uint32_t crc = 0;
};

enum class BodyRead { kRead, kUnreadable, kDamaged };

// Reads a block's body into `raw`, checked and decompressed (`body` and `raw` are the caller's
// buffers, kept from block to block).
BodyRead ReadBody(int fd, const BodyRef& ref, ZSTD_DCtx* decompressor, std::string& body,
                  std::string& raw) {
  body.resize(ref.bytes);
  if (!ReadAt(fd, body.data(), body.size(), ref.offset)) return BodyRead::kUnreadable;
  if (Crc32c(0, body.data(), body.size()) != ref.crc) return BodyRead::kDamaged;
  raw.resize(ref.raw_bytes);
  const size_t size =
      ZSTD_decompressDCtx(decompressor, raw.data(), raw.size(), body.data(), body.size());
  return ZSTD_isError(size) || size != raw.size() ? BodyRead::kDamaged : BodyRead::kRead;
}

}  // namespace

struct EventStore::BlockInfo {
  uint64_t offset = 0;  // of the header in its segment
  uint32_t body_bytes = 0;
  uint32_t raw_bytes = 0;
  uint32_t events = 0;
  uint32_t body_crc = 0;
  uint32_t flags = 0;
  uint64_t first_seq = 0;
  uint64_t last_seq = 0;
  int64_t min_time = 0;
  int64_t max_time = 0;
  int64_t min_received = 0;
  int64_t max_received = 0;
  std::vector<uint64_t> filter;

  [[nodiscard]] uint64_t body_offset() const { return offset + HEADER_BYTES + filter.size() * 8; }
  [[nodiscard]] BodyRef body() const { return {body_offset(), body_bytes, raw_bytes, body_crc}; }
  [[nodiscard]] uint64_t end() const { return body_offset() + body_bytes; }
  [[nodiscard]] bool MayHold(uint64_t key) const {
    bool all = true;
    Probes(key, filter.size() * 64, [&](uint32_t bit) {
      if ((filter[bit / 64] & (uint64_t{1} << (bit % 64))) == 0) all = false;
    });
    return all;
  }
};

struct EventStore::Segment {
  std::string path;
  int fd = -1;
  uint64_t first_seq = 0;
  int64_t started_ms = 0;
  uint64_t bytes = 0;
  std::vector<BlockInfo> blocks;
  ~Segment() {
    if (fd >= 0) ::close(fd);
  }
};

namespace {

// Reads and checks the header (and filter) at `offset`; nullopt with `why` when it is not a
// whole, intact block header inside `file_bytes`.
std::optional<EventStore::BlockInfo> ReadHeader(int fd, uint64_t offset, uint64_t file_bytes,
                                                std::string& why) {
  char header[HEADER_BYTES];
  if (offset + HEADER_BYTES > file_bytes || !ReadAt(fd, header, HEADER_BYTES, offset)) {
    why = "a block header cut short";
    return std::nullopt;
  }
  if (std::memcmp(header, BLOCK_MAGIC, 4) != 0) {
    why = "not a block";
    return std::nullopt;
  }
  EventStore::BlockInfo info;
  info.offset = offset;
  info.body_bytes = GetU32(header + 4);
  info.raw_bytes = GetU32(header + 8);
  info.events = GetU32(header + 12);
  const uint32_t filter_words = GetU32(header + 16);
  info.flags = GetU32(header + 20);
  info.first_seq = GetU64(header + 24);
  info.last_seq = GetU64(header + 32);
  info.min_time = static_cast<int64_t>(GetU64(header + 40));
  info.max_time = static_cast<int64_t>(GetU64(header + 48));
  info.min_received = static_cast<int64_t>(GetU64(header + 56));
  info.max_received = static_cast<int64_t>(GetU64(header + 64));
  info.body_crc = GetU32(header + 72);
  const uint32_t header_crc = GetU32(header + 76);
  if (filter_words == 0 || filter_words > MAX_FILTER_WORDS || !std::has_single_bit(filter_words) ||
      info.body_bytes > MAX_BODY_BYTES || info.raw_bytes > MAX_BODY_BYTES) {
    why = "a block header out of bounds";
    return std::nullopt;
  }
  info.filter.resize(filter_words);
  if (offset + HEADER_BYTES + filter_words * 8ull > file_bytes ||
      !ReadAt(fd, reinterpret_cast<char*>(info.filter.data()), filter_words * 8ull,
               offset + HEADER_BYTES)) {
    why = "a block filter cut short";
    return std::nullopt;
  }
  uint32_t crc = Crc32c(0, header, HEADER_BYTES - 4);
  crc = Crc32c(crc, info.filter.data(), filter_words * 8ull);
  if (crc != header_crc) {
    why = "a block header checksum mismatch";
    return std::nullopt;
  }
  if (info.end() > file_bytes) {
    why = "a block body cut short";
    return std::nullopt;
  }
  return info;
}

}  // namespace

EventStore::EventStore(EventStoreOptions options)
    : options_(std::move(options)), block_(std::make_unique<BlockBuilder>()) {}

EventStore::~EventStore() {
  (void)Flush();
  {
    std::lock_guard lock(compaction_mutex_);
    stopping_ = true;
  }
  compaction_wake_.notify_all();
  if (compactor_.joinable()) compactor_.join();
  ZSTD_freeCCtx(static_cast<ZSTD_CCtx*>(compressor_));
}

Result<std::unique_ptr<EventStore>> EventStore::Open(EventStoreOptions options) {
  if (options.dir.empty()) return Fail("the event store needs a folder");
  if (options.block_bytes == 0) options.block_bytes = 1;
  std::error_code error;
  std::filesystem::create_directories(options.dir, error);
  if (error)
    return Fail(
        fmt::format("cannot make the event store's folder {}: {}", options.dir, error.message()));
  std::unique_ptr<EventStore> store(new EventStore(std::move(options)));
  store->compressor_ = ZSTD_createCCtx();
  if (store->compressor_ == nullptr) return Fail("cannot start the event store's compressor");
  if (auto recovered = store->Recover(); !recovered) return tl::unexpected(recovered.error());
  return store;
}

Result<void> EventStore::Recover() {
  static const std::regex SEGMENT_NAME(R"(^(\d{20})\.events$)");
  std::vector<std::pair<uint64_t, std::string>> files;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(options_.dir, error)) {
    const std::string name = entry.path().filename().string();
    std::smatch match;
    // A rewrite a crash interrupted: the segment it was made from is still whole.
    if (name.ends_with(".events.packing")) {
      if (!options_.read_only) std::filesystem::remove(entry.path(), error);
      continue;
    }
    if (!std::regex_match(name, match, SEGMENT_NAME)) continue;
    files.emplace_back(std::stoull(match[1].str()), entry.path().string());
  }
  if (error) return Fail(fmt::format("cannot list {}: {}", options_.dir, error.message()));
  std::sort(files.begin(), files.end());
  for (size_t f = 0; f < files.size(); ++f) {
    const bool last_file = f + 1 == files.size();
    auto segment = std::make_shared<Segment>();
    segment->path = files[f].second;
    segment->first_seq = files[f].first;
    segment->fd = ::open(segment->path.c_str(), (options_.read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
    if (segment->fd < 0) return Fail(SystemError("cannot open", segment->path));
    struct stat st {};
    if (::fstat(segment->fd, &st) != 0) return Fail(SystemError("cannot read", segment->path));
    const auto file_bytes = static_cast<uint64_t>(st.st_size);
    uint64_t offset = 0;
    std::string why;
    std::string body;
    while (offset < file_bytes) {
      auto info = ReadHeader(segment->fd, offset, file_bytes, why);
      // The segment written last may end in a block a crash cut short: its body is checked
      // too. Older segments were synced whole before the next began. (Read beside its
      // writer, that tail is a block still being written: left out, not cut.)
      if (info && last_file && !options_.read_only) {
        body.resize(info->body_bytes);
        if (!ReadAt(segment->fd, body.data(), body.size(), info->body_offset()) ||
            Crc32c(0, body.data(), body.size()) != info->body_crc) {
          why = "a block body checksum mismatch";
          info.reset();
        }
      }
      if (!info) break;
      offset = info->end();
      segment->blocks.push_back(std::move(*info));
    }
    if (offset < file_bytes && !options_.read_only) {
      truncated_bytes_ += file_bytes - offset;
      if (truncated_at_.empty())
        truncated_at_ = fmt::format(
            "{}@{}: {}", std::filesystem::path(segment->path).filename().string(), offset, why);
      if (::ftruncate(segment->fd, static_cast<off_t>(offset)) != 0)
        return Fail(SystemError("cannot cut the torn tail off", segment->path));
    }
    if (segment->blocks.empty()) {
      if (!options_.read_only) ::unlink(segment->path.c_str());
      continue;
    }
    segment->bytes = offset;
    segment->started_ms = segment->blocks.front().min_received;
    // Blocks grouped by host are not in sequence order.
    for (const auto& block : segment->blocks)
      last_seq_ = std::max(last_seq_.load(), block.last_seq);
    segments_.push_back(std::move(segment));
  }
  // Sealed segments not yet grouped by host (the store stopped first) are grouped now; the
  // last one is written on.
  for (size_t i = 0; i + 1 < segments_.size() && !options_.read_only; ++i) {
    const auto& blocks = segments_[i]->blocks;
    if (std::any_of(blocks.begin(), blocks.end(),
                    [](const BlockInfo& b) { return (b.flags & BLOCK_PACKED_BY_HOST) == 0; }))
      QueueCompaction(segments_[i]);
  }
  return {};
}

// A block being filled: its events as the body holds them, and what its header will say.
struct EventStore::BlockBuilder {
  std::string raw;
  uint64_t first_seq = 0;
  uint64_t last_seq = 0;
  uint32_t events = 0;
  int64_t min_time = 0;
  int64_t max_time = 0;
  int64_t min_received = 0;
  int64_t max_received = 0;
  std::vector<uint64_t> keys;  // of its hosts and organisations
  uint32_t flags = 0;

  void Clear() {
    raw.clear();
    keys.clear();
    events = 0;
  }
  // Events go in by rising sequence number (the body keeps each as its distance from the
  // first).
  void Add(uint64_t seq, int64_t time_ms, int64_t received_ms, std::string_view host,
           uint64_t host_key, std::string_view org_id, std::string_view envelope) {
    if (events == 0) {
      first_seq = seq;
      min_time = max_time = time_ms;
      min_received = max_received = received_ms;
    }
    PutEvent(raw, seq - first_seq, time_ms, received_ms, host, envelope);
    ++events;
    last_seq = seq;
    min_time = std::min(min_time, time_ms);
    max_time = std::max(max_time, time_ms);
    min_received = std::min(min_received, received_ms);
    max_received = std::max(max_received, received_ms);
    keys.push_back(host_key);
    keys.push_back(OrgKey(org_id));
  }

  // Compresses the block into `out` (header, filter, body) and describes it in `info` (its
  // offset left for the caller).
  Result<void> Seal(ZSTD_CCtx* context, int level, std::string& out, BlockInfo& info) {
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    // At least sixteen bits a key: about one false positive in four hundred with four probes.
    // An hour of a segment has a hundred blocks or so, and each false positive is a block read
    // for nothing; ten bits a key made one or two of them per segment.
    const uint32_t filter_words = std::clamp<uint32_t>(
        std::bit_ceil(static_cast<uint32_t>((keys.size() * 16 + 63) / 64)), 1, MAX_FILTER_WORDS);
    info = BlockInfo();
    info.raw_bytes = static_cast<uint32_t>(raw.size());
    info.events = events;
    info.flags = flags;
    info.first_seq = first_seq;
    info.last_seq = last_seq;
    info.min_time = min_time;
    info.max_time = max_time;
    info.min_received = min_received;
    info.max_received = max_received;
    info.filter.assign(filter_words, 0);
    for (uint64_t key : keys) {
      Probes(key, filter_words * 64ull,
             [&](uint32_t bit) { info.filter[bit / 64] |= uint64_t{1} << (bit % 64); });
    }
    const size_t header_and_filter = HEADER_BYTES + filter_words * 8ull;
    out.resize(header_and_filter + ZSTD_compressBound(raw.size()));
    const size_t body =
        ZSTD_compressCCtx(context, out.data() + header_and_filter, out.size() - header_and_filter,
                          raw.data(), raw.size(), level);
    if (ZSTD_isError(body))
      return Fail(fmt::format("cannot compress a block of events: {}", ZSTD_getErrorName(body)));
    if (body > MAX_BODY_BYTES) return Fail("a block of events too large to keep");
    out.resize(header_and_filter + body);
    info.body_bytes = static_cast<uint32_t>(body);
    info.body_crc = Crc32c(0, out.data() + header_and_filter, body);
    char* header = out.data();
    std::memcpy(header, BLOCK_MAGIC, 4);
    PutU32(header + 4, info.body_bytes);
    PutU32(header + 8, info.raw_bytes);
    PutU32(header + 12, info.events);
    PutU32(header + 16, filter_words);
    PutU32(header + 20, info.flags);
    PutU64(header + 24, info.first_seq);
    PutU64(header + 32, info.last_seq);
    PutU64(header + 40, static_cast<uint64_t>(info.min_time));
    PutU64(header + 48, static_cast<uint64_t>(info.max_time));
    PutU64(header + 56, static_cast<uint64_t>(info.min_received));
    PutU64(header + 64, static_cast<uint64_t>(info.max_received));
    PutU32(header + 72, info.body_crc);
    std::memcpy(header + HEADER_BYTES, info.filter.data(), filter_words * 8ull);
    uint32_t crc = Crc32c(0, header, HEADER_BYTES - 4);
    crc = Crc32c(crc, info.filter.data(), filter_words * 8ull);
    PutU32(header + 76, crc);
    return {};
  }
};

void EventStore::Add(uint64_t seq, int64_t time_ms, int64_t received_ms, std::string_view host,
                     std::string_view org_id, std::string_view envelope) {
  if (seq <= last_seq_.load(std::memory_order_relaxed)) return;  // a replay
  block_->Add(seq, time_ms, received_ms, host, HostKey(host), org_id, envelope);
  last_seq_.store(seq, std::memory_order_relaxed);
  if (block_->raw.size() >= options_.block_bytes) (void)WriteBlock();
}

Result<void> EventStore::StartSegment(uint64_t first_seq, int64_t now_ms) {
  if (!segments_.empty() && unsynced_) {
    if (::fdatasync(segments_.back()->fd) != 0)
      return Fail(SystemError("cannot sync", segments_.back()->path));
    unsynced_ = false;
  }
  auto segment = std::make_shared<Segment>();
  segment->path =
      (std::filesystem::path(options_.dir) / fmt::format("{:020}{}", first_seq, SEGMENT_SUFFIX))
          .string();
  segment->first_seq = first_seq;
  segment->started_ms = now_ms;
  segment->fd = ::open(segment->path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (segment->fd < 0) return Fail(SystemError("cannot make", segment->path));
  // The new file's name must survive a crash as well as its blocks.
  SyncDirectory(options_.dir);
  std::shared_ptr<Segment> sealed;
  {
    std::unique_lock lock(mutex_);
    if (!segments_.empty()) sealed = segments_.back();
    segments_.push_back(std::move(segment));
  }
  // The segment just finished is written whole and synced: it can be packed by host.
  if (sealed) QueueCompaction(std::move(sealed));
  return {};
}

Result<void> EventStore::WriteBlock() {
  if (block_->events == 0) return {};
  const uint32_t events = block_->events;
  auto dropped = [&](std::string message) -> Result<void> {
    block_->Clear();  // the block is written or dropped, never both
    std::unique_lock lock(mutex_);
    events_dropped_ += events;
    last_error_ = message;
    return Fail(std::move(message));
  };
  BlockInfo info;
  if (auto sealed = block_->Seal(static_cast<ZSTD_CCtx*>(compressor_), options_.compression_level,
                                 compressed_, info);
      !sealed)
    return dropped(sealed.error().message);
  const size_t total = compressed_.size();
  const int64_t now = WallMs();
  if (segments_.empty() ||
      (segments_.back()->bytes > 0 && segments_.back()->bytes + total > options_.segment_bytes) ||
      now - segments_.back()->started_ms >= options_.segment_ms) {
    if (auto started = StartSegment(info.first_seq, now); !started)
      return dropped(started.error().message);
  }
  Segment& segment = *segments_.back();
  info.offset = segment.bytes;
  const bool written =
      options_.write_file
          ? options_.write_file(segment.fd, compressed_.data(), total, segment.bytes)
          : WriteAt(segment.fd, compressed_.data(), total, segment.bytes);
  if (!written) {
    std::string message = SystemError("cannot write events to", segment.path);
    // What reached the file is cut off again, so the next block starts where this one did.
    (void)::ftruncate(segment.fd, static_cast<off_t>(segment.bytes));
    return dropped(std::move(message));
  }
  block_->Clear();
  unsynced_ = true;
  std::unique_lock lock(mutex_);
  segment.bytes += total;
  segment.blocks.push_back(std::move(info));
  last_error_.clear();  // the store keeps events again
  return {};
}

// ---- packing sealed segments by host ----------------------------------------------------------

void EventStore::QueueCompaction(std::shared_ptr<Segment> segment) {
  if (!options_.compact) return;
  {
    std::lock_guard lock(compaction_mutex_);
    compaction_queue_.push_back(std::move(segment));
    if (!compactor_.joinable()) compactor_ = std::thread([this] { RunCompactions(); });
  }
  compaction_wake_.notify_all();
}

void EventStore::RunCompactions() {
  std::unique_lock lock(compaction_mutex_);
  while (true) {
    compaction_wake_.wait(lock, [&] { return stopping_ || !compaction_queue_.empty(); });
    if (stopping_) return;
    std::shared_ptr<Segment> segment = std::move(compaction_queue_.front());
    compaction_queue_.pop_front();
    compacting_ = true;
    lock.unlock();
    auto compacted = Compact(segment);
    lock.lock();
    compacting_ = false;
    if (!compacted && stopping_) {
      // Interrupted, not failed.
    } else if (!compacted) {
      // Left as written: queries read it all the same, only less selectively.
      std::unique_lock state(mutex_);
      last_compaction_error_ = compacted.error().message;
    } else {
      ++segments_compacted_;
    }
    compaction_wake_.notify_all();
  }
}

void EventStore::WaitForCompactions() {
  std::unique_lock lock(compaction_mutex_);
  compaction_wake_.wait(lock,
                        [&] { return stopping_ || (compaction_queue_.empty() && !compacting_); });
}

// Rewrites a sealed segment with its events grouped by host: within each window of
// `compaction_window_bytes`, events are ordered by a hash of their host (then by sequence
// number) and cut into blocks, so a host's events lie in a block or two of the window rather
// than in every block, and a query for one host reads those.
// The rewrite goes to a temporary file, synced, then renamed over the segment; queries already
// reading the old file keep it until they finish.
Result<void> EventStore::Compact(const std::shared_ptr<Segment>& segment) {
  std::vector<BlockInfo> blocks;
  {
    std::shared_lock lock(mutex_);
    blocks = segment->blocks;
  }
  if (blocks.empty() || std::all_of(blocks.begin(), blocks.end(), [](const BlockInfo& b) {
        return (b.flags & BLOCK_PACKED_BY_HOST) != 0;
      }))
    return {};
  const std::string temporary = segment->path + ".packing";
  const int out = ::open(temporary.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (out < 0) return Fail(SystemError("cannot make", temporary));
  struct Cleanup {
    int fd;
    const std::string& path;
    bool keep = false;
    ~Cleanup() {
      ::close(fd);
      if (!keep) ::unlink(path.c_str());
    }
  } cleanup{out, temporary};

  std::unique_ptr<ZSTD_CCtx, size_t (*)(ZSTD_CCtx*)> compressor(ZSTD_createCCtx(), ZSTD_freeCCtx);
  std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> decompressor(ZSTD_createDCtx(), ZSTD_freeDCtx);
  if (!compressor || !decompressor) return Fail("cannot start the event store's compressor");

  // A window of events, decompressed; each event by its host's hash, sequence number and place.
  struct Placed {
    uint64_t host_key;
    uint64_t seq;
    uint32_t offset;  // in `window` of its encoded event
  };
  std::string window;
  std::vector<Placed> placed;
  std::vector<BlockInfo> written;
  uint64_t file_bytes = 0;
  BlockBuilder builder;
  std::string sealed;
  auto emit = [&]() -> Result<void> {
    if (builder.events == 0) return {};
    builder.flags = BLOCK_PACKED_BY_HOST;
    BlockInfo info;
    if (auto done = builder.Seal(compressor.get(), options_.compression_level, sealed, info); !done)
      return done;
    if (!WriteAt(out, sealed.data(), sealed.size(), file_bytes))
      return Fail(SystemError("cannot write", temporary));
    info.offset = file_bytes;
    file_bytes += sealed.size();
    written.push_back(std::move(info));
    builder.Clear();
    return {};
  };
  auto flush_window = [&]() -> Result<void> {
    std::sort(placed.begin(), placed.end(), [](const Placed& a, const Placed& b) {
      return a.host_key != b.host_key ? a.host_key < b.host_key : a.seq < b.seq;
    });
    for (const Placed& event : placed) {
      if (builder.raw.size() >= options_.block_bytes) {
        if (auto done = emit(); !done) return done;
      }
      std::string_view in(window.data() + event.offset, window.size() - event.offset);
      EncodedEvent stored;
      (void)GetEvent(in, stored);  // read whole once already
      const auto envelope = DecodeEnvelope(stored.envelope);
      builder.Add(event.seq, stored.time_ms, stored.received_ms, stored.host, event.host_key,
                  envelope ? envelope->org_id : std::string_view(), stored.envelope);
    }
    if (auto done = emit(); !done) return done;
    window.clear();
    placed.clear();
    return {};
  };

  std::string body;
  std::string raw;
  for (const BlockInfo& block : blocks) {
    // The temporary file goes; the next opening starts the segment again.
    if (stopping_) return Fail("the store is closing");
    switch (ReadBody(segment->fd, block.body(), decompressor.get(), body, raw)) {
      case BodyRead::kRead: break;
      case BodyRead::kUnreadable: return Fail(SystemError("cannot read", segment->path));
      case BodyRead::kDamaged:
        return Fail(fmt::format("{}: a damaged block at {} is left as it is, with its segment",
                                segment->path, block.offset));
    }
    std::string_view in(raw);
    EncodedEvent event;
    while (!in.empty()) {
      const size_t start = raw.size() - in.size();
      if (!GetEvent(in, event))
        return Fail(fmt::format("{}: a block at {} does not read", segment->path, block.offset));
      const auto offset = static_cast<uint32_t>(window.size());
      // The event as it was, with its distance from the block's first number left in: the
      // window's reader takes the number from `placed` instead.
      window.append(raw, start, raw.size() - in.size() - start);
      placed.push_back({HostKey(event.host), block.first_seq + event.seq_delta, offset});
    }
    if (window.size() >= options_.compaction_window_bytes) {
      if (auto done = flush_window(); !done) return done;
    }
  }
  if (auto done = flush_window(); !done) return done;
  if (::fdatasync(out) != 0) return Fail(SystemError("cannot sync", temporary));

  auto replacement = std::make_shared<Segment>();
  replacement->path = segment->path;
  replacement->first_seq = segment->first_seq;
  replacement->started_ms = segment->started_ms;
  replacement->bytes = file_bytes;
  replacement->blocks = std::move(written);
  std::unique_lock lock(mutex_);
  // Trimmed meanwhile: the rewrite goes with it.
  auto place = std::find(segments_.begin(), segments_.end(), segment);
  if (place == segments_.end()) return {};
  if (::rename(temporary.c_str(), segment->path.c_str()) != 0)
    return Fail(SystemError("cannot replace", segment->path));
  cleanup.keep = true;
  SyncDirectory(options_.dir);
  replacement->fd = ::open(replacement->path.c_str(), O_RDWR | O_CLOEXEC);
  if (replacement->fd < 0) {
    // The file is whole on the disk; a reopened store reads it. Until then the old
    // descriptor still reads the old, identical events.
    return Fail(SystemError("cannot open", replacement->path));
  }
  *place = std::move(replacement);
  return {};
}

Result<void> EventStore::Flush() {
  auto written = WriteBlock();
  if (unsynced_ && !segments_.empty()) {
    if (::fdatasync(segments_.back()->fd) != 0) {
      std::string message = SystemError("cannot sync", segments_.back()->path);
      std::unique_lock lock(mutex_);
      last_error_ = message;
      return Fail(std::move(message));
    }
    unsynced_ = false;
  }
  return written;
}

Result<uint64_t> EventStore::Trim(int64_t now_ms) {
  uint64_t freed = 0;
  std::unique_lock lock(mutex_);
  uint64_t total = 0;
  for (const auto& segment : segments_) total += segment->bytes;
  while (segments_.size() > 1) {
    const Segment& oldest = *segments_.front();
    int64_t newest = 0;  // blocks grouped by host are not in arrival order
    for (const auto& block : oldest.blocks) newest = std::max(newest, block.max_received);
    const bool expired = options_.retention_ms > 0 && newest < now_ms - options_.retention_ms;
    const bool over = total > options_.max_total_bytes;
    if (!expired && !over) break;
    if (::unlink(oldest.path.c_str()) != 0 && errno != ENOENT)
      return Fail(SystemError("cannot remove", oldest.path));
    freed += oldest.bytes;
    total -= oldest.bytes;
    // A query reading it keeps its descriptor until done.
    segments_.erase(segments_.begin());
  }
  return freed;
}

Result<EventPage> EventStore::Query(const EventQuery& query) const {
  struct Candidate {
    std::shared_ptr<Segment> segment;
    BodyRef body;
    uint64_t first_seq;
  };
  EventPage page;
  std::vector<Candidate> candidates;
  std::string text_lower;
  if (query.text) {
    for (char c : *query.text) text_lower.push_back(AsciiLower(c));
  }
  std::vector<uint64_t> org_keys;
  for (const auto& org : query.org_ids) org_keys.push_back(OrgKey(org));
  const uint64_t host_key = query.host ? HostKey(*query.host) : 0;
  {
    std::shared_lock lock(mutex_);
    for (const auto& segment : segments_) {
      for (const auto& block : segment->blocks) {
        bool wanted = true;
        if (query.from && block.max_time < *query.from) wanted = false;
        if (query.to && block.min_time >= *query.to) wanted = false;
        if (query.after && block.max_time < query.after->first) wanted = false;
        if (wanted && query.host && !block.MayHold(host_key)) wanted = false;
        if (wanted && !org_keys.empty() &&
            std::none_of(org_keys.begin(), org_keys.end(),
                         [&](uint64_t key) { return block.MayHold(key); }))
          wanted = false;
        if (!wanted) {
          ++page.blocks_skipped;
          continue;
        }
        candidates.push_back({segment, block.body(), block.first_seq});
      }
    }
  }

  // The `limit + 1` first events by (time, seq): a max-heap whose top is the last kept.
  using Key = std::pair<int64_t, uint64_t>;
  auto later = [](const StoredEvent& a, const StoredEvent& b) {
    return Key(a.time_ms, a.seq) < Key(b.time_ms, b.seq);
  };
  std::vector<StoredEvent> kept;
  const size_t keep = query.limit + 1;
  std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> decompressor(ZSTD_createDCtx(), ZSTD_freeDCtx);
  if (!decompressor) return Fail("cannot start the event store's decompressor");
  std::string body;
  std::string raw;
  for (const auto& candidate : candidates) {
    switch (ReadBody(candidate.segment->fd, candidate.body, decompressor.get(), body, raw)) {
      case BodyRead::kRead: break;
      case BodyRead::kUnreadable:
        return Fail(SystemError("cannot read events from", candidate.segment->path));
      case BodyRead::kDamaged: ++page.blocks_damaged; continue;
    }
    ++page.blocks_read;
    std::string_view in(raw);
    EncodedEvent stored;
    while (!in.empty()) {
      if (!GetEvent(in, stored)) {
        ++page.blocks_damaged;
        break;
      }
      const int64_t time_ms = stored.time_ms;
      const uint64_t seq = candidate.first_seq + stored.seq_delta;
      if (query.from && time_ms < *query.from) continue;
      if (query.to && time_ms >= *query.to) continue;
      if (query.after && Key(time_ms, seq) <= *query.after) continue;
      if (kept.size() == keep && Key(time_ms, seq) >= Key(kept.front().time_ms, kept.front().seq))
        continue;
      if (query.host && !EqualsIgnoringCase(stored.host, *query.host)) continue;
      auto envelope = DecodeEnvelope(stored.envelope);
      if (!envelope) continue;
      if (!query.org_ids.empty() && std::find(query.org_ids.begin(), query.org_ids.end(),
                                              envelope->org_id) == query.org_ids.end())
        continue;
      if (query.text && !ContainsIgnoringCase(envelope->payload, text_lower)) continue;
      StoredEvent event;
      event.seq = seq;
      event.time_ms = time_ms;
      event.received_ms = stored.received_ms;
      event.host = stored.host;
      event.org_id = envelope->org_id;
      event.sensor_id = envelope->sensor_id;
      event.logsource = envelope->logsource;
      event.received_at = envelope->received_at;
      event.peer = envelope->peer;
      event.transport = envelope->transport;
      event.kind = envelope->kind;
      event.payload = envelope->payload;
      kept.push_back(std::move(event));
      std::push_heap(kept.begin(), kept.end(), later);
      if (kept.size() > keep) {
        std::pop_heap(kept.begin(), kept.end(), later);
        kept.pop_back();
      }
    }
  }
  std::sort_heap(kept.begin(), kept.end(), later);
  if (kept.size() > query.limit) {
    page.more = true;
    kept.resize(query.limit);
  }
  page.events = std::move(kept);
  return page;
}

EventStoreStats EventStore::Stats() const {
  EventStoreStats stats;
  std::shared_lock lock(mutex_);
  stats.segments = segments_.size();
  for (const auto& segment : segments_) {
    stats.bytes += segment->bytes;
    stats.blocks += segment->blocks.size();
    for (const auto& block : segment->blocks) {
      stats.events += block.events;
      if (stats.oldest_received_ms == 0 || block.min_received < stats.oldest_received_ms)
        stats.oldest_received_ms = block.min_received;
      stats.newest_received_ms = std::max(stats.newest_received_ms, block.max_received);
    }
  }
  stats.last_seq = last_seq_.load();
  stats.events_dropped = events_dropped_;
  stats.last_error = last_error_;
  stats.truncated_bytes = truncated_bytes_;
  stats.truncated_at = truncated_at_;
  stats.segments_compacted = segments_compacted_.load();
  stats.last_compaction_error = last_compaction_error_;
  return stats;
}

}  // namespace yagura::pipeline
