#include "core/large_buffer.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>

namespace yagura {
namespace {

constexpr size_t HUGE_PAGE = size_t{2} << 20;

TEST(LargeBuffer, IsAlignedToHugePagesZeroedAndWritableToItsEnd) {
  for (size_t size : {size_t{1}, size_t{4096}, HUGE_PAGE - 1, HUGE_PAGE, HUGE_PAGE + 1,
                      (size_t{4} << 20) + 64}) {
    char* buffer = AllocateLarge(size);
    ASSERT_NE(buffer, nullptr) << size;
    EXPECT_EQ(reinterpret_cast<uintptr_t>(buffer) % HUGE_PAGE, 0u) << size;
    EXPECT_EQ(buffer[0], 0) << size;
    EXPECT_EQ(buffer[size - 1], 0) << size;
    std::memset(buffer, 'x', size);
    EXPECT_EQ(buffer[size - 1], 'x') << size;
    FreeLarge(buffer, size);
  }
}

TEST(LargeBuffer, FreesItselfAndLeavesNeighboursAlone) {
  // Two buffers mapped one after the other: freeing the first must not unmap any of the second
  // (the trimmed mapping of each is exactly its own).
  LargeBuffer first = MakeLargeBuffer(HUGE_PAGE + 10);
  LargeBuffer second = MakeLargeBuffer(HUGE_PAGE + 10);
  std::memset(second.get(), 'y', HUGE_PAGE + 10);
  first.reset();
  EXPECT_EQ(second[0], 'y');
  EXPECT_EQ(second[HUGE_PAGE + 9], 'y');
}

TEST(LargeBuffer, AnImpossibleSizeThrows) {
  EXPECT_THROW((void)AllocateLarge(SIZE_MAX - 10), std::bad_alloc);
}

}  // namespace
}  // namespace yagura
