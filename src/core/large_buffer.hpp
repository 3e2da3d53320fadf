// Large buffers backed by 2 MiB pages where the kernel allows it.
//
// A fresh page costs a fault when it is first written. With 4 KiB pages that is 1,024 faults
// for a 4 MiB read buffer, and on virtual machines that handle faults through the hypervisor a
// fault costs about 12 µs (measured on the project's 2-core machine: 190 ms to first touch
// 64 MiB, 4 ms with 2 MiB pages). Buffers that readers fill again and again, and that a scan
// with several threads keeps several of, are therefore mapped here: aligned to 2 MiB, sized in
// whole 2 MiB units, and marked for transparent huge pages (MADV_HUGEPAGE, which the default
// `madvise` setting of the kernel honours). Where huge pages are off, they are plain pages.
#pragma once

#include <cstddef>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

namespace yagura {

// At least `size` writable bytes, zero-filled; throws std::bad_alloc when the mapping fails.
[[nodiscard]] char* AllocateLarge(size_t size);
// Gives back a buffer of AllocateLarge(`size`).
void FreeLarge(char* buffer, size_t size) noexcept;

// A buffer of AllocateLarge that frees itself.
struct LargeBufferDeleter {
  size_t size = 0;
  void operator()(char* buffer) const noexcept { FreeLarge(buffer, size); }
};
using LargeBuffer = std::unique_ptr<char[], LargeBufferDeleter>;
[[nodiscard]] inline LargeBuffer MakeLargeBuffer(size_t size) {
  return LargeBuffer(AllocateLarge(size), LargeBufferDeleter{size});
}

// Bytes appended again and again to storage that is kept when cleared: on the heap while they
// are few, in a buffer of AllocateLarge once they pass SMALL_LIMIT (a batch of alerting EVTX
// records holds a few hundred kilobytes, whose fresh 4 KiB pages were a tenth of a two-thread
// scan's time on a virtual machine).
class LargeBytes {
 public:
  static constexpr size_t SMALL_LIMIT = size_t{32} << 10;

  void Append(const char* bytes, size_t n) {
    if (n != 0) std::memcpy(Extend(n), bytes, n);
  }
  void Append(std::string_view bytes) { Append(bytes.data(), bytes.size()); }
  void AppendZeros(size_t n) {
    if (n != 0) std::memset(Extend(n), 0, n);
  }
  void Clear() { size_ = 0; }
  [[nodiscard]] const char* data() const { return large_ ? large_.get() : small_.data(); }
  [[nodiscard]] size_t size() const { return size_; }
  [[nodiscard]] bool in_large_buffer() const { return static_cast<bool>(large_); }

 private:
  char* Extend(size_t n);
  std::string small_;  // its size is the capacity used until large_ is made
  LargeBuffer large_;
  size_t large_capacity_ = 0;
  size_t size_ = 0;
};

}  // namespace yagura
