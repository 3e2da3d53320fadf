// Carving EVTX chunks (see evtx_carver.hpp).
#include "event/evtx_carver.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <unordered_set>

#include "event/binxml.hpp"
#include "event/evtx_native.hpp"

namespace yagura::event {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view SIGNATURE{"ElfChnk\0", 8};
// Read at a time, besides the chunk's length carried over between reads.
constexpr size_t BLOCK = size_t{8} << 20;

struct HashOfChunk {
  size_t operator()(const XXH128_hash_t& h) const { return static_cast<size_t>(h.low64); }
};
struct SameChunk {
  bool operator()(const XXH128_hash_t& a, const XXH128_hash_t& b) const {
    return XXH128_isEqual(a, b) != 0;
  }
};

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

bool WriteAll(int fd, const uint8_t* data, size_t size, uint64_t offset) {
  while (size > 0) {
    const ssize_t n = ::pwrite(fd, data, size, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
    offset += static_cast<uint64_t>(n);
  }
  return true;
}

}  // namespace

struct EvtxCarver::Seen {
  std::unordered_set<XXH128_hash_t, HashOfChunk, SameChunk> chunks;
};

EvtxCarver::EvtxCarver(std::string directory, uint32_t chunks_per_file)
    : directory_(std::move(directory)),
      chunks_per_file_(std::clamp<uint32_t>(chunks_per_file, 1, CHUNKS_PER_FILE)),
      seen_(std::make_unique<Seen>()),
      renderer_(std::make_unique<binxml::ChunkRenderer>()),
      text_(std::make_unique<binxml::TextBuffer>()) {}

EvtxCarver::~EvtxCarver() {
  for (auto& [prefix, output] : outputs_)
    if (output.fd >= 0) ::close(output.fd);
}

Result<std::unique_ptr<EvtxCarver>> EvtxCarver::Create(const std::string& directory,
                                                       uint32_t chunks_per_file) {
  std::error_code error;
  fs::create_directories(directory, error);
  if (error || !fs::is_directory(directory))
    return Fail("cannot make the output folder: " + (error ? error.message() : "not a folder"),
                directory);
  for (const auto& entry : fs::directory_iterator(directory, error)) {
    const std::string name = entry.path().filename().string();
    if ((name.rfind("carved-", 0) == 0 || name.rfind("salvaged-", 0) == 0) &&
        entry.path().extension() == ".evtx")
      return Fail("holds carved files already (" + name + "): choose an empty folder", directory);
  }
  if (error) return Fail("cannot list the output folder: " + error.message(), directory);
  return std::unique_ptr<EvtxCarver>(new EvtxCarver(directory, chunks_per_file));
}

Result<void> EvtxCarver::Carve(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Fail(Errno("cannot open"), path);
  ++stats_.inputs;
  std::vector<uint8_t> buffer(BLOCK + evtx::CHUNK_SIZE);
  uint64_t base = 0;  // the input's offset of buffer[0]
  size_t filled = 0;
  bool end = false;
  Result<void> outcome;
  while (true) {
    while (!end && filled < buffer.size()) {
      const ssize_t n = ::pread(fd, buffer.data() + filled, buffer.size() - filled,
                                static_cast<off_t>(base + filled));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        outcome =
            Fail(Errno("read failed after " + std::to_string(base + filled) + " bytes"), path);
        end = true;
        break;
      }
      if (n == 0) end = true;
      filled += static_cast<size_t>(n);
    }
    // Signatures whose chunk lies wholly in the buffer are examined; the scan stops at one that
    // does not (read on and look again) or, when none is left, keeps the bytes a signature cut
    // by the read may begin in.
    size_t at = 0;
    while (true) {
      const void* hit =
          filled - at >= SIGNATURE.size()
              ? ::memmem(buffer.data() + at, filled - at, SIGNATURE.data(), SIGNATURE.size())
              : nullptr;
      if (hit == nullptr) {
        at = end ? filled : std::max(at, filled - std::min(filled, SIGNATURE.size() - 1));
        break;
      }
      const size_t found = static_cast<size_t>(static_cast<const uint8_t*>(hit) - buffer.data());
      if (found + evtx::CHUNK_SIZE > filled) {
        if (!end) {
          at = found;
          break;
        }
        ++stats_.signatures;
        ++stats_.truncated;
        at = found + 1;
        continue;
      }
      ++stats_.signatures;
      at = found + Examine(buffer.data() + found);
    }
    if (end) break;
    std::memmove(buffer.data(), buffer.data() + at, filled - at);
    base += at;
    filled -= at;
  }
  stats_.bytes_scanned += base + filled;
  ::close(fd);
  if (!write_error_.empty()) return Fail(write_error_, directory_);
  return outcome;
}

size_t EvtxCarver::Examine(const uint8_t* chunk) {
  evtx::ChunkHeader header;
  uint32_t count = 0;
  if (evtx::CheckChunk(chunk, evtx::CHUNK_SIZE, header) == evtx::ChunkState::kValid &&
      evtx::RecordsMatchHeader(chunk, header, count)) {
    if (New(chunk, header.free_offset)) {
      Keep(OutputFor("carved", chunk, header.free_offset), chunk, header.last_record_id);
      ++stats_.chunks;
      stats_.records += count;
    }
    return header.free_offset;
  }
  repaired_.resize(evtx::CHUNK_SIZE);
  count = evtx::RepairChunk(chunk, repaired_.data());
  if (count == 0) {
    ++stats_.damaged;
    return 1;
  }
  evtx::CheckChunk(repaired_.data(), evtx::CHUNK_SIZE, header);
  if (New(repaired_.data(), header.free_offset)) {
    Keep(OutputFor("salvaged", repaired_.data(), header.free_offset), repaired_.data(),
         header.last_record_id);
    ++stats_.salvaged_chunks;
    stats_.salvaged_records += count;
  }
  // What overwrote the rest may hold a chunk of its own.
  return 1;
}

bool EvtxCarver::New(const uint8_t* chunk, uint32_t used) {
  if (seen_->chunks.insert(XXH3_128bits(chunk, used)).second) return true;
  ++stats_.duplicates;
  return false;
}

EvtxCarver::Output& EvtxCarver::OutputFor(const char* kind, const uint8_t* chunk, uint32_t used) {
  // The channel of the chunk's first record, as its XML names it.
  std::string log = "unknown";
  evtx::RecordWalker walker(chunk, evtx::CHUNK_SIZE, used);
  evtx::RecordView record;
  if (walker.Next(record) == evtx::RecordWalker::Status::kRecord) {
    renderer_->SetChunk(chunk, used);
    text_->Clear();
    if (renderer_->RenderRecord(record.binxml_begin, record.binxml_end, *text_)) {
      const std::string_view xml = text_->view();
      const size_t open = xml.find("<Channel>");
      const size_t close = open == std::string_view::npos ? open : xml.find("</Channel>", open);
      if (close != std::string_view::npos && close > open + 9) {
        // As Windows names a log's file: '/' written %4; what a file name cannot hold, '_'.
        log.clear();
        for (char c : xml.substr(open + 9, std::min<size_t>(close - open - 9, 120))) {
          if (c == '/') {
            log += "%4";
          } else if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' ||
                     c == '_' || c == ' ') {
            log += c;
          } else {
            log += '_';
          }
        }
      }
    }
  }
  const std::string prefix = std::string(kind) + "-" + log + "-";
  auto [at, inserted] = outputs_.try_emplace(prefix);
  if (inserted) at->second.prefix = prefix;
  return at->second;
}

void EvtxCarver::Keep(Output& output, const uint8_t* chunk, uint64_t last_record_id) {
  if (!write_error_.empty()) return;
  if (auto written = Write(output, chunk, last_record_id); !written)
    write_error_ = written.error().message;
}

Result<void> EvtxCarver::Write(Output& output, const uint8_t* chunk, uint64_t last_record_id) {
  if (output.fd < 0) {
    char number[16];
    std::snprintf(number, sizeof number, "%04u.evtx", output.count + 1);
    const std::string path = (fs::path(directory_) / (output.prefix + number)).string();
    output.fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (output.fd < 0) return Fail(Errno("cannot write " + path));
    files_.push_back(path);
    ++output.count;
    output.chunks = 0;
    output.next_record_id = 0;
  }
  const uint64_t offset = evtx::FILE_HEADER_SIZE + uint64_t{output.chunks} * evtx::CHUNK_SIZE;
  if (!WriteAll(output.fd, chunk, evtx::CHUNK_SIZE, offset))
    return Fail(Errno("cannot write " + files_.back()));
  ++output.chunks;
  output.next_record_id = std::max(output.next_record_id, last_record_id + 1);
  if (output.chunks == chunks_per_file_) return CloseFile(output);
  return {};
}

Result<void> EvtxCarver::CloseFile(Output& output) {
  if (output.fd < 0) return {};
  uint8_t header[evtx::FILE_HEADER_SIZE];
  evtx::WriteFileHeader(static_cast<uint16_t>(output.chunks), output.next_record_id, header);
  const bool ok = WriteAll(output.fd, header, sizeof header, 0);
  const bool closed = ::close(output.fd) == 0;
  output.fd = -1;
  if (!ok || !closed) return Fail(Errno("cannot complete a file in " + directory_));
  return {};
}

Result<void> EvtxCarver::Finish() {
  Result<void> closed;
  for (auto& [prefix, output] : outputs_) {
    auto done = CloseFile(output);
    if (!done && closed) closed = done;
  }
  if (!write_error_.empty()) return Fail(write_error_, directory_);
  return closed;
}

}  // namespace yagura::event
