// ByteSource: the bytes of one input, decompressed if they were compressed.
//
// A file (or stdin) is opened and its first bytes are peeked: gzip (1f 8b) and zstd
// (28 b5 2f fd) streams are wrapped in a streaming decompressor, so a compressed file is read
// in bounded memory whatever its size. Concatenated gzip members and zstd frames are read as one
// stream, as the command-line tools do. UTF-16 text with a byte order mark (a Windows export),
// compressed or not, is read as UTF-8. Internal to src/event.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/result.hpp"

namespace yagura::event {

enum class Compression : uint8_t { kNone, kGzip, kZstd };

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Reads up to `size` bytes into `out`; 0 means end of input.
  [[nodiscard]] virtual Result<size_t> Read(char* out, size_t size) = 0;
  // Bytes consumed from the underlying file so far (compressed bytes for compressed input).
  [[nodiscard]] virtual uint64_t raw_bytes() const = 0;
  [[nodiscard]] virtual Compression compression() const { return Compression::kNone; }
  // The path of an uncompressed regular file that can be reopened by name (libevtx opens files
  // itself); empty for stdin, pipes and compressed input.
  [[nodiscard]] virtual const std::string& reopenable_path() const = 0;
  // The open descriptor of that file while reopenable_path() is not empty, else -1: a reader
  // that reads the file by offset itself (the EVTX reader) uses it instead of opening it again.
  [[nodiscard]] virtual int reopenable_fd() const { return -1; }
  // That file's size when it was opened, else -1.
  [[nodiscard]] virtual int64_t reopenable_size() const { return -1; }
  // The bytes Read() will give in all, when known beforehand (an archive member's size), else
  // -1: what a reader that must copy the input first (the EVTX reader) decides where by.
  [[nodiscard]] virtual int64_t expected_size() const { return -1; }
};

// Opens `path` ("-" is stdin) and detects compression. Fails when the path cannot be opened or
// is a directory.
[[nodiscard]] Result<std::unique_ptr<ByteSource>> OpenByteSource(const std::string& path);

// `source`, decompressed when `head` (its first bytes, read from another opening of the same
// input) begins as gzip or zstd does, and read as UTF-8 when it is UTF-16 with a byte order mark
// (inside the compression too); else `source` itself. For inputs not opened by path: a
// rotated `syslog.2.gz` inside a ZIP archive.
[[nodiscard]] std::unique_ptr<ByteSource> Decompressed(std::unique_ptr<ByteSource> source,
                                                       std::string_view head);

// `source`, decompressed (or decoded from UTF-16) by its own first bytes, which are read once
// and served again. For a member of an archive, which is read from the archive and cannot
// be peeked at another opening. A read error met among the first bytes is returned by the
// first Read after them.
[[nodiscard]] std::unique_ptr<ByteSource> DecompressedByContent(std::unique_ptr<ByteSource> source);

}  // namespace yagura::event
