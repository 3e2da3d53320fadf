// FileTailer (see file_tailer.hpp). Each file keeps a committed position (offset, and whether
// it stands inside an oversized line being skipped) that moves only when the lines before it
// are in the spool; a round re-reads from there with pread, so nothing but that position has
// to survive between rounds or restarts.
#include "pipeline/file_tailer.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "core/time.hpp"
#include "pipeline/envelope.hpp"
#include "pipeline/sender_map.hpp"

namespace yagura::pipeline {
namespace {

constexpr size_t READ_CHUNK_BYTES = 256 * 1024;
constexpr std::string_view STATE_MAGIC = "yagura-tail 1";

bool IsSpoolFull(const Error& error) {
  return error.message == IngestQueue::FULL;
}

uint64_t Fnv1a64(std::string_view text) {
  uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return hash;
}

bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t written = ::write(fd, data.data(), data.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<size_t>(written));
  }
  return true;
}

}  // namespace

struct FileTailer::Tail {
  TailedFile file;
  std::string state_path;
  int fd = -1;
  uint64_t device = 0;
  uint64_t inode = 0;
  uint64_t offset = 0;    // committed: every line before it is in the spool
  bool skipping = false;  // committed: `offset` lies inside an oversized line
  uint64_t end_seen = 0;  // where the file ended at the last read: growth means a live writer
  // What the state file says.
  bool saved = false;
  uint64_t saved_device = 0;
  uint64_t saved_inode = 0;
  uint64_t saved_offset = 0;
  bool saved_skipping = false;
  int last_open_errno = 0;  // reported once, not every round
  // Lines per Append: halved while the spool refuses (a batch bigger than the free space would
  // never fit), back to MAX_BATCH_LINES after a success.
  size_t batch_lines = FileTailer::MAX_BATCH_LINES;

  Counter* lines = nullptr;
  Counter* bytes = nullptr;
  Counter* oversized = nullptr;
  Counter* renamed = nullptr;
  Counter* truncated = nullptr;
  Counter* backpressure = nullptr;
  Counter* errors = nullptr;

  ~Tail() {
    if (fd >= 0) ::close(fd);
  }
};

namespace {

enum class ReadOutcome { kEnd, kStopped };  // kStopped: spool full or an error; retry later

void LoadState(FileTailer::Tail& tail) {
  std::ifstream in(tail.state_path);
  std::string magic;
  std::string path;
  if (!std::getline(in, magic) || magic != STATE_MAGIC || !std::getline(in, path) ||
      path != tail.file.path) {
    return;
  }
  int skipping = 0;
  if (in >> tail.saved_device >> tail.saved_inode >> tail.saved_offset >> skipping) {
    tail.saved = true;
    tail.saved_skipping = skipping != 0;
  }
}

}  // namespace

FileTailer::FileTailer(std::string state_dir, IngestQueue& queue, Metrics& metrics)
    : state_dir_(std::move(state_dir)), queue_(queue), metrics_(metrics) {}

FileTailer::~FileTailer() { Stop(); }

Result<std::unique_ptr<FileTailer>> FileTailer::Start(std::vector<TailedFile> files,
                                                      std::string state_dir, IngestQueue& queue,
                                                      Metrics& metrics, int64_t poll_interval_ms) {
  if (state_dir.empty()) return Fail("the file tailer needs a state directory");
  std::error_code ec;
  std::filesystem::create_directories(state_dir, ec);
  if (ec)
    return Fail(fmt::format("cannot create the state directory '{}': {}", state_dir, ec.message()));
  std::unique_ptr<FileTailer> tailer(new FileTailer(state_dir, queue, metrics));
  std::set<std::string> paths;
  for (TailedFile& file : files) {
    if (file.path.empty()) return Fail("a tailed file has no path");
    std::string where = "tailed file '" + file.path + "'";
    if (file.org_id.empty()) return Fail("the file has no organisation", where);
    if (!paths.insert(file.path).second) return Fail("the file is listed twice", where);
    auto logsource = NormaliseConfiguredLogsource(file.logsource);
    if (!logsource) return Fail(logsource.error().message, where);
    file.logsource = std::move(*logsource);
    if (file.name.empty()) file.name = file.path;

    auto tail = std::make_unique<Tail>();
    tail->file = std::move(file);
    tail->state_path = (std::filesystem::path(state_dir) /
                        fmt::format("tail-{:016x}.state", Fnv1a64(tail->file.path)))
                           .string();
    LoadState(*tail);
    const std::string& name = tail->file.name;
    MetricLabels labels = {{"file", name}, {"org_id", tail->file.org_id}};
    tail->lines = &metrics.GetCounter("yagura_tail_lines_total",
                                      "Lines of tailed files appended to the spool.", labels);
    tail->bytes = &metrics.GetCounter("yagura_tail_bytes_total",
                                      "Bytes of tailed lines appended to the spool.", labels);
    tail->oversized = &metrics.GetCounter("yagura_tail_skipped_total",
                                          "Lines of tailed files skipped, by reason.",
                                          {{"file", name}, {"reason", "oversized"}});
    const char* rotations_help = "Rotations of tailed files seen, by kind.";
    tail->renamed = &metrics.GetCounter("yagura_tail_rotations_total", rotations_help,
                                        {{"file", name}, {"kind", "rename"}});
    tail->truncated = &metrics.GetCounter("yagura_tail_rotations_total", rotations_help,
                                          {{"file", name}, {"kind", "truncate"}});
    tail->backpressure =
        &metrics.GetCounter("yagura_tail_backpressure_total",
                            "Tailing rounds that stopped on a full spool.", {{"file", name}});
    tail->errors = &metrics.GetCounter(
        "yagura_tail_errors_total", "Read, state or spool errors while tailing.", {{"file", name}});
    tailer->tails_.push_back(std::move(tail));
  }
  if (poll_interval_ms > 0) {
    tailer->thread_ =
        std::thread([raw = tailer.get(), poll_interval_ms] { raw->Run(poll_interval_ms); });
  }
  return tailer;
}

void FileTailer::Run(int64_t poll_interval_ms) {
  std::unique_lock lock(stop_mutex_);
  while (!stopping_) {
    lock.unlock();
    PollOnce();
    lock.lock();
    stop_signal_.wait_for(lock, std::chrono::milliseconds(poll_interval_ms),
                          [this] { return stopping_; });
  }
}

void FileTailer::Stop() {
  {
    std::lock_guard lock(stop_mutex_);
    stopping_ = true;
  }
  stop_signal_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void FileTailer::PollOnce() {
  std::lock_guard lock(poll_mutex_);
  for (auto& tail : tails_) PollFile(*tail);
}

namespace {

// Opens the file at the tail's path; continues from the saved position when it is the same
// file, else from 0. False when it does not exist (yet) or cannot be opened.
bool Open(FileTailer::Tail& tail) {
  int fd = ::open(tail.file.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int error = errno;
    if (error != ENOENT && error != tail.last_open_errno) {
      std::fprintf(stderr, "tail: cannot open %s: %s\n", tail.file.path.c_str(),
                   std::strerror(error));
      tail.errors->Increment();
    }
    tail.last_open_errno = error;
    return false;
  }
  tail.last_open_errno = 0;
  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    ::close(fd);
    return false;
  }
  tail.fd = fd;
  tail.device = static_cast<uint64_t>(info.st_dev);
  tail.inode = static_cast<uint64_t>(info.st_ino);
  if (tail.saved && tail.saved_device == tail.device && tail.saved_inode == tail.inode) {
    tail.offset = tail.saved_offset;
    tail.skipping = tail.saved_skipping;
  } else {
    tail.offset = 0;
    tail.skipping = false;
  }
  tail.end_seen = tail.offset;
  return true;
}

// Writes the committed position when it changed: temporary file, fsync, rename, fsync of the
// directory, so the state on disk is always the old or the new one.
void Persist(FileTailer::Tail& tail, const std::string& state_dir) {
  if (tail.fd < 0) return;
  if (tail.saved && tail.saved_device == tail.device && tail.saved_inode == tail.inode &&
      tail.saved_offset == tail.offset && tail.saved_skipping == tail.skipping) {
    return;
  }
  std::string content = fmt::format("{}\n{}\n{} {} {} {}\n", STATE_MAGIC, tail.file.path,
                                    tail.device, tail.inode, tail.offset, tail.skipping ? 1 : 0);
  std::string temporary = tail.state_path + ".tmp";
  int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  bool ok = fd >= 0 && WriteAll(fd, content) && ::fdatasync(fd) == 0;
  if (fd >= 0) ::close(fd);
  ok = ok && ::rename(temporary.c_str(), tail.state_path.c_str()) == 0;
  if (!ok) {
    std::fprintf(stderr, "tail: cannot save the position of %s in %s: %s\n", tail.file.path.c_str(),
                 tail.state_path.c_str(), std::strerror(errno));
    tail.errors->Increment();
    return;
  }
  int dir = ::open(state_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  tail.saved = true;
  tail.saved_device = tail.device;
  tail.saved_inode = tail.inode;
  tail.saved_offset = tail.offset;
  tail.saved_skipping = tail.skipping;
}

// Reads the complete lines after the committed position and appends them; with `final` (the
// file was rotated away and is quiet) an unterminated last line counts too. `grew` tells
// whether the file had bytes not seen before (an unterminated line is read again every round).
ReadOutcome ReadLines(FileTailer::Tail& tail, IngestQueue& queue, bool final, bool& grew) {
  grew = false;
  std::string buffer;  // the bytes from `base` on
  uint64_t base = tail.offset;
  bool skipping = tail.skipping;
  std::vector<std::string> records;
  std::vector<std::string_view> views;
  size_t record_bytes = 0;
  std::string received_at = FormatTimestampMs(NowMs());

  auto add = [&](std::string_view line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() > FileTailer::MAX_LINE_BYTES) {
      tail.oversized->Increment();
      return;
    }
    if (line.empty()) return;
    Envelope envelope;
    envelope.kind = PayloadKind::kLine;
    envelope.org_id = tail.file.org_id;
    envelope.sensor_id = tail.file.name;
    envelope.logsource = tail.file.logsource;
    envelope.received_at = received_at;
    envelope.peer = tail.file.path;
    envelope.transport = "file";
    envelope.payload = line;
    EncodeEnvelope(envelope, records.emplace_back());
    record_bytes += line.size();
  };
  // Appends what is batched and commits `position`; false when the spool refused.
  auto commit = [&](uint64_t position, bool skipping_at) {
    if (!records.empty()) {
      views.assign(records.begin(), records.end());
      auto appended = queue.Append(views);
      if (!appended) {
        if (IsSpoolFull(appended.error())) {
          tail.backpressure->Increment();
          tail.batch_lines = std::max<size_t>(1, records.size() / 2);
        } else {
          tail.errors->Increment();
          std::fprintf(stderr, "tail: cannot append lines of %s to the spool: %s\n",
                       tail.file.path.c_str(), appended.error().ToString().c_str());
        }
        return false;
      }
      tail.batch_lines = FileTailer::MAX_BATCH_LINES;
      tail.lines->Increment(static_cast<double>(records.size()));
      tail.bytes->Increment(static_cast<double>(record_bytes));
      records.clear();
      record_bytes = 0;
    }
    tail.offset = position;
    tail.skipping = skipping_at;
    return true;
  };

  while (true) {
    size_t held = buffer.size();
    buffer.resize(held + READ_CHUNK_BYTES);
    ssize_t got =
        ::pread(tail.fd, buffer.data() + held, READ_CHUNK_BYTES, static_cast<off_t>(base + held));
    if (got < 0) {
      if (errno == EINTR) {
        buffer.resize(held);
        continue;
      }
      std::fprintf(stderr, "tail: cannot read %s: %s\n", tail.file.path.c_str(),
                   std::strerror(errno));
      tail.errors->Increment();
      return ReadOutcome::kStopped;
    }
    buffer.resize(held + static_cast<size_t>(got));
    if (got == 0) break;
    if (base + buffer.size() > tail.end_seen) {
      grew = true;
      tail.end_seen = base + buffer.size();
    }
    size_t at = 0;
    while (at < buffer.size()) {
      const char* start = buffer.data() + at;
      const void* found = std::memchr(start, '\n', buffer.size() - at);
      if (skipping) {
        if (found == nullptr) {
          at = buffer.size();
          break;
        }
        at = static_cast<size_t>(static_cast<const char*>(found) - buffer.data()) + 1;
        skipping = false;
        continue;
      }
      if (found == nullptr) {
        if (buffer.size() - at > FileTailer::MAX_LINE_BYTES) {  // no LF in sight: skip it
          tail.oversized->Increment();
          skipping = true;
          at = buffer.size();
        }
        break;
      }
      size_t end = static_cast<size_t>(static_cast<const char*>(found) - buffer.data());
      add(std::string_view(start, end - at));
      at = end + 1;
      if (records.size() >= tail.batch_lines && !commit(base + at, skipping)) {
        return ReadOutcome::kStopped;
      }
    }
    buffer.erase(0, at);
    base += at;
  }
  if (final) {
    if (!skipping && !buffer.empty()) add(buffer);
    base += buffer.size();
    skipping = false;
  }
  return commit(base, skipping) ? ReadOutcome::kEnd : ReadOutcome::kStopped;
}

}  // namespace

void FileTailer::PollFile(Tail& tail) {
  if (tail.fd < 0 && !Open(tail)) return;
  struct stat info {};
  if (::fstat(tail.fd, &info) == 0 && static_cast<uint64_t>(info.st_size) < tail.offset) {
    tail.truncated->Increment();  // copytruncate: the same file, shorter than our position
    tail.offset = 0;
    tail.skipping = false;
    tail.end_seen = 0;
  }
  bool grew = false;
  if (ReadLines(tail, queue_, false, grew) != ReadOutcome::kEnd) return Persist(tail, state_dir_);

  struct stat at_path {};
  bool same = ::stat(tail.file.path.c_str(), &at_path) == 0 &&
              static_cast<uint64_t>(at_path.st_dev) == tail.device &&
              static_cast<uint64_t>(at_path.st_ino) == tail.inode;
  if (!same) {
    // Rotated away (or removed). A writer may still hold the old file open for a moment: only
    // once a round finds it quiet is it finished, including an unterminated last line.
    if (grew || ReadLines(tail, queue_, true, grew) != ReadOutcome::kEnd) {
      return Persist(tail, state_dir_);
    }
    tail.renamed->Increment();
    ::close(tail.fd);
    tail.fd = -1;
    tail.saved = false;  // the saved position was the old file's, whatever inode the new one has
    if (Open(tail)) ReadLines(tail, queue_, false, grew);
  }
  Persist(tail, state_dir_);
}

}  // namespace yagura::pipeline
