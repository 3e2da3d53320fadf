// tar archives (see tar_archive.hpp). Layout from POSIX pax (ustar headers and extended
// header records) and GNU tar's manual (long names, base-256 numbers, sparse members).
#include "event/tar_archive.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <optional>
#include <string_view>

#include "event/input.hpp"

namespace yagura::event {

namespace {

constexpr size_t BLOCK = 512;
constexpr size_t NAME_AT = 0, NAME_BYTES = 100;
constexpr size_t SIZE_AT = 124, SIZE_BYTES = 12;
constexpr size_t CHECKSUM_AT = 148, CHECKSUM_BYTES = 8;
constexpr size_t TYPE_AT = 156;
constexpr size_t MAGIC_AT = 257;
constexpr size_t PREFIX_AT = 345, PREFIX_BYTES = 155;
constexpr size_t GNU_SPARSE_EXTENDED_AT = 482;  // in a GNU sparse header
constexpr size_t GNU_SPARSE_MORE_AT = 504;      // in each of its extension blocks
// Long names and extended headers are read whole: no real one comes near these.
constexpr uint64_t MAX_LONG_NAME = 64 * 1024;
constexpr uint64_t MAX_EXTENDED_HEADER = 1024 * 1024;
constexpr size_t SKIP_BYTES = 256 * 1024;

using Block = std::array<unsigned char, BLOCK>;

uint64_t Padded(uint64_t size) { return (size + BLOCK - 1) / BLOCK * BLOCK; }

// A numeric field: octal digits (leading spaces, trailing spaces or NULs), or GNU's base-256
// form for values that do not fit (the first byte's top bit set). None when damaged or negative.
std::optional<uint64_t> Number(const unsigned char* field, size_t length) {
  if ((field[0] & 0x80) != 0) {
    if ((field[0] & 0x40) != 0) return std::nullopt;  // negative
    uint64_t value = field[0] & 0x3f;
    for (size_t i = 1; i < length; ++i) {
      if ((value >> 56) != 0) return std::nullopt;
      value = (value << 8) | field[i];
    }
    return value;
  }
  size_t i = 0;
  while (i < length && field[i] == ' ') ++i;
  uint64_t value = 0;
  for (; i < length && field[i] >= '0' && field[i] <= '7'; ++i) {
    if ((value >> 61) != 0) return std::nullopt;
    value = value * 8 + static_cast<uint64_t>(field[i] - '0');
  }
  for (; i < length; ++i) {
    if (field[i] != ' ' && field[i] != '\0') return std::nullopt;
  }
  return value;
}

// The header's checksum: the sum of its bytes with the checksum field as spaces. Some old tars
// summed signed bytes, so either sum is taken.
bool ChecksumHolds(const Block& header) {
  const auto stored = Number(header.data() + CHECKSUM_AT, CHECKSUM_BYTES);
  if (!stored) return false;
  uint64_t unsigned_sum = 0;
  int64_t signed_sum = 0;
  for (size_t i = 0; i < BLOCK; ++i) {
    const bool in_field = i >= CHECKSUM_AT && i < CHECKSUM_AT + CHECKSUM_BYTES;
    const unsigned char byte = in_field ? ' ' : header[i];
    unsigned_sum += byte;
    signed_sum += static_cast<signed char>(byte);
  }
  return *stored == unsigned_sum || static_cast<int64_t>(*stored) == signed_sum;
}

bool IsHeader(const Block& header) {
  return std::memcmp(header.data() + MAGIC_AT, "ustar", 5) == 0 && ChecksumHolds(header);
}

bool IsZero(const Block& block) {
  return std::all_of(block.begin(), block.end(), [](unsigned char b) { return b == 0; });
}

std::string Field(const unsigned char* field, size_t length) {
  const auto* end = static_cast<const unsigned char*>(std::memchr(field, '\0', length));
  return {reinterpret_cast<const char*>(field),
          end != nullptr ? static_cast<size_t>(end - field) : length};
}

// A stored name as members are shown: without the "./" or "/" archivers put before it.
std::string MemberName(std::string name) {
  size_t from = 0;
  while (true) {
    if (name.compare(from, 2, "./") == 0) {
      from += 2;
    } else if (from < name.size() && name[from] == '/') {
      ++from;
    } else {
      break;
    }
  }
  return name.substr(from);
}

// The archive's decompressed bytes, read forward: by offset for an uncompressed archive (so
// skipping a member costs nothing), else through the decompressor.
class ForwardReader {
 public:
  static Result<ForwardReader> Open(const std::string& path) {
    auto source = OpenByteSource(path);
    if (!source) return tl::unexpected(source.error());
    ForwardReader reader;
    // A plain file is read by offset; anything decoded (decompressed) goes through the stream.
    reader.fd_ = (*source)->reopenable_fd();
    reader.size_ = (*source)->reopenable_size();
    reader.source_ = std::move(*source);
    return reader;
  }
  [[nodiscard]] bool streamed() const { return fd_ < 0; }
  [[nodiscard]] uint64_t at() const { return at_; }

  // Reads `size` bytes, fewer at the end of the archive.
  Result<size_t> Read(void* out, size_t size) {
    auto* to = static_cast<char*>(out);
    size_t got = 0;
    while (got < size) {
      Result<size_t> n = 0;
      if (fd_ >= 0) {
        const ssize_t r = ::pread(fd_, to + got, size - got, static_cast<off_t>(at_));
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return Fail(std::string("read failed: ") + std::strerror(errno));
        n = static_cast<size_t>(r);
      } else {
        n = source_->Read(to + got, size - got);
        if (!n) return n;
      }
      if (*n == 0) break;
      got += *n;
      at_ += *n;
    }
    return got;
  }

  // Passes over `size` bytes; fewer are passed at the end of the archive.
  Result<uint64_t> Skip(uint64_t size) {
    if (fd_ >= 0) {
      const uint64_t left =
          size_ > 0 && static_cast<uint64_t>(size_) > at_ ? static_cast<uint64_t>(size_) - at_ : 0;
      const uint64_t passed = std::min(size, left);
      at_ += passed;
      return passed;
    }
    if (scratch_.empty()) scratch_.resize(SKIP_BYTES);
    uint64_t passed = 0;
    while (passed < size) {
      auto n = Read(scratch_.data(),
                    static_cast<size_t>(std::min<uint64_t>(size - passed, scratch_.size())));
      if (!n) return tl::unexpected(n.error());
      if (*n == 0) break;
      passed += *n;
    }
    return passed;
  }

 private:
  std::unique_ptr<ByteSource> source_;
  int fd_ = -1;
  int64_t size_ = -1;
  uint64_t at_ = 0;
  std::vector<char> scratch_;
};

}  // namespace

class TarArchive {
 public:
  TarArchive(std::string path, bool streamed) : path_(std::move(path)), streamed_(streamed) {}
  [[nodiscard]] const std::string& path() const { return path_; }
  // Whether members are read through a decompressing stream rather than by offset.
  [[nodiscard]] bool streamed() const { return streamed_; }

  // A reader of the archive standing at `offset` or before it: the one the member read last
  // left, when it does, else a new one from the start.
  Result<std::unique_ptr<ForwardReader>> Reader(uint64_t offset) {
    {
      std::lock_guard lock(mutex_);
      if (parked_ && parked_->at() <= offset) return std::move(parked_);
    }
    auto opened = ForwardReader::Open(path_);
    if (!opened) return tl::unexpected(opened.error());
    return std::make_unique<ForwardReader>(std::move(*opened));
  }
  void Park(std::unique_ptr<ForwardReader> reader) {
    std::lock_guard lock(mutex_);
    parked_ = std::move(reader);
  }

 private:
  const std::string path_;
  const bool streamed_;
  std::mutex mutex_;
  std::unique_ptr<ForwardReader> parked_;
};

namespace {

// What pax extended header records ("LENGTH KEY=VALUE\n") say of the next member.
struct ExtendedHeader {
  std::optional<std::string> path;
  std::optional<uint64_t> size;
  bool sparse = false;
};

void ParseExtendedHeader(std::string_view data, ExtendedHeader& into) {
  while (!data.empty()) {
    size_t length = 0;
    size_t i = 0;
    while (i < data.size() && data[i] >= '0' && data[i] <= '9' && length < data.size()) {
      length = length * 10 + static_cast<size_t>(data[i] - '0');
      ++i;
    }
    if (i == 0 || i >= data.size() || data[i] != ' ' || length <= i + 1 || length > data.size() ||
        data[length - 1] != '\n')
      return;  // damaged records: what came before stands
    const std::string_view record = data.substr(i + 1, length - i - 2);
    data.remove_prefix(length);
    const size_t equals = record.find('=');
    if (equals == std::string_view::npos) continue;
    const std::string_view key = record.substr(0, equals);
    const std::string_view value = record.substr(equals + 1);
    if (key == "path") {
      into.path = std::string(value);
    } else if (key == "size") {
      uint64_t size = 0;
      bool ok = !value.empty();
      for (char c : value) {
        if (c < '0' || c > '9' || size > (UINT64_MAX - 9) / 10) {
          ok = false;
          break;
        }
        size = size * 10 + static_cast<uint64_t>(c - '0');
      }
      if (ok) into.size = size;
    } else if (key.substr(0, 11) == "GNU.sparse.") {
      into.sparse = true;
    }
  }
}

// Reads a small member whole (a long name, an extended header) and the padding after it.
Result<std::string> ReadSmall(ForwardReader& reader, uint64_t size, uint64_t limit,
                              std::string_view what) {
  if (size > limit)
    return Fail(std::string(what) + " of " + std::to_string(size) + " bytes at byte " +
                std::to_string(reader.at()) + " (a damaged header?)");
  std::string data(static_cast<size_t>(size), '\0');
  auto got = reader.Read(data.data(), data.size());
  if (!got) return tl::unexpected(got.error());
  auto padding = reader.Skip(Padded(size) - size);
  if (!padding) return tl::unexpected(padding.error());
  if (*got < data.size() || *padding < Padded(size) - size)
    return Fail("the archive ends inside " + std::string(what));
  return data;
}

// A member's bytes: `size` of them from `at` in the archive, through a reader of the archive
// (by offset for an uncompressed archive, else the decompressing stream), handed back when the
// member is done with so that the next member goes on from here.
class TarMemberSource final : public ByteSource {
 public:
  TarMemberSource(std::shared_ptr<TarArchive> archive, std::string name, uint64_t at, uint64_t size)
      : archive_(std::move(archive)), name_(std::move(name)), end_(at + size), size_(size) {}
  ~TarMemberSource() override {
    if (reader_ && error_.empty()) archive_->Park(std::move(reader_));
  }
  TarMemberSource(const TarMemberSource&) = delete;
  TarMemberSource& operator=(const TarMemberSource&) = delete;

  Result<void> Start() {
    const uint64_t start = end_ - size_;
    auto reader = archive_->Reader(start);
    if (!reader) return tl::unexpected(reader.error());
    reader_ = std::move(*reader);
    auto passed = reader_->Skip(start - reader_->at());
    if (!passed) return Broken(passed.error().message);
    if (reader_->at() < start) return Broken("the archive ends before the member");
    return {};
  }

  Result<size_t> Read(char* out, size_t size) override {
    if (!error_.empty()) return Fail(error_);
    const size_t want = static_cast<size_t>(std::min<uint64_t>(size, end_ - reader_->at()));
    if (want == 0) return size_t{0};
    auto got = reader_->Read(out, want);
    if (!got) return Broken(got.error().message);
    if (*got == 0) return Broken("the archive ends inside the member " + name_);
    raw_bytes_ += *got;
    return *got;
  }
  [[nodiscard]] uint64_t raw_bytes() const override { return raw_bytes_; }
  [[nodiscard]] const std::string& reopenable_path() const override { return no_path_; }
  [[nodiscard]] int64_t expected_size() const override {
    return static_cast<int64_t>(std::min<uint64_t>(size_, INT64_MAX));
  }

 private:
  // An error is said again at every later read, and the reader is not handed on.
  tl::unexpected<Error> Broken(std::string message) {
    error_ = std::move(message);
    return Fail(error_);
  }

  std::shared_ptr<TarArchive> archive_;
  const std::string name_;
  const uint64_t end_;
  const uint64_t size_;
  std::unique_ptr<ForwardReader> reader_;
  std::string error_;
  uint64_t raw_bytes_ = 0;
  std::string no_path_;
};

}  // namespace

bool TarMembersShareAStream(const TarArchive& archive) { return archive.streamed(); }

bool IsTarHeader(std::string_view head) {
  if (head.size() < BLOCK) return false;
  Block header;
  std::memcpy(header.data(), head.data(), BLOCK);
  return IsHeader(header);
}

bool IsTarArchive(const std::string& path) {
  auto reader = ForwardReader::Open(path);
  if (!reader) return false;
  Block header{};
  auto got = reader->Read(header.data(), header.size());
  return got && *got == BLOCK && IsHeader(header);
}

Result<TarListing> ListTarArchive(const std::string& path) {
  auto opened = ForwardReader::Open(path);
  if (!opened) return tl::unexpected(opened.error());
  ForwardReader& reader = *opened;
  TarListing listing;
  listing.archive = std::make_shared<TarArchive>(path, reader.streamed());

  std::optional<std::string> long_name;  // from a GNU 'L' member, for the next header
  ExtendedHeader extended;               // from a pax 'x' member, for the next header
  bool first = true;
  while (true) {
    const uint64_t header_at = reader.at();
    Block header{};
    auto got = reader.Read(header.data(), header.size());
    if (!got) {
      listing.damage = got.error().message;
      break;
    }
    if (*got == 0) break;  // the end, without the end-of-archive blocks some writers leave out
    if (*got < BLOCK) {
      listing.damage = "the archive ends inside a header at byte " + std::to_string(header_at);
      break;
    }
    if (IsZero(header)) break;  // the end-of-archive blocks
    if (!IsHeader(header)) {
      if (first) return Fail("not a tar archive (no ustar header)", path);
      listing.damage =
          "a damaged header at byte " + std::to_string(header_at) + " (its checksum does not hold)";
      break;
    }
    first = false;
    const char type = static_cast<char>(header[TYPE_AT]);
    auto size = Number(header.data() + SIZE_AT, SIZE_BYTES);
    if (!size) {
      listing.damage = "a header with a damaged size at byte " + std::to_string(header_at);
      break;
    }
    if (type == 'L' || type == 'x') {
      auto data = ReadSmall(reader, *size, type == 'L' ? MAX_LONG_NAME : MAX_EXTENDED_HEADER,
                            type == 'L' ? "a long name" : "an extended header");
      if (!data) {
        listing.damage = data.error().message;
        break;
      }
      if (type == 'L') {
        long_name = Field(reinterpret_cast<const unsigned char*>(data->data()), data->size());
      } else {
        ParseExtendedHeader(*data, extended);
      }
      continue;
    }
    // The header a long name or an extended header was for.
    if (extended.size) size = extended.size;
    std::string name;
    if (extended.path) {
      name = *extended.path;
    } else if (long_name) {
      name = *long_name;
    } else {
      name = Field(header.data() + NAME_AT, NAME_BYTES);
      // POSIX ustar ("ustar\0"): a prefix for long paths; GNU's "ustar  " uses those bytes
      // for other things.
      if (std::memcmp(header.data() + MAGIC_AT, "ustar\0", 6) == 0 && header[PREFIX_AT] != 0)
        name = Field(header.data() + PREFIX_AT, PREFIX_BYTES) + "/" + name;
    }
    name = MemberName(std::move(name));
    const bool sparse = extended.sparse || type == 'S';
    long_name.reset();
    extended = {};

    if (type == 'S' && header[GNU_SPARSE_EXTENDED_AT] != 0) {
      // More of a sparse file's map follows in blocks of its own.
      bool more = true;
      while (more) {
        Block extension{};
        auto read = reader.Read(extension.data(), extension.size());
        if (!read || *read < BLOCK) break;
        more = extension[GNU_SPARSE_MORE_AT] != 0;
      }
    }
    const uint64_t data_at = reader.at();
    const bool regular = type == '0' || type == '\0' || type == '7';
    if (sparse) {
      listing.not_read.emplace_back(name, "a sparse file (not read: unpack the archive)");
    } else if (type == 'M') {
      listing.not_read.emplace_back(name, "continued from another volume of the archive");
    } else if (regular && !name.empty() && name.back() != '/') {
      listing.members.push_back({name, data_at, *size});
    }
    auto passed = reader.Skip(Padded(*size));
    if (!passed) {
      listing.damage = passed.error().message;
      break;
    }
    if (*passed < Padded(*size)) {
      // The member read last is kept: reading it hands on what is there and then says so.
      listing.damage = "the archive ends inside " + (name.empty() ? "a member" : name);
      break;
    }
  }
  return listing;
}

Result<std::unique_ptr<ByteSource>> OpenTarMember(const std::shared_ptr<TarArchive>& archive,
                                                  const TarMember& member) {
  const std::string where = archive->path() + std::string(ARCHIVE_MEMBER_SEPARATOR) + member.name;
  auto source =
      std::make_unique<TarMemberSource>(archive, member.name, member.data_offset, member.size);
  if (auto started = source->Start(); !started) return Fail(started.error().message, where);
  // A compressed file inside the archive (a rotated log.2.gz) is decompressed too.
  return DecompressedByContent(std::move(source));
}

}  // namespace yagura::event
