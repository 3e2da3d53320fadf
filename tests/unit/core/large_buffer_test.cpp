#include "core/large_buffer.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

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

TEST(LargeBytes, KeepsWhatWasAppendedAcrossTheMoveToALargeBuffer) {
  LargeBytes bytes;
  std::string expected;
  uint32_t seed = 1;
  // Pieces of every size up to a few kilobytes, zeros among them, well past SMALL_LIMIT and
  // past one huge page.
  while (expected.size() < HUGE_PAGE + LargeBytes::SMALL_LIMIT) {
    seed = seed * 1103515245 + 12345;
    const size_t n = seed % 5000;
    if (seed % 7 == 0) {
      bytes.AppendZeros(n);
      expected.append(n, '\0');
    } else {
      std::string piece(n, static_cast<char>('a' + seed % 26));
      bytes.Append(piece);
      expected += piece;
    }
    ASSERT_EQ(bytes.size(), expected.size());
    EXPECT_EQ(bytes.in_large_buffer(), expected.size() > LargeBytes::SMALL_LIMIT);
  }
  ASSERT_EQ(std::string_view(bytes.data(), bytes.size()), expected);

  // Cleared, it writes over the same storage: no new pages for the next batch.
  const char* storage = bytes.data();
  bytes.Clear();
  EXPECT_EQ(bytes.size(), 0u);
  bytes.Append(expected);
  EXPECT_EQ(bytes.data(), storage);
  EXPECT_EQ(std::string_view(bytes.data(), bytes.size()), expected);
}

TEST(LargeBuffer, AnImpossibleSizeThrows) {
  EXPECT_THROW((void)AllocateLarge(SIZE_MAX - 10), std::bad_alloc);
}

}  // namespace
}  // namespace yagura
