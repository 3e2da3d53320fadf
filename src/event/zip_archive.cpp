// ZIP archives (see zip_archive.hpp). Layout from PKWARE's APPNOTE: the end of central
// directory record (and its ZIP64 form), central directory headers with their ZIP64 extra
// field, and local file headers before each member's data.
#include "event/zip_archive.hpp"

#include <fcntl.h>
#include <libdeflate.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string_view>
#include <vector>

#include "event/input.hpp"

namespace yagura::event {
namespace {

constexpr uint32_t LOCAL_HEADER = 0x04034b50;
constexpr uint32_t CENTRAL_HEADER = 0x02014b50;
constexpr uint32_t END_OF_DIRECTORY = 0x06054b50;
constexpr uint32_t ZIP64_END_OF_DIRECTORY = 0x06064b50;
constexpr uint32_t ZIP64_LOCATOR = 0x07064b50;
constexpr size_t END_RECORD_BYTES = 22;
constexpr size_t MAX_COMMENT_BYTES = 0xffff;
constexpr size_t CENTRAL_HEADER_BYTES = 46;
constexpr size_t LOCAL_HEADER_BYTES = 30;
constexpr uint16_t ZIP64_EXTRA = 0x0001;
constexpr uint16_t METHOD_STORED = 0;
constexpr uint16_t METHOD_DEFLATE = 8;
constexpr uint16_t METHOD_AES = 99;  // WinZip AES: encrypted
constexpr size_t READ_BYTES = 256 * 1024;
// Deflated members up to this size (a collection's logs) are inflated whole.
constexpr uint64_t WHOLE_INFLATE_LIMIT = uint64_t{64} << 20;

uint16_t U16(const unsigned char* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
uint32_t U32(const unsigned char* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
         (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
}
uint64_t U64(const unsigned char* p) {
  return static_cast<uint64_t>(U32(p)) | (static_cast<uint64_t>(U32(p + 4)) << 32);
}

class File {
 public:
  explicit File(const std::string& path) : fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {}
  ~File() {
    if (fd_ >= 0) ::close(fd_);
  }
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  [[nodiscard]] bool open() const { return fd_ >= 0; }
  // Reads `size` bytes at `offset` whole; false at the end of the file or on an error.
  bool ReadAt(uint64_t offset, void* out, size_t size) const {
    auto* to = static_cast<unsigned char*>(out);
    while (size > 0) {
      const ssize_t n = ::pread(fd_, to, size, static_cast<off_t>(offset));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      to += n;
      offset += static_cast<uint64_t>(n);
      size -= static_cast<size_t>(n);
    }
    return true;
  }
  // Reads what there is, up to `size`; -1 on an error.
  ssize_t ReadSome(uint64_t offset, void* out, size_t size) const {
    while (true) {
      const ssize_t n = ::pread(fd_, out, size, static_cast<off_t>(offset));
      if (n >= 0 || errno != EINTR) return n;
    }
  }
  [[nodiscard]] int64_t Size() const {
    struct stat info {};
    return ::fstat(fd_, &info) == 0 ? static_cast<int64_t>(info.st_size) : -1;
  }

 private:
  int fd_;
};

tl::unexpected<Error> Damaged(const std::string& path, const std::string& what) {
  return Fail("not a readable ZIP archive: " + what, path);
}

// A member's stored or deflated bytes, read by offset from the archive.
class ZipMemberSource final : public ByteSource {
 public:
  ZipMemberSource(const ZipMember& member, uint64_t data_offset)
      : member_(member),
        file_(member.archive),
        at_(data_offset),
        left_(member.compressed_size),
        in_(member.method == METHOD_DEFLATE ? READ_BYTES : 0) {
    if (member.method == METHOD_DEFLATE) inflating_ = inflateInit2(&stream_, -MAX_WBITS) == Z_OK;
  }
  ~ZipMemberSource() override {
    if (inflating_) inflateEnd(&stream_);
  }
  [[nodiscard]] bool open() const {
    return file_.open() && (member_.method == METHOD_STORED || inflating_);
  }

  [[nodiscard]] uint64_t raw_bytes() const override { return raw_bytes_; }
  [[nodiscard]] const std::string& reopenable_path() const override { return no_path_; }
  [[nodiscard]] int64_t expected_size() const override {
    return static_cast<int64_t>(std::min<uint64_t>(member_.size, INT64_MAX));
  }

 private:
  // Up to `size` of the member's compressed bytes from the archive; 0 once they are all read.
  Result<size_t> ReadCompressed(void* out, size_t size) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(size, left_));
    if (want == 0) return size_t{0};
    const ssize_t n = file_.ReadSome(at_, out, want);
    if (n < 0) return Fail(std::string("read failed: ") + std::strerror(errno));
    if (n == 0) return Fail("the archive ends inside the member: " + member_.name);
    at_ += static_cast<uint64_t>(n);
    left_ -= static_cast<uint64_t>(n);
    raw_bytes_ += static_cast<uint64_t>(n);
    return static_cast<size_t>(n);
  }

 public:
  // The member's bytes, stored or inflated, with its size and CRC-32 checked at the end.
  Result<size_t> Read(char* out, size_t size) override {
    if (done_ || size == 0) return size_t{0};
    if (!tried_whole_ && InflateWhole()) whole_at_ = 0;
    if (inflated_whole_) {
      const size_t n = std::min(size, whole_.size() - whole_at_);
      if (n == 0) {  // (an empty member has no storage to copy from)
        done_ = true;
        return n;
      }
      std::memcpy(out, whole_.data() + whole_at_, n);
      whole_at_ += n;
      return n;
    }
    size_t produced = 0;
    if (member_.method == METHOD_STORED) {
      auto n = ReadCompressed(out, size);
      if (!n) return n;
      if (*n == 0) return Finish();
      produced = *n;
    } else {
      stream_.next_out = reinterpret_cast<Bytef*>(out);
      stream_.avail_out = static_cast<uInt>(std::min<size_t>(size, UINT32_MAX));
      while (stream_.avail_out > 0 && !ended_) {
        if (stream_.avail_in == 0 && left_ > 0) {
          auto n = ReadCompressed(in_.data(), in_.size());
          if (!n) return n;
          stream_.next_in = in_.data();
          stream_.avail_in = static_cast<uInt>(*n);
        }
        const uInt before = stream_.avail_out;
        const int status = inflate(&stream_, Z_NO_FLUSH);
        if (status == Z_STREAM_END) {
          ended_ = true;
        } else if (status != Z_OK && status != Z_BUF_ERROR) {
          return Fail("damaged deflate data in " + member_.name);
        } else if (stream_.avail_out == before && stream_.avail_in == 0 && left_ == 0) {
          return Fail("the deflate data of " + member_.name + " ends early");
        }
      }
      produced = size - stream_.avail_out;
      if (produced == 0 && ended_) return Finish();
    }
    // libdeflate's CRC-32 (folding with carry-less multiplies) runs several times zlib's speed.
    crc_ = libdeflate_crc32(crc_, out, produced);
    size_ += produced;
    return produced;
  }

 private:
  // A deflated member of moderate size is inflated whole by libdeflate, about three times
  // zlib's speed, with its size and CRC-32 checked at once. One that does not inflate whole
  // (damaged, cut short) is streamed through zlib instead, which hands on what comes before the
  // damage and then says what is wrong.
  bool InflateWhole() {
    tried_whole_ = true;
    if (member_.method != METHOD_DEFLATE || member_.size > WHOLE_INFLATE_LIMIT ||
        member_.compressed_size > WHOLE_INFLATE_LIMIT)
      return false;
    std::vector<unsigned char> compressed(static_cast<size_t>(member_.compressed_size));
    if (!file_.ReadAt(at_, compressed.data(), compressed.size())) return false;
    whole_.resize(static_cast<size_t>(member_.size));
    libdeflate_decompressor* decompressor = libdeflate_alloc_decompressor();
    size_t actual = 0;
    const libdeflate_result result =
        decompressor == nullptr
            ? LIBDEFLATE_BAD_DATA
            : libdeflate_deflate_decompress(decompressor, compressed.data(), compressed.size(),
                                            whole_.data(), whole_.size(), &actual);
    if (decompressor != nullptr) libdeflate_free_decompressor(decompressor);
    if (result != LIBDEFLATE_SUCCESS || actual != whole_.size() ||
        libdeflate_crc32(0, whole_.data(), whole_.size()) != member_.crc32) {
      whole_ = {};
      return false;
    }
    raw_bytes_ = member_.compressed_size;
    inflated_whole_ = true;
    return true;
  }

  // The end of the member: its size and CRC-32 as the central directory gives them. A
  // mismatch is said again at every later read, as the reader may ask once more.
  Result<size_t> Finish() {
    if (size_ != member_.size)
      return Fail("damaged member " + member_.name + ": " + std::to_string(size_) +
                  " bytes instead of " + std::to_string(member_.size));
    if (crc_ != member_.crc32) return Fail("damaged member " + member_.name + ": CRC-32 differs");
    done_ = true;
    return size_t{0};
  }

  const ZipMember member_;
  File file_;
  uint64_t at_;
  uint64_t left_;  // compressed bytes not yet read
  std::vector<unsigned char> in_;
  z_stream stream_{};
  bool inflating_ = false;
  bool ended_ = false;
  bool done_ = false;
  uint32_t crc_ = 0;
  uint64_t size_ = 0;
  uint64_t raw_bytes_ = 0;
  bool tried_whole_ = false;
  bool inflated_whole_ = false;
  std::vector<unsigned char> whole_;  // the member inflated whole, served from whole_at_
  size_t whole_at_ = 0;
  std::string no_path_;
};

}  // namespace

bool IsZipSignature(std::string_view head) {
  if (head.size() < 4) return false;
  const uint32_t signature = U32(reinterpret_cast<const unsigned char*>(head.data()));
  return signature == LOCAL_HEADER || signature == END_OF_DIRECTORY;
}

bool IsZipArchive(const std::string& path) {
  File file(path);
  char head[4];
  return file.open() && file.ReadAt(0, head, sizeof head) && IsZipSignature({head, sizeof head});
}

Result<std::vector<ZipMember>> ListZipArchive(const std::string& path) {
  File file(path);
  if (!file.open()) return Fail(std::string("cannot open: ") + std::strerror(errno), path);
  const int64_t file_size = file.Size();
  if (file_size < static_cast<int64_t>(END_RECORD_BYTES)) {
    return Damaged(path, "too short");
  }
  // The end record is the last thing in the file but for its comment: looked for backwards.
  const size_t tail_size =
      static_cast<size_t>(std::min<int64_t>(file_size, END_RECORD_BYTES + MAX_COMMENT_BYTES));
  std::vector<unsigned char> tail(tail_size);
  const uint64_t tail_offset = static_cast<uint64_t>(file_size) - tail_size;
  if (!file.ReadAt(tail_offset, tail.data(), tail.size()))
    return Fail(std::string("read failed: ") + std::strerror(errno), path);
  size_t end_at = std::string_view::npos;
  for (size_t i = tail_size - END_RECORD_BYTES + 1; i-- > 0;) {
    if (U32(&tail[i]) == END_OF_DIRECTORY &&
        i + END_RECORD_BYTES + U16(&tail[i + 20]) <= tail_size) {
      end_at = i;
      break;
    }
  }
  if (end_at == std::string_view::npos) {
    return Damaged(path, "no end of central directory (a truncated archive?)");
  }
  const unsigned char* end = &tail[end_at];
  uint64_t entries = U16(end + 10);
  uint64_t directory_size = U32(end + 12);
  uint64_t directory_offset = U32(end + 16);
  if (entries == 0xffff || directory_size == 0xffffffff || directory_offset == 0xffffffff) {
    // ZIP64: the locator just before the end record says where the ZIP64 end record is.
    unsigned char locator[20];
    const uint64_t end_offset = tail_offset + end_at;
    if (end_offset < sizeof locator || !file.ReadAt(end_offset - sizeof locator, locator, 20) ||
        U32(locator) != ZIP64_LOCATOR)
      return Damaged(path, "ZIP64 locator missing");
    unsigned char end64[56];
    if (!file.ReadAt(U64(locator + 8), end64, sizeof end64) || U32(end64) != ZIP64_END_OF_DIRECTORY)
      return Damaged(path, "ZIP64 end of central directory missing");
    entries = U64(end64 + 32);
    directory_size = U64(end64 + 40);
    directory_offset = U64(end64 + 48);
  }
  if (directory_offset + directory_size > static_cast<uint64_t>(file_size) ||
      directory_size > (uint64_t{1} << 32))
    return Damaged(path, "central directory beyond the end of the file");
  std::vector<unsigned char> directory(static_cast<size_t>(directory_size));
  if (!file.ReadAt(directory_offset, directory.data(), directory.size()))
    return Fail(std::string("read failed: ") + std::strerror(errno), path);

  std::vector<ZipMember> members;
  size_t at = 0;
  for (uint64_t k = 0; k < entries; ++k) {
    if (at + CENTRAL_HEADER_BYTES > directory.size() || U32(&directory[at]) != CENTRAL_HEADER)
      return Damaged(path, "central directory entry " + std::to_string(k + 1) + " is damaged");
    const unsigned char* h = &directory[at];
    const uint16_t flags = U16(h + 8);
    ZipMember member;
    member.archive = path;
    member.method = U16(h + 10);
    member.crc32 = U32(h + 16);
    member.compressed_size = U32(h + 20);
    member.size = U32(h + 24);
    const size_t name_length = U16(h + 28);
    const size_t extra_length = U16(h + 30);
    const size_t comment_length = U16(h + 32);
    member.local_header_offset = U32(h + 42);
    const size_t next = at + CENTRAL_HEADER_BYTES + name_length + extra_length + comment_length;
    if (next > directory.size())
      return Damaged(
          path, "central directory entry " + std::to_string(k + 1) + " runs past the directory");
    member.name.assign(reinterpret_cast<const char*>(h + CENTRAL_HEADER_BYTES), name_length);
    member.encrypted = (flags & 1) != 0 || member.method == METHOD_AES;
    // ZIP64 sizes and offset: in the extra field, those whose 32-bit field is all ones.
    const unsigned char* extra = h + CENTRAL_HEADER_BYTES + name_length;
    for (size_t e = 0; e + 4 <= extra_length;) {
      const uint16_t id = U16(extra + e);
      const size_t length = U16(extra + e + 2);
      if (e + 4 + length > extra_length) break;
      if (id == ZIP64_EXTRA) {
        const unsigned char* field = extra + e + 4;
        size_t used = 0;
        auto take = [&](uint64_t& value) {
          if (value != 0xffffffff || used + 8 > length) return;
          value = U64(field + used);
          used += 8;
        };
        take(member.size);
        take(member.compressed_size);
        take(member.local_header_offset);
      }
      e += 4 + length;
    }
    at = next;
    if (!member.name.empty() && member.name.back() == '/') continue;  // a directory
    members.push_back(std::move(member));
  }
  std::sort(members.begin(), members.end(),
            [](const ZipMember& a, const ZipMember& b) { return a.name < b.name; });
  return members;
}

Result<std::unique_ptr<ByteSource>> OpenZipMember(const ZipMember& member) {
  const std::string where = member.archive + std::string(ARCHIVE_MEMBER_SEPARATOR) + member.name;
  if (member.encrypted) return Fail("an encrypted ZIP member: decrypt the archive first", where);
  if (member.method != METHOD_STORED && member.method != METHOD_DEFLATE) {
    return Fail("ZIP compression method " + std::to_string(member.method) +
                    " is not read (stored and deflate are)",
                where);
  }
  File file(member.archive);
  unsigned char local[LOCAL_HEADER_BYTES];
  if (!file.open() || !file.ReadAt(member.local_header_offset, local, sizeof local) ||
      U32(local) != LOCAL_HEADER)
    return Fail("the member's local header is damaged", where);
  const uint64_t data_offset =
      member.local_header_offset + LOCAL_HEADER_BYTES + U16(local + 26) + U16(local + 28);
  auto source = std::make_unique<ZipMemberSource>(member, data_offset);
  if (!source->open()) return Fail(std::string("cannot open: ") + std::strerror(errno), where);
  // A compressed file inside the archive (a rotated log.2.gz) is decompressed too.
  return DecompressedByContent(std::move(source));
}

}  // namespace yagura::event
