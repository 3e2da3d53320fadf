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
#include <memory>

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

}  // namespace yagura
