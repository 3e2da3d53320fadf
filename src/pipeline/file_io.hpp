// The file operations the pipeline's durable logs (the spool, the event store) share: whole
// reads and writes that go on after a short count or EINTR, syncing a folder so a made,
// renamed or removed name survives a crash, and errno in a message.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace yagura::pipeline {

// "what path: strerror(errno)".
[[nodiscard]] std::string SystemError(std::string_view what, const std::string& path);
// write(2) until all of `data` is written; false with errno set.
[[nodiscard]] bool WriteAll(int fd, const char* data, size_t size);
// pwrite(2) at `offset` until all of `data` is written; false with errno set.
[[nodiscard]] bool WriteAt(int fd, const char* data, size_t size, uint64_t offset);
// pread(2) at `offset` until `size` bytes are read; false at the end of the file or an error.
[[nodiscard]] bool ReadAt(int fd, char* data, size_t size, uint64_t offset);
// fsync of the folder itself (errors are ignored: the caller's own sync already reported).
void SyncDirectory(const std::string& dir);

}  // namespace yagura::pipeline
