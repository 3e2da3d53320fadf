#include "core/large_buffer.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <cstdint>
#include <new>

namespace yagura {
namespace {

constexpr size_t HUGE_PAGE = size_t{2} << 20;

size_t MappedSize(size_t size) {
  size_t rounded = (size + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
  return rounded == 0 ? HUGE_PAGE : rounded;
}

}  // namespace

char* AllocateLarge(size_t size) {
  if (size > SIZE_MAX - 2 * HUGE_PAGE) throw std::bad_alloc();
  const size_t mapped = MappedSize(size);
  // Over-map by one huge page, then trim to an aligned window: the kernel only backs aligned
  // 2 MiB ranges with huge pages.
  void* raw = ::mmap(nullptr, mapped + HUGE_PAGE, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) throw std::bad_alloc();
  auto begin = reinterpret_cast<uintptr_t>(raw);
  uintptr_t aligned = (begin + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
  if (aligned > begin) ::munmap(raw, aligned - begin);
  uintptr_t tail = aligned + mapped;
  uintptr_t end = begin + mapped + HUGE_PAGE;
  if (end > tail) ::munmap(reinterpret_cast<void*>(tail), end - tail);
  // Advice only: without huge pages the buffer still works, a page at a time.
  (void)::madvise(reinterpret_cast<void*>(aligned), mapped, MADV_HUGEPAGE);
  return reinterpret_cast<char*>(aligned);
}

void FreeLarge(char* buffer, size_t size) noexcept {
  if (buffer != nullptr) ::munmap(buffer, MappedSize(size));
}

char* LargeBytes::Extend(size_t n) {
  const size_t needed = size_ + n;
  if (!large_ && needed <= SMALL_LIMIT) {
    if (needed > small_.size())
      small_.resize(std::max(needed, std::min(SMALL_LIMIT, 2 * small_.size())));
    char* at = small_.data() + size_;
    size_ = needed;
    return at;
  }
  if (needed > large_capacity_) {
    const size_t capacity = MappedSize(std::max(needed, 2 * large_capacity_));
    LargeBuffer grown = MakeLargeBuffer(capacity);
    if (size_ != 0) std::memcpy(grown.get(), data(), size_);
    large_ = std::move(grown);
    large_capacity_ = capacity;
    small_ = std::string();
  }
  char* at = large_.get() + size_;
  size_ = needed;
  return at;
}

}  // namespace yagura
