// Plain, gzip and zstd byte sources. The plain source peeks the first four bytes to choose the
// decompressor and then serves them again, so detection needs no seek (stdin and pipes work).
#include "event/byte_source.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "core/utf8.hpp"

namespace yagura::event {
namespace {

constexpr size_t COMPRESSED_CHUNK = 256 * 1024;

class FdSource final : public ByteSource {
 public:
  FdSource(int fd, bool owned, std::string reopenable, int64_t size)
      : fd_(fd), owned_(owned), reopenable_(std::move(reopenable)), size_(size) {}
  ~FdSource() override {
    if (owned_) ::close(fd_);
  }

  // Reads at least the first `want` bytes (fewer at the end of input) so the caller can look at
  // them; Read() serves them again. Each read asks for up to PEEK_BLOCK bytes: the reader's
  // first read (the page that tells EVTX from text) is then served without a system call.
  // A read returns what is there, so a live stream is not waited on for more.
  static constexpr size_t PEEK_BLOCK = 4096;
  Result<void> Peek(size_t want) {
    while (peeked_.size() < want) {
      const size_t had = peeked_.size();
      peeked_.resize(had + PEEK_BLOCK);
      auto got = ReadFd(reinterpret_cast<char*>(peeked_.data() + had), PEEK_BLOCK);
      peeked_.resize(had + (got ? *got : 0));
      if (!got) return tl::unexpected(got.error());
      if (*got == 0) break;
    }
    return {};
  }
  [[nodiscard]] const std::vector<unsigned char>& peeked() const { return peeked_; }

  Result<size_t> Read(char* out, size_t size) override {
    if (peek_served_ < peeked_.size()) {
      size_t n = std::min(size, peeked_.size() - peek_served_);
      std::memcpy(out, peeked_.data() + peek_served_, n);
      peek_served_ += n;
      return n;
    }
    return ReadFd(out, size);
  }
  [[nodiscard]] uint64_t raw_bytes() const override { return raw_bytes_; }
  [[nodiscard]] const std::string& reopenable_path() const override { return reopenable_; }
  [[nodiscard]] int reopenable_fd() const override { return reopenable_.empty() ? -1 : fd_; }
  [[nodiscard]] int64_t reopenable_size() const override {
    return reopenable_.empty() ? -1 : size_;
  }

 private:
  Result<size_t> ReadFd(char* out, size_t size) {
    while (true) {
      ssize_t n = ::read(fd_, out, size);
      if (n >= 0) {
        raw_bytes_ += static_cast<uint64_t>(n);
        return static_cast<size_t>(n);
      }
      if (errno == EINTR) continue;
      return Fail(std::string("read failed: ") + std::strerror(errno));
    }
  }

  int fd_;
  bool owned_;
  std::string reopenable_;
  int64_t size_;  // of a regular file, when opened; -1 otherwise
  std::vector<unsigned char> peeked_;
  size_t peek_served_ = 0;
  uint64_t raw_bytes_ = 0;
};

// Shared input buffering of the two decompressors.
class CompressedSource : public ByteSource {
 public:
  explicit CompressedSource(std::unique_ptr<ByteSource> inner)
      : inner_(std::move(inner)), in_(COMPRESSED_CHUNK) {}
  [[nodiscard]] uint64_t raw_bytes() const override { return inner_->raw_bytes(); }
  [[nodiscard]] const std::string& reopenable_path() const override { return no_path_; }

 protected:
  // Moves unconsumed input to the front and reads more; false at end of input.
  Result<bool> Refill() {
    if (in_eof_) return false;
    if (in_pos_ > 0) {
      std::memmove(in_.data(), in_.data() + in_pos_, in_len_ - in_pos_);
      in_len_ -= in_pos_;
      in_pos_ = 0;
    }
    auto got = inner_->Read(reinterpret_cast<char*>(in_.data()) + in_len_, in_.size() - in_len_);
    if (!got) return tl::unexpected(got.error());
    if (*got == 0) {
      in_eof_ = true;
      return false;
    }
    in_len_ += *got;
    return true;
  }
  [[nodiscard]] size_t available() const { return in_len_ - in_pos_; }

  std::unique_ptr<ByteSource> inner_;
  std::vector<unsigned char> in_;
  size_t in_pos_ = 0;
  size_t in_len_ = 0;
  bool in_eof_ = false;
  std::string no_path_;
};

class GzipSource final : public CompressedSource {
 public:
  explicit GzipSource(std::unique_ptr<ByteSource> inner) : CompressedSource(std::move(inner)) {
    std::memset(&stream_, 0, sizeof(stream_));
    // 15 + 32: maximum window, and let zlib recognise the gzip (or zlib) header itself.
    ok_ = inflateInit2(&stream_, 15 + 32) == Z_OK;
  }
  ~GzipSource() override { inflateEnd(&stream_); }
  [[nodiscard]] Compression compression() const override { return Compression::kGzip; }

  Result<size_t> Read(char* out, size_t size) override {
    if (!ok_) return Fail("cannot initialise zlib");
    if (finished_ || size == 0) return size_t{0};
    while (true) {
      if (member_done_) {
        // Another gzip member may follow (as `cat a.gz b.gz` makes); anything else is an error.
        while (available() < 2) {
          auto more = Refill();
          if (!more) return tl::unexpected(more.error());
          if (!*more) break;
        }
        if (available() == 0) {
          finished_ = true;
          return size_t{0};
        }
        if (available() < 2 || in_[in_pos_] != 0x1f || in_[in_pos_ + 1] != 0x8b) {
          finished_ = true;
          return Fail("unexpected data after the end of the gzip stream");
        }
        inflateReset(&stream_);
        member_done_ = false;
      }
      if (available() == 0) {
        auto more = Refill();
        if (!more) return tl::unexpected(more.error());
        if (!*more) {
          finished_ = true;
          return Fail("truncated gzip stream");
        }
      }
      stream_.next_in = in_.data() + in_pos_;
      stream_.avail_in = static_cast<uInt>(available());
      stream_.next_out = reinterpret_cast<Bytef*>(out);
      stream_.avail_out = static_cast<uInt>(std::min<size_t>(size, 1u << 30));
      int rc = inflate(&stream_, Z_NO_FLUSH);
      in_pos_ = static_cast<size_t>(stream_.next_in - in_.data());
      size_t produced = static_cast<size_t>(reinterpret_cast<char*>(stream_.next_out) - out);
      if (rc == Z_STREAM_END) {
        member_done_ = true;
      } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
        finished_ = true;
        return Fail(std::string("corrupt gzip stream: ") +
                    (stream_.msg != nullptr ? stream_.msg : "inflate failed"));
      }
      if (produced > 0) return produced;
    }
  }

 private:
  z_stream stream_;
  bool ok_ = false;
  bool member_done_ = false;
  bool finished_ = false;
};

class ZstdSource final : public CompressedSource {
 public:
  explicit ZstdSource(std::unique_ptr<ByteSource> inner)
      : CompressedSource(std::move(inner)), context_(ZSTD_createDCtx()) {}
  ~ZstdSource() override { ZSTD_freeDCtx(context_); }
  [[nodiscard]] Compression compression() const override { return Compression::kZstd; }

  Result<size_t> Read(char* out, size_t size) override {
    if (context_ == nullptr) return Fail("cannot initialise zstd");
    if (finished_ || size == 0) return size_t{0};
    while (true) {
      if (available() == 0) {
        auto more = Refill();
        if (!more) return tl::unexpected(more.error());
        if (!*more) {
          finished_ = true;
          if (frame_open_) return Fail("truncated zstd stream");
          return size_t{0};
        }
      }
      ZSTD_inBuffer input{in_.data() + in_pos_, available(), 0};
      ZSTD_outBuffer output{out, size, 0};
      size_t rc = ZSTD_decompressStream(context_, &output, &input);
      in_pos_ += input.pos;
      if (ZSTD_isError(rc)) {
        finished_ = true;
        return Fail(std::string("corrupt zstd stream: ") + ZSTD_getErrorName(rc));
      }
      // rc == 0: a frame ended and is fully flushed; a further frame may follow.
      frame_open_ = rc != 0;
      if (output.pos > 0) return output.pos;
    }
  }

 private:
  ZSTD_DCtx* context_;
  bool frame_open_ = false;
  bool finished_ = false;
};

// UTF-16 text (a Windows export: Event Viewer's "Save as XML", PowerShell's `Out-File`, a
// `wevtutil` redirect), by its byte order mark, as UTF-8 without the mark. Code units that
// pair with no other (a lone surrogate) and an odd last byte become U+FFFD, as decoders do.
class Utf16Source final : public ByteSource {
 public:
  Utf16Source(std::unique_ptr<ByteSource> inner, bool big_endian)
      : inner_(std::move(inner)), big_endian_(big_endian), in_(UTF16_CHUNK) {}
  [[nodiscard]] uint64_t raw_bytes() const override { return inner_->raw_bytes(); }
  [[nodiscard]] Compression compression() const override { return inner_->compression(); }
  [[nodiscard]] const std::string& reopenable_path() const override { return no_path_; }

  Result<size_t> Read(char* out, size_t size) override {
    size_t produced = 0;
    while (produced < size) {
      if (pending_size_ > 0) {  // the rest of a code point that did not fit before
        const size_t n = std::min(size - produced, pending_size_);
        std::memcpy(out + produced, pending_ + pending_at_, n);
        produced += n;
        pending_at_ += n;
        pending_size_ -= n;
        continue;
      }
      if (in_end_ - in_at_ < 2) {
        if (!ended_) {
          if (produced > 0) break;  // a live stream is not waited on for more
          auto more = Refill();
          if (!more) return tl::unexpected(more.error());
          continue;
        }
        if (in_at_ < in_end_) {  // an odd last byte
          in_at_ = in_end_;
          Stage(0xfffd);
        } else if (high_ != 0) {  // a high surrogate at the very end
          high_ = 0;
          Stage(0xfffd);
        } else {
          break;
        }
        continue;
      }
      const auto* unit = reinterpret_cast<const unsigned char*>(in_.data()) + in_at_;
      const uint32_t code =
          big_endian_ ? (uint32_t{unit[0]} << 8 | unit[1]) : (uint32_t{unit[1]} << 8 | unit[0]);
      in_at_ += 2;
      if (at_start_) {
        at_start_ = false;
        if (code == 0xfeff) continue;  // the byte order mark
      }
      if (high_ != 0 && (code < 0xdc00 || code > 0xdfff)) {
        high_ = 0;
        in_at_ -= 2;  // this unit again, after the replacement of the lone high surrogate
        Stage(0xfffd);
        continue;
      }
      if (code >= 0xd800 && code <= 0xdbff) {
        high_ = code;
      } else if (code >= 0xdc00 && code <= 0xdfff) {
        Stage(high_ != 0 ? 0x10000 + ((high_ - 0xd800) << 10) + (code - 0xdc00) : 0xfffd);
        high_ = 0;
      } else if (code < 0x80) {  // the common case, written directly
        out[produced++] = static_cast<char>(code);
      } else {
        Stage(code);
      }
    }
    return produced;
  }

 private:
  static constexpr size_t UTF16_CHUNK = 64 * 1024;

  // Moves what is left of the input to the front and reads more; false at its end.
  Result<bool> Refill() {
    const size_t left = in_end_ - in_at_;
    std::memmove(in_.data(), in_.data() + in_at_, left);
    in_at_ = 0;
    in_end_ = left;
    auto got = inner_->Read(in_.data() + in_end_, in_.size() - in_end_);
    if (!got) {
      ended_ = true;
      return tl::unexpected(got.error());
    }
    if (*got == 0) ended_ = true;
    in_end_ += *got;
    return *got > 0;
  }

  // A code point's UTF-8, to be written out by the read loop.
  void Stage(uint32_t code) {
    pending_at_ = 0;
    pending_size_ = static_cast<size_t>(WriteUtf8(pending_, code) - pending_);
  }

  std::unique_ptr<ByteSource> inner_;
  const bool big_endian_;
  std::vector<char> in_;
  size_t in_at_ = 0;
  size_t in_end_ = 0;
  bool ended_ = false;
  bool at_start_ = true;
  uint32_t high_ = 0;  // a high surrogate waiting for its low one
  char pending_[MAX_UTF8_BYTES] = {};
  size_t pending_at_ = 0;
  size_t pending_size_ = 0;
  std::string no_path_;
};

// A source whose first bytes were read ahead to look at them, and are served again first.
class HeadServedSource final : public ByteSource {
 public:
  HeadServedSource(std::unique_ptr<ByteSource> inner, size_t size) : inner_(std::move(inner)) {
    head_.resize(size);
    size_t got = 0;
    while (got < size) {
      auto n = inner_->Read(head_.data() + got, size - got);
      if (!n) error_ = n.error();
      if (!n || *n == 0) break;
      got += *n;
    }
    head_.resize(got);
  }
  [[nodiscard]] const std::string& head() const { return head_; }

  Result<size_t> Read(char* out, size_t size) override {
    if (served_ < head_.size()) {
      const size_t n = std::min(size, head_.size() - served_);
      std::memcpy(out, head_.data() + served_, n);
      served_ += n;
      return n;
    }
    if (error_) {  // met while reading ahead: said once, where the reader would have met it
      Error error = std::move(*error_);
      error_.reset();
      return tl::unexpected(std::move(error));
    }
    return inner_->Read(out, size);
  }
  [[nodiscard]] uint64_t raw_bytes() const override { return inner_->raw_bytes(); }
  [[nodiscard]] Compression compression() const override { return inner_->compression(); }
  [[nodiscard]] const std::string& reopenable_path() const override { return no_path_; }
  [[nodiscard]] int64_t expected_size() const override { return inner_->expected_size(); }

 private:
  std::unique_ptr<ByteSource> inner_;
  std::string head_;
  size_t served_ = 0;
  std::optional<Error> error_;
  std::string no_path_;
};

}  // namespace

Result<std::unique_ptr<ByteSource>> OpenByteSource(const std::string& path) {
  int fd = 0;
  bool owned = false;
  std::string reopenable;
  int64_t size = -1;
  if (path == "-") {
    fd = STDIN_FILENO;
  } else {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Fail(std::string("cannot open: ") + std::strerror(errno), path);
    owned = true;
    struct stat info {};
    if (::fstat(fd, &info) != 0) {
      int saved = errno;
      ::close(fd);
      return Fail(std::string("cannot stat: ") + std::strerror(saved), path);
    }
    if (S_ISDIR(info.st_mode)) {
      ::close(fd);
      return Fail("is a directory", path);
    }
    if (S_ISREG(info.st_mode)) {
      reopenable = path;
      size = static_cast<int64_t>(info.st_size);
    }
  }
  auto plain = std::make_unique<FdSource>(fd, owned, reopenable, size);
  if (auto peeked = plain->Peek(4); !peeked) {
    return Fail(peeked.error().message, path);
  }
  const auto& magic = plain->peeked();
  const std::string head(magic.begin(), magic.end());
  return Decompressed(std::move(plain), head);
}

namespace {

// `source` as UTF-8 when `head` begins with a UTF-16 byte order mark.
std::unique_ptr<ByteSource> Utf8(std::unique_ptr<ByteSource> source, std::string_view head) {
  if (head.substr(0, 2) == "\xFF\xFE")
    return std::make_unique<Utf16Source>(std::move(source), false);
  if (head.substr(0, 2) == "\xFE\xFF")
    return std::make_unique<Utf16Source>(std::move(source), true);
  return source;
}

// A decompressed stream, and UTF-16 text inside it as UTF-8.
std::unique_ptr<ByteSource> Utf8Inside(std::unique_ptr<ByteSource> decompressed) {
  auto served = std::make_unique<HeadServedSource>(std::move(decompressed), 2);
  const std::string head = served->head();
  return Utf8(std::move(served), head);
}

}  // namespace

std::unique_ptr<ByteSource> Decompressed(std::unique_ptr<ByteSource> source,
                                         std::string_view head) {
  if (head.size() >= 2 && head[0] == '\x1f' && head[1] == '\x8b') {
    return Utf8Inside(std::make_unique<GzipSource>(std::move(source)));
  }
  if (head.size() >= 4 && head.substr(0, 4) == "\x28\xb5\x2f\xfd") {
    return Utf8Inside(std::make_unique<ZstdSource>(std::move(source)));
  }
  return Utf8(std::move(source), head);
}

std::unique_ptr<ByteSource> DecompressedByContent(std::unique_ptr<ByteSource> source) {
  auto served = std::make_unique<HeadServedSource>(std::move(source), 4);
  const std::string head = served->head();
  return Decompressed(std::move(served), head);
}

}  // namespace yagura::event
