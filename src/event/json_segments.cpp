#include "event/json_segments.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include "event/json_framing.hpp"

namespace yagura::event {
namespace {

constexpr size_t HEAD_BYTES = size_t{64} << 10;  // what format detection looks at
// Read at a time: small enough that the bytes are still in the core's own cache when the
// framer and the parser reach them (input.cpp reads the same way).
constexpr size_t READ_CHUNK = size_t{256} << 10;
constexpr size_t PROBE_BYTES = 4096;  // read at a time while looking for a segment's start

bool Compressed(std::string_view head) {
  return (head.size() >= 2 && static_cast<unsigned char>(head[0]) == 0x1f &&
          static_cast<unsigned char>(head[1]) == 0x8b) ||
         (head.size() >= 4 && head.substr(0, 4) == std::string_view("\x28\xb5\x2f\xfd", 4));
}

// Raises `covered` to at least `end`.
void Raise(std::atomic<uint64_t>* covered, uint64_t end) {
  if (covered == nullptr) return;
  uint64_t seen = covered->load(std::memory_order_relaxed);
  while (seen < end && !covered->compare_exchange_weak(seen, end, std::memory_order_relaxed)) {
  }
}

}  // namespace

std::optional<uint64_t> JsonSegmentReader::SplittableSize(const InputFile& file,
                                                          InputFormat forced,
                                                          uint64_t segment_size) {
  if (file.path == "-" || file.archive_member ||
      (forced != InputFormat::kAuto && forced != InputFormat::kJson))
    return std::nullopt;
  if (!IsRegularFile(file.path)) return std::nullopt;  // a pipe is read by the reader alone
  int fd = ::open(file.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  struct stat st {};
  std::string head(HEAD_BYTES, '\0');
  size_t got = 0;
  bool ok = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
            static_cast<uint64_t>(st.st_size) >= 2 * segment_size;
  auto read_to = [&](size_t want) {
    while (got < want) {
      ssize_t n = ::pread(fd, head.data() + got, want - got, static_cast<off_t>(got));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return false;
      if (n == 0) break;
      got += static_cast<size_t>(n);
    }
    return true;
  };
  // Not compressed, and an object first (after a byte order mark and white space).
  auto object_first = [&] {
    std::string_view rest(head.data(), got);
    if (Compressed(rest)) return false;
    if (rest.substr(0, 3) == "\xEF\xBB\xBF") rest.remove_prefix(3);
    size_t first = rest.find_first_not_of(" \t\r\n");
    return first != std::string_view::npos && rest[first] == '{';
  };
  // The first page rules out most other files (EVTX, compressed, text) before the rest of what
  // format detection looks at is read, which the reader would then read again.
  ok = ok && read_to(PROBE_BYTES) && object_first() && read_to(HEAD_BYTES);
  ::close(fd);
  if (!ok) return std::nullopt;
  if (forced == InputFormat::kAuto &&
      DetectInputFormat({head.data(), got}, false) != InputFormat::kJson)
    return std::nullopt;
  return static_cast<uint64_t>(st.st_size);
}

JsonSegmentReader::JsonSegmentReader(uint64_t segment_size, size_t max_record_size)
    : segment_size_(segment_size), max_record_size_(max_record_size) {}

JsonSegmentReader::~JsonSegmentReader() {
  if (fd_ >= 0) ::close(fd_);
}

Result<void> JsonSegmentReader::Open(const std::string& path, uint64_t size) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  path_ = path;
  size_ = size;
  if (fd_ < 0) return Fail(path + ": " + std::strerror(errno));
  return {};
}

Result<size_t> JsonSegmentReader::ReadAt(char* out, size_t size, uint64_t offset) {
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::pread(fd_, out + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Fail(std::string("read error: ") + std::strerror(errno));
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return done;
}

Result<uint64_t> JsonSegmentReader::Start(uint64_t k) {
  if (k == 0) return uint64_t{0};
  uint64_t nominal = k * segment_size_;
  if (nominal >= size_) return size_;
  std::array<char, PROBE_BYTES> probe;
  for (uint64_t offset = nominal - 1; offset < size_;) {
    auto got = ReadAt(probe.data(), std::min<uint64_t>(probe.size(), size_ - offset), offset);
    if (!got) return tl::unexpected(got.error());
    if (*got == 0) return Fail("the file shrank while it was read");
    if (const void* newline = std::memchr(probe.data(), '\n', *got)) {
      return offset + static_cast<uint64_t>(static_cast<const char*>(newline) - probe.data()) + 1;
    }
    offset += *got;
  }
  return size_;
}

void JsonSegmentReader::Reserve(size_t bytes, size_t keep) {
  if (bytes <= capacity_) return;
  size_t capacity = std::max(bytes, std::max<size_t>(capacity_ * 2, (size_t{2} << 20) - RECORD_PADDING));
  LargeBuffer grown = MakeLargeBuffer(capacity + RECORD_PADDING);
  if (keep > 0) std::memcpy(grown.get(), buffer_.get(), keep);
  buffer_ = std::move(grown);
  capacity_ = capacity;
}

Result<JsonSegment> JsonSegmentReader::Read(uint64_t k, const OnRecord& on_record,
                                            const OnError& on_error,
                                            std::atomic<uint64_t>* covered) {
  JsonSegment segment;
  segment.first = k;
  auto begin = Start(k);
  if (!begin) return tl::unexpected(begin.error());
  uint64_t end_index = k + 1;
  auto boundary = Start(end_index);
  if (!boundary) return tl::unexpected(boundary.error());
  segment.end = end_index;
  if (*begin >= *boundary) return segment;  // one line runs across the whole segment

  JsonFramer framer;
  if (k > 0) framer.ResumeAtLineStart();
  framer.set_line_records(line_records_, max_record_size_);
  const std::string too_large =
      "JSON value larger than " + std::to_string(max_record_size_) + " bytes";
  Reserve(std::min<uint64_t>(*boundary - *begin, READ_CHUNK * 2), 0);
  size_t end = 0;               // bytes in the buffer
  uint64_t read_to = *begin;    // file offset of the buffer's end
  while (true) {
    const bool eof = read_to == size_;
    JsonFramer::Frame frame = framer.Next(buffer_.get(), end, eof);
    if (frame.kind == JsonFramer::Kind::kRecord && frame.end - frame.begin > max_record_size_) {
      frame = JsonFramer::Frame{JsonFramer::Kind::kError, 0, 0, frame.line, too_large};
    }
    if (frame.kind == JsonFramer::Kind::kRecord) {
      Record record;
      record.data = std::string_view(buffer_.get() + frame.begin, frame.end - frame.begin);
      record.format = RecordFormat::kJson;
      record.number = ++segment.values;
      record.line = frame.line;
      record.whole_line = frame.whole_line;
      line_rejected_ = false;
      on_record(record);
      if (frame.whole_line && line_rejected_) {
        line_rejected_ = false;
        --segment.values;
        framer.Reframe();
      }
      continue;
    }
    if (frame.kind == JsonFramer::Kind::kError) {
      ++segment.errors;
      on_error(frame.line, frame.message);
      continue;
    }
    // Everything read so far is framed.
    if (read_to == *boundary) {
      if (eof || framer.at_clean_line_start()) break;
      // A value (or an array, or skipped text) runs on into the next segment: read on.
      ++end_index;
      Raise(covered, end_index);
      boundary = Start(end_index);
      if (!boundary) return tl::unexpected(boundary.error());
      continue;
    }
    if (framer.open_record_size() > max_record_size_) framer.Discard(too_large);
    size_t keep = framer.keep_from();
    if (keep > 0) {
      std::memmove(buffer_.get(), buffer_.get() + keep, end - keep);
      end -= keep;
      framer.Rebase(keep);
    }
    const size_t want = static_cast<size_t>(std::min<uint64_t>(READ_CHUNK, *boundary - read_to));
    Reserve(end + want, end);
    auto got = ReadAt(buffer_.get() + end, want, read_to);
    if (!got) return tl::unexpected(got.error());
    if (*got < want) return Fail("the file shrank while it was read");
    end += *got;
    read_to += *got;
    std::memset(buffer_.get() + end, 0, RECORD_PADDING);
  }
  segment.end = end_index;
  segment.bytes = *boundary - *begin;
  segment.newlines = framer.line() - 1;
  return segment;
}

}  // namespace yagura::event
