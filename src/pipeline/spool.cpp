// The spool (see spool.hpp for the format and the guarantees).
#include "pipeline/spool.hpp"

#include <fcntl.h>
#include <nmmintrin.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "pipeline/file_io.hpp"

namespace yagura::pipeline {
namespace {

namespace fs = std::filesystem;

// A record that ends its batch (or is one by itself), and one that more of its batch follows.
// Spools written before batches were marked hold only the first kind: each record its own batch.
constexpr uint32_t RECORD_MAGIC = 0x53524759;     // "YGRS" little-endian
constexpr uint32_t CONTINUED_MAGIC = 0x43524759;  // "YGRC"
// A continued record's checksum is its plain one with these bits flipped: the checksum does not
// cover the magic, and a damaged mark would otherwise join two batches or split one.
constexpr uint32_t CONTINUED_CRC_FLIP = 0x5A5A5A5A;
constexpr size_t HEADER_BYTES = Spool::RECORD_OVERHEAD_BYTES;  // magic, length, seq, crc
constexpr const char* SEGMENT_SUFFIX = ".spool";
// Reads take a segment this much at a time (a record larger than this is read alone).
constexpr size_t CHUNK_BYTES = 1 << 20;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

uint32_t RecordCrc(uint64_t seq, std::string_view payload, bool continued) {
  uint32_t crc = Crc32c(0, &seq, sizeof(seq));
  crc = Crc32c(crc, payload.data(), payload.size());
  return continued ? crc ^ CONTINUED_CRC_FLIP : crc;
}

bool IsRecordMagic(uint32_t magic) { return magic == RECORD_MAGIC || magic == CONTINUED_MAGIC; }

bool ValidCheckpointName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_';
  });
}

}  // namespace

uint32_t Crc32c(uint32_t crc, const void* data, size_t size) {
  const auto* bytes = static_cast<const unsigned char*>(data);
  uint64_t state = ~crc;
  while (size >= 8) {
    uint64_t word;
    std::memcpy(&word, bytes, 8);
    state = _mm_crc32_u64(state, word);
    bytes += 8;
    size -= 8;
  }
  auto narrow = static_cast<uint32_t>(state);
  while (size > 0) {
    narrow = _mm_crc32_u8(narrow, *bytes++);
    --size;
  }
  return ~narrow;
}

struct Spool::Segment {
  uint64_t first_seq = 0;
  uint64_t end_seq = 0;  // one past the last record
  uint64_t bytes = 0;
  std::string path;
  int fd = -1;

  ~Segment() {
    if (fd >= 0) ::close(fd);
  }

  // Reads the record at `offset`; empty optional with `problem` set when it is not a whole,
  // valid record. `continued`: more records of its batch follow it.
  std::optional<SpoolRecord> ReadRecord(uint64_t offset, uint32_t max_bytes, uint64_t& next,
                                        bool& continued, std::string& problem) const {
    char header[HEADER_BYTES];
    if (offset + HEADER_BYTES > bytes || !ReadAt(fd, header, HEADER_BYTES, offset)) {
      problem = "incomplete record header";
      return std::nullopt;
    }
    uint32_t magic;
    uint32_t length;
    uint64_t seq;
    uint32_t crc;
    std::memcpy(&magic, header, 4);
    std::memcpy(&length, header + 4, 4);
    std::memcpy(&seq, header + 8, 8);
    std::memcpy(&crc, header + 16, 4);
    if (!IsRecordMagic(magic)) {
      problem = "no record starts here";
      return std::nullopt;
    }
    continued = magic == CONTINUED_MAGIC;
    if (length > max_bytes || offset + HEADER_BYTES + length > bytes) {
      problem = "record longer than the file";
      return std::nullopt;
    }
    SpoolRecord record;
    record.seq = seq;
    record.payload.resize(length);
    if (!ReadAt(fd, record.payload.data(), length, offset + HEADER_BYTES)) {
      problem = "unreadable record";
      return std::nullopt;
    }
    if (RecordCrc(seq, record.payload, continued) != crc) {
      problem = "checksum mismatch";
      return std::nullopt;
    }
    next = offset + HEADER_BYTES + length;
    return record;
  }
};

Spool::Spool(SpoolOptions options) : options_(std::move(options)) {}
Spool::~Spool() {
  if (!segments_.empty()) (void)SyncFile(segments_.back()->fd);
}

bool Spool::SyncFile(int fd) const {
  return (options_.sync_file ? options_.sync_file(fd) : ::fdatasync(fd)) == 0;
}

Result<void> Spool::Reopen() {
  auto fresh = Open(options_);
  if (!fresh) return tl::unexpected(fresh.error());
  Spool& other = **fresh;
  segments_ = std::move(other.segments_);  // closes this spool's files
  other.segments_.clear();
  next_seq_ = other.next_seq_;
  last_sync_ms_ = other.last_sync_ms_;
  synced_next_seq_ = other.synced_next_seq_;
  recovery_ = std::move(other.recovery_);
  read_cursor_ = {};
  broken_reason_.clear();
  return {};
}

Result<std::unique_ptr<Spool>> Spool::Open(SpoolOptions options) {
  if (options.dir.empty()) return Fail("the spool needs a directory");
  if (options.segment_bytes < 4096) return Fail("spool segments must be at least 4096 bytes");
  std::error_code ec;
  fs::create_directories(fs::path(options.dir) / "checkpoints", ec);
  if (ec) return Fail(fmt::format("cannot create the spool directory: {}", ec.message()), options.dir);
  std::unique_ptr<Spool> spool(new Spool(std::move(options)));
  if (auto recovered = spool->Recover(); !recovered) return tl::unexpected(recovered.error());
  return spool;
}

Result<void> Spool::Recover() {
  std::vector<std::pair<uint64_t, std::string>> files;
  for (const auto& entry : fs::directory_iterator(options_.dir)) {
    std::string name = entry.path().filename().string();
    if (!name.ends_with(SEGMENT_SUFFIX)) continue;
    std::string_view digits(name.data(), name.size() - std::strlen(SEGMENT_SUFFIX));
    uint64_t first = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), first);
    if (ec != std::errc() || end != digits.data() + digits.size() || first == 0) {
      return Fail(fmt::format("unexpected file {} in the spool", name), options_.dir);
    }
    files.emplace_back(first, entry.path().string());
  }
  std::sort(files.begin(), files.end());
  const uint64_t checkpoint = HighestCheckpoint();
  // Where the last whole batch ends: its segment, the offset past it, the next number.
  size_t batch_segment = 0;
  uint64_t batch_offset = 0;
  uint64_t batch_end_seq = files.empty() ? 1 : files.front().first;
  bool batch_open = false;  // the last record read is continued: its batch's end is missing
  for (size_t i = 0; i < files.size(); ++i) {
    auto segment = std::make_unique<Segment>();
    segment->first_seq = files[i].first;
    segment->path = files[i].second;
    segment->fd = ::open(segment->path.c_str(), O_RDWR | O_CLOEXEC);
    if (segment->fd < 0) return Fail(SystemError("cannot open", segment->path));
    struct stat status {};
    ::fstat(segment->fd, &status);
    segment->bytes = static_cast<uint64_t>(status.st_size);
    // A gap is one the spool left itself (below), if a checkpoint has passed it; otherwise
    // segments are missing.
    const bool skipped = !segments_.empty() && segment->first_seq > segments_.back()->end_seq &&
                         segment->first_seq <= checkpoint;
    if (!segments_.empty() && segment->first_seq != segments_.back()->end_seq && !skipped) {
      return Fail(fmt::format("segment {} does not follow the previous one (records {} to {} are "
                              "missing)",
                              segment->path, segments_.back()->end_seq, segment->first_seq - 1));
    }
    uint64_t offset = 0;
    uint64_t expected = segment->first_seq;
    std::string problem;
    while (offset < segment->bytes) {
      uint64_t next = 0;
      bool continued = false;
      auto record =
          segment->ReadRecord(offset, options_.max_record_bytes, next, continued, problem);
      if (record && record->seq != expected) {
        problem = fmt::format("record {} where {} was expected", record->seq, expected);
        record.reset();
      }
      if (!record) break;
      ++expected;
      ++recovery_.records;
      offset = next;
      batch_open = continued;
      if (!continued) {
        batch_segment = i;
        batch_offset = offset;
        batch_end_seq = expected;
      }
    }
    if (offset < segment->bytes) {
      if (i + 1 != files.size()) {
        // Damage before the newest segment is not a torn write; cutting it would silently drop
        // the good records after it, so an operator has to decide.
        return Fail(fmt::format("spool segment {} is damaged at byte {} ({}) and is not the "
                                "newest segment",
                                segment->path, offset, problem));
      }
      recovery_.truncated_bytes = segment->bytes - offset;
      recovery_.truncated_at = fmt::format("{}@{}: {}", fs::path(segment->path).filename().string(),
                                           offset, problem);
      if (::ftruncate(segment->fd, static_cast<off_t>(offset)) != 0) {
        return Fail(SystemError("cannot truncate", segment->path));
      }
      (void)SyncFile(segment->fd);
      segment->bytes = offset;
      // The torn record began a batch or continued one: either way that batch is incomplete.
      batch_open = true;
    }
    segment->end_seq = expected;
    ++recovery_.segments;
    segments_.push_back(std::move(segment));
  }
  if (batch_open && !segments_.empty()) {
    if (auto cut = CutIncompleteBatch(batch_segment, batch_offset, batch_end_seq); !cut) return cut;
  }
  if (segments_.empty()) {
    if (auto started = StartSegment(std::max<uint64_t>(checkpoint, 1)); !started) return started;
    return SyncNow();
  }
  if (checkpoint > segments_.back()->end_seq) {
    // A consumer read records that are gone: the disk lost a tail it had not been made to keep
    // (fsync not on every append) when the machine went down. Their numbers are not given
    // again, since what a consumer made of them (alert ids) is named after them.
    recovery_.lost_from = segments_.back()->end_seq;
    recovery_.lost_to = checkpoint - 1;
    if (segments_.back()->bytes == 0) {
      if (::unlink(segments_.back()->path.c_str()) != 0) {
        return Fail(SystemError("cannot remove", segments_.back()->path));
      }
      segments_.pop_back();
      --recovery_.segments;
    }
    if (auto started = StartSegment(checkpoint); !started) return started;
    return SyncNow();
  }
  next_seq_ = segments_.back()->end_seq;
  // What a crash of the process left is in the kernel's cache, not necessarily on the disk.
  if (auto synced = SyncNow(); !synced) return synced;
  ::lseek(segments_.back()->fd, 0, SEEK_END);
  return {};
}

Result<void> Spool::CutIncompleteBatch(size_t segment_index, uint64_t offset, uint64_t end_seq) {
  const uint64_t records = segments_.back()->end_seq - end_seq;
  if (records == 0) return {};  // only a torn record, already cut
  uint64_t bytes = 0;
  while (segments_.size() > segment_index + 1) {
    // Records of the incomplete batch only: its first record lies in an earlier segment.
    const Segment& later = *segments_.back();
    if (::unlink(later.path.c_str()) != 0) return Fail(SystemError("cannot remove", later.path));
    bytes += later.bytes;
    segments_.pop_back();
    --recovery_.segments;
  }
  Segment& segment = *segments_.back();
  if (::ftruncate(segment.fd, static_cast<off_t>(offset)) != 0) {
    return Fail(SystemError("cannot truncate", segment.path));
  }
  (void)SyncFile(segment.fd);
  SyncDirectory(options_.dir);
  bytes += segment.bytes - offset;
  segment.bytes = offset;
  segment.end_seq = end_seq;
  recovery_.records -= records;
  recovery_.incomplete_batch_records = records;
  recovery_.truncated_bytes += bytes;
  std::string reason = fmt::format("{}@{}: the batch of records {} to {} was not written whole",
                                   fs::path(segment.path).filename().string(), offset, end_seq,
                                   end_seq + records - 1);
  if (!recovery_.truncated_at.empty()) reason += ", before " + recovery_.truncated_at;
  recovery_.truncated_at = std::move(reason);
  return {};
}

Result<void> Spool::StartSegment(uint64_t first_seq) {
  auto segment = std::make_unique<Segment>();
  segment->first_seq = first_seq;
  segment->end_seq = first_seq;
  segment->path = (fs::path(options_.dir) / fmt::format("{:020}{}", first_seq, SEGMENT_SUFFIX)).string();
  segment->fd = ::open(segment->path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (segment->fd < 0) return Fail(SystemError("cannot create", segment->path));
  SyncDirectory(options_.dir);
  // Only the newest segment may hold records that are not on the disk (SyncNow): the one
  // before it is synced before it stops being the newest. Under kNever nothing is promised to
  // be on the disk, and a sync that fails there does not stop ingest.
  if (!segments_.empty() && !SyncFile(segments_.back()->fd) &&
      options_.fsync != FsyncPolicy::kNever) {
    Error error{SystemError("cannot sync", segments_.back()->path), {}};
    broken_reason_ = error.message;
    ::unlink(segment->path.c_str());
    return tl::unexpected(std::move(error));
  }
  segments_.push_back(std::move(segment));
  next_seq_ = first_seq;
  return {};
}

Result<uint64_t> Spool::Append(std::span<const std::string_view> records) {
  if (broken()) {
    return Fail(
        fmt::format("the spool refuses appends until it is reopened, since {}", broken_reason_));
  }
  uint64_t incoming = 0;
  for (std::string_view record : records) {
    if (record.size() > options_.max_record_bytes) {
      return Fail(fmt::format("a record of {} bytes is larger than the limit of {}", record.size(),
                              options_.max_record_bytes));
    }
    incoming += HEADER_BYTES + record.size();
  }
  if (total_bytes() + incoming > options_.max_total_bytes) {
    return Fail("the spool is full; retry once consumers have caught up");
  }
  const size_t segments_before = segments_.size();
  const uint64_t bytes_before = segments_.back()->bytes;
  const uint64_t next_seq_before = next_seq_;
  // A failed write is undone, so that the batch leaves nothing behind for readers (who take
  // what lies before a segment's known end) or for a later recovery.
  auto fail = [&](Error error) -> Result<uint64_t> {
    if (!UndoAppend(segments_before, bytes_before, next_seq_before)) {
      error.message += "; the spool could not be cut back and must be reopened";
      if (broken_reason_.empty()) broken_reason_ = error.message;
    }
    return tl::unexpected(std::move(error));
  };
  std::string buffer;
  for (size_t i = 0; i < records.size(); ++i) {
    const std::string_view record = records[i];
    Segment* segment = segments_.back().get();
    if (segment->bytes + buffer.size() > 0 &&
        segment->bytes + buffer.size() + HEADER_BYTES + record.size() > options_.segment_bytes) {
      if (!WriteAll(segment->fd, buffer.data(), buffer.size())) {
        return fail(Error{SystemError("cannot write", segment->path), {}});
      }
      segment->bytes += buffer.size();
      buffer.clear();
      if (auto started = StartSegment(next_seq_); !started) return fail(started.error());
      segment = segments_.back().get();
    }
    const bool continued = i + 1 < records.size();
    const uint32_t magic = continued ? CONTINUED_MAGIC : RECORD_MAGIC;
    uint64_t seq = next_seq_++;
    uint32_t length = static_cast<uint32_t>(record.size());
    uint32_t crc = RecordCrc(seq, record, continued);
    char header[HEADER_BYTES];
    std::memcpy(header, &magic, 4);
    std::memcpy(header + 4, &length, 4);
    std::memcpy(header + 8, &seq, 8);
    std::memcpy(header + 16, &crc, 4);
    buffer.append(header, HEADER_BYTES);
    buffer.append(record);
    segment->end_seq = next_seq_;
  }
  Segment* segment = segments_.back().get();
  if (!WriteAll(segment->fd, buffer.data(), buffer.size())) {
    return fail(Error{SystemError("cannot write", segment->path), {}});
  }
  segment->bytes += buffer.size();
  if (options_.fsync == FsyncPolicy::kEveryAppend ||
      (options_.fsync == FsyncPolicy::kInterval &&
       NowMs() - last_sync_ms_ >= options_.fsync_interval_ms)) {
    if (auto synced = Sync(); !synced) return fail(synced.error());  // SyncNow: broken
  }
  return next_seq_ - 1;
}

bool Spool::UndoAppend(size_t segments_before, uint64_t bytes_before, uint64_t next_seq_before) {
  bool undone = true;
  while (segments_.size() > segments_before) {
    if (::unlink(segments_.back()->path.c_str()) != 0) undone = false;
    segments_.pop_back();
  }
  Segment& segment = *segments_.back();
  if (::ftruncate(segment.fd, static_cast<off_t>(bytes_before)) != 0 ||
      ::lseek(segment.fd, static_cast<off_t>(bytes_before), SEEK_SET) < 0) {
    undone = false;
  }
  segment.bytes = bytes_before;
  segment.end_seq = next_seq_before;
  next_seq_ = next_seq_before;
  return undone;
}

Result<void> Spool::Sync() { return SyncNow(); }

int64_t Spool::SyncDueInMs() const {
  if (options_.fsync != FsyncPolicy::kInterval || synced_next_seq_ >= next_seq_) return -1;
  return std::max<int64_t>(0, last_sync_ms_ + options_.fsync_interval_ms - NowMs());
}

Result<void> Spool::SyncNow() const {
  if (broken()) return Fail(broken_reason_);  // see Read
  // Only the newest segment can hold records not on the disk: StartSegment syncs the one
  // before it.
  if (!SyncFile(segments_.back()->fd)) {
    // After a failed sync the kernel may have dropped the pages it could not write, and a later
    // sync may succeed without them: nothing it says about the file can be trusted until the
    // spool is read again from the disk.
    Error error{SystemError("cannot sync", segments_.back()->path), {}};
    broken_reason_ = error.message;
    return tl::unexpected(std::move(error));
  }
  last_sync_ms_ = NowMs();
  synced_next_seq_ = next_seq_;
  return {};
}

Result<std::vector<SpoolRecord>> Spool::Read(uint64_t from, size_t max_records) const {
  SpoolReadBuffer buffer;
  if (auto read = Read(from, max_records, buffer); !read) return tl::unexpected(read.error());
  std::vector<SpoolRecord> records;
  records.reserve(buffer.records.size());
  for (const auto& record : buffer.records)
    records.push_back(SpoolRecord{record.seq, std::string(record.payload)});
  return records;
}

Result<void> Spool::Read(uint64_t from, size_t max_records, SpoolReadBuffer& out) const {
  out.records.clear();
  // A broken spool is not synced again: a sync after a refused one may succeed without the
  // pages the kernel dropped, and records it seemed to keep would be handed out.
  if (!broken() && SyncDueInMs() == 0 && std::max(from, first_seq()) < next_seq_) {
    if (auto synced = SyncNow(); !synced) return synced;
  }
  const uint64_t readable_end = readable_next_seq();
  size_t chunks_used = 0;
  // A chunk buffer for the next read; buffers are kept (up to a chunk's size) for the next batch.
  auto next_chunk = [&]() -> std::string& {
    if (chunks_used == out.chunks.size()) out.chunks.emplace_back();
    std::string& chunk = out.chunks[chunks_used++];
    if (chunk.capacity() > 2 * CHUNK_BYTES) std::string().swap(chunk);  // after a huge record
    return chunk;
  };
  from = std::max(from, first_seq());
  // A consumer reads on from where it stopped: the cursor remembers that byte offset, so a
  // read never rescans its segment from the start (which made catching up quadratic).
  for (const auto& segment : segments_) {
    if (segment->end_seq <= from || out.records.size() >= max_records) continue;
    uint64_t offset = 0;
    if (read_cursor_.segment_first_seq == segment->first_seq && read_cursor_.seq <= from &&
        read_cursor_.offset <= segment->bytes) {
      offset = read_cursor_.offset;
    }
    while (offset < segment->bytes && out.records.size() < max_records) {
      size_t want = static_cast<size_t>(std::min<uint64_t>(CHUNK_BYTES, segment->bytes - offset));
      std::string& chunk = next_chunk();
      chunk.resize(want);
      if (!ReadAt(segment->fd, chunk.data(), want, offset)) {
        return Fail(fmt::format("spool segment {} became unreadable at byte {}", segment->path, offset));
      }
      size_t at = 0;
      while (out.records.size() < max_records) {
        if (want - at < HEADER_BYTES) break;
        uint32_t magic;
        uint32_t length;
        uint64_t seq;
        uint32_t crc;
        std::memcpy(&magic, chunk.data() + at, 4);
        std::memcpy(&length, chunk.data() + at + 4, 4);
        std::memcpy(&seq, chunk.data() + at + 8, 8);
        std::memcpy(&crc, chunk.data() + at + 16, 4);
        const char* problem = nullptr;
        if (!IsRecordMagic(magic)) {
          problem = "no record starts here";
        } else if (length > options_.max_record_bytes ||
                   offset + at + HEADER_BYTES + length > segment->bytes) {
          problem = "record longer than the file";
        }
        if (problem != nullptr) {
          return Fail(fmt::format("spool segment {} became unreadable at byte {}: {}",
                                  segment->path, offset + at, problem));
        }
        if (want - at < HEADER_BYTES + length) {
          if (at == 0) {  // one record larger than the chunk: read exactly it
            chunk.resize(HEADER_BYTES + length);
            if (!ReadAt(segment->fd, chunk.data(), chunk.size(), offset)) {
              return Fail(fmt::format("spool segment {} became unreadable at byte {}",
                                      segment->path, offset));
            }
            want = chunk.size();
            continue;
          }
          break;
        }
        std::string_view payload(chunk.data() + at + HEADER_BYTES, length);
        if (RecordCrc(seq, payload, magic == CONTINUED_MAGIC) != crc) {
          return Fail(fmt::format("spool segment {} became unreadable at byte {}: checksum mismatch",
                                  segment->path, offset + at));
        }
        if (seq >= readable_end) return {};  // not on the disk yet (kInterval)
        if (seq >= from) out.records.push_back({seq, payload});
        at += HEADER_BYTES + length;
        read_cursor_ = {segment->first_seq, seq + 1, offset + at};
      }
      offset += at;
    }
  }
  return {};
}

Result<void> Spool::SaveCheckpoint(std::string_view name, uint64_t next_seq) {
  if (!ValidCheckpointName(name)) {
    return Fail(fmt::format("checkpoint names are letters, digits, '-' and '_', not \"{}\"", name));
  }
  fs::path dir = fs::path(options_.dir) / "checkpoints";
  fs::path path = dir / std::string(name);
  fs::path temporary = dir / (std::string(name) + ".tmp");
  int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Fail(SystemError("cannot write", temporary.string()));
  std::string text = std::to_string(next_seq) + "\n";
  bool written = WriteAll(fd, text.data(), text.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!written || ::rename(temporary.c_str(), path.c_str()) != 0) {
    return Fail(SystemError("cannot save checkpoint", path.string()));
  }
  SyncDirectory(dir.string());
  return {};
}

uint64_t Spool::HighestCheckpoint() const {
  uint64_t highest = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(fs::path(options_.dir) / "checkpoints", ec)) {
    const std::string name = entry.path().filename().string();
    if (!ValidCheckpointName(name)) continue;  // a temporary file of an unfinished save
    std::ifstream in(entry.path());
    uint64_t value = 0;
    if (in >> value) highest = std::max(highest, value);
  }
  return highest;
}

uint64_t Spool::LoadCheckpoint(std::string_view name) const {
  if (!ValidCheckpointName(name)) return first_seq();
  std::ifstream in(fs::path(options_.dir) / "checkpoints" / std::string(name));
  uint64_t value = 0;
  if (!(in >> value) || value == 0) return first_seq();
  return std::max(value, first_seq());
}

Result<uint64_t> Spool::Trim(uint64_t next_seq) { return Trim(next_seq, 0, 0); }

Result<uint64_t> Spool::Trim(uint64_t next_seq, int64_t retention_ms, int64_t now_ms) {
  uint64_t freed = 0;
  while (segments_.size() > 1 && segments_.front()->end_seq <= next_seq) {
    const auto& segment = segments_.front();
    if (retention_ms > 0) {
      // A segment's last write is its newest record's arrival: keep it while that is recent.
      struct stat st {};
      if (::fstat(segment->fd, &st) == 0) {
        int64_t modified_ms = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1000000;
        if (now_ms - modified_ms < retention_ms) break;
      }
    }
    if (::unlink(segment->path.c_str()) != 0) {
      return Fail(SystemError("cannot remove", segment->path));
    }
    freed += segment->bytes;
    segments_.erase(segments_.begin());
  }
  if (freed > 0) SyncDirectory(options_.dir);
  return freed;
}

uint64_t Spool::first_seq() const { return segments_.front()->first_seq; }
uint64_t Spool::next_seq() const { return next_seq_; }
uint64_t Spool::total_bytes() const {
  uint64_t total = 0;
  for (const auto& segment : segments_) total += segment->bytes;
  return total;
}

}  // namespace yagura::pipeline
